#include "cache/sqlite_cache_store.h"

#include <sodium.h>

#include <set>

#include "common/base64.h"

namespace conflux::cache {
namespace {

constexpr int kCuidAttempts = 8;

// Schema of module "cache". Append new steps; never edit a released one.
const std::vector<std::string>& cache_migrations() {
  static const std::vector<std::string> steps = {
      // 1: items, replication queue, per-store state and the revision sequence.
      "CREATE TABLE items("
      "  user TEXT NOT NULL, database TEXT NOT NULL, cuid TEXT NOT NULL,"
      "  guid TEXT NOT NULL DEFAULT '',"
      "  revision INTEGER NOT NULL, created INTEGER NOT NULL,"
      "  deleted INTEGER NOT NULL DEFAULT 0,"
      "  content_type TEXT NOT NULL DEFAULT '', data BLOB,"
      "  backend_rev TEXT NOT NULL DEFAULT '',"
      "  PRIMARY KEY(user, database, cuid));"
      "CREATE INDEX items_by_revision ON items(user, database, revision);"
      "CREATE INDEX items_by_guid ON items(user, database, guid);"
      "CREATE TABLE queue("
      "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
      "  user TEXT NOT NULL, database TEXT NOT NULL, cuid TEXT NOT NULL,"
      "  action INTEGER NOT NULL, enqueued_at INTEGER NOT NULL,"
      "  attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER NOT NULL DEFAULT 0,"
      "  last_error TEXT NOT NULL DEFAULT '');"
      "CREATE INDEX queue_by_item ON queue(user, database, cuid);"
      "CREATE TABLE stores("
      "  user TEXT NOT NULL, database TEXT NOT NULL, backend_anchor TEXT NOT NULL DEFAULT '',"
      "  PRIMARY KEY(user, database));" +
          std::string(caf::kRevisionSequenceSchema),
      // 2: stuck entries, leases for several nodes, tombstone ages, dropped entries.
      "ALTER TABLE queue ADD COLUMN stuck INTEGER NOT NULL DEFAULT 0;"
      "ALTER TABLE queue ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';"
      "ALTER TABLE queue ADD COLUMN lease_until INTEGER NOT NULL DEFAULT 0;"
      "ALTER TABLE items ADD COLUMN deleted_at INTEGER NOT NULL DEFAULT 0;"
      "UPDATE items SET deleted_at = CAST(strftime('%s', 'now') AS INTEGER) WHERE deleted = 1;"
      "CREATE TABLE dropped("
      "  id INTEGER PRIMARY KEY AUTOINCREMENT, seq INTEGER NOT NULL,"
      "  user TEXT NOT NULL, database TEXT NOT NULL, cuid TEXT NOT NULL, action INTEGER NOT NULL,"
      "  enqueued_at INTEGER NOT NULL, attempts INTEGER NOT NULL, last_error TEXT NOT NULL,"
      "  content_type TEXT NOT NULL, data BLOB, dropped_at INTEGER NOT NULL);",
  };
  return steps;
}

// The parts the columns of the cache's items table play.
constexpr caf::ItemColumns kItemParts{.key = "cuid", .revision = "revision", .deleted_at = "deleted_at"};

// Column order of every item SELECT below.
constexpr const char* kItemColumns = "cuid, guid, revision, created, deleted, content_type, data, backend_rev";

CacheItem item_from_row(const SqliteStatement& st) {
  CacheItem item;
  item.cuid = Cuid(st.column_text(0));
  item.guid = Guid(st.column_text(1));
  item.revision = st.column_int64(2);
  item.deleted = st.column_int64(4) != 0;
  item.content_type = st.column_text(5);
  item.raw = st.column_blob(6);
  item.backend_rev = st.column_text(7);
  return item;
}

// The engine's view of a row (ItemTable::change_columns): the cuid is its guid.
caf::SyncObj obj_from_row(const SqliteStatement& row, const caf::StoreRef& store, int64_t since) {
  caf::SyncObj obj = caf::ItemTable::change_from_row(row, store, since);
  obj.cuid = Cuid(obj.guid.str());
  return obj;
}

Status enqueue(SqliteDb& db, const caf::StoreRef& store, const Cuid& cuid, caf::Action action, int64_t now) {
  auto st = db.prepare(
      "INSERT INTO queue(user, database, cuid, action, enqueued_at, next_attempt_at) VALUES (?1, ?2, ?3, ?4, ?5, 0)");
  if (!st) return st.error();
  st->bind(1, store.user.str()).bind(2, store.database).bind(3, cuid.str());
  st->bind(4, static_cast<int>(action)).bind(5, now);
  return st->run().status();
}

// Column order of every queue SELECT below.
constexpr const char* kQueueColumns =
    "seq, user, database, cuid, action, enqueued_at, attempts, next_attempt_at, last_error, stuck, lease_owner,"
    " lease_until";

QueueEntry entry_from_row(const SqliteStatement& st) {
  QueueEntry e;
  e.seq = st.column_int64(0);
  e.user = UserId(st.column_text(1));
  e.database = st.column_text(2);
  e.cuid = Cuid(st.column_text(3));
  e.action = static_cast<caf::Action>(st.column_int64(4));
  e.enqueued_at = st.column_int64(5);
  e.attempts = st.column_int64(6);
  e.next_attempt_at = st.column_int64(7);
  e.last_error = st.column_text(8);
  e.stuck = st.column_int64(9) != 0;
  e.lease_owner = st.column_text(10);
  e.lease_until = st.column_int64(11);
  return e;
}

Result<std::vector<QueueEntry>> collect_entries(SqliteStatement& st) {
  std::vector<QueueEntry> out;
  for (;;) {
    auto row = st.step();
    if (!row) return row.error();
    if (!*row) return out;
    out.push_back(entry_from_row(st));
  }
}

}  // namespace

SqliteCacheStore::SqliteCacheStore(std::unique_ptr<SqliteDb> db) : db_(std::move(db)), items_(*db_, kItemParts) {}

Result<std::shared_ptr<SqliteCacheStore>> SqliteCacheStore::open(const std::string& path) {
  if (sodium_init() < 0) return Status::internal("cache: sodium_init failed");
  auto db = SqliteDb::open(path);
  if (!db) return db.error().with_context("cache " + path);
  // FULL: a commit is on disk before apply() returns, so an acknowledged
  // change survives a power cut too, not only a killed process (NORMAL, the
  // SqliteDb default, may lose the last commits of a WAL on power loss).
  CFX_RETURN_IF_ERROR((*db)->exec("PRAGMA synchronous=FULL").with_context("cache " + path));
  CFX_RETURN_IF_ERROR((*db)->migrate("cache", cache_migrations()).with_context("cache " + path));
  return std::shared_ptr<SqliteCacheStore>(new SqliteCacheStore(std::move(*db)));
}

// ---------------------------------------------------------------------------
// (user, database) state

Result<bool> SqliteCacheStore::loaded(const caf::StoreRef& store) {
  CFX_RETURN_IF_ERROR(check_scope(store));
  auto st = db_->prepare("SELECT 1 FROM stores WHERE user = ?1 AND database = ?2");
  if (!st) return st.error();
  st->bind(1, store.user.str()).bind(2, store.database);
  return st->step();
}

Status SqliteCacheStore::import(const caf::StoreRef& store, const caf::ChangeSet& set,
                                const std::string& default_type) {
  CFX_RETURN_IF_ERROR(check_scope(store));
  auto tx = db_->transaction();
  if (!tx) return tx.error().with_context("cache import");
  auto done = loaded(store);
  if (!done) return done.error();
  if (*done) return Status::ok();
  auto folded = fold_locked(store, set, default_type, FoldMode::kInitialLoad, 0, nullptr);
  if (!folded) return folded.error().with_context("cache import");
  return tx->commit().with_context("cache import");
}

Result<std::vector<UserId>> SqliteCacheStore::users(const std::string& database) {
  auto st = db_->prepare("SELECT user FROM stores WHERE database = ?1 ORDER BY user");
  if (!st) return st.error();
  st->bind(1, database);
  std::vector<UserId> out;
  for (;;) {
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) return out;
    out.emplace_back(st->column_text(0));
  }
}

