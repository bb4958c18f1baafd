// CacheMonitor (seed FIG. 6, "Cache Monitor 70"): replicates what devices
// wrote into the cache to the back end, for one datastore (every user).
//
// run_once(now), called every second by the MonitorThread (tests call it
// with a ManualClock's time):
//   1. reads the datastore's queue, oldest first (kBatchLimit entries);
//   2. does nothing unless the Trigger is due (queue length, time since the
//      last propagation) or an entry that failed before is due for retry;
//   3. applies the entries to the back end one by one, through a service
//      StoreRef (user and database, no session token: seed "Session
//      Handling" — with the cache there is no session, replication is
//      asynchronous). Creates record the back end's guid in the cache's
//      cuid <-> guid table; updates and deletes go to the mapped guid;
//   4. an entry that fails (kUnavailable or any other error) stays queued:
//      attempts + 1, next_attempt_at = now + backoff (1 s, 2 s, 4 s … capped
//      at 5 min), last_error kept. Nothing later of the same user is applied
//      in that round, so an item's changes never overtake each other.
// Nothing is ever dropped from the queue except by replicated().
//
// Replaying after a crash (the back end took a create, the process died
// before the cache recorded it): a create is written with its cuid as the
// guid hint, and before writing the monitor looks that guid up in the back
// end; found, the create counts as done. Updates and deletes are idempotent.
// An update the back end rejects with kNotFound (someone deleted the item
// there) is written as a create: the device's change wins.
//
// Threading: run_once is meant for one thread (the MonitorThread, which also
// runs the BackendMonitor, so the two never interleave on one item); a
// mutex makes concurrent calls safe all the same.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "cache/cache_store.h"
#include "cache/triggers.h"
#include "caf/content_adapter.h"

namespace conflux::cache {

class CacheMonitor {
 public:
  static constexpr int64_t kMaxBackoffSeconds = 300;
  // Entries looked at per run_once; the rest wait for the next tick.
  static constexpr size_t kBatchLimit = 500;

  // `start`: the time the last propagation counts from (Interval trigger).
  CacheMonitor(std::shared_ptr<CacheStore> cache, std::shared_ptr<caf::ContentAdapter> backend,
               std::string database, Trigger trigger, int64_t start);

  // Returns how many entries reached the back end; an error only when the
  // cache itself could not be read or written.
  Result<int> run_once(int64_t now);

  // Seconds to wait after the `attempts`-th failure: 1, 2, 4 … capped.
  static int64_t backoff_seconds(int64_t attempts);

  const std::string& database() const { return database_; }
  Trigger trigger() const;
  // System preferences: the next run_once asks the new trigger.
  void set_trigger(Trigger trigger);

 private:
  // Applies one entry to the back end and records the outcome in the cache.
  // A non-OK status leaves the entry for retry_later.
  Status replicate(const QueueEntry& entry);
  Status create_in_backend(const caf::StoreRef& ref, const QueueEntry& entry, const CacheItem& item);

  const std::shared_ptr<CacheStore> cache_;
  const std::shared_ptr<caf::ContentAdapter> backend_;
  const std::string database_;

  mutable std::mutex mutex_;      // serialises run_once
  Trigger trigger_;               // guarded by mutex_
  int64_t last_propagation_ = 0;  // guarded by mutex_
};

}  // namespace conflux::cache
