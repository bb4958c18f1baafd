// PgCacheStore: the CacheStore (cache/cache_store.h, contracts there) in the
// PostgreSQL database of `[storage] database`, so the Conflux nodes sharing
// that database share one cache and one replication queue: a change queued on
// one node may be replicated by any node's Cache Monitor, and by one only.
//
// Tables (module "cache" of PgDb::migrate): cache_items, cache_queue,
// cache_stores, cache_dropped, and the sequence cache_revision.
//
// Several nodes at once:
//   - claim() is one UPDATE ... WHERE the lease is free or expired; of two
//     nodes claiming together the second waits for the first's row lock and
//     then finds the lease taken, so never both hold a live lease;
//   - every write that hands out cache revisions (apply, import, fold) holds
//     a transaction-level advisory lock on its (user, database), so within a
//     store revisions are committed in the order they were drawn from the
//     sequence: a device that saw anchor N never misses a later commit of a
//     revision below N;
//   - reads that need one view of several statements (changes_since,
//     queue_stats) run at REPEATABLE READ.
//
// Threading: any method from any thread; each is one transaction on a pooled
// connection (common/pg_db.h), retried on serialization failures and
// deadlocks. kUnavailable when PostgreSQL cannot be reached (nothing written).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cache/cache_store.h"
#include "common/pg_db.h"

namespace conflux::cache {

class PgCacheStore final : public CacheStore {
 public:
  // Brings module "cache"'s tables in `db` up to date and returns the store.
  static Result<std::shared_ptr<PgCacheStore>> open(std::shared_ptr<PgDb> db);

  std::string location() const override { return db_->display_uri(); }
  Result<bool> loaded(const caf::StoreRef& store) override;
  Status import(const caf::StoreRef& store, const caf::ChangeSet& set, const std::string& default_type) override;
  Result<std::vector<UserId>> users(const std::string& database) override;
  Result<Anchor> backend_anchor(const caf::StoreRef& store) override;
  Result<Anchor> current_anchor(const caf::StoreRef& store) override;
  Result<caf::ChangeSet> changes_since(const caf::StoreRef& store, const Anchor& since) override;
  std::vector<caf::ApplyResult> apply(const caf::StoreRef& store, std::vector<caf::SyncObj>&& batch,
                                      const std::string& default_type, int64_t now) override;
  Result<std::vector<caf::SyncObj>> search(const caf::StoreRef& store, const caf::Query& query) override;
  Result<int64_t> live_count(const caf::StoreRef& store) override;
  Result<std::vector<QueueEntry>> queued(const std::string& database, size_t limit) override;
  Result<size_t> queue_length(const std::string& database) override;
  Result<std::optional<CacheItem>> item(const caf::StoreRef& store, const Cuid& cuid) override;
  Result<QueueStats> queue_stats(const std::string& database) override;
  Result<bool> claim(const QueueEntry& entry, const std::string& node, int64_t now, int64_t lease_seconds) override;
  Status replicated(const QueueEntry& entry, const Guid& guid, const Anchor& backend_rev,
                    const std::string& node) override;
  Status retry_later(const QueueEntry& entry, int64_t next_attempt_at, const std::string& error, Retry retry,
                     const std::string& node) override;
  Result<std::vector<QueueEntry>> stuck() override;
  Status retry_now(int64_t seq) override;
  Result<int64_t> drop(int64_t seq, int64_t now) override;
  Result<std::vector<DroppedEntry>> dropped() override;
  Result<int> purge_tombstones(const caf::StoreRef& store, int64_t synced_revision, int64_t deleted_before) override;
  Result<int> fold(const caf::StoreRef& store, const caf::ChangeSet& set, const std::string& default_type, int64_t now,
                   std::vector<caf::ObservedChange>* folded) override;

 private:
  explicit PgCacheStore(std::shared_ptr<PgDb> db) : db_(std::move(db)) {}

  enum class FoldMode { kInitialLoad, kChangesByOthers };
  // Inside the caller's transaction, which holds the store's lock.
  static Result<int> fold_in(pqxx::work& txn, const caf::StoreRef& store, const caf::ChangeSet& set,
                             const std::string& default_type, FoldMode mode, int64_t now,
                             std::vector<caf::ObservedChange>* folded);

  const std::shared_ptr<PgDb> db_;
};

}  // namespace conflux::cache