Result<Anchor> SqliteCacheStore::backend_anchor(const caf::StoreRef& store) {
  auto st = db_->prepare("SELECT backend_anchor FROM stores WHERE user = ?1 AND database = ?2");
  if (!st) return st.error();
  st->bind(1, store.user.str()).bind(2, store.database);
  auto row = st->step();
  if (!row) return row.error();
  if (!*row) return Status::not_found("cache: store not loaded");
  return Anchor(st->column_text(0));
}

// ---------------------------------------------------------------------------
// Engine side

Result<Anchor> SqliteCacheStore::current_anchor(const caf::StoreRef& store) {
  CFX_RETURN_IF_ERROR(check_scope(store));
  auto max = items_.max_revision(store);
  if (!max) return max.error().with_context("cache current_anchor");
  return CacheStore::revision_anchor(*max);
}

Result<caf::ChangeSet> SqliteCacheStore::changes_since(const caf::StoreRef& store, const Anchor& since) {
  CFX_RETURN_IF_ERROR(check_scope(store));
  auto since_parsed = since_revision(since);
  if (!since_parsed) return since_parsed.error();
  const std::optional<int64_t> since_rev = *since_parsed;
  caf::ChangeSet set;
  auto max = items_.changes_since(store, since_rev, items_.change_columns(), [&](const SqliteStatement& row) {
    set.changes.push_back(obj_from_row(row, store, since_rev.value_or(0)));
  });
  if (!max) return max.error().with_context("cache changes_since");
  set.anchor = CacheStore::revision_anchor(*max);
  return set;
}

