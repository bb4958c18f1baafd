#include "engine/duplicate_matcher.h"

#include <functional>

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

ItemIndex::ItemIndex(std::vector<caf::SyncObj> items, Anchor anchor) : anchor_(std::move(anchor)) {
  for (auto& obj : items) insert(std::move(obj));
}

void ItemIndex::fold_in(caf::ChangeSet&& changes) {
  for (auto& obj : changes.changes) {
    erase(obj.guid.str());
    if (obj.action != caf::Action::kDelete) insert(std::move(obj));
  }
  anchor_ = std::move(changes.anchor);
  remembered_.clear();
}

void ItemIndex::insert(caf::SyncObj&& obj) {
  std::string guid = obj.guid.str();
  by_raw_hash_.emplace(std::hash<std::string>{}(obj.raw), guid);
  Entry& entry = items_.insert_or_assign(guid, Entry{std::move(obj), {}}).first->second;
  if (identities_indexed_) index_identities(guid, entry);
}

void ItemIndex::erase(const std::string& guid) {
  auto it = items_.find(guid);
  if (it == items_.end()) return;
  auto [first, last] = by_raw_hash_.equal_range(std::hash<std::string>{}(it->second.obj.raw));
  for (auto r = first; r != last; ++r) {
    if (r->second == guid) {
      by_raw_hash_.erase(r);
      break;
    }
  }
  for (const std::string& key : it->second.identities) {
    auto [lo, hi] = by_identity_.equal_range(key);
    for (auto k = lo; k != hi; ++k) {
      if (k->second == guid) {
        by_identity_.erase(k);
        break;
      }
    }
  }
  items_.erase(it);
}

void ItemIndex::index_identities(const std::string& guid, Entry& entry) {
  auto known = remembered_.find(entry.obj.raw);
  if (known != remembered_.end()) {
    entry.identities = std::move(known->second);
    remembered_.erase(known);
  } else {
    entry.identities = identities_of(entry.obj.raw, entry.obj.content_type);
  }
  for (const std::string& key : entry.identities) by_identity_.emplace(key, guid);
}

const caf::SyncObj* ItemIndex::item(const std::string& guid) const {
  auto it = items_.find(guid);
  return it == items_.end() ? nullptr : &it->second.obj;
}

std::vector<std::string> ItemIndex::with_bytes(const std::string& raw) const {
  std::vector<std::string> guids;
  auto [first, last] = by_raw_hash_.equal_range(std::hash<std::string>{}(raw));
  for (auto it = first; it != last; ++it) {
    if (items_.at(it->second).obj.raw == raw) guids.push_back(it->second);
  }
  return guids;
}

std::vector<std::string> ItemIndex::with_identities(const std::vector<std::string>& keys) {
  if (!identities_indexed_) {
    identities_indexed_ = true;
    for (auto& [guid, entry] : items_) index_identities(guid, entry);
  }
  std::vector<std::string> guids;
  for (const auto& key : keys) {
    auto [lo, hi] = by_identity_.equal_range(key);
    for (auto it = lo; it != hi; ++it) guids.push_back(it->second);
  }
  return guids;
}

void ItemIndex::remember_identities(const std::string& raw, std::vector<std::string> keys) {
  remembered_.insert_or_assign(raw, std::move(keys));
}

DuplicateMatcher::DuplicateMatcher(ItemIndex index, std::set<std::string>& claimed)
    : index_(std::move(index)), claimed_(claimed) {}

std::optional<DuplicateMatcher::Match> DuplicateMatcher::match(const std::string& raw,
                                                               const std::string& content_type) {
  for (const std::string& guid : index_.with_bytes(raw)) {
    if (claimed_.count(guid)) continue;
    claim(guid);
    return Match{guid, true, {}};
  }

  std::vector<std::string> keys = identities_of(raw, content_type);
  if (keys.empty()) {
    index_.remember_identities(raw, std::move(keys));
    return std::nullopt;
  }
  // The first server item sharing any of the client item's identities.
  for (const std::string& guid : index_.with_identities(keys)) {
    if (claimed_.count(guid)) continue;
    const caf::SyncObj& server = *index_.item(guid);
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
  index_.remember_identities(raw, std::move(keys));
  return std::nullopt;
}

std::optional<ItemIndex> ItemIndexCache::take(const std::string& key) {
  std::lock_guard guard(mutex_);
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (it->first != key) continue;
    ItemIndex index = std::move(it->second);
    entries_.erase(it);
    return index;
  }
  return std::nullopt;
}

void ItemIndexCache::put(const std::string& key, ItemIndex index) {
  if (capacity_ == 0) return;
  std::lock_guard guard(mutex_);
  entries_.emplace_front(key, std::move(index));
  while (entries_.size() > capacity_) entries_.pop_back();
}

}  // namespace conflux::engine
