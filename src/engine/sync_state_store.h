// Where the engine keeps what must outlive one HTTP request: session state,
// anchors, LUID<->GUID maps and device information. Kept in a database, not in
// process memory, so any node can serve the next message of a session.
// Implementations: store/sqlite_state_store (embedded) and store/pg_state_store
// (PostgreSQL shared by several nodes), behind store::StateStore.
//
// Every method is safe to call from several threads at once. Failures are
// kUnavailable (database down or busy) or kInternal.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/ids.h"
#include "common/status.h"

namespace conflux::engine {

// What the server remembers after the last *completed* sync of one datastore
// of one device.
struct SyncAnchors {
  std::string client_next;  // the device's Next anchor of that sync
  Anchor server_next;       // the back end's anchor handed out in that sync
  // The back end the anchors and the device's map point into
  // (engine/store_identity.h); empty in rows saved before it was kept.
  std::string store_identity;
};

// One row of a device's mapping table. `synced` is the back-end revision of
// the item the device holds, so an unchanged item is not sent again and a
// device's own change is never echoed back to it.
struct MapEntry {
  Luid luid;
  Guid guid;
  Anchor synced;
};

// Identifies one datastore as seen by one device of one user.
struct DeviceStore {
  UserId user;
  DeviceId device;
  std::string database;
};

// What the engine did when a device changed an item the server had changed
// too since that device last saw it. Whatever the policy, the version that
// lost (or both, under "report" and "merge") is kept here, so nothing is lost silently.
struct ConflictRecord {
  int64_t id = 0;           // assigned by save_conflict
  DeviceStore where;        // user, device, datastore
  Guid guid;                // the server item
  Luid luid;                // the device's item
  std::string policy;       // conflict_policy_name(): "server-wins", "newest-wins", "merge", ...
  std::string outcome;      // what was done, for people: "server version kept; device gets it back"
  std::string server_type;  // server version (empty data: the server had deleted it)
  std::string server_data;
  std::string client_type;  // device version (empty data: the device deleted it)
  std::string client_data;
  int64_t created_at = 0;  // set by save_conflict
  bool resolved = false;   // an admin or the user settled it
};

// What one session did to one datastore: counted while it runs
// (DatastoreState), stored as its report when it completes (SyncReport).
struct SyncCounts {
  int client_adds = 0, client_updates = 0, client_deletes = 0, client_errors = 0;  // from the device
  int server_adds = 0, server_updates = 0, server_deletes = 0;                     // to the device
  int conflicts = 0;
};

// One item that failed in a session, for its report: a device's change the
// server could not apply, or a server item the device refused.
struct ItemProblem {
  enum class Direction : uint8_t { kFromDevice, kToDevice };
  Direction direction = Direction::kFromDevice;
  std::string item;  // the device's LUID (from device) or the server's GUID (to device)
  int status = 0;    // the SyncML status it got or gave
  std::string what;  // for people: "apply failed: ...", "poison: refused 3 times ..."
};

// Post-synchronisation report of one datastore in one completed session.
struct SyncReport {
  SessionKey session;
  DeviceStore where;
  int sync_type = 200;      // alert code that was run
  int64_t finished_at = 0;  // set by save_report
  SyncCounts counts;
  std::vector<ItemProblem> problems;
};

// A server item a device refused (an error Status for our Add/Replace),
// counted per revision of the item: a new revision starts again at one.
struct Rejection {
  Guid guid;
  Anchor revision;  // the revision that was refused
  int count = 0;    // consecutive refusals of that revision
  int status = 0;   // the device's last status for it
};

// Which way a held deletion goes (engine/deletion_guard.h).
enum class HeldKind : uint8_t {
  kFromDevice = 0,  // a device deleted the items; the server keeps them until the user decides
  kToDevice = 1,    // the server would delete them on the device; not sent until the user decides
  kConfirmed = 2,   // the user approved these deletions: the guard lets them reach devices
};

// The HeldKind stored as `stored` for held deletion `id`; kInternal for a
// number no HeldKind has (a newer binary's row).
inline Result<HeldKind> held_kind(int64_t stored, int64_t id) {
  if (stored < 0 || stored > static_cast<int64_t>(HeldKind::kConfirmed)) {
    return Status::internal("held deletion " + std::to_string(id) + " has an unknown kind " + std::to_string(stored));
  }
  return static_cast<HeldKind>(stored);
}

// Deletions one sync asked for that would remove a large part of a store,
// held until the user confirms or discards them (engine/deletion_guard.h).
struct HeldDeletion {
  int64_t id = 0;  // assigned by hold_deletions
  HeldKind kind = HeldKind::kFromDevice;
  DeviceStore where;        // the user, the device (kConfirmed: empty = every device), the datastore
  SessionKey session;       // that sync's session
  std::string reason;       // for people: "device deleted 200 of 300 items"
  std::vector<Guid> guids;  // the server items still kept
  int64_t held_at = 0;      // set by hold_deletions
};

class SyncStateStore {
 public:
  virtual ~SyncStateStore() = default;

