#include "engine/conflict_decision.h"

#include <libical/ical.h>

#include <cctype>
#include <ctime>

#include "data/calendar.h"
#include "data/contact.h"
#include "data/data_object.h"
#include "data/note.h"

namespace conflux::engine {
namespace {

data::Format format_of(const std::string& content_type) { return data::Format{content_type, ""}; }

// "19951031T222710Z", "1995-10-31T22:27:10Z", "1997-11-15", with an optional
// zone offset ("+01:00"); fractions of a second are ignored.
std::optional<int64_t> parse_timestamp(std::string_view text) {
  std::string digits;
  size_t i = 0;
  auto take_digits = [&](size_t n) {
    while (i < text.size() && digits.size() < n) {
      const char c = text[i];
      if (std::isdigit(static_cast<unsigned char>(c))) {
        digits += c;
      } else if (c != '-' && c != ':') {
        break;
      }
      ++i;
    }
    return digits.size() == n;
  };
  if (!take_digits(8)) return std::nullopt;
  std::tm tm{};
  tm.tm_year = std::stoi(digits.substr(0, 4)) - 1900;
  tm.tm_mon = std::stoi(digits.substr(4, 2)) - 1;
  tm.tm_mday = std::stoi(digits.substr(6, 2));
  int64_t offset = 0;
  if (i < text.size() && (text[i] == 'T' || text[i] == 't')) {
    ++i;
    if (!take_digits(14)) return std::nullopt;
    tm.tm_hour = std::stoi(digits.substr(8, 2));
    tm.tm_min = std::stoi(digits.substr(10, 2));
    tm.tm_sec = std::stoi(digits.substr(12, 2));
    if (i < text.size() && (text[i] == '.' || text[i] == ',')) {
      ++i;
      while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    }
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
      const int sign = text[i] == '-' ? -1 : 1;
      ++i;
      std::string zone;
      for (; i < text.size() && zone.size() < 4; ++i) {
        if (std::isdigit(static_cast<unsigned char>(text[i]))) zone += text[i];
      }
      if (zone.size() != 2 && zone.size() != 4) return std::nullopt;
      const int minutes = zone.size() == 4 ? std::stoi(zone.substr(2, 2)) : 0;
      offset = sign * (std::stoi(zone.substr(0, 2)) * 3600 + minutes * 60);
    }
  }
  if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
      tm.tm_sec > 60) {
    return std::nullopt;
  }
  return static_cast<int64_t>(timegm(&tm)) - offset;
}

std::optional<int64_t> ical_time(icalcomponent* component, icalproperty_kind kind) {
  icalproperty* prop = icalcomponent_get_first_property(component, kind);
  if (!prop) return std::nullopt;
  const icaltimetype t = icalvalue_get_datetime(icalproperty_get_value(prop));
  if (icaltime_is_null_time(t) || !icaltime_is_valid_time(t)) return std::nullopt;
  return static_cast<int64_t>(icaltime_as_timet_with_zone(t, icaltimezone_get_utc_timezone()));
}

}  // namespace

std::optional<int64_t> item_modified_at(std::string_view bytes, const std::string& content_type) {
  auto parsed = data::parse(bytes, format_of(content_type));
  if (!parsed) return std::nullopt;
  const data::DataObject& object = **parsed;
  if (const auto* contact = dynamic_cast<const data::Contact*>(&object)) {
    const data::VCardProperty* rev = contact->card().first("REV");
    if (!rev || rev->values.empty()) return std::nullopt;
    return parse_timestamp(rev->values[0]);
  }
  if (const auto* item = dynamic_cast<const data::CalendarItem*>(&object)) {
    // libical's getters take non-const components; nothing is changed.
    auto* main = const_cast<icalcomponent*>(item->main_component());
    if (!main) return std::nullopt;
    if (auto modified = ical_time(main, ICAL_LASTMODIFIED_PROPERTY)) return modified;
    return ical_time(main, ICAL_DTSTAMP_PROPERTY);
  }
  if (const auto* note = dynamic_cast<const data::Note*>(&object)) {
    if (note->fields().last_modified.empty()) return std::nullopt;
    return parse_timestamp(note->fields().last_modified);
  }
  return std::nullopt;
}

ConflictSide newest_side(std::optional<int64_t> server_modified, std::optional<int64_t> device_modified) {
  if (server_modified && device_modified && *server_modified != *device_modified) {
    return *device_modified > *server_modified ? ConflictSide::kDevice : ConflictSide::kServer;
  }
  return ConflictSide::kDevice;
}

Result<MergedVersions> merge_versions(const std::string& server_type, std::string_view server_data,
                                      const std::string& device_type, std::string_view device_data) {
  auto server = data::parse(server_data, format_of(server_type));
  if (!server) return server.error().with_context("server version");
  auto device = data::parse(device_data, format_of(device_type));
  if (!device) return device.error().with_context("device version");
  auto merged = data::merge(**server, **device);
  if (!merged) return merged.error();
  auto written = (*merged)->write((*server)->source_format());
  if (!written) return written.error();
  MergedVersions out;
  out.data = std::move(*written);
  const auto* merged_card = dynamic_cast<const data::Contact*>(merged->get());
  const auto* device_card = dynamic_cast<const data::Contact*>(device->get());
  if (merged_card && device_card) out.device_fields_left_out = merged_card->fields_left_out_of(*device_card);
  return out;
}

}  // namespace conflux::engine
