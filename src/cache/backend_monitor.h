// BackendMonitor (seed FIG. 6, "Back End Monitor 60"): brings changes made
// in the back end by others (khard in a vdir, an SQL program) into the cache,
// so devices sync against fresh data. Two policies, per datastore
// (`backend_monitor` in [stores.<name>]):
//   - lazy (kPoll): poll_once(now) asks the back end at most every
//     `interval` seconds, for every user whose store the cache has loaded,
//     for changes_since(the back-end anchor folded so far);
//   - aggressive (kPush): in addition, watch() subscribes to the back end's
//     change notifications (caf::kCapChangeNotify; the adapter alone knows
//     how — inotify for vdir). A notification marks the user's store and
//     wakes the MonitorThread, whose next poll_once reads that store at
//     once, whatever the interval; the interval poll stays as a safety net
//     for changes a notification missed.
// Either way the changes are folded into the cache (CacheStore::fold: new
// items get cuids, updates and deletes find their item by back-end guid;
// echoes of the Cache Monitor's own writes, recognised by the back-end anchor
// it recorded, are skipped).
//
// Threading: poll_once is meant for the MonitorThread, a mutex makes
// concurrent calls safe; the notification callback may run on any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cache/cache_store.h"
#include "caf/change_events.h"
#include "caf/content_adapter.h"

namespace conflux::cache {

class BackendMonitor {
 public:
  enum class Policy : uint8_t { kPoll, kPush };

  BackendMonitor(std::shared_ptr<CacheStore> cache, std::shared_ptr<caf::ContentAdapter> backend, std::string database,
                 std::string default_type, int64_t interval_seconds, Policy policy = Policy::kPoll);

  // kPush only: subscribes to the back end's notifications; `wake` is called
  // (on the back end's thread) after each one marked a store. kUnimplemented
  // when the back end cannot push; the back end's error when it cannot now.
  Status watch(std::function<void()> wake);

  // Polls every user when `interval` seconds have passed since the last
  // full poll (the first call always polls), else only the users a
  // notification marked since the last call. Returns how many changes
  // reached the cache. A user whose back end fails is skipped (its anchor
  // stays, so nothing is missed; under kPush the store stays marked, so the
  // next call tries it again) and the first such error is returned after
  // every user was tried.
  Result<int> poll_once(int64_t now);

  // Marks `user`'s store as changed (empty: every user), as a notification
  // does. Any thread.
  void note_change(const UserId& user);

  // Where each poll that brought changes in publishes them (source kBackend,
  // one event per user); none by default. Set before the first poll_once.
  void set_change_events(const caf::ChangeEvents* events) { events_ = events; }

  // Called after each fold with the changes that reached the cache (the
  // item history keeps them, caf::HistoryRecorder::record_observed). Set it
  // before the first poll_once.
  using FoldedSink = std::function<void(const caf::StoreRef&, const std::vector<caf::ObservedChange>&)>;
  void on_folded(FoldedSink sink) { on_folded_ = std::move(sink); }

  const std::string& database() const { return database_; }
  Policy policy() const { return policy_; }
  // System preferences: the poll interval from the next poll_once on.
  void set_interval(int64_t seconds);

 private:
  // Folds the back end's changes for `user` into the cache.
  Result<int> poll_user(const UserId& user, int64_t now);

  const std::shared_ptr<CacheStore> cache_;
  const std::shared_ptr<caf::ContentAdapter> backend_;
  const std::string database_;
  const std::string default_type_;
  const Policy policy_;
  const caf::ChangeEvents* events_ = nullptr;

  std::mutex mutex_;                  // serialises poll_once
  int64_t interval_seconds_;          // guarded by mutex_
  std::optional<int64_t> last_poll_;  // guarded by mutex_

  std::mutex marks_mutex_;
  std::set<UserId> marked_;     // guarded by marks_mutex_
  bool all_marked_ = false;     // guarded by marks_mutex_
  std::function<void()> wake_;  // set once by watch(), before the subscription
  FoldedSink on_folded_;        // set once, before polling
  // Last: destroyed first, so no notification runs into members already gone.
  std::unique_ptr<caf::ChangeSubscription> subscription_;
};

}  // namespace conflux::cache
