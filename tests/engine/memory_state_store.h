// MemoryStateStore: the engine's SyncStateStore in maps, for tests. A real
// implementation of engine/sync_state_store.h (the same rules as the SQLite
// store): a GUID maps to at most one LUID per device store, entries are
// listed by LUID, upserts with an empty LUID or GUID are refused whole,
// sessions expire by the time of their last save on an injected Clock.
// `set_unavailable(true)` makes every call fail with kUnavailable, to test
// what the engine does when its database is down.
// Threading: every method may be called from any thread (one mutex).
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "common/clock.h"
#include "engine/sync_state_store.h"

namespace conflux::test {

class MemoryStateStore final : public engine::SyncStateStore {
 public:
  // `clock` must outlive the store.
  explicit MemoryStateStore(const Clock& clock) : clock_(clock) {}

  Result<std::optional<std::string>> load_session(const SessionKey& key) override;
  Status save_session(const SessionKey& key, const std::string& state) override;
  Status delete_session(const SessionKey& key) override;
  Result<std::vector<std::string>> expire_sessions(int64_t max_age_seconds) override;

  Result<std::optional<engine::SyncAnchors>> anchors(const engine::DeviceStore& ds) override;
  Status save_anchors(const engine::DeviceStore& ds, const engine::SyncAnchors& anchors) override;
  Status forget_anchors(const engine::DeviceStore& ds) override;

  Result<std::vector<engine::MapEntry>> map_entries(const engine::DeviceStore& ds) override;
  Status upsert_map(const engine::DeviceStore& ds, const std::vector<engine::MapEntry>& entries) override;
  Status remove_map(const engine::DeviceStore& ds, const std::vector<Luid>& luids) override;
  Status clear_map(const engine::DeviceStore& ds) override;

  Result<int64_t> save_conflict(const engine::ConflictRecord& record) override {
    CFX_RETURN_IF_ERROR(check());
    std::lock_guard lock(mutex_);
    engine::ConflictRecord saved = record;
    saved.id = static_cast<int64_t>(conflicts_.size()) + 1;
    saved.created_at = clock_.now_seconds();
    conflicts_.push_back(saved);
    return saved.id;
  }
  Result<std::vector<engine::ConflictRecord>> conflicts(const UserId& user, bool include_resolved) override {
    CFX_RETURN_IF_ERROR(check());
    std::lock_guard lock(mutex_);
    std::vector<engine::ConflictRecord> out;
    for (auto it = conflicts_.rbegin(); it != conflicts_.rend(); ++it) {
      if ((user.empty() || it->where.user == user) && (include_resolved || !it->resolved)) out.push_back(*it);
    }
    return out;
  }
  Result<std::optional<engine::ConflictRecord>> conflict(int64_t id) override {
    CFX_RETURN_IF_ERROR(check());
    std::lock_guard lock(mutex_);
    if (id < 1 || id > static_cast<int64_t>(conflicts_.size())) return std::optional<engine::ConflictRecord>();
    return std::optional<engine::ConflictRecord>(conflicts_[id - 1]);
  }
  Status mark_conflict_resolved(int64_t id) override {
    CFX_RETURN_IF_ERROR(check());
    std::lock_guard lock(mutex_);
    if (id < 1 || id > static_cast<int64_t>(conflicts_.size())) return Status::not_found("no conflict");
    conflicts_[id - 1].resolved = true;
    return Status::ok();
  }
  Status save_report(const engine::SyncReport& report) override {
    CFX_RETURN_IF_ERROR(check());
    std::lock_guard lock(mutex_);
    reports_.push_back(report);
    reports_.back().finished_at = clock_.now_seconds();
    return Status::ok();
  }
  Result<std::vector<engine::SyncReport>> reports(const UserId& user, int limit) override {
    CFX_RETURN_IF_ERROR(check());
    std::lock_guard lock(mutex_);
    std::vector<engine::SyncReport> out;
    for (auto it = reports_.rbegin(); it != reports_.rend() && static_cast<int>(out.size()) < limit; ++it) {
      if (user.empty() || it->where.user == user) out.push_back(*it);
    }
    return out;
  }
  Result<std::vector<engine::SyncReport>> session_report(const SessionKey& session) override {
    CFX_RETURN_IF_ERROR(check());
    std::lock_guard lock(mutex_);
    std::vector<engine::SyncReport> out;
    for (const auto& r : reports_) {
      if (r.session == session) out.push_back(r);
    }
    return out;
  }
  Result<std::string> auth_nonce(const DeviceId& device) override {
    CFX_RETURN_IF_ERROR(check());
    std::lock_guard lock(mutex_);
    auto it = nonces_.find(device.str());
    return it == nonces_.end() ? std::string() : it->second;
  }
  Status save_auth_nonce(const DeviceId& device, const std::string& nonce_b64) override {
    CFX_RETURN_IF_ERROR(check());
    std::lock_guard lock(mutex_);
    nonces_[device.str()] = nonce_b64;
    return Status::ok();
  }
  // Nonces carry no time here: a test that needs their expiry uses SQLite.
  Result<int> expire_auth_nonces(int64_t) override {
    CFX_RETURN_IF_ERROR(check());
    return 0;
  }
  Status save_device_info(const UserId& user, const DeviceId& device, const std::string& devinf_xml) override;
  Result<std::optional<std::string>> device_info(const UserId& user, const DeviceId& device) override;

