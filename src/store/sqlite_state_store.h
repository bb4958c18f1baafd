// SqliteStateStore: the engine's SyncStateStore kept in conflux.db (embedded
// deployments; several nodes may share the file). Also keeps the server
// secret every node signs tokens with (store/server_secret.h).
//
// Threading: every method may be called from any thread; the shared SqliteDb
// serialises them (see common/sqlite_db.h). Methods that write several rows
// do so in one transaction.
// Failures: kUnavailable (database busy or locked beyond the busy timeout),
// kInternal (anything else SQLite reports), kInvalidArgument where noted.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/sqlite_db.h"
#include "store/server_secret.h"
#include "store/state_store.h"

namespace conflux::store {

class SqliteStateStore final : public StateStore {
 public:
  // Unix time in seconds; tests inject their own.
  using NowSeconds = std::function<int64_t()>;
  static int64_t system_now_seconds();

  // Brings the "state" tables of `db` up to date and returns the store.
  // `db` (normally <data_dir>/conflux.db) is shared with the UserStore.
  static Result<std::unique_ptr<SqliteStateStore>> open(std::shared_ptr<SqliteDb> db,
                                                        NowSeconds now_seconds = system_now_seconds);

  SqliteStateStore(const SqliteStateStore&) = delete;
  SqliteStateStore& operator=(const SqliteStateStore&) = delete;

  // engine::SyncStateStore
  Result<std::optional<std::string>> load_session(const SessionKey& key) override;
  Status save_session(const SessionKey& key, const std::string& state) override;
  Status delete_session(const SessionKey& key) override;
  // Deletes sessions whose last save is more than `max_age_seconds` before now.
  // kInvalidArgument for a negative age.
  Result<std::vector<std::string>> expire_sessions(int64_t max_age_seconds) override;

  Result<std::optional<engine::SyncAnchors>> anchors(const engine::DeviceStore& ds) override;
  // The server anchors of `database` handed to each device of `user` in its
  // last completed sync (the cache's tombstone purge asks this).
  Result<std::vector<Anchor>> server_anchors(const UserId& user, const std::string& database) override;
  Result<std::vector<KnownDevice>> devices(const UserId& user) override;
  Result<int> forget_device(const UserId& user, const DeviceId& device) override;
  Status save_anchors(const engine::DeviceStore& ds, const engine::SyncAnchors& anchors) override;
  Status forget_anchors(const engine::DeviceStore& ds) override;

  // Ordered by LUID.
  Result<std::vector<engine::MapEntry>> map_entries(const engine::DeviceStore& ds) override;
  // All entries in one transaction; a later entry of the batch wins over an
  // earlier one with the same LUID or GUID. kInvalidArgument (and nothing
  // written) when an entry has an empty LUID or GUID.
  Status upsert_map(const engine::DeviceStore& ds, const std::vector<engine::MapEntry>& entries) override;
  // LUIDs without a row are ignored.
  Status remove_map(const engine::DeviceStore& ds, const std::vector<Luid>& luids) override;
  Status clear_map(const engine::DeviceStore& ds) override;

  Result<int64_t> save_conflict(const engine::ConflictRecord& record) override;
  Result<std::vector<engine::ConflictRecord>> conflicts(const UserId& user, bool include_resolved) override;
  Result<std::optional<engine::ConflictRecord>> conflict(int64_t id) override;
  Status mark_conflict_resolved(int64_t id) override;
  Status save_report(const engine::SyncReport& report) override;
  Result<std::vector<engine::SyncReport>> reports(const UserId& user, int limit) override;
  Result<std::vector<engine::SyncReport>> session_report(const SessionKey& session) override;
  Result<std::string> auth_nonce(const DeviceId& device) override;
  Status save_auth_nonce(const DeviceId& device, const std::string& nonce_b64) override;
  Result<int> expire_auth_nonces(int64_t max_age_seconds) override;
  Result<std::vector<engine::Rejection>> rejections(const engine::DeviceStore& ds) override;
  Status record_rejection(const engine::DeviceStore& ds, const Guid& guid, const Anchor& revision, int status) override;
  Status clear_rejections(const engine::DeviceStore& ds, const std::vector<Guid>& guids) override;
  Status save_resume_point(const engine::DeviceStore& ds, const SessionKey& session) override;
  Result<std::optional<SessionKey>> resume_point(const engine::DeviceStore& ds) override;
  Status forget_resume_point(const engine::DeviceStore& ds) override;
  Result<int64_t> hold_deletions(const engine::HeldDeletion& held) override;
  Result<std::vector<engine::HeldDeletion>> held_deletions(const UserId& user) override;
  Status release_held(int64_t id) override;
  Status save_device_info(const UserId& user, const DeviceId& device, const std::string& devinf_xml) override;
  Result<std::optional<std::string>> device_info(const UserId& user, const DeviceId& device) override;

  // The key every node sharing this database signs tokens with: 32 random
  // bytes, made on the first call ever and stored (table secrets), read back
  // on every later call and by every other node. The caller must not log it.
  Result<std::string> server_secret() override;

 private:
  SqliteStateStore(std::shared_ptr<SqliteDb> db, NowSeconds now_seconds);

  const std::shared_ptr<SqliteDb> db_;
  const NowSeconds now_seconds_;

  ServerSecret secret_;
};

}  // namespace conflux::store