std::vector<caf::ApplyResult> SqliteCacheStore::apply(const caf::StoreRef& store, std::vector<caf::SyncObj>&& batch,
                                                      const std::string& default_type, int64_t now) {
  if (Status scope = check_scope(store); !scope.is_ok()) return fail_all(batch.size(), scope);
  if (batch.empty()) return {};
  auto tx = db_->transaction();
  if (!tx) return fail_all(batch.size(), tx.error().with_context("cache apply"));
  std::vector<caf::ApplyResult> results;
  results.reserve(batch.size());
  for (auto& obj : batch) {
    caf::ApplyResult& result = results.emplace_back();
    result.guid = obj.guid;
    auto fail = [&](const Status& status) { result.status = status.with_context("cache apply"); };
    result.status = check_item(store, obj);
    if (!result.status.is_ok()) continue;
    auto revision = items_.next_revision();
    if (!revision) {
      fail(revision.error());
      continue;
    }
    Cuid cuid(obj.guid.str());
    Result<int> written = 0;
    if (obj.action == caf::Action::kCreate) {
      auto fresh = fresh_cuid(store, obj.guid.str());
      if (!fresh) {
        fail(fresh.error());
        continue;
      }
      cuid = *fresh;
      written = items_.insert(store, cuid.str(), *revision, obj.content_type.empty() ? default_type : obj.content_type,
                              obj.raw);
    } else if (obj.action == caf::Action::kUpdate) {
      written = items_.update(store, cuid.str(), *revision, obj.content_type, obj.raw);
    } else {
      written = items_.remove(store, cuid.str(), *revision, now);
    }
    if (!written) {
      fail(written.error());
    } else if (*written == 0 && obj.action == caf::Action::kUpdate) {
      result.status = Status::not_found("no item " + cuid.str());
    } else if (*written == 0) {
      result.outcome = caf::ApplyOutcome::kAlreadyDeleted;
    } else if (Status queued = enqueue(*db_, store, cuid, obj.action, now); !queued.is_ok()) {
      fail(queued);
    } else {
      result.outcome = obj.action == caf::Action::kCreate   ? caf::ApplyOutcome::kCreated
                       : obj.action == caf::Action::kUpdate ? caf::ApplyOutcome::kUpdated
                                                            : caf::ApplyOutcome::kDeleted;
      result.guid = Guid(cuid.str());
      result.anchor = CacheStore::revision_anchor(*revision);
    }
    // Some errors (disk full, I/O) end the transaction: nothing of the batch stands.
    if (!result.status.is_ok() && !tx->active()) return fail_all(batch.size(), result.status);
  }
  if (Status committed = tx->commit(); !committed.is_ok()) {
    return fail_all(batch.size(), committed.with_context("cache apply"));
  }
  return results;
}

