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

#include <string>
#include <vector>

#include "engine/sync_state_store.h"

namespace conflux::store {

class StateStore : public engine::SyncStateStore {
 public:
  // The server anchors of `database` handed to each device of `user` in its
  // last completed sync (the cache's tombstone purge asks this).
  virtual Result<std::vector<Anchor>> server_anchors(const UserId& user, const std::string& database) = 0;

  // The key every node sharing this database signs tokens with: 32 random
  // bytes, made on the first call ever and stored, read back on every later
  // call and by every other node. The caller must not log it.
  virtual Result<std::string> server_secret() = 0;
};

}  // namespace conflux::store
