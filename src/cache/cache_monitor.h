// CacheMonitor (seed FIG. 6, "Cache Monitor 70"): replicates what devices
// wrote into the cache to the back end, for one datastore (every user).
//
// run_once(now), called every second by the MonitorThread (tests call it
// with a ManualClock's time):
//   1. reads the datastore's queue, oldest first (kBatchLimit entries);
//   2. does nothing unless the Trigger is due (queue length, time since the
//      last propagation) or an entry that failed before is due for retry;
//   3. claims each entry (a lease for this node, CacheStore::claim) right
//      before replicating it; an entry another node holds is left to it,
//      and so is every later entry of that user this round, so two nodes
//      sharing the cache never replicate one entry twice nor reorder a
//      user's changes. A node whose lease expired mid-replication (it
//      hung past lease_seconds) loses the entry to the next claimer;
//   4. applies the entries to the back end one by one, through a service
//      StoreRef (user and database, no session token: seed "Session
//      Handling" — with the cache there is no session, replication is
//      asynchronous). Creates record the back end's guid in the cache's
//      cuid <-> guid table; updates and deletes go to the mapped guid;
//   5. an entry that fails (kUnavailable or any other error) stays queued:
//      attempts + 1, next_attempt_at = now + backoff (1 s, 2 s, 4 s … capped
//      at 5 min), last_error kept. Nothing later of the same user is applied
//      in that round, so an item's changes never overtake each other;
//   6. an entry the back end refuses (any error but kUnavailable and
//      kResourceExhausted, which say "down, try later") stuck_after_attempts
//      times is marked stuck: no more automatic retries, the user's other
//      items go on, later changes of the same item wait behind it, and
//      `conflux cache retry|drop` settles it. A back end that is merely down
//      never makes an entry stuck, however long it stays down.
// Nothing is ever removed from the queue except by replicated() and an
// administrator's drop (which keeps the content in the dropped table).
//
// purge_tombstones(now), at most every purge_every_seconds: per user, the
// tombstones every device has synced past (the lowest cache anchor any
// device got in its last completed sync, from DeviceProgress) and those
// older than tombstone_max_age_seconds go; never one with a queued delete.
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
#include <optional>
#include <string>
#include <vector>

#include "cache/cache_store.h"
#include "cache/triggers.h"
#include "caf/content_adapter.h"

namespace conflux::cache {

// What the engine knows about devices' progress, for the tombstone purge.
// Implemented over the sync state store (cli/services.cc); any thread.
class DeviceProgress {
 public:
  virtual ~DeviceProgress() = default;
  // The anchors of this datastore handed to each device of `user` in its
  // last completed sync, one per device; empty when no device synced it.
  virtual Result<std::vector<Anchor>> synced_anchors(const UserId& user, const std::string& database) = 0;
};

struct CacheMonitorOptions {
  std::string node_id = "local";  // owner name of this monitor's leases; one per server node
  int64_t lease_seconds = 300;    // a claimed entry is this node's for this long
  int64_t stuck_after_attempts = 8;
  int64_t tombstone_max_age_seconds = 30 * 86400;
  int64_t purge_every_seconds = 60;
  // May be null: tombstones then go by age alone. Must outlive the monitor.
  DeviceProgress* progress = nullptr;
};

class CacheMonitor {
 public:
  static constexpr int64_t kMaxBackoffSeconds = 300;
  // Entries looked at per run_once; the rest wait for the next tick.
  static constexpr size_t kBatchLimit = 500;

  // `start`: the time the last propagation counts from (Interval trigger).
  CacheMonitor(std::shared_ptr<CacheStore> cache, std::shared_ptr<caf::ContentAdapter> backend, std::string database,
               Trigger trigger, int64_t start, CacheMonitorOptions options = {});

  // Returns how many entries reached the back end; an error only when the
  // cache itself could not be read or written.
  Result<int> run_once(int64_t now);

  // Purges tombstones when purge_every_seconds passed since the last purge
  // (the first call always purges). Returns how many went.
  Result<int> purge_tombstones(int64_t now);

  // Seconds to wait after the `attempts`-th failure: 1, 2, 4 … capped.
  static int64_t backoff_seconds(int64_t attempts);

  const std::string& database() const { return database_; }
  Trigger trigger() const;
  // System preferences: the next run_once asks the new trigger.
  void set_trigger(Trigger trigger);
  const CacheMonitorOptions& options() const { return options_; }

 private:
  // Applies one entry to the back end and records the outcome in the cache.
  // A non-OK status leaves the entry for retry_later.
  Status replicate(const QueueEntry& entry);
  Status create_in_backend(const caf::StoreRef& ref, const QueueEntry& entry, const CacheItem& item);
  // The revision every device of `user` has synced past; -1 when unknown.
  int64_t synced_revision(const UserId& user);

  const std::shared_ptr<CacheStore> cache_;
  const std::shared_ptr<caf::ContentAdapter> backend_;
  const std::string database_;
  const CacheMonitorOptions options_;

  mutable std::mutex mutex_;           // serialises run_once and purge_tombstones
  Trigger trigger_;                    // guarded by mutex_
  int64_t last_propagation_ = 0;       // guarded by mutex_
  std::optional<int64_t> last_purge_;  // guarded by mutex_
};

}  // namespace conflux::cache