Result<std::vector<caf::SyncObj>> SqliteCacheStore::search(const caf::StoreRef& store, const caf::Query& query) {
  CFX_RETURN_IF_ERROR(check_scope(store));
  std::vector<caf::SyncObj> found;
  CFX_RETURN_IF_ERROR(items_
                          .search(store, query, items_.change_columns(!query.metadata_only),
                                  [&](const SqliteStatement& row) { found.push_back(obj_from_row(row, store, 0)); })
                          .with_context("cache search"));
  return found;
}

Result<int64_t> SqliteCacheStore::live_count(const caf::StoreRef& store) {
  CFX_RETURN_IF_ERROR(check_scope(store));
  return items_.live_count(store);
}

// ---------------------------------------------------------------------------
// Cache Monitor side

Result<size_t> SqliteCacheStore::queue_length(const std::string& database) {
  auto st = db_->prepare("SELECT count(*) FROM queue WHERE database = ?1");
  if (!st) return st.error();
  st->bind(1, database);
  auto row = st->step();
  if (!row) return row.error();
  return *row ? static_cast<size_t>(st->column_int64(0)) : 0;
}

Result<std::vector<QueueEntry>> SqliteCacheStore::queued(const std::string& database, size_t limit) {
  auto st =
      db_->prepare(std::string("SELECT ") + kQueueColumns + " FROM queue WHERE database = ?1 ORDER BY seq LIMIT ?2");
  if (!st) return st.error();
  st->bind(1, database).bind(2, limit == 0 ? int64_t{-1} : static_cast<int64_t>(limit));
  return collect_entries(*st);
}

Result<QueueStats> SqliteCacheStore::queue_stats(const std::string& database) {
  auto tx = db_->transaction(SqliteDb::TxMode::kDeferred);
  if (!tx) return tx.error().with_context("cache queue_stats");
  QueueStats stats;
  auto st = db_->prepare(
      "SELECT count(*), coalesce(min(enqueued_at), 0), coalesce(sum(stuck), 0) FROM queue WHERE database = ?1");
  if (!st) return st.error();
  st->bind(1, database);
  auto row = st->step();
  if (!row) return row.error();
  stats.length = static_cast<size_t>(st->column_int64(0));
  stats.oldest_enqueued_at = st->column_int64(1);
  stats.stuck = static_cast<size_t>(st->column_int64(2));
  auto dead = db_->prepare("SELECT count(*) FROM items WHERE database = ?1 AND deleted = 1");
  if (!dead) return dead.error();
  dead->bind(1, database);
  auto dead_row = dead->step();
  if (!dead_row) return dead_row.error();
  stats.tombstones = static_cast<size_t>(dead->column_int64(0));
  CFX_RETURN_IF_ERROR(tx->commit().with_context("cache queue_stats"));
  return stats;
}

Result<bool> SqliteCacheStore::claim(const QueueEntry& entry, const std::string& node, int64_t now,
                                     int64_t lease_seconds) {
  // One statement: SQLite runs writes one at a time, so of two nodes
  // claiming together exactly one sees its row changed.
  auto st = db_->prepare(
      "UPDATE queue SET lease_owner = ?2, lease_until = ?3"
      " WHERE seq = ?1 AND stuck = 0 AND (lease_owner = '' OR lease_owner = ?2 OR lease_until <= ?4)");
  if (!st) return st.error();
  st->bind(1, entry.seq).bind(2, node).bind(3, now + lease_seconds).bind(4, now);
  auto changed = st->run();
  if (!changed) return changed.error().with_context("cache claim");
  return *changed == 1;
}

Result<std::optional<CacheItem>> SqliteCacheStore::item(const caf::StoreRef& store, const Cuid& cuid) {
  return find(store, "cuid", cuid.str());
}

