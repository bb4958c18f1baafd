// vCalendar 1.0 <-> iCalendar 2.0 (SYNCML-REFERENCE §16). Internal to
// src/data: CalendarItem uses it; tests call the pieces directly.
//
// libicalvcal (vcc.h Parse_MIME + icalvcal_convert) was checked against the
// corpus and not used: it keeps only the first VCALENDAR of a file, fails on
// Funambol's events file and gammu's outlook.vcs, drops DTSTAMP, TRANSP,
// AALARM/DALARM with local times, ignores TZ/DAYLIGHT, turns an empty DUE into
// "ERROR: No Value" and reads `YM1 #0` as plain FREQ=YEARLY. So the reader
// here translates 1.0 text into 2.0 text that libical then parses.
//
// Reading 1.0 (vcal10_to_ical20):
//  - unfolding as vCard 2.1 (a line break before whitespace is removed, the
//    whitespace kept); QUOTED-PRINTABLE soft breaks; CHARSET through iconv;
//    parameters other than ENCODING/CHARSET are dropped (1.0 parameters have
//    no 2.0 spelling except on X- properties, where they are kept);
//  - times with Z are UTC; without Z they are local: when the calendar has a
//    TZ line, DTSTART/DTEND/DUE/RECURRENCE-ID/EXDATE/RDATE keep their wall
//    clock under a VTIMEZONE built from TZ and the DAYLIGHT lines (TZID
//    "vCalendar-TZ+0100[-DAYLIGHT]"), alarm times and UNTIL become UTC by
//    the same rules, stamps (LAST-MODIFIED, DCREATED, DTSTAMP, COMPLETED)
//    stay as written; DAYLIGHT start/end are
//    accepted with or without Z; offsets outside -14..+14 hours are ignored;
//    without TZ local times stay floating;
//  - all-day: DTSTART at local T000000 with DTEND at local T000000,
//    T235959 or T240000 (with or without Z) of the same or a later day, or
//    date-only values, become VALUE=DATE with DTEND the day after the last
//    day; a VTODO's DUE/DTSTART at local T000000 becomes a DATE; EXDATEs and
//    RRULE end dates of all-day events become dates;
//  - RRULE 1.0 grammar (rrule_from_vcal10), DCREATED -> CREATED,
//    AALARM/DALARM/PALARM/MALARM -> VALARM (AUDIO/DISPLAY/PROCEDURE/EMAIL,
//    absolute TRIGGER in UTC, snooze/repeat -> DURATION/REPEAT);
//    CATEGORIES ';'-separated -> ','; ATTENDEE address -> mailto: URI.
//
// Writing 1.0 (write_vcal10), one VCALENDAR with one VEVENT/VTODO (detached
// exceptions are not written: 1.0 has no RECURRENCE-ID):
//  - date-times in UTC with Z; floating times stay floating; all-day:
//    DTSTART:YYYYMMDDT000000 and DTEND:<last day>T235959 (what Sony
//    Ericsson and Nokia phones send; written also when 2.0 had no DTEND);
//  - when DTSTART has a TZID: the item's zoned times as local wall-clock
//    times of that zone, a TZ line with its standard offset and one DAYLIGHT
//    line per year (DTSTART's year, ten more when the item recurs, 2037 at
//    most) with start in local standard and end in local daylight time; the
//    reader turns these back into a VTIMEZONE, so recurrences keep their
//    local time across DST; other times in UTC;
//  - DTSTAMP is written too (not in 1.0, but phones ignore it and it keeps
//    the 2.0 field);
//  - RRULE in the 1.0 grammar (rrule_to_vcal10); rules 1.0 cannot express
//    are left out;
//  - VALARM -> AALARM (AUDIO) / DALARM (DISPLAY) with an absolute UTC time
//    (relative triggers resolved against DTSTART/DTEND);
//  - text values unescaped; non-ASCII or multi-line values as
//    CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE; no other folding.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <libical/ical.h>

#include "common/status.h"

namespace conflux::data {

// The checks on iCalendar 2.0 text libical does not make (calendar.cc says
// which): kInvalidArgument naming the line.
Status check_ical_structure(std::string_view text);

// The text of a display alarm that has none: iCalendar requires a
// DESCRIPTION on a DISPLAY VALARM, vCalendar's DALARM may leave it empty.
// Both directions use it, so an alarm without text does not change on a
// round trip.
inline constexpr const char* kDefaultAlarmText = "Reminder";

// True when the data's first VERSION line inside a VCALENDAR says 1.0.
bool is_vcal10(std::string_view bytes);

// Translates a vCalendar 1.0 file (one or more VCALENDARs) to iCalendar 2.0
// text. kInvalidArgument for lines without ':' or bad property names.
Result<std::string> vcal10_to_ical20(std::string_view bytes);

// Writes the VCALENDAR (as CalendarItem holds it) as vCalendar 1.0.
std::string write_vcal10(const icalcomponent* vcalendar);

// `W1 FR #9` -> `FREQ=WEEKLY;INTERVAL=1;BYDAY=FR;COUNT=9`. The 1.0 count
// counts intervals: with k days (or k positions) per interval COUNT is n*k.
// `#0` = forever; no end = #2; an end date-time becomes UNTIL (`until` is
// token as given; vcal10_to_ical20 respells it). kInvalidArgument for a rule
// it cannot read (nested rules, unknown tokens).
Result<std::string> rrule_from_vcal10(std::string_view rule);

// The 1.0 spelling of an RFC 5545 RRULE; nullopt when 1.0 cannot express it
// (BYSETPOS, BYHOUR, BY parts the frequency's 1.0 form has no room for, a
// weekday list with mixed ordinals). `dtstart` fills in the weekday, day and
// month 1.0 names explicitly; a COUNT that is not whole intervals becomes the
// last occurrence as end date (expanded with icalrecur_iterator).
std::optional<std::string> rrule_to_vcal10(std::string_view ical_rrule, icaltimetype dtstart);

}  // namespace conflux::data
