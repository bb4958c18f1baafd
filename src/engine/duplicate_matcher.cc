#include "engine/duplicate_matcher.h"

#include "data/data_object.h"

namespace conflux::engine {
namespace {

// The data-object format of a MIME type, for the types that have one.
std::optional<data::Format> format_of(const std::string& content_type) {
  if (content_type == "text/x-vcard") return data::Format::vcard21();
  if (content_type == "text/vcard") return data::Format::vcard30();  // the card's VERSION line decides
  // Events and tasks match by UID (data/calendar.h); notes have no identity
  // safe enough to merge on (two notes may share a first line).
  if (content_type == "text/calendar" || content_type == "text/x-vcalendar") return data::Format{content_type, ""};
  return std::nullopt;
}

std::vector<std::string> identities_of(const std::string& raw, const std::string& content_type) {
  auto format = format_of(content_type);
  if (!format) return {};
  auto object = data::parse(raw, *format);
  return object ? (*object)->identity_keys() : std::vector<std::string>{};
}

}  // namespace

DuplicateMatcher::DuplicateMatcher(std::vector<caf::SyncObj> items, const std::set<std::string>& claimed)
    : claimed_(claimed) {
  for (auto& obj : items) {
    const std::string guid = obj.guid.str();
    if (!claimed_.count(guid)) by_raw_.emplace(obj.raw, guid);
    items_.emplace(guid, std::move(obj));
  }
}

const caf::SyncObj* DuplicateMatcher::item(const std::string& guid) const {
  auto it = items_.find(guid);
  return it == items_.end() ? nullptr : &it->second;
}

void DuplicateMatcher::claim(const std::string& guid) { claimed_.insert(guid); }

void DuplicateMatcher::index_identities() {
  identities_indexed_ = true;
  for (const auto& [guid, obj] : items_) {
    if (claimed_.count(guid)) continue;
    for (auto& key : identities_of(obj.raw, obj.content_type)) by_identity_.emplace(std::move(key), guid);
  }
}

std::optional<DuplicateMatcher::Match> DuplicateMatcher::match(const std::string& raw,
                                                               const std::string& content_type) {
  auto [first, last] = by_raw_.equal_range(raw);
  for (auto it = first; it != last; ++it) {
    if (claimed_.count(it->second)) continue;
    Match m{it->second, true, {}};
    claim(m.guid);
    return m;
  }

  const std::vector<std::string> keys = identities_of(raw, content_type);
  if (keys.empty()) return std::nullopt;
  if (!identities_indexed_) index_identities();
  // The first server item sharing any of the client item's identities.
  std::vector<std::string> candidates;
  for (const auto& key : keys) {
    auto [lo, hi] = by_identity_.equal_range(key);
    for (auto it = lo; it != hi; ++it) candidates.push_back(it->second);
  }
  for (const std::string& guid : candidates) {
    if (claimed_.count(guid)) continue;
    const caf::SyncObj& server = items_.at(guid);
    auto server_format = format_of(server.content_type);
    auto client_format = format_of(content_type);
    if (!server_format || !client_format) continue;
    auto server_obj = data::parse(server.raw, *server_format);
    auto client_obj = data::parse(raw, *client_format);
    if (!server_obj || !client_obj) continue;
    // The client's fields win where both have one; the server's others stay.
    auto merged = (*client_obj)->merged_with(**server_obj);
    if (!merged) continue;
    auto text = (*merged)->write((*server_obj)->source_format());
    if (!text) continue;
    Match m{guid, false, std::move(*text)};
    claim(m.guid);
    return m;
  }
  return std::nullopt;
}

}  // namespace conflux::engine
