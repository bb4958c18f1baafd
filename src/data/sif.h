// SIF: Funambol's XML formats for PIM data (SIF-C contacts, SIF-E events,
// SIF-T tasks, SIF-N notes), as Funambol's Outlook, Windows Mobile and
// BlackBerry clients and the Funambol SDK send them. Each is read into the
// model the other formats share (a VCard for a contact, a libical VEVENT or
// VTODO for an event or task, NoteFields for a note) and written back from
// it, so a SIF device and a vCard/iCalendar device see the same item.
//
// The mapping follows Funambol's published SIF description:
//  SIF-C  FirstName MiddleName LastName Title Suffix -> N; FileAs -> FN;
//         NickName -> NICKNAME; CompanyName Department -> ORG; JobTitle ->
//         TITLE; Body -> NOTE; Birthday -> BDAY; Email1/2/3Address ->
//         EMAIL;INTERNET (/HOME /WORK); the telephone numbers -> TEL with
//         Outlook's slot as TYPE; Home/Business/OtherAddress* -> ADR;HOME
//         /WORK /(none); WebPage HomeWebPage BusinessWebPage -> URL;
//         Categories -> CATEGORIES; Sensitivity -> CLASS; Photo -> PHOTO;
//         Spouse Manager AssistantName Anniversary -> X-EVOLUTION-SPOUSE …
//  SIF-E  Subject Body Location Categories -> SUMMARY DESCRIPTION LOCATION
//         CATEGORIES; Start End AllDayEvent -> DTSTART DTEND (dates for
//         all-day, the day after the last as DTEND); ReminderSet +
//         ReminderMinutesBeforeStart -> a DISPLAY VALARM; IsRecurring and the
//         pattern (RecurrenceType Interval DayOfWeekMask DayOfMonth
//         MonthOfYear Instance PatternEndDate NoEndDate Occurrences) -> RRULE;
//         Exceptions/ExcludeDate -> EXDATE; Sensitivity -> CLASS; Importance
//         -> PRIORITY; BusyStatus -> TRANSP.
//  SIF-T  Subject Body Categories StartDate DueDate Complete DateCompleted
//         PercentComplete Importance Sensitivity, reminder and recurrence
//         as for SIF-E -> SUMMARY DESCRIPTION CATEGORIES DTSTART DUE STATUS
//         COMPLETED PERCENT-COMPLETE PRIORITY CLASS VALARM RRULE.
//  SIF-N  Subject Body Categories Date -> SUMMARY, the body, CATEGORIES,
//         LAST-MODIFIED.
// Every other non-empty element is kept as an X-SIF-<ELEMENT> property of the
// model (BillingInformation, Mileage, YomiFirstName, Color …) and written back
// to SIF only, so nothing a SIF device holds is lost on its way through a
// vCard or iCalendar store. An empty element is an empty field (SIF devices
// send every field they have). A disabled reminder's minutes and the pattern
// fields of a non-recurring event are not data and are not kept.
//
// Errors: kInvalidArgument for bytes that are not well-formed XML, or whose
// root is not the format's (<contact>, <appointment>, <task>, <note>).
// Thread rule: pure functions.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "data/data_object.h"
#include "data/device_caps.h"

namespace conflux::data {

class CalendarItem;
struct NoteFields;
struct VCard;

inline Format sif_contact_format() { return {"text/x-s4j-sifc", "1.0"}; }
inline Format sif_event_format() { return {"text/x-s4j-sife", "1.0"}; }
inline Format sif_task_format() { return {"text/x-s4j-sift", "1.0"}; }
inline Format sif_note_format() { return {"text/x-s4j-sifn", "1.0"}; }

// True for the four SIF content types (lower case expected).
bool is_sif_type(std::string_view mime_type);

// Parses SIF bytes of the format `mime_type` names into a Contact, Event,
// Task or Note whose source_format() is that SIF format.
Result<std::unique_ptr<DataObject>> parse_sif(std::string_view bytes, std::string_view mime_type);

std::string write_sif_contact(const VCard& card);
// SIF-E for an Event, SIF-T for a Task (the item's own kind decides).
Result<std::string> write_sif_calendar(const CalendarItem& item, const Format& format);
std::string write_sif_note(const NoteFields& note);

// The model properties a SIF format can hold (for data::
// keep_fields_device_cannot_hold): a SIF update without one of them deleted
// it; one it cannot hold (a second ADR;HOME, GEO, ATTENDEE …) stays from the
// server's version.
FormatCaps sif_caps(std::string_view mime_type);

}  // namespace conflux::data
