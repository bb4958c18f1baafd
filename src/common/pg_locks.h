// PgLocks: PostgreSQL advisory locks this process holds, for work the
// Conflux nodes sharing one database must not do at once — one session's
// message, one background job. Session-level locks on one connection of
// their own, outside PgDb's pool: a lock lasts until it is released or its
// connection ends. A node that dies (even by SIGKILL) closes its socket,
// PostgreSQL ends that connection and frees its locks, and another node takes
// them.
//
// A lock is named by (space, name); PostgreSQL hashes the name (hashtext), so
// two names may fall on one lock: they then wait for each other, which is
// slower, never wrong.
//
// A lost connection loses every lock held on it. The next call connects
// again; holds() then says false, so a job's owner learns it must take its
// lock again before it runs.
//
// Threading: any method from any thread; calls share the one connection
// under a mutex. Locks are the process's, not a thread's: a name locked
// once counts as held until unlock(), whichever thread asks.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>

#include "common/pg_db.h"

namespace conflux {

class PgLocks {
 public:
  // The lock spaces (advisory lock key 1); they never meet each other's
  // names. PgDb::migrate's lock is a single bigint key, a space of its own.
  enum class Space : int32_t {
    kSession = 0x43460001,  // a sync session's key (engine::SyncStateStore::hold_session)
    kJob = 0x43460002,      // a background job's name (one node runs it)
    // A cached store's writes (cache/pg_cache_store.h), taken per transaction
    // with pg_advisory_xact_lock, not through this class.
    kCacheStore = 0x43460003,
  };

  // Connects on first use.
  explicit PgLocks(std::shared_ptr<PgDb> db);
  PgLocks(const PgLocks&) = delete;
  PgLocks& operator=(const PgLocks&) = delete;
  ~PgLocks();  // the connection closes: PostgreSQL frees what is still held

  // Takes the lock when it is free; true when this process holds it now
  // (also when it already did: then nothing changes). false: another
  // process holds it. kUnavailable when PostgreSQL cannot be reached.
  Result<bool> try_lock(Space space, const std::string& name);

  // try_lock until it succeeds, waiting a little between tries, at most
  // `wait`; kUnavailable ("busy") when the lock stayed taken that long.
  Status lock(Space space, const std::string& name, std::chrono::milliseconds wait);

  // Lets the lock go; nothing when this process does not hold it. A lost
  // connection already let it go: that is not an error.
  void unlock(Space space, const std::string& name);

  // Whether this process still holds the lock: asks PostgreSQL, so a lock
  // lost with its connection is seen. kUnavailable when it cannot ask.
  Result<bool> holds(Space space, const std::string& name);

 private:
  using Key = std::pair<Space, std::string>;
  // The connection, made when there is none; needs mutex_.
  Status connect_locked();
  // Drops the connection and with it every lock; needs mutex_.
  void drop_connection_locked();

  const std::shared_ptr<PgDb> db_;
  std::mutex mutex_;
  std::unique_ptr<pqxx::connection> conn_;  // guarded by mutex_; null: not connected
  std::set<Key> held_;                      // guarded by mutex_
};

}  // namespace conflux
