// StateStore: the storage seam for what the server keeps about syncs — the
// engine's SyncStateStore plus what the server process itself asks of the
// same database. Two implementations, chosen by `[storage] database`:
// SqliteStateStore (conflux.db in the data directory, the default) and
// PgStateStore (a PostgreSQL database several nodes share).
//
// Threading and failures as in engine/sync_state_store.h: any method from any
// thread; kUnavailable when the database cannot be reached (retry later),
// kInternal otherwise.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/sync_state_store.h"

namespace conflux::store {

// A device the server knows of: it sent its DevInf, or it holds anchors of a
// completed sync (`conflux devices list`).
struct KnownDevice {
  UserId user;
  DeviceId device;
  int64_t devinf_at = 0;               // when its DevInf was last saved (Unix seconds); 0: never sent
  int64_t last_sync_at = 0;            // when its last reported session finished; 0: none reported
  std::vector<std::string> databases;  // the datastores it holds anchors for, sorted
};

class StateStore : public engine::SyncStateStore {
 public:
  // The server anchors of `database` handed to each device of `user` in its
  // last completed sync (the cache's tombstone purge asks this).
  virtual Result<std::vector<Anchor>> server_anchors(const UserId& user, const std::string& database) = 0;

  // The devices of `user` (empty: every user's), by user then device.
  virtual Result<std::vector<KnownDevice>> devices(const UserId& user) = 0;
  // Forgets one device's sync state in one transaction: its anchors, maps,
  // refused items, resume points and DevInf, so the next sync of each of its
  // datastores is slow (it sends every item, the server matches what it has).
  // Reports, conflicts and held deletions stay, for the record. Returns how
  // many datastores it held anchors for; 0 also for an unknown device.
  virtual Result<int> forget_device(const UserId& user, const DeviceId& device) = 0;

  // The key every node sharing this database signs tokens with: 32 random
  // bytes, made on the first call ever and stored, read back on every later
  // call and by every other node. The caller must not log it.
  virtual Result<std::string> server_secret() = 0;
};

}  // namespace conflux::store