  // Held while one message of a session runs (SyncEngine::handle).
  class SessionHold {
   public:
    virtual ~SessionHold() = default;
  };
  // Until the returned hold goes, no other server sharing this store runs a
  // message of session `key`: a second caller waits here, then loads what
  // the first saved (a resent message then gets the saved answer). A store
  // one process owns returns null: SyncEngine serialises its own threads.
  // kUnavailable when the session stayed busy too long or the store cannot
  // be reached.
  virtual Result<std::unique_ptr<SessionHold>> hold_session(const SessionKey& /*key*/) {
    return std::unique_ptr<SessionHold>();
  }

  // Session state as an opaque serialized blob. nullopt: no such session (or expired).
  virtual Result<std::optional<std::string>> load_session(const SessionKey& key) = 0;
  virtual Status save_session(const SessionKey& key, const std::string& state) = 0;
  virtual Status delete_session(const SessionKey& key) = 0;
  // Removes sessions not saved for `max_age_seconds`; returns their states,
  // each to one caller also when several servers share the store.
  virtual Result<std::vector<std::string>> expire_sessions(int64_t max_age_seconds) = 0;

  virtual Result<std::optional<SyncAnchors>> anchors(const DeviceStore& ds) = 0;
  virtual Status save_anchors(const DeviceStore& ds, const SyncAnchors& anchors) = 0;
  virtual Status forget_anchors(const DeviceStore& ds) = 0;

  virtual Result<std::vector<MapEntry>> map_entries(const DeviceStore& ds) = 0;
  // Inserts or replaces by LUID (a GUID maps to at most one LUID: an older row
  // with the same GUID is replaced too).
  virtual Status upsert_map(const DeviceStore& ds, const std::vector<MapEntry>& entries) = 0;
  virtual Status remove_map(const DeviceStore& ds, const std::vector<Luid>& luids) = 0;
  virtual Status clear_map(const DeviceStore& ds) = 0;

  // The nonce a device's next syncml:auth-md5 credentials must be made with,
  // as sent in NextNonce (base64); empty when none was issued yet.
  virtual Result<std::string> auth_nonce(const DeviceId& device) = 0;
  virtual Status save_auth_nonce(const DeviceId& device, const std::string& nonce_b64) = 0;
  // Removes nonces not saved for `max_age_seconds` (devices long gone);
  // returns how many.
  virtual Result<int> expire_auth_nonces(int64_t max_age_seconds) = 0;

  // Conflict records. conflicts() lists the newest first; an empty user means every user.
  virtual Result<int64_t> save_conflict(const ConflictRecord& record) = 0;
  virtual Result<std::vector<ConflictRecord>> conflicts(const UserId& user, bool include_resolved) = 0;
  virtual Result<std::optional<ConflictRecord>> conflict(int64_t id) = 0;
  // kNotFound for an unknown id.
  virtual Status mark_conflict_resolved(int64_t id) = 0;

  // Reports of completed sessions. reports() lists the newest first (at most
  // `limit`); an empty user means every user. session_report() gives the
  // datastores of one session (empty when unknown).
  virtual Status save_report(const SyncReport& report) = 0;
  virtual Result<std::vector<SyncReport>> reports(const UserId& user, int limit) = 0;
  virtual Result<std::vector<SyncReport>> session_report(const SessionKey& session) = 0;

  // Server items a device refused (poison detection). record_rejection
  // counts one more refusal of `revision` (a different revision restarts at
  // one); clear_rejections forgets the given items (delivered or gone).
  virtual Result<std::vector<Rejection>> rejections(const DeviceStore& ds) = 0;
  virtual Status record_rejection(const DeviceStore& ds, const Guid& guid, const Anchor& revision, int status) = 0;
  virtual Status clear_rejections(const DeviceStore& ds, const std::vector<Guid>& guids) = 0;

  // Suspend and resume (SYNCML-REFERENCE §15): the session in which a
  // datastore's last sync ran while it has not completed. Saved when the
  // sync starts, forgotten when it completes; nullopt when there is none.
  virtual Status save_resume_point(const DeviceStore& ds, const SessionKey& session) = 0;
  virtual Result<std::optional<SessionKey>> resume_point(const DeviceStore& ds) = 0;
  virtual Status forget_resume_point(const DeviceStore& ds) = 0;

  // Held deletions (engine/deletion_guard.h). held_deletions() lists the
  // oldest first; an empty user means every user. release_held forgets one
  // (after it was confirmed or discarded); kNotFound for an unknown id.
  virtual Result<int64_t> hold_deletions(const HeldDeletion& held) = 0;
  virtual Result<std::vector<HeldDeletion>> held_deletions(const UserId& user) = 0;
  virtual Status release_held(int64_t id) = 0;

  // The device's last DevInf as XML text.
  virtual Status save_device_info(const UserId& user, const DeviceId& device, const std::string& devinf_xml) = 0;
  virtual Result<std::optional<std::string>> device_info(const UserId& user, const DeviceId& device) = 0;
};

}  // namespace conflux::engine
