// libFuzzer target: the calendar readers and writers (data/calendar.h):
// iCalendar 2.0 through libical, vCalendar 1.0 through our own reader and
// writer (data/vcalendar.h), for events and tasks.
// Properties: no crash, hang or sanitizer report; a rejection is
// kInvalidArgument; every item that parses (the input read as iCalendar 2.0
// and as vCalendar 1.0), written in each format, parses again, and writing
// that parse in the same format gives the same bytes (no drift on a round
// trip through a device).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "data/calendar.h"
#include "fuzz/properties.h"

namespace {

using conflux::data::CalendarItem;
using conflux::data::Format;

void check_rejection(const conflux::Status& error, std::string_view what) {
  if (error.code() != conflux::StatusCode::kInvalidArgument) {
    conflux::fuzz::property_failed(std::string(what) + " rejected input with an unexpected status", error.to_string());
  }
}

void check_round_trip(const CalendarItem& item, const Format& format, bool exact) {
  const std::string name = format.mime_type + " " + format.version;
  auto written = item.write(format);
  if (!written) {
    check_rejection(written.error(), "write " + name);
    return;
  }
  auto again = CalendarItem::parse(*written, format);
  if (!again) {
    conflux::fuzz::property_failed("write " + name + " output does not parse",
                                   again.error().to_string() + "\nwritten: " + written->substr(0, 4096));
  }
  auto rewritten = (*again)->write(format);
  if (!rewritten) {
    conflux::fuzz::property_failed("write " + name + " of our own output fails", rewritten.error().to_string());
  }
  if (!exact) return;
  if (*rewritten != *written) {
    conflux::fuzz::property_failed("write " + name + ": write(parse(w)) != w",
                                   "first:\n" + written->substr(0, 4096) + "\nsecond:\n" + rewritten->substr(0, 4096));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace conflux;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  for (const Format& read_as : {data::ical20_format(), data::vcal10_format()}) {
    auto items = CalendarItem::parse_all(input, read_as);
    if (!items) {
      check_rejection(items.error(), "CalendarItem::parse_all");
      continue;
    }
    for (const std::unique_ptr<CalendarItem>& item : *items) {
      check_round_trip(*item, data::ical20_format(), /*exact=*/true);
      // vCalendar 1.0 has no time zone definitions, only TZ and DAYLIGHT
      // lines for the years around the item (vcalendar.h): read back, the
      // zone covers those years only, and written again it may list fewer.
      check_round_trip(*item, data::vcal10_format(), /*exact=*/false);
    }
  }
  return 0;
}
