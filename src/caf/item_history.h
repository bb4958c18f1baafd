// The item history (issue #12, items 1 and 2): every change to an item, from
// any source, kept as a version for `history_days`, so a user's store can be
// put back to any moment within them.
//
// Call order: the Content Manager, the one place every write passes (device
// syncs, `conflux` commands, later the portal), calls
// HistoryRecorder::before_apply, the adapter's apply, then after_apply with
// its results. Changes other programs make in the back end reach the history
// when a cached store's Back End Monitor folds them in (record_observed);
// without the cache they are not seen. A background thread calls
// purge_expired() now and then (cli/serve.cc).
//
// HistoryStore is the storage seam: store/sqlite_history_store (the state
// database, conflux.db); a PostgreSQL implementation follows the same
// contract. Every method is safe to call from several threads at once;
// failures are kUnavailable (database down or busy) or kInternal.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "caf/backend_registry.h"
#include "caf/content_adapter.h"
#include "common/clock.h"

namespace conflux::caf {

enum class VersionKind : uint8_t {
  kFound = 0,  // the item as it was before its first recorded change (history began later)
  kCreated = 1,
  kUpdated = 2,
  kDeleted = 3,  // no data: the version deleted is the one before
};
const char* version_kind_name(VersionKind kind);

// One version of one item.
struct ItemVersion {
  int64_t id = 0;  // assigned by HistoryStore::record; increasing in the order of the changes
  UserId user;
  std::string database;
  Guid guid;
  VersionKind kind = VersionKind::kUpdated;
  std::string content_type;
  std::string raw;      // the item's data after the change (empty for kDeleted)
  std::string origin;   // StoreRef::origin: "device IMEI:1", "conflux restore" …
  std::string session;  // StoreRef::session
  int64_t at = 0;       // Unix seconds of the change
};

class HistoryStore {
 public:
  virtual ~HistoryStore() = default;
  // Appends `versions` in their order, assigning ids.
  virtual Status record(const std::vector<ItemVersion>& versions) = 0;
  // Those of `guids` that have any version in user's database.
  virtual Result<std::set<std::string>> known(const UserId& user, const std::string& database,
                                              const std::vector<Guid>& guids) = 0;
  // user's versions in database, oldest first; only `guid`'s when given.
  virtual Result<std::vector<ItemVersion>> versions(const UserId& user, const std::string& database,
                                                    const std::optional<Guid>& guid) = 0;
  // Retention: drops every version of `database` made before `before` (Unix
  // seconds) except, per item, the last of them when it is not a deletion —
  // the state a restore to any later moment starts from; then, when
  // `max_versions` > 0, all but the newest `max_versions` versions of each
  // item, moving that user's whole_from past them. Returns how many were
  // dropped.
  virtual Result<int64_t> purge(const std::string& database, int64_t before, int max_versions) = 0;
  // The version id from which user's history of database is whole despite
  // purges by count (the oldest version left of the item thinned last): a
  // restore that undoes that version or an earlier one would miss versions.
  // 0 when none was purged by count.
  virtual Result<int64_t> whole_from(const UserId& user, const std::string& database) = 0;
};

// A change made in the back end by another program, as the Back End Monitor
// brought it in (cache/backend_monitor.h): `now` carries the id the engine
// sees as guid (and the data, but for a delete); `before`, the version it
// replaced, nullopt for an item new to the server.
struct ObservedChange {
  SyncObj now;
  std::optional<SyncObj> before;
};

// The versions a restore writes: each item changed since the moment goes back
// to its state at that moment. `versions` are one user's versions of one
// datastore, oldest first; the moment is "just before version `cut_id`" (the
// first version made after it). `only` restricts the restore to one item.
// The changes are ordinary CAF writes: a deleted item is created anew (with a
// new GUID), an added one deleted, an edited one updated.
std::vector<SyncObj> plan_restore(const std::vector<ItemVersion>& versions, int64_t cut_id,
                                  const std::optional<Guid>& only);

class HistoryRecorder {
 public:
  // `store` and `clock` must outlive the recorder. Stores whose
  // `history_days` is 0 keep no history.
  HistoryRecorder(HistoryStore& store, const Clock& clock, const std::vector<StoreSettings>& stores);

  // What before_apply saw, for after_apply.
  struct Pending {
    bool keep = false;
    std::vector<ItemVersion> found;    // kFound versions of items without history yet
    std::vector<ItemVersion> changes;  // one per batch entry, guid empty for a create
  };
  // Reads, through `adapter`, the current version of every item the batch
  // updates or deletes that has no history yet. Failures to read leave those
  // items without a kFound version (logged); they never stop the write.
  Pending before_apply(ContentAdapter& adapter, const StoreRef& store, const std::vector<SyncObj>& batch);
  // Records a version for every write that succeeded. A failure to record is
  // logged and counted; the write stands (it was acknowledged by the back end).
  void after_apply(const StoreRef& store, Pending&& pending, const std::vector<ApplyResult>& results);
  // Records changes by others (origin "back end", session "backend-<Unix
  // seconds>", so a restore can start just before them), with the version
  // each replaced when the item has no history yet. A failure is logged.
  void record_observed(const StoreRef& store, const std::vector<ObservedChange>& changes);

  // Drops versions older than each store's history_days and those beyond
  // its history_versions per item. Returns how many.
  Result<int64_t> purge_expired();
  // history_days of `database`; 0 when it keeps none (or is unknown).
  int history_days(const std::string& database) const;
  // history_versions of `database`; 0: no limit by count.
  int history_versions(const std::string& database) const;

  HistoryStore& store() { return store_; }

 private:
  HistoryStore& store_;
  const Clock& clock_;
  struct Retention {
    int days = 0;
    int versions = 0;
  };
  const std::map<std::string, Retention> retention_;  // by datastore
};

}  // namespace conflux::caf