Status SqliteCacheStore::replicated(const QueueEntry& entry, const Guid& guid, const Anchor& backend_rev,
                                    const std::string& node) {
  auto tx = db_->transaction();
  if (!tx) return tx.error().with_context("cache replicated");
  auto del = db_->prepare("DELETE FROM queue WHERE seq = ?1 AND lease_owner = ?2");
  if (!del) return del.error();
  del->bind(1, entry.seq).bind(2, node);
  auto removed = del->run();
  if (!removed) return removed.error().with_context("cache replicated");
  if (*removed == 0) return Status::aborted("cache: lease on queue entry " + std::to_string(entry.seq) + " lost");
  auto st = db_->prepare(
      "UPDATE items SET guid = coalesce(nullif(?4, ''), guid), backend_rev = ?5"
      " WHERE user = ?1 AND database = ?2 AND cuid = ?3");
  if (!st) return st.error();
  st->bind(1, entry.user.str()).bind(2, entry.database).bind(3, entry.cuid.str());
  st->bind(4, guid.str()).bind(5, backend_rev.str());
  CFX_RETURN_IF_ERROR(st->run().status());
  return tx->commit().with_context("cache replicated");
}

Status SqliteCacheStore::retry_later(const QueueEntry& entry, int64_t next_attempt_at, const std::string& error,
                                     Retry retry, const std::string& node) {
  auto st = db_->prepare(
      "UPDATE queue SET attempts = attempts + 1, next_attempt_at = ?2, last_error = ?3, stuck = ?4,"
      " lease_owner = '', lease_until = 0 WHERE seq = ?1 AND lease_owner = ?5");
  if (!st) return st.error();
  st->bind(1, entry.seq).bind(2, next_attempt_at).bind(3, error).bind(4, retry == Retry::kStuck ? 1 : 0);
  st->bind(5, node);
  return st->run().status();
}

// ---------------------------------------------------------------------------
// Administrator side

Result<std::vector<QueueEntry>> SqliteCacheStore::stuck() {
  auto st = db_->prepare(std::string("SELECT ") + kQueueColumns + " FROM queue WHERE stuck = 1 ORDER BY seq");
  if (!st) return st.error();
  return collect_entries(*st);
}

Status SqliteCacheStore::retry_now(int64_t seq) {
  auto st = db_->prepare(
      "UPDATE queue SET stuck = 0, attempts = 0, next_attempt_at = 0, lease_owner = '', lease_until = 0"
      " WHERE seq = ?1");
  if (!st) return st.error();
  st->bind(1, seq);
  auto changed = st->run();
  if (!changed) return changed.error().with_context("cache retry");
  if (*changed == 0) return Status::not_found("no queue entry " + std::to_string(seq));
  return Status::ok();
}

Result<int64_t> SqliteCacheStore::drop(int64_t seq, int64_t now) {
  auto tx = db_->transaction();
  if (!tx) return tx.error().with_context("cache drop");
  // The item's content as the cache holds it now: for a create or update
  // that is what the back end never got.
  auto keep = db_->prepare(
      "INSERT INTO dropped(seq, user, database, cuid, action, enqueued_at, attempts, last_error, content_type, data,"
      " dropped_at)"
      " SELECT q.seq, q.user, q.database, q.cuid, q.action, q.enqueued_at, q.attempts, q.last_error,"
      " coalesce(i.content_type, ''), CASE WHEN q.action = ?3 THEN NULL ELSE i.data END, ?2"
      " FROM queue q LEFT JOIN items i ON i.user = q.user AND i.database = q.database AND i.cuid = q.cuid"
      " WHERE q.seq = ?1");
  if (!keep) return keep.error();
  keep->bind(1, seq).bind(2, now).bind(3, static_cast<int>(caf::Action::kDelete));
  auto kept = keep->run();
  if (!kept) return kept.error().with_context("cache drop");
  if (*kept == 0) return Status::not_found("no queue entry " + std::to_string(seq));
  auto id = db_->prepare("SELECT last_insert_rowid()");
  if (!id) return id.error();
  auto id_row = id->step();
  if (!id_row) return id_row.error();
  const int64_t record = id->column_int64(0);
  auto del = db_->prepare("DELETE FROM queue WHERE seq = ?1");
  if (!del) return del.error();
  del->bind(1, seq);
  CFX_RETURN_IF_ERROR(del->run().status());
  CFX_RETURN_IF_ERROR(tx->commit().with_context("cache drop"));
  return record;
}

