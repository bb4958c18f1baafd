// CacheStore: the Persistent Store (seed FIG. 6, "Persistent Store 40" and
// "cache 50") — one SQLite file, <data_dir>/cache.db, shared by every cached
// datastore. Per (user, database) it holds
//   - items: cuid (the cache's id, the Guid the engine sees), guid (the back
//     end's id; empty until the Cache Monitor replicated the item), the cache
//     revision it was last written at, a deleted flag (tombstone), content
//     type and data, and backend_rev (the back-end anchor of the version the
//     cache and back end last agreed on: an echo of our own replication has
//     exactly that anchor);
//   - the replication queue: seq, cuid, action, enqueued_at, attempts,
//     next_attempt_at, last_error, stuck, and a lease (owner node, expiry)
//     — one entry per change a device made;
//   - dropped: the content of every entry an administrator dropped, so a
//     change that never reached the back end is still on record;
//   - a state row: whether the initial load from the back end happened, and
//     the back-end anchor the Back End Monitor has read up to.
//
// Durability: apply() writes items and queue entries in ONE transaction, on
// a connection with synchronous=FULL, so a change the engine acknowledges
// survives a crash or a power cut, queued. Queue entries go
// only when replicated() records the back end's answer, or when drop()
// moves them to the dropped table.
//
// Several server nodes may share the file: a Cache Monitor claim()s an
// entry (lease: owner node and expiry) before it replicates it; one UPDATE
// decides, so two nodes never both hold a live lease on one entry. An
// expired lease (a node died mid-replication) can be claimed by any node.
//
// Tombstones (deleted items) are kept so a delete is not mistaken for an
// item never seen; purge_tombstones() removes those every device has synced
// past or that are older than a limit, and never one whose delete is still
// queued.
//
// Anchors: cache revisions come from one sequence per file, so they only
// grow; an anchor is their decimal text ("0" for an empty store), as in the
// SQLite adapter.
//
// Threading: any method from any thread; the SqliteDb serialises them and
// every multi-statement write is one IMMEDIATE transaction.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "caf/change_events.h"
#include "caf/content_adapter.h"
#include "caf/item_history.h"
#include "common/sqlite_db.h"

namespace conflux::cache {

// One item as the cache holds it.
struct CacheItem {
  Cuid cuid;
  Guid guid;  // back end's id; empty until replicated
  int64_t revision = 0;
  bool deleted = false;
  std::string content_type;
  std::string raw;
  std::string backend_rev;  // back-end anchor last agreed on; empty when none
};

// One queued change, waiting for the Cache Monitor.
struct QueueEntry {
  int64_t seq = 0;  // order of enqueueing, over the whole file
  UserId user;
  std::string database;
  Cuid cuid;
  caf::Action action = caf::Action::kCreate;
  int64_t enqueued_at = 0;
  int64_t attempts = 0;         // failed attempts so far
  int64_t next_attempt_at = 0;  // not before this (Unix seconds)
  std::string last_error;
  // Failed so often that the Cache Monitor stopped trying: an administrator
  // retries or drops it (`conflux cache stuck|retry|drop`).
  bool stuck = false;
  std::string lease_owner;  // node id of the monitor replicating it; empty: free
  int64_t lease_until = 0;  // the lease is void from this time on
};

// The queue of one datastore at a glance (replication lag).
struct QueueStats {
  size_t length = 0;
  int64_t oldest_enqueued_at = 0;  // 0 when the queue is empty
  size_t stuck = 0;
  size_t tombstones = 0;  // deleted items still kept
};

// A queue entry an administrator dropped, with the item's content then.
struct DroppedEntry {
  int64_t id = 0;
  QueueEntry entry;
  std::string content_type;
  std::string raw;  // empty for a delete
  int64_t dropped_at = 0;
};

class CacheStore {
 public:
  // Opens (creating when missing) the cache file and brings module "cache"'s
  // schema up to date. ":memory:" works for tests.
  static Result<std::shared_ptr<CacheStore>> open(const std::string& path);

  CacheStore(const CacheStore&) = delete;
  CacheStore& operator=(const CacheStore&) = delete;

  const std::string& path() const { return db_->path(); }

  // --- the (user, database) state
  Result<bool> loaded(const caf::StoreRef& store);
  // The initial load: `set` (a back end's changes_since("")) becomes the
  // cache's content and the store counts as loaded, in one transaction. A
  // no-op when the store is loaded already (a racing caller did it).
  Status import(const caf::StoreRef& store, const caf::ChangeSet& set, const std::string& default_type);
  // Users with a loaded store of `database`, for the monitors.
  Result<std::vector<UserId>> users(const std::string& database);
  // The back-end anchor the Back End Monitor has folded in up to.
  Result<Anchor> backend_anchor(const caf::StoreRef& store);