  Result<std::vector<engine::Rejection>> rejections(const engine::DeviceStore& ds) override {
    CFX_RETURN_IF_ERROR(check());
    std::lock_guard lock(mutex_);
    std::vector<engine::Rejection> out;
    for (const auto& [guid, r] : rejections_[key_of(ds)]) out.push_back(r);
    return out;
  }
  Status record_rejection(const engine::DeviceStore& ds, const Guid& guid, const Anchor& revision,
                          int status) override {
    CFX_RETURN_IF_ERROR(check());
    std::lock_guard lock(mutex_);
    engine::Rejection& r = rejections_[key_of(ds)][guid.str()];
    r.count = r.guid == guid && r.revision == revision ? r.count + 1 : 1;
    r.guid = guid;
    r.revision = revision;
    r.status = status;
    return Status::ok();
  }
  Status clear_rejections(const engine::DeviceStore& ds, const std::vector<Guid>& guids) override {
    CFX_RETURN_IF_ERROR(check());
    std::lock_guard lock(mutex_);
    for (const auto& g : guids) rejections_[key_of(ds)].erase(g.str());
    return Status::ok();
  }
  Status save_resume_point(const engine::DeviceStore& ds, const SessionKey& session) override {
    CFX_RETURN_IF_ERROR(check());
    std::lock_guard lock(mutex_);
    resume_points_[key_of(ds)] = session;
    return Status::ok();
  }
  Result<std::optional<SessionKey>> resume_point(const engine::DeviceStore& ds) override {
    CFX_RETURN_IF_ERROR(check());
    std::lock_guard lock(mutex_);
    auto it = resume_points_.find(key_of(ds));
    return it == resume_points_.end() ? std::optional<SessionKey>() : std::optional<SessionKey>(it->second);
  }
  Status forget_resume_point(const engine::DeviceStore& ds) override {
    CFX_RETURN_IF_ERROR(check());
    std::lock_guard lock(mutex_);
    resume_points_.erase(key_of(ds));
    return Status::ok();
  }

  Result<int64_t> hold_deletions(const engine::HeldDeletion& held) override {
    CFX_RETURN_IF_ERROR(check());
    std::lock_guard lock(mutex_);
    engine::HeldDeletion copy = held;
    copy.id = ++last_held_id_;
    copy.held_at = clock_.now_seconds();
    held_.push_back(std::move(copy));
    return last_held_id_;
  }
  Result<std::vector<engine::HeldDeletion>> held_deletions(const UserId& user) override {
    CFX_RETURN_IF_ERROR(check());
    std::lock_guard lock(mutex_);
    std::vector<engine::HeldDeletion> out;
    for (const auto& h : held_) {
      if (user.str().empty() || h.where.user == user) out.push_back(h);
    }
    return out;
  }
  Status release_held(int64_t id) override {
    CFX_RETURN_IF_ERROR(check());
    std::lock_guard lock(mutex_);
    auto n = std::erase_if(held_, [&](const engine::HeldDeletion& h) { return h.id == id; });
    return n ? Status::ok() : Status::not_found("no held deletion " + std::to_string(id));
  }

  void set_unavailable(bool unavailable) { unavailable_ = unavailable; }
  size_t session_count() const;

 private:
  using StoreKey = std::tuple<std::string, std::string, std::string>;  // user, device, database
  static StoreKey key_of(const engine::DeviceStore& ds) { return {ds.user.str(), ds.device.str(), ds.database}; }
  Status check() const;

  struct SavedSession {
    std::string blob;
    int64_t saved_at = 0;
  };

  const Clock& clock_;
  std::atomic<bool> unavailable_{false};
  mutable std::mutex mutex_;
  std::map<std::string, SavedSession> sessions_;                             // guarded by mutex_
  std::map<StoreKey, engine::SyncAnchors> anchors_;                          // guarded by mutex_
  std::map<StoreKey, std::map<std::string, engine::MapEntry>> maps_;         // guarded by mutex_; by LUID
  std::map<std::pair<std::string, std::string>, std::string> device_info_;   // guarded by mutex_
  std::map<std::string, std::string> nonces_;                                // guarded by mutex_; by device
  std::vector<engine::ConflictRecord> conflicts_;                            // guarded by mutex_; id = index + 1
  std::vector<engine::SyncReport> reports_;                                  // guarded by mutex_; oldest first
  std::map<StoreKey, std::map<std::string, engine::Rejection>> rejections_;  // guarded by mutex_; by GUID
  std::map<StoreKey, SessionKey> resume_points_;                             // guarded by mutex_
  std::vector<engine::HeldDeletion> held_;                                   // guarded by mutex_; oldest first
  int64_t last_held_id_ = 0;                                                 // guarded by mutex_
};

}  // namespace conflux::test