Result<std::vector<DroppedEntry>> SqliteCacheStore::dropped() {
  auto st = db_->prepare(
      "SELECT id, seq, user, database, cuid, action, enqueued_at, attempts, last_error, content_type, data,"
      " dropped_at FROM dropped ORDER BY id");
  if (!st) return st.error();
  std::vector<DroppedEntry> out;
  for (;;) {
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) return out;
    DroppedEntry& d = out.emplace_back();
    d.id = st->column_int64(0);
    d.entry.seq = st->column_int64(1);
    d.entry.user = UserId(st->column_text(2));
    d.entry.database = st->column_text(3);
    d.entry.cuid = Cuid(st->column_text(4));
    d.entry.action = static_cast<caf::Action>(st->column_int64(5));
    d.entry.enqueued_at = st->column_int64(6);
    d.entry.attempts = st->column_int64(7);
    d.entry.last_error = st->column_text(8);
    d.content_type = st->column_text(9);
    d.raw = st->column_blob(10);
    d.dropped_at = st->column_int64(11);
  }
}

// ---------------------------------------------------------------------------
// Tombstones

Result<int> SqliteCacheStore::purge_tombstones(const caf::StoreRef& store, int64_t synced_revision,
                                               int64_t deleted_before) {
  CFX_RETURN_IF_ERROR(check_scope(store));
  auto st = db_->prepare(
      "DELETE FROM items WHERE user = ?1 AND database = ?2 AND deleted = 1"
      " AND (revision <= ?3 OR deleted_at <= ?4)"
      " AND NOT EXISTS (SELECT 1 FROM queue q"
      "                 WHERE q.user = items.user AND q.database = items.database AND q.cuid = items.cuid)");
  if (!st) return st.error();
  st->bind(1, store.user.str()).bind(2, store.database).bind(3, synced_revision).bind(4, deleted_before);
  auto purged = st->run();
  if (!purged) return purged.error().with_context("cache purge");
  return *purged;
}

// ---------------------------------------------------------------------------
// Back End Monitor side

Result<int> SqliteCacheStore::fold(const caf::StoreRef& store, const caf::ChangeSet& set,
                                   const std::string& default_type, int64_t now,
                                   std::vector<caf::ObservedChange>* folded_changes) {
  CFX_RETURN_IF_ERROR(check_scope(store));
  auto tx = db_->transaction();
  if (!tx) return tx.error().with_context("cache fold");
  auto in_flight = db_->prepare(
      "SELECT 1 FROM queue WHERE user = ?1 AND database = ?2 AND lease_owner <> '' AND lease_until > ?3 LIMIT 1");
  if (!in_flight) return in_flight.error();
  in_flight->bind(1, store.user.str()).bind(2, store.database).bind(3, now);
  auto replicating = in_flight->step();
  if (!replicating) return replicating.error().with_context("cache fold");
  if (*replicating) {
    if (folded_changes) folded_changes->clear();
    return 0;
  }
  std::vector<caf::ObservedChange> changes;
  auto folded =
      fold_locked(store, set, default_type, FoldMode::kChangesByOthers, now, folded_changes ? &changes : nullptr);
  if (!folded) return folded.error().with_context("cache fold");
  CFX_RETURN_IF_ERROR(tx->commit().with_context("cache fold"));
  if (folded_changes) *folded_changes = std::move(changes);
  return *folded;
}