  // --- the engine's side: the contracts of caf::ContentAdapter, over the cache
  Result<Anchor> current_anchor(const caf::StoreRef& store);
  Result<caf::ChangeSet> changes_since(const caf::StoreRef& store, const Anchor& since);
  // Items and queue entries in one transaction (a failure to begin or commit
  // fails every item). Creates keep the guid they carry as cuid when unused,
  // else get random hex. Update of an unknown or deleted cuid: kNotFound;
  // delete of one: kAlreadyDeleted (nothing queued). `now` stamps the queue.
  std::vector<caf::ApplyResult> apply(const caf::StoreRef& store, std::vector<caf::SyncObj>&& batch,
                                      const std::string& default_type, int64_t now);
  Result<std::vector<caf::SyncObj>> search(const caf::StoreRef& store, const caf::Query& query);
  Result<int64_t> live_count(const caf::StoreRef& store);

  // --- the Cache Monitor's side
  // The queue entries of `database` (all users), oldest first; at most
  // `limit` of them (0: all).
  Result<std::vector<QueueEntry>> queued(const std::string& database, size_t limit = 0);
  Result<size_t> queue_length(const std::string& database);
  Result<std::optional<CacheItem>> item(const caf::StoreRef& store, const Cuid& cuid);
  Result<QueueStats> queue_stats(const std::string& database);
  // Takes the lease on `entry` for `node` until now + lease_seconds, when
  // the entry is still queued, not stuck, and its lease is free, expired or
  // `node`'s own. false: another node holds it, or it is gone.
  Result<bool> claim(const QueueEntry& entry, const std::string& node, int64_t now, int64_t lease_seconds);
  // The back end took `entry`: records its guid (when not empty) and
  // `backend_rev` on the item and removes the entry, in one transaction.
  // kAborted (nothing written) when `node` no longer holds its lease.
  Status replicated(const QueueEntry& entry, const Guid& guid, const Anchor& backend_rev, const std::string& node);
  // The back end refused or was down: the entry stays, attempts + 1, its
  // lease freed; Retry::kStuck stops automatic retries. Nothing changes when
  // `node` no longer holds the lease (another node owns the entry now).
  enum class Retry { kLater, kStuck };
  Status retry_later(const QueueEntry& entry, int64_t next_attempt_at, const std::string& error, Retry retry,
                     const std::string& node);

  // --- the administrator's side (`conflux cache ...`)
  // Stuck entries of every datastore, oldest first.
  Result<std::vector<QueueEntry>> stuck();
  // Makes entry `seq` due again (stuck cleared, attempts 0). kNotFound when
  // there is no such entry.
  Status retry_now(int64_t seq);
  // Removes entry `seq` from the queue and records it with the item's
  // current content in `dropped`, in one transaction; returns the record's
  // id. The cache keeps the item: devices still have it, the back end never
  // gets this change. kNotFound when there is no such entry.
  Result<int64_t> drop(int64_t seq, int64_t now);
  Result<std::vector<DroppedEntry>> dropped();

  // --- tombstones
  // Deletes the tombstones of `store` with no queue entry that either have
  // revision <= synced_revision (every device synced past them; -1: none
  // may go for this reason) or were deleted at or before `deleted_before`.
  // Returns how many went.
  Result<int> purge_tombstones(const caf::StoreRef& store, int64_t synced_revision, int64_t deleted_before);

  // --- the Back End Monitor's side
  // Folds changes the back end reports (by others) into the cache and moves
  // the store's back-end anchor to set.anchor, in one transaction. Skipped:
  // echoes of our own replication (the item's backend_rev equals the
  // change's anchor), deletes of items the cache deleted already, and
  // changes to items with queue entries still pending (the device's change
  // is newer than the back end's view and will overwrite it). Returns how
  // many changes reached the cache.
  // `now` stamps the tombstones of deletes. `folded`, when given, receives
  // each change that reached the cache, under the cuid, with the cache's
  // version it replaced (for the item history).
  Result<int> fold(const caf::StoreRef& store, const caf::ChangeSet& set, const std::string& default_type, int64_t now,
                   std::vector<caf::ObservedChange>* folded = nullptr);

  // The cache revision an anchor of this cache stands for; nullopt when
  // `anchor` is not one (e.g. handed out before the cache was switched on).
  static std::optional<int64_t> anchor_revision(const Anchor& anchor);

 private:
  explicit CacheStore(std::unique_ptr<SqliteDb> db) : db_(std::move(db)) {}

  enum class FoldMode { kInitialLoad, kChangesByOthers };
  Result<int> fold_locked(const caf::StoreRef& store, const caf::ChangeSet& set, const std::string& default_type,
                          FoldMode mode, int64_t now, std::vector<caf::ObservedChange>* folded);
  Result<std::optional<CacheItem>> find(const caf::StoreRef& store, const std::string& column,
                                        const std::string& value);
  Result<int64_t> next_revision();
  Result<bool> has_pending(const caf::StoreRef& store, const Cuid& cuid);
  Result<Cuid> fresh_cuid(const caf::StoreRef& store, const std::string& wanted);

  const std::unique_ptr<SqliteDb> db_;
};

}  // namespace conflux::cache
