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

namespace {

// How newest-wins or merge settle `c`: as a plain policy, or as kMerge with
// the merge in `merged`; `why` says what led there when it is not plain.
ConflictPolicy settle_as(const ConflictCase& c, MergedVersions& merged, std::string& why) {
  if (c.policy == ConflictPolicy::kNewestWins) {
    if (c.client_deletes || c.server_deleted) {
      why = "delete against change, the device's side taken (a delete has no time): ";
      return ConflictPolicy::kClientWins;
    }
    const bool device_newer = newest_side(item_modified_at(c.server_data, c.server_type),
                                          item_modified_at(c.client_data, c.client_type)) == ConflictSide::kDevice;
    why = device_newer ? "device version newer: " : "server version newer: ";
    return device_newer ? ConflictPolicy::kClientWins : ConflictPolicy::kServerWins;
  }
  if (c.policy != ConflictPolicy::kMerge) return c.policy;
  if (c.client_deletes || c.server_deleted) {
    why = "delete against change, the change kept: ";
    // The server's change stays and goes back to a device that deleted it;
    // the device's change re-creates an item the server deleted.
    return c.client_deletes ? ConflictPolicy::kServerWins : ConflictPolicy::kClientWins;
  }
  auto result = merge_versions(c.server_type, c.server_data, c.client_type, c.client_data);
  if (!result) {
    why = "could not merge (" + result.error().message() + "): ";
    return ConflictPolicy::kServerWins;
  }
  merged = std::move(*result);
  return ConflictPolicy::kMerge;
}

// The conflict record's outcome of a merge; fields of the device's version it
// left out make the record say so, where `conflux conflicts` shows it.
std::string merge_outcome(const std::vector<std::string>& device_fields_left_out) {
  std::string outcome = "merged: fields of both kept, both texts where both changed a text";
  if (device_fields_left_out.empty()) return outcome + "; both originals kept here";
  outcome += "; NOT KEPT from the device (server's value stays, device's in this record):";
  for (const auto& name : device_fields_left_out) outcome += " " + name;
  return outcome;
}

}  // namespace

ConflictDecision decide_conflict(const ConflictCase& c) {
  using protocol::StatusCode;
  ConflictDecision d;
  std::string why;
  MergedVersions merged;
  switch (settle_as(c, merged, why)) {
    case ConflictPolicy::kMerge:
      // The merge replaces the server's version and goes back to the device
      // as a Replace (its map row names no revision, so pkg 4 sends it).
      d.write = ConflictDecision::Write::kMerged;
      d.merged = std::move(merged.data);
      d.success = StatusCode::kConflictMerged;
      d.resend_to_device = true;
      d.outcome = merge_outcome(merged.device_fields_left_out);
      break;
    case ConflictPolicy::kNewestWins: break;  // settle_as never answers it
    case ConflictPolicy::kClientWins:
      d.write = ConflictDecision::Write::kClientVersion;
      // Under merge a device's edit of an item the server no longer holds
      // is stored again as a new item: 201, as for any Add.
      d.success = c.policy == ConflictPolicy::kMerge && c.server_deleted ? StatusCode::kItemAdded
                                                                         : StatusCode::kConflictClientWon;
      d.outcome = "device version applied; server version kept here";
      break;
    case ConflictPolicy::kDuplicate:
      if (c.client_deletes) {
        // Nothing of the device's to keep: the server's version stays and the
        // device gets it back.
        d.decided = StatusCode::kConflictServerWon;
        d.map = ConflictDecision::MapChange::kRemove;
        d.outcome = "device deleted a changed item: server version kept, device gets it back";
      } else {
        // Both stay: the device's version becomes a new item that the device
        // receives as an Add; its own item gets the server version back.
        d.write = ConflictDecision::Write::kClientVersionAsNew;
        d.success = StatusCode::kConflictDuplicated;
        d.map_written_item = false;
        if (c.server_deleted) d.map = ConflictDecision::MapChange::kRemove;
        d.outcome = "both kept: device version stored as a new item";
      }
      break;
    case ConflictPolicy::kReport:
      // Neither side changes; the server stops pushing its version to this
      // device until the conflict is settled. 202 "accepted for processing"
      // says exactly that a person will; 409 would make clients such as
      // SyncEvolution fail the whole sync and resend the change every time.
      d.decided = StatusCode::kAccepted;
      d.map = c.server_deleted ? ConflictDecision::MapChange::kRemove : ConflictDecision::MapChange::kSetSynced;
      d.outcome = "both sides left as they are; waiting for a person";
      break;
    case ConflictPolicy::kServerWins:
      d.decided = StatusCode::kConflictServerWon;
      // A device that deleted the item gets it back (unmapped items are
      // sent as Adds); a device whose change lost gets the server version.
      if (c.client_deletes) d.map = ConflictDecision::MapChange::kRemove;
      d.outcome = c.server_deleted ? "server deletion kept; device version kept here"
                                   : "server version kept; device version kept here";
      break;
  }
  d.outcome = why + d.outcome;
  return d;
}

}  // namespace conflux::engine
