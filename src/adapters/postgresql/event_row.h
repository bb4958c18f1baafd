// An event as the columns of an organisation's table hold it (a booking
// system's `appointments`), and the conversion between that and an
// iCalendar 2.0 or vCalendar 1.0 item (the `postgresql` adapter's mapping
// for text/calendar and text/x-vcalendar stores, postgresql_adapter.h).
//
// Fields (config key `field_<name> = "<column>"`), what they hold and the
// column type they need:
//   summary location description   SUMMARY LOCATION DESCRIPTION   text
//   start end                      DTSTART DTEND                   timestamptz or timestamp
//   all_day                        DTSTART is a date               boolean
//   timezone                       DTSTART's TZID (IANA name)      text
//   rrule                          RRULE ("FREQ=WEEKLY;BYDAY=MO")  text
// Times: a timestamptz column holds the instant. A timestamp column holds
// the wall-clock time in the row's `timezone` (UTC when that is NULL or
// unmapped). A floating time is taken as UTC; an all-day event is midnight
// of its dates with all_day true (without an all_day column its dates stay
// among the leftovers). Reading a timezone back takes its definition from the
// item's own VTIMEZONE when it came with one, else libical's built-in zones.
//
// Nothing a device sends is lost: the rest of the VCALENDAR (UID, alarms,
// attendees, categories, VTIMEZONEs, detached exceptions, a SUMMARY with
// parameters ...) is `extra`, iCalendar 2.0 text kept per item in the side
// table. Reading puts the two together again, the columns winning; a row
// without a kept UID (another program wrote it) gets "<table>:<key>@conflux".
#pragma once

#include <set>
#include <string>
#include <vector>

#include "adapters/postgresql/row_mapping.h"
#include "data/data_object.h"

typedef struct icalcomponent_impl icalcomponent;

namespace conflux::adapters {

const std::vector<MappedField>& event_fields();

class EventMapping final : public RowMapping {
 public:
  // `mapped`: the field names with a column; `instant_fields`: those of
  // start and end whose column is a timestamptz; `format`: what to_item writes.
  EventMapping(std::vector<std::string> mapped, std::set<std::string> instant_fields, data::Format format)
      : mapped_(std::move(mapped)), instants_(std::move(instant_fields)), format_(std::move(format)) {}
  const std::vector<MappedField>& fields() const override { return event_fields(); }
  // kInvalidArgument for bytes that are no single event (a task included).
  Result<MappedRow> to_row(std::string_view item) const override;
  Result<std::string> to_item(const MappedRow& row) const override;

 private:
  bool is_mapped(const std::string& field) const;
  void take_times(icalcomponent* main, MappedRow& row) const;

  const std::vector<std::string> mapped_;
  const std::set<std::string> instants_;
  const data::Format format_;
};

}  // namespace conflux::adapters
