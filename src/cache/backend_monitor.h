// BackendMonitor (seed FIG. 6, "Back End Monitor 60"): brings changes made
// in the back end by others (khard in a vdir, an SQL program) into the cache,
// so devices sync against fresh data. Lazy policy: poll_once(now) asks the
// back end at most every `interval` seconds, for every user whose store the
// cache has loaded, for changes_since(the back-end anchor folded so far),
// and folds them into the cache (CacheStore::fold: new items get cuids,
// updates and deletes find their item by back-end guid; echoes of the Cache
// Monitor's own writes, recognised by the back-end anchor it recorded, are
// skipped). An aggressive (push, inotify) policy may come later.
//
// Threading: as CacheMonitor — meant for the MonitorThread; a mutex makes
// concurrent calls safe.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "cache/cache_store.h"
#include "caf/content_adapter.h"

namespace conflux::cache {

class BackendMonitor {
 public:
  BackendMonitor(std::shared_ptr<CacheStore> cache, std::shared_ptr<caf::ContentAdapter> backend,
                 std::string database, std::string default_type, int64_t interval_seconds);

  // Polls when `interval` seconds have passed since the last poll (the first
  // call always polls). Returns how many changes reached the cache. A user
  // whose back end fails is skipped (its anchor stays, so nothing is missed)
  // and the first such error is returned after every user was tried.
  Result<int> poll_once(int64_t now);

  const std::string& database() const { return database_; }
  // System preferences: the poll interval from the next poll_once on.
  void set_interval(int64_t seconds);

 private:
  const std::shared_ptr<CacheStore> cache_;
  const std::shared_ptr<caf::ContentAdapter> backend_;
  const std::string database_;
  const std::string default_type_;

  std::mutex mutex_;                    // serialises poll_once
  int64_t interval_seconds_;            // guarded by mutex_
  std::optional<int64_t> last_poll_;    // guarded by mutex_
};

}  // namespace conflux::cache
