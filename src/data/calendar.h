// Event and Task: DataObjects holding one iCalendar item (MISSION §4 "Data
// objects"), read and written as iCalendar 2.0 (text/calendar, through
// libical) and vCalendar 1.0 (text/x-vcalendar, our own reader and writer,
// see vcalendar.h for the conversion rules).
//
// The model is a libical VCALENDAR holding the VTIMEZONEs the item refers to
// and one VEVENT or VTODO, plus the detached exceptions of it (components of
// the same UID with RECURRENCE-ID). Times are read in the zone their TZID
// names in the system's time zone database when it knows the TZID, else in
// the item's VTIMEZONE (calendar_time.h: resolved_datetime). The
// VTIMEZONEs themselves are kept and written as they came. libical reports trouble through icalerrno
// and X-LIC-ERROR properties; both become kInvalidArgument or are dropped
// (X-LIC-ERROR), never a crash.
//
// Thread rule: objects are immutable after parse; const methods may be called
// from any thread. libical keeps its error state per thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "data/data_object.h"

typedef struct icalcomponent_impl icalcomponent;
typedef struct icalproperty_impl icalproperty;

namespace conflux::data {

struct IcalComponentDeleter {
  void operator()(icalcomponent* c) const;
};
// Owns one libical component tree.
using IcalComponentPtr = std::unique_ptr<icalcomponent, IcalComponentDeleter>;

// icalcomponent_new_clone and icalproperty_new_clone, but keeping the token
// of an enumerated value libical does not know: libical 3.0 copies it only
// for X values, so a clone of CLASS:R or STATUS:FOO had no value at all
// (docs/FUZZING.md F10). Use these, never libical's, to copy items.
icalcomponent* clone_ical(const icalcomponent* component);
icalproperty* clone_ical(const icalproperty* property);

inline Format ical20_format() { return {"text/calendar", "2.0"}; }
inline Format vcal10_format() { return {"text/x-vcalendar", "1.0"}; }

// Shared part of Event and Task.
class CalendarItem : public DataObject {
 public:
  // Exactly one item (one VEVENT or VTODO, with its exceptions) in
  // iCalendar 2.0 or vCalendar 1.0; the data's VERSION line wins over
  // format.version. kInvalidArgument for broken bytes, no item, or several.
  static Result<std::unique_ptr<CalendarItem>> parse(std::string_view bytes, const Format& format);

  // Every item in `bytes` (a calendar file holding many VCALENDARs, events
  // and tasks). Components other than VEVENT/VTODO (VJOURNAL, VFREEBUSY) are
  // skipped. kInvalidArgument when the bytes are broken or hold no item.
  // iCalendar that is not UTF-8 is read as windows-1252, else ISO-8859-1
  // (data::undeclared_to_utf8), like vCard text without a CHARSET.
  static Result<std::vector<std::unique_ptr<CalendarItem>>> parse_all(std::string_view bytes, const Format& format);

  Format source_format() const override { return source_; }
  std::vector<Format> supported_formats() const override;
  // text/calendar -> iCalendar 2.0; text/x-vcalendar -> vCalendar 1.0;
  // text/x-s4j-sife (an Event) and text/x-s4j-sift (a Task) -> SIF.
  Result<std::string> write(const Format& format) const override;

  // Duplicate-detection rule: "uid:" + UID when the item has one; else
  // "at:" + the normalised DTSTART (UTC instant as seconds, "date:YYYYMMDD"
  // for all-day, "local:YYYYMMDDTHHMMSS" for floating) + "|" + SUMMARY in
  // lower case with whitespace collapsed. Empty without UID and DTSTART.
  std::string identity_key() const override;

  // Field-level merge, ours (*this) winning:
  //  - multi-valued properties (ATTENDEE, CATEGORIES, COMMENT, CONTACT,
  //    EXDATE, RDATE, RESOURCES, ATTACH, RELATED-TO, REQUEST-STATUS) are
  //    united by value;
  //  - DESCRIPTION is free text: both texts are kept (data::merge_free_text);
  //  - every other property is single-valued: ours wins, theirs is taken
  //    when ours lacks it;
  //  - VALARMs of theirs not equal to one of ours are added; detached
  //    exceptions of theirs whose RECURRENCE-ID ours lacks are added, and so
  //    are VTIMEZONEs for TZIDs ours lacks.
  Result<std::unique_ptr<DataObject>> merged_with(const DataObject& theirs) const override;

  std::unique_ptr<DataObject> clone() const override;

  // The VCALENDAR (borrowed; lives as long as the object).
  const icalcomponent* vcalendar() const { return vcalendar_.get(); }
  // The master VEVENT/VTODO (the first without RECURRENCE-ID).
  const icalcomponent* main_component() const;

 protected:
  CalendarItem(IcalComponentPtr&& vcalendar, Format source)
      : vcalendar_(std::move(vcalendar)), source_(std::move(source)) {}

 private:
  static std::unique_ptr<CalendarItem> make(IcalComponentPtr&& vcalendar, const Format& source);

  const IcalComponentPtr vcalendar_;
  const Format source_;
};

// One iCalendar 2.0 file holding every item of `items` in a single VCALENDAR
// (a calendar export): each VTIMEZONE once (the first of a TZID wins), then
// the items' VEVENT/VTODO components in order. CalendarItem::parse_all reads
// it back into the same items. The pointers are borrowed.
std::string write_calendar_file(const std::vector<const CalendarItem*>& items);

class Event final : public CalendarItem {
 public:
  Event(IcalComponentPtr&& vcalendar, Format source) : CalendarItem(std::move(vcalendar), std::move(source)) {}
  DataKind kind() const override { return DataKind::kEvent; }
};

class Task final : public CalendarItem {
 public:
  Task(IcalComponentPtr&& vcalendar, Format source) : CalendarItem(std::move(vcalendar), std::move(source)) {}
  DataKind kind() const override { return DataKind::kTask; }
};

}  // namespace conflux::data
