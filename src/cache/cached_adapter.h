// CachedAdapter: a datastore's adapter with the Persistent Store in front
// (seed FIG. 6: the Content Manager's reads and writes go to the cache). It
// is itself a caf::ContentAdapter, so the registry hands it out in place of
// the back end's adapter and nothing above notices.
//
//   - current_anchor, changes_since, search: answered from the cache alone;
//   - apply: written to the cache and its replication queue in one
//     transaction and acknowledged at once, whether the back end is up or
//     not; the CacheMonitor replicates later;
//   - the Guids the engine sees are the cache's ids (cuids); anchors are
//     cache revisions. The cuid <-> back-end guid table lives in the cache;
//   - first use of a (user, database): the back end's items are imported
//     (changes_since("") of the back end) before anything is answered; a
//     back end that is down then fails the call with its status;
//   - verify_credentials and execute go to the back end, except "count"
//     (answered from the cache) and "cache-queue" (entries waiting).
//
// Threading: any method from any thread; the CacheStore serialises writes.
#pragma once

#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>

#include "cache/cache_store.h"
#include "caf/adapter_wrapper.h"
#include "common/clock.h"

namespace conflux::cache {

class CachedAdapter final : public caf::AdapterWrapper {
 public:
  // `clock` must outlive the adapter. `default_type` is the store's content
  // type, given to items that arrive without one.
  CachedAdapter(std::shared_ptr<CacheStore> cache, std::shared_ptr<caf::ContentAdapter> backend,
                std::string default_type, const Clock& clock);

  // caf::ContentAdapter
  caf::AdapterCaps caps() const override;
  Status verify_credentials(const std::string& database, const caf::Credentials& creds) override;
  Result<Anchor> current_anchor(const caf::StoreRef& store) override;
  Result<caf::ChangeSet> changes_since(const caf::StoreRef& store, const Anchor& since) override;
  std::vector<caf::ApplyResult> apply(const caf::StoreRef& store, std::vector<caf::SyncObj>&& batch) override;
  Result<std::vector<caf::SyncObj>> search(const caf::StoreRef& store, const caf::Query& query) override;
  Result<caf::ExecResult> execute(const caf::StoreRef& store, const caf::Command& command) override;
  // Devices read and write the cache, which needs no connection: a back end
  // that is down must not stop their sessions (the Cache Monitor connects).
  Status begin_connect(const UserId& user, const caf::Credentials* credentials) override { return Status::ok(); }
  void end_connect(const UserId& user) override {}
  // Changes by others reach the cache through the Back End Monitor, which
  // watches the back end itself; the cache reports none (caps() has no
  // kCapChangeNotify).
  Result<std::unique_ptr<caf::ChangeSubscription>> watch_changes(const std::string& database,
                                                                 caf::ChangeCallback on_change) override {
    return Status::unimplemented("the cache does not report changes; its Back End Monitor watches the back end");
  }

  const std::shared_ptr<CacheStore>& cache() const { return cache_; }
  const std::shared_ptr<caf::ContentAdapter>& backend() const { return backend_; }
  const std::string& default_type() const { return default_type_; }

 private:
  // Imports the back end's items on first use of `store`.
  Status ensure_loaded(const caf::StoreRef& store);

  const std::shared_ptr<CacheStore> cache_;
  const std::shared_ptr<caf::ContentAdapter> backend_;
  const std::string default_type_;
  const Clock& clock_;

  std::mutex load_mutex_;                            // one initial load at a time
  std::set<std::pair<UserId, std::string>> loaded_;  // guarded by load_mutex_
};

}  // namespace conflux::cache
