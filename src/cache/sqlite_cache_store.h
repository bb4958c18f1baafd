// SqliteCacheStore: the CacheStore (cache/cache_store.h, contracts there) in
// one SQLite file, <data_dir>/cache.db — the default, when `[storage]
// database` is not set.
//
// Durability: the connection runs with synchronous=FULL, so a commit is on
// disk (not only in the WAL) before apply() returns.
// Several nodes may share the file: SQLite runs writes one at a time, so the
// single UPDATE of claim() decides between them.
//
// Threading: any method from any thread; the SqliteDb serialises them and
// every multi-statement write is one IMMEDIATE transaction.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cache/cache_store.h"
#include "caf/item_table.h"
#include "common/sqlite_db.h"

namespace conflux::cache {

class SqliteCacheStore final : public CacheStore {
 public:
  // Opens (creating when missing) the cache file and brings module "cache"'s
  // schema up to date. ":memory:" works for tests.
  static Result<std::shared_ptr<SqliteCacheStore>> open(const std::string& path);

  std::string location() const override { return db_->path(); }
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
  explicit SqliteCacheStore(std::unique_ptr<SqliteDb> db);

  enum class FoldMode { kInitialLoad, kChangesByOthers };
  Result<int> fold_locked(const caf::StoreRef& store, const caf::ChangeSet& set, const std::string& default_type,
                          FoldMode mode, int64_t now, std::vector<caf::ObservedChange>* folded);
  Result<std::optional<CacheItem>> find(const caf::StoreRef& store, const std::string& column,
                                        const std::string& value);
  Result<bool> has_pending(const caf::StoreRef& store, const Cuid& cuid);
  Result<Cuid> fresh_cuid(const caf::StoreRef& store, const std::string& wanted);

  const std::unique_ptr<SqliteDb> db_;
  const caf::ItemTable items_;  // over *db_
};

}  // namespace conflux::cache