Result<int> SqliteCacheStore::fold_locked(const caf::StoreRef& store, const caf::ChangeSet& set,
                                          const std::string& default_type, FoldMode mode, int64_t now,
                                          std::vector<caf::ObservedChange>* folded_changes) {
  int folded = 0;
  for (const caf::SyncObj& change : set.changes) {
    if (change.guid.empty()) continue;
    auto existing = find(store, "guid", change.guid.str());
    if (!existing) return existing.error();
    if (*existing) {
      const CacheItem& item = **existing;
      if (change.action == caf::Action::kDelete && item.deleted) continue;
      if (change.action != caf::Action::kDelete && !item.deleted && item.backend_rev == change.anchor.str()) {
        continue;  // the echo of our own replication
      }
      auto pending = has_pending(store, item.cuid);
      if (!pending) return pending.error();
      if (*pending) continue;  // the device's change is newer; it goes out next
    } else if (change.action == caf::Action::kDelete) {
      continue;  // never seen, nothing to delete
    }
    auto revision = items_.next_revision();
    if (!revision) return revision.error();
    std::string sql;
    std::string cuid;
    if (change.action == caf::Action::kDelete) {
      sql =
          "UPDATE items SET revision = ?4, deleted = 1, data = NULL, backend_rev = ?5, deleted_at = ?6"
          " WHERE user = ?1 AND database = ?2 AND cuid = ?3";
      cuid = (*existing)->cuid.str();
    } else if (*existing) {
      // A revived tombstone counts as created now, so devices get a create.
      sql =
          "UPDATE items SET revision = ?4, backend_rev = ?5, content_type = ?6, data = ?7,"
          " created = CASE WHEN deleted = 1 THEN ?4 ELSE created END, deleted = 0"
          " WHERE user = ?1 AND database = ?2 AND cuid = ?3";
      cuid = (*existing)->cuid.str();
    } else {
      auto fresh = fresh_cuid(store, change.guid.str());
      if (!fresh) return fresh.error();
      sql =
          "INSERT INTO items(user, database, cuid, revision, created, backend_rev, content_type, data, guid)"
          " VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6, ?7, ?8)";
      cuid = fresh->str();
    }
    auto st = db_->prepare(sql);
    if (!st) return st.error();
    st->bind(1, store.user.str()).bind(2, store.database).bind(3, cuid).bind(4, *revision).bind(5, change.anchor.str());
    if (change.action != caf::Action::kDelete) {
      st->bind(6, change.content_type.empty() ? default_type : change.content_type).bind(7, SqlBlob{change.raw});
    } else {
      st->bind(6, now);
    }
    if (!*existing) st->bind(8, change.guid.str());
    CFX_RETURN_IF_ERROR(st->run().status());
    ++folded;
    if (folded_changes) {
      folded_changes->push_back(
          observed(change, cuid, change.content_type.empty() ? default_type : change.content_type, *existing));
    }
  }
  auto st = db_->prepare(mode == FoldMode::kInitialLoad
                             ? "INSERT INTO stores(user, database, backend_anchor) VALUES (?1, ?2, ?3)"
                             : "UPDATE stores SET backend_anchor = ?3 WHERE user = ?1 AND database = ?2");
  if (!st) return st.error();
  st->bind(1, store.user.str()).bind(2, store.database).bind(3, set.anchor.str());
  CFX_RETURN_IF_ERROR(st->run().status());
  return folded;
}

// ---------------------------------------------------------------------------
// Helpers (inside the caller's transaction where it has one)

Result<std::optional<CacheItem>> SqliteCacheStore::find(const caf::StoreRef& store, const std::string& column,
                                                        const std::string& value) {
  // `column` is one of our own literals ("cuid", "guid"), never input.
  auto st = db_->prepare(std::string("SELECT ") + kItemColumns + " FROM items WHERE user = ?1 AND database = ?2 AND " +
                         column + " = ?3 ORDER BY deleted, revision DESC LIMIT 1");
  if (!st) return st.error();
  st->bind(1, store.user.str()).bind(2, store.database).bind(3, value);
  auto row = st->step();
  if (!row) return row.error();
  if (!*row) return std::optional<CacheItem>();
  return std::optional<CacheItem>(item_from_row(*st));
}

Result<bool> SqliteCacheStore::has_pending(const caf::StoreRef& store, const Cuid& cuid) {
  auto st = db_->prepare("SELECT 1 FROM queue WHERE user = ?1 AND database = ?2 AND cuid = ?3 LIMIT 1");
  if (!st) return st.error();
  st->bind(1, store.user.str()).bind(2, store.database).bind(3, cuid.str());
  return st->step();
}

Result<Cuid> SqliteCacheStore::fresh_cuid(const caf::StoreRef& store, const std::string& wanted) {
  std::string cuid = wanted;
  for (int attempt = 0; attempt <= kCuidAttempts; ++attempt) {
    if (!cuid.empty()) {
      auto taken = items_.has_row(store, cuid);
      if (!taken) return taken.error();
      if (!*taken) return Cuid(cuid);
    }
    cuid = random_hex(8);
  }
  return Status::internal("cache: no unused cuid after " + std::to_string(kCuidAttempts) + " attempts");
}

}  // namespace conflux::cache
