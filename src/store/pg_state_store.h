// PgStateStore: the StateStore kept in a PostgreSQL database, for several
// Conflux nodes sharing one database (`[storage] database =
// "postgresql://..."`). Same tables and contracts as SqliteStateStore, so any
// node can take the next message of a session another node started.
//
// Threading: every method may be called from any thread; each runs as one
// transaction on a pooled connection (common/pg_db.h), retried on
// serialization failures and deadlocks.
// Failures: kUnavailable when PostgreSQL cannot be reached (nothing of the
// call was written), kInternal for anything else, kInvalidArgument where noted.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/pg_db.h"
#include "common/pg_locks.h"
#include "store/server_secret.h"
#include "store/state_store.h"

namespace conflux::store {

class PgStateStore final : public StateStore {
 public:
  // Unix time in seconds; tests inject their own.
  using NowSeconds = std::function<int64_t()>;

  // How long a message waits for another node's message of the same
  // session to end; longer than any one message runs.
  static constexpr std::chrono::milliseconds kSessionWait{60000};

  // Brings module "state"'s tables in `db` up to date and returns the store.
  static Result<std::unique_ptr<PgStateStore>> open(std::shared_ptr<PgDb> db, NowSeconds now_seconds = {});

  PgStateStore(const PgStateStore&) = delete;
  PgStateStore& operator=(const PgStateStore&) = delete;

  // engine::SyncStateStore (contracts there and in SqliteStateStore)
  // An advisory lock on the session's key (common/pg_locks.h), waited for
  // up to kSessionWait: a node that dies frees it with its connection.
  Result<std::unique_ptr<SessionHold>> hold_session(const SessionKey& key) override;
  Result<std::optional<std::string>> load_session(const SessionKey& key) override;
  Status save_session(const SessionKey& key, const std::string& state) override;
  Status delete_session(const SessionKey& key) override;
  Result<std::vector<std::string>> expire_sessions(int64_t max_age_seconds) override;
  Result<int> expire_auth_nonces(int64_t max_age_seconds) override;
  Result<std::optional<engine::SyncAnchors>> anchors(const engine::DeviceStore& ds) override;
  Status save_anchors(const engine::DeviceStore& ds, const engine::SyncAnchors& anchors) override;
  Status forget_anchors(const engine::DeviceStore& ds) override;
  Result<std::vector<engine::MapEntry>> map_entries(const engine::DeviceStore& ds) override;
  Status upsert_map(const engine::DeviceStore& ds, const std::vector<engine::MapEntry>& entries) override;
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

  // StateStore
  Result<std::vector<Anchor>> server_anchors(const UserId& user, const std::string& database) override;
  Result<std::vector<KnownDevice>> devices(const UserId& user) override;
  Result<int> forget_device(const UserId& user, const DeviceId& device) override;
  Result<std::string> server_secret() override;

  // Tests: a shorter wait for a busy session. Before any other call.
  void TEST_set_session_wait(std::chrono::milliseconds wait) { session_wait_ = wait; }

 private:
  PgStateStore(std::shared_ptr<PgDb> db, NowSeconds now_seconds);

  const std::shared_ptr<PgDb> db_;
  const NowSeconds now_seconds_;

  PgLocks session_locks_;
  std::chrono::milliseconds session_wait_ = kSessionWait;  // constant after construction but for tests

  ServerSecret secret_;
};

}  // namespace conflux::store
