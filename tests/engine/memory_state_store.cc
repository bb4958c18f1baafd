#include "tests/engine/memory_state_store.h"

namespace conflux::test {

Status MemoryStateStore::check() const { return unavailable_ ? Status::unavailable("state store down") : Status::ok(); }

size_t MemoryStateStore::session_count() const {
  std::lock_guard lock(mutex_);
  return sessions_.size();
}

Result<std::optional<std::string>> MemoryStateStore::load_session(const SessionKey& key) {
  CFX_RETURN_IF_ERROR(check());
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(key.str());
  if (it == sessions_.end()) return std::optional<std::string>();
  return std::optional<std::string>(it->second.blob);
}

Status MemoryStateStore::save_session(const SessionKey& key, const std::string& state) {
  CFX_RETURN_IF_ERROR(check());
  std::lock_guard lock(mutex_);
  sessions_[key.str()] = SavedSession{state, clock_.now_seconds()};
  return Status::ok();
}

Status MemoryStateStore::delete_session(const SessionKey& key) {
  CFX_RETURN_IF_ERROR(check());
  std::lock_guard lock(mutex_);
  sessions_.erase(key.str());
  return Status::ok();
}

Result<std::vector<std::string>> MemoryStateStore::expire_sessions(int64_t max_age_seconds) {
  CFX_RETURN_IF_ERROR(check());
  if (max_age_seconds < 0) return Status::invalid_argument("expire_sessions: negative age");
  std::lock_guard lock(mutex_);
  const int64_t oldest = clock_.now_seconds() - max_age_seconds;
  std::vector<std::string> removed;
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    if (it->second.saved_at < oldest) {
      removed.push_back(it->second.blob);
      it = sessions_.erase(it);
    } else {
      ++it;
    }
  }
  return removed;
}

Result<std::optional<engine::SyncAnchors>> MemoryStateStore::anchors(const engine::DeviceStore& ds) {
  CFX_RETURN_IF_ERROR(check());
  std::lock_guard lock(mutex_);
  auto it = anchors_.find(key_of(ds));
  if (it == anchors_.end()) return std::optional<engine::SyncAnchors>();
  return std::optional<engine::SyncAnchors>(it->second);
}

Status MemoryStateStore::save_anchors(const engine::DeviceStore& ds, const engine::SyncAnchors& anchors) {
  CFX_RETURN_IF_ERROR(check());
  std::lock_guard lock(mutex_);
  anchors_[key_of(ds)] = anchors;
  return Status::ok();
}

Status MemoryStateStore::forget_anchors(const engine::DeviceStore& ds) {
  CFX_RETURN_IF_ERROR(check());
  std::lock_guard lock(mutex_);
  anchors_.erase(key_of(ds));
  return Status::ok();
}

Result<std::vector<engine::MapEntry>> MemoryStateStore::map_entries(const engine::DeviceStore& ds) {
  CFX_RETURN_IF_ERROR(check());
  std::lock_guard lock(mutex_);
  std::vector<engine::MapEntry> out;
  if (auto it = maps_.find(key_of(ds)); it != maps_.end()) {
    for (const auto& [_, entry] : it->second) out.push_back(entry);
  }
  return out;
}

Status MemoryStateStore::upsert_map(const engine::DeviceStore& ds, const std::vector<engine::MapEntry>& entries) {
  CFX_RETURN_IF_ERROR(check());
  for (const auto& e : entries) {
    if (e.luid.empty() || e.guid.empty()) {
      return Status::invalid_argument("upsert_map: entry with an empty LUID or GUID ('" + e.luid.str() + "' -> '" +
                                      e.guid.str() + "')");
    }
  }
  std::lock_guard lock(mutex_);
  auto& rows = maps_[key_of(ds)];
  for (const auto& e : entries) {
    // A GUID maps to at most one LUID: the row holding it under another LUID goes.
    for (auto it = rows.begin(); it != rows.end();) {
      if (it->second.guid == e.guid && it->first != e.luid.str()) {
        it = rows.erase(it);
      } else {
        ++it;
      }
    }
    rows[e.luid.str()] = e;
  }
  return Status::ok();
}

Status MemoryStateStore::remove_map(const engine::DeviceStore& ds, const std::vector<Luid>& luids) {
  CFX_RETURN_IF_ERROR(check());
  std::lock_guard lock(mutex_);
  auto it = maps_.find(key_of(ds));
  if (it == maps_.end()) return Status::ok();
  for (const auto& luid : luids) it->second.erase(luid.str());
  return Status::ok();
}

Status MemoryStateStore::clear_map(const engine::DeviceStore& ds) {
  CFX_RETURN_IF_ERROR(check());
  std::lock_guard lock(mutex_);
  maps_.erase(key_of(ds));
  return Status::ok();
}

Status MemoryStateStore::save_device_info(const UserId& user, const DeviceId& device, const std::string& devinf_xml) {
  CFX_RETURN_IF_ERROR(check());
  std::lock_guard lock(mutex_);
  device_info_[{user.str(), device.str()}] = devinf_xml;
  return Status::ok();
}

Result<std::optional<std::string>> MemoryStateStore::device_info(const UserId& user, const DeviceId& device) {
  CFX_RETURN_IF_ERROR(check());
  std::lock_guard lock(mutex_);
  auto it = device_info_.find({user.str(), device.str()});
  if (it == device_info_.end()) return std::optional<std::string>();
  return std::optional<std::string>(it->second);
}

}  // namespace conflux::test
