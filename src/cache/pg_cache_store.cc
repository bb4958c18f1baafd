#include "cache/pg_cache_store.h"

#include <sodium.h>

#include <limits>
#include <set>
#include <utility>

#include "common/base64.h"
#include "common/pg_locks.h"

namespace conflux::cache {
namespace {

constexpr int kCuidAttempts = 8;
// LIMIT for "no limit": a prepared statement's LIMIT is a parameter.
constexpr int64_t kNoLimit = std::numeric_limits<int64_t>::max();

// Schema of module "cache" in PostgreSQL: SqliteCacheStore's tables at its
// version 2, prefixed "cache_" (they share the database with the state
// store's), "user" (reserved) -> user_name, and the revision counter a
// sequence. Append new steps; never edit a released one.
const std::vector<std::string>& cache_migrations() {
  static const std::vector<std::string> steps = {
      "CREATE TABLE cache_items("
      "  user_name TEXT NOT NULL, database TEXT NOT NULL, cuid TEXT NOT NULL,"
      "  guid TEXT NOT NULL DEFAULT '',"
      "  revision BIGINT NOT NULL, created BIGINT NOT NULL,"
      "  deleted BOOLEAN NOT NULL DEFAULT FALSE, deleted_at BIGINT NOT NULL DEFAULT 0,"
      "  content_type TEXT NOT NULL DEFAULT '', data BYTEA NOT NULL DEFAULT '',"
      "  backend_rev TEXT NOT NULL DEFAULT '',"
      "  PRIMARY KEY(user_name, database, cuid));"
      "CREATE INDEX cache_items_by_revision ON cache_items(user_name, database, revision);"
      "CREATE INDEX cache_items_by_guid ON cache_items(user_name, database, guid);"
      "CREATE TABLE cache_queue("
      "  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
      "  user_name TEXT NOT NULL, database TEXT NOT NULL, cuid TEXT NOT NULL,"
      "  action INTEGER NOT NULL, enqueued_at BIGINT NOT NULL,"
      "  attempts BIGINT NOT NULL DEFAULT 0, next_attempt_at BIGINT NOT NULL DEFAULT 0,"
      "  last_error TEXT NOT NULL DEFAULT '', stuck BOOLEAN NOT NULL DEFAULT FALSE,"
      "  lease_owner TEXT NOT NULL DEFAULT '', lease_until BIGINT NOT NULL DEFAULT 0);"
      "CREATE INDEX cache_queue_by_item ON cache_queue(user_name, database, cuid);"
      "CREATE INDEX cache_queue_by_database ON cache_queue(database, seq);"
      "CREATE TABLE cache_stores("
      "  user_name TEXT NOT NULL, database TEXT NOT NULL, backend_anchor TEXT NOT NULL DEFAULT '',"
      "  PRIMARY KEY(user_name, database));"
      "CREATE TABLE cache_dropped("
      "  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, seq BIGINT NOT NULL,"
      "  user_name TEXT NOT NULL, database TEXT NOT NULL, cuid TEXT NOT NULL, action INTEGER NOT NULL,"
      "  enqueued_at BIGINT NOT NULL, attempts BIGINT NOT NULL, last_error TEXT NOT NULL,"
      "  content_type TEXT NOT NULL, data BYTEA NOT NULL, dropped_at BIGINT NOT NULL);"
      "CREATE SEQUENCE cache_revision;",
  };
  return steps;
}

#define CFX_CACHE_ITEM_COLUMNS "cuid, guid, revision, created, deleted, content_type, data, backend_rev"
#define CFX_CACHE_QUEUE_COLUMNS                                                                                     \
  "seq, user_name, database, cuid, action, enqueued_at, attempts, next_attempt_at, last_error, stuck, lease_owner," \
  " lease_until"

// Prepared statements, by name. Those scoped to one store take (user_name,
// database) as $1, $2.
const std::vector<std::pair<std::string, std::string>>& statements() {
  static const std::vector<std::pair<std::string, std::string>> list = {
      {"cache_lock_store", "SELECT pg_advisory_xact_lock($1, hashtext($2))"},
      {"cache_loaded", "SELECT 1 FROM cache_stores WHERE user_name = $1 AND database = $2"},
      {"cache_users", "SELECT user_name FROM cache_stores WHERE database = $1 ORDER BY user_name COLLATE \"C\""},
      {"cache_backend_anchor", "SELECT backend_anchor FROM cache_stores WHERE user_name = $1 AND database = $2"},
      {"cache_add_store", "INSERT INTO cache_stores(user_name, database, backend_anchor) VALUES ($1, $2, $3)"},
      {"cache_move_store", "UPDATE cache_stores SET backend_anchor = $3 WHERE user_name = $1 AND database = $2"},
      {"cache_max_revision",
       "SELECT coalesce(max(revision), 0) FROM cache_items WHERE user_name = $1 AND database = $2"},
      {"cache_live_items",
       "SELECT " CFX_CACHE_ITEM_COLUMNS
       " FROM cache_items WHERE user_name = $1 AND database = $2 AND NOT deleted ORDER BY revision"},
      {"cache_items_since",
       "SELECT " CFX_CACHE_ITEM_COLUMNS
       " FROM cache_items WHERE user_name = $1 AND database = $2 AND revision > $3 ORDER BY revision"},
      {"cache_item_by_cuid",
       "SELECT " CFX_CACHE_ITEM_COLUMNS
       " FROM cache_items WHERE user_name = $1 AND database = $2 AND cuid = $3 ORDER BY deleted, revision DESC"
       " LIMIT 1"},
      {"cache_item_by_guid",
       "SELECT " CFX_CACHE_ITEM_COLUMNS
       " FROM cache_items WHERE user_name = $1 AND database = $2 AND guid = $3 ORDER BY deleted, revision DESC"
       " LIMIT 1"},
      {"cache_cuid_taken", "SELECT 1 FROM cache_items WHERE user_name = $1 AND database = $2 AND cuid = $3"},
      {"cache_next_revision", "SELECT nextval('cache_revision')"},
      {"cache_create",
       "INSERT INTO cache_items(user_name, database, cuid, revision, created, content_type, data)"
       " VALUES ($1, $2, $3, $4, $4, $5, $6)"},
      {"cache_update",
       "UPDATE cache_items SET revision = $4, content_type = coalesce(nullif($5, ''), content_type), data = $6"
       " WHERE user_name = $1 AND database = $2 AND cuid = $3 AND NOT deleted"},
      {"cache_delete",
       "UPDATE cache_items SET revision = $4, deleted = TRUE, data = '', deleted_at = $5"
       " WHERE user_name = $1 AND database = $2 AND cuid = $3 AND NOT deleted"},
      {"cache_enqueue",
       "INSERT INTO cache_queue(user_name, database, cuid, action, enqueued_at) VALUES ($1, $2, $3, $4, $5)"},
      // Folding a change by others in (the cuid is $3).
      {"cache_fold_delete",
       "UPDATE cache_items SET revision = $4, deleted = TRUE, data = '', backend_rev = $5, deleted_at = $6"
       " WHERE user_name = $1 AND database = $2 AND cuid = $3"},
      // A revived tombstone counts as created now, so devices get a create.
      {"cache_fold_update",
       "UPDATE cache_items SET revision = $4, backend_rev = $5, content_type = $6, data = $7,"
       " created = CASE WHEN deleted THEN $4 ELSE created END, deleted = FALSE"
       " WHERE user_name = $1 AND database = $2 AND cuid = $3"},
      {"cache_fold_create",
       "INSERT INTO cache_items(user_name, database, cuid, revision, created, backend_rev, content_type, data, guid)"
       " VALUES ($1, $2, $3, $4, $4, $5, $6, $7, $8)"},
      {"cache_pending", "SELECT 1 FROM cache_queue WHERE user_name = $1 AND database = $2 AND cuid = $3 LIMIT 1"},
      {"cache_replicating",
       "SELECT 1 FROM cache_queue WHERE user_name = $1 AND database = $2 AND lease_owner <> '' AND lease_until > $3"
       " LIMIT 1"},
      // $3: the text to look for (empty: any); $4: metadata only; $5: limit.
      {"cache_search",
       "SELECT cuid, guid, revision, created, deleted, content_type, CASE WHEN $4 THEN ''::bytea ELSE data END,"
       " backend_rev FROM cache_items WHERE user_name = $1 AND database = $2 AND NOT deleted"
       " AND position($3::bytea in data) > 0 ORDER BY revision LIMIT $5"},
      {"cache_search_cuid",
       "SELECT cuid, guid, revision, created, deleted, content_type, CASE WHEN $4 THEN ''::bytea ELSE data END,"
       " backend_rev FROM cache_items WHERE user_name = $1 AND database = $2 AND NOT deleted"
       " AND position($3::bytea in data) > 0 AND cuid = $5"},
      {"cache_live_count", "SELECT count(*) FROM cache_items WHERE user_name = $1 AND database = $2 AND NOT deleted"},
      {"cache_queued", "SELECT " CFX_CACHE_QUEUE_COLUMNS " FROM cache_queue WHERE database = $1 ORDER BY seq LIMIT $2"},
      {"cache_queue_length", "SELECT count(*) FROM cache_queue WHERE database = $1"},
      {"cache_queue_stats",
       "SELECT count(*), coalesce(min(enqueued_at), 0), count(*) FILTER (WHERE stuck) FROM cache_queue"
       " WHERE database = $1"},
      {"cache_tombstones", "SELECT count(*) FROM cache_items WHERE database = $1 AND deleted"},
      // One statement: a second node's UPDATE of the row waits for the
      // first's commit, then sees the lease taken and changes nothing.
      {"cache_claim",
       "UPDATE cache_queue SET lease_owner = $2, lease_until = $3"
       " WHERE seq = $1 AND NOT stuck AND (lease_owner = '' OR lease_owner = $2 OR lease_until <= $4) RETURNING seq"},
      {"cache_unqueue_leased", "DELETE FROM cache_queue WHERE seq = $1 AND lease_owner = $2"},
      {"cache_record_replication",
       "UPDATE cache_items SET guid = coalesce(nullif($4, ''), guid), backend_rev = $5"
       " WHERE user_name = $1 AND database = $2 AND cuid = $3"},
      {"cache_retry_later",
       "UPDATE cache_queue SET attempts = attempts + 1, next_attempt_at = $2, last_error = $3, stuck = $4,"
       " lease_owner = '', lease_until = 0 WHERE seq = $1 AND lease_owner = $5"},
      {"cache_stuck", "SELECT " CFX_CACHE_QUEUE_COLUMNS " FROM cache_queue WHERE stuck ORDER BY seq"},
      {"cache_retry_now",
       "UPDATE cache_queue SET stuck = FALSE, attempts = 0, next_attempt_at = 0, lease_owner = '', lease_until = 0"
       " WHERE seq = $1"},
      // The item's content as the cache holds it now: for a create or update
      // that is what the back end never got.
      {"cache_keep_dropped",
       "INSERT INTO cache_dropped(seq, user_name, database, cuid, action, enqueued_at, attempts, last_error,"
       " content_type, data, dropped_at)"
       " SELECT q.seq, q.user_name, q.database, q.cuid, q.action, q.enqueued_at, q.attempts, q.last_error,"
       " coalesce(i.content_type, ''), CASE WHEN q.action = $3 THEN ''::bytea ELSE coalesce(i.data, '') END, $2"
       " FROM cache_queue q LEFT JOIN cache_items i"
       "  ON i.user_name = q.user_name AND i.database = q.database AND i.cuid = q.cuid"
       " WHERE q.seq = $1 RETURNING id"},
      {"cache_unqueue", "DELETE FROM cache_queue WHERE seq = $1"},
      {"cache_dropped",
       "SELECT id, seq, user_name, database, cuid, action, enqueued_at, attempts, last_error, content_type, data,"
       " dropped_at FROM cache_dropped ORDER BY id"},
      {"cache_purge",
       "DELETE FROM cache_items i WHERE user_name = $1 AND database = $2 AND deleted"
       " AND (revision <= $3 OR deleted_at <= $4)"
       " AND NOT EXISTS (SELECT 1 FROM cache_queue q"
       "                 WHERE q.user_name = i.user_name AND q.database = i.database AND q.cuid = i.cuid)"},
  };
  return list;
}

#undef CFX_CACHE_ITEM_COLUMNS
#undef CFX_CACHE_QUEUE_COLUMNS

std::string bytes(const pqxx::field& f) { return pqxx::binarystring(f).str(); }

// Rows of the item columns above.
CacheItem item_from_row(const pqxx::row& row) {
  CacheItem item;
  item.cuid = Cuid(row[0].c_str());
  item.guid = Guid(row[1].c_str());
  item.revision = row[2].as<int64_t>();
  item.deleted = row[4].as<bool>();
  item.content_type = row[5].c_str();
  item.raw = bytes(row[6]);
  item.backend_rev = row[7].c_str();
  return item;
}

// The engine's view of a row: the cuid is its guid.
caf::SyncObj obj_from_row(const pqxx::row& row, const caf::StoreRef& store, int64_t since) {
  caf::SyncObj obj;
  obj.guid = Guid(row[0].c_str());
  obj.cuid = Cuid(row[0].c_str());
  obj.anchor = CacheStore::revision_anchor(row[2].as<int64_t>());
  obj.user = store.user;
  obj.database = store.database;
  if (row[4].as<bool>()) {
    obj.action = caf::Action::kDelete;
    return obj;
  }
  obj.action = row[3].as<int64_t>() > since ? caf::Action::kCreate : caf::Action::kUpdate;
  obj.content_type = row[5].c_str();
  obj.raw = bytes(row[6]);
  return obj;
}

QueueEntry entry_from_row(const pqxx::row& row) {
  QueueEntry e;
  e.seq = row[0].as<int64_t>();
  e.user = UserId(row[1].c_str());
  e.database = row[2].c_str();
  e.cuid = Cuid(row[3].c_str());
  e.action = static_cast<caf::Action>(row[4].as<int>());
  e.enqueued_at = row[5].as<int64_t>();
  e.attempts = row[6].as<int64_t>();
  e.next_attempt_at = row[7].as<int64_t>();
  e.last_error = row[8].c_str();
  e.stuck = row[9].as<bool>();
  e.lease_owner = row[10].c_str();
  e.lease_until = row[11].as<int64_t>();
  return e;
}

std::vector<QueueEntry> entries_from(const pqxx::result& rows) {
  std::vector<QueueEntry> out;
  for (const auto& row : rows) out.push_back(entry_from_row(row));
  return out;
}

// Serialises the writes of one (user, database) until the transaction ends.
void lock_store(pqxx::work& txn, const caf::StoreRef& store) {
  txn.exec_prepared("cache_lock_store", static_cast<int32_t>(PgLocks::Space::kCacheStore),
                    store.user.str() + "\n" + store.database);
}

// One view of the database for the transaction's every statement.
void one_snapshot(pqxx::work& txn) { txn.exec("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"); }

std::optional<CacheItem> find(pqxx::work& txn, const char* statement, const caf::StoreRef& store,
                              const std::string& id) {
  const pqxx::result rows = txn.exec_prepared(statement, store.user.str(), store.database, id);
  if (rows.empty()) return std::nullopt;
  return item_from_row(rows[0]);
}

int64_t next_revision(pqxx::work& txn) { return txn.exec_prepared1("cache_next_revision")[0].as<int64_t>(); }

bool has_pending(pqxx::work& txn, const caf::StoreRef& store, const Cuid& cuid) {
  return !txn.exec_prepared("cache_pending", store.user.str(), store.database, cuid.str()).empty();
}

Result<Cuid> fresh_cuid(pqxx::work& txn, const caf::StoreRef& store, const std::string& wanted) {
  std::string cuid = wanted;
  for (int attempt = 0; attempt <= kCuidAttempts; ++attempt) {
    if (!cuid.empty() && txn.exec_prepared("cache_cuid_taken", store.user.str(), store.database, cuid).empty()) {
      return Cuid(cuid);
    }
    cuid = random_hex(8);
  }
  return Status::internal("cache: no unused cuid after " + std::to_string(kCuidAttempts) + " attempts");
}

}  // namespace

Result<std::shared_ptr<PgCacheStore>> PgCacheStore::open(std::shared_ptr<PgDb> db) {
  if (!db) return Status::invalid_argument("cache: no database");
  if (sodium_init() < 0) return Status::internal("cache: sodium_init failed");
  CFX_RETURN_IF_ERROR(db->migrate("cache", cache_migrations()));
  for (const auto& [name, sql] : statements()) db->prepare(name, sql);
  return std::shared_ptr<PgCacheStore>(new PgCacheStore(std::move(db)));
}

// ---------------------------------------------------------------------------
// (user, database) state

Result<bool> PgCacheStore::loaded(const caf::StoreRef& store) {
  CFX_RETURN_IF_ERROR(check_scope(store));
  return db_->transact("cache loaded", [&](pqxx::work& txn) -> Result<bool> {
    return !txn.exec_prepared("cache_loaded", store.user.str(), store.database).empty();
  });
}

Status PgCacheStore::import(const caf::StoreRef& store, const caf::ChangeSet& set, const std::string& default_type) {
  CFX_RETURN_IF_ERROR(check_scope(store));
  return db_->transact("cache import", [&](pqxx::work& txn) -> Status {
    lock_store(txn, store);
    if (!txn.exec_prepared("cache_loaded", store.user.str(), store.database).empty()) return Status::ok();
    return fold_in(txn, store, set, default_type, FoldMode::kInitialLoad, 0, nullptr).status();
  });
}

Result<std::vector<UserId>> PgCacheStore::users(const std::string& database) {
  return db_->transact("cache users", [&](pqxx::work& txn) -> Result<std::vector<UserId>> {
    std::vector<UserId> out;
    for (const auto& row : txn.exec_prepared("cache_users", database)) out.emplace_back(row[0].c_str());
    return out;
  });
}

Result<Anchor> PgCacheStore::backend_anchor(const caf::StoreRef& store) {
  return db_->transact("cache backend_anchor", [&](pqxx::work& txn) -> Result<Anchor> {
    const pqxx::result rows = txn.exec_prepared("cache_backend_anchor", store.user.str(), store.database);
    if (rows.empty()) return Status::not_found("cache: store not loaded");
    return Anchor(rows[0][0].c_str());
  });
}

// ---------------------------------------------------------------------------
// Engine side

Result<Anchor> PgCacheStore::current_anchor(const caf::StoreRef& store) {
  CFX_RETURN_IF_ERROR(check_scope(store));
  return db_->transact("cache current_anchor", [&](pqxx::work& txn) -> Result<Anchor> {
    return revision_anchor(txn.exec_prepared1("cache_max_revision", store.user.str(), store.database)[0].as<int64_t>());
  });
}

Result<caf::ChangeSet> PgCacheStore::changes_since(const caf::StoreRef& store, const Anchor& since) {
  CFX_RETURN_IF_ERROR(check_scope(store));
  auto since_parsed = since_revision(since);
  if (!since_parsed) return since_parsed.error();
  const std::optional<int64_t> since_rev = *since_parsed;
  return db_->transact("cache changes_since", [&](pqxx::work& txn) -> Result<caf::ChangeSet> {
    one_snapshot(txn);  // the anchor and the changes up to it
    caf::ChangeSet set;
    set.anchor =
        revision_anchor(txn.exec_prepared1("cache_max_revision", store.user.str(), store.database)[0].as<int64_t>());
    const pqxx::result rows = since_rev
                                  ? txn.exec_prepared("cache_items_since", store.user.str(), store.database, *since_rev)
                                  : txn.exec_prepared("cache_live_items", store.user.str(), store.database);
    for (const auto& row : rows) set.changes.push_back(obj_from_row(row, store, since_rev.value_or(0)));
    return set;
  });
}

std::vector<caf::ApplyResult> PgCacheStore::apply(const caf::StoreRef& store, std::vector<caf::SyncObj>&& batch,
                                                  const std::string& default_type, int64_t now) {
  if (Status scope = check_scope(store); !scope.is_ok()) return fail_all(batch.size(), scope);
  if (batch.empty()) return {};
  // Any statement failing ends the transaction: then nothing of the batch stands.
  auto applied = db_->transact("cache apply", [&](pqxx::work& txn) -> Result<std::vector<caf::ApplyResult>> {
    lock_store(txn, store);
    std::vector<caf::ApplyResult> results;
    results.reserve(batch.size());
    for (const caf::SyncObj& obj : batch) {
      caf::ApplyResult& result = results.emplace_back();
      result.guid = obj.guid;
      result.status = check_item(store, obj);
      if (!result.status.is_ok()) continue;
      const int64_t revision = next_revision(txn);
      Cuid cuid(obj.guid.str());
      pqxx::result written;
      if (obj.action == caf::Action::kCreate) {
        auto fresh = fresh_cuid(txn, store, obj.guid.str());
        if (!fresh) return fresh.error();
        cuid = *fresh;
        written =
            txn.exec_prepared("cache_create", store.user.str(), store.database, cuid.str(), revision,
                              obj.content_type.empty() ? default_type : obj.content_type, pqxx::binarystring(obj.raw));
      } else if (obj.action == caf::Action::kUpdate) {
        written = txn.exec_prepared("cache_update", store.user.str(), store.database, cuid.str(), revision,
                                    obj.content_type, pqxx::binarystring(obj.raw));
      } else {
        written = txn.exec_prepared("cache_delete", store.user.str(), store.database, cuid.str(), revision, now);
      }
      if (written.affected_rows() == 0 && obj.action == caf::Action::kUpdate) {
        result.status = Status::not_found("no item " + cuid.str());
        continue;
      }
      if (written.affected_rows() == 0) {
        result.outcome = caf::ApplyOutcome::kAlreadyDeleted;
        continue;
      }
      txn.exec_prepared("cache_enqueue", store.user.str(), store.database, cuid.str(), static_cast<int>(obj.action),
                        now);
      result.outcome = obj.action == caf::Action::kCreate   ? caf::ApplyOutcome::kCreated
                       : obj.action == caf::Action::kUpdate ? caf::ApplyOutcome::kUpdated
                                                            : caf::ApplyOutcome::kDeleted;
      result.guid = Guid(cuid.str());
      result.anchor = revision_anchor(revision);
    }
    return results;
  });
  if (!applied) return fail_all(batch.size(), applied.error());
  return std::move(*applied);
}

Result<std::vector<caf::SyncObj>> PgCacheStore::search(const caf::StoreRef& store, const caf::Query& query) {
  CFX_RETURN_IF_ERROR(check_scope(store));
  const pqxx::binarystring contains(query.contains);
  return db_->transact("cache search", [&](pqxx::work& txn) -> Result<std::vector<caf::SyncObj>> {
    std::vector<caf::SyncObj> found;
    if (query.guids.empty()) {
      const int64_t limit = query.limit > 0 ? static_cast<int64_t>(query.limit) : kNoLimit;
      for (const auto& row :
           txn.exec_prepared("cache_search", store.user.str(), store.database, contains, query.metadata_only, limit)) {
        found.push_back(obj_from_row(row, store, 0));
      }
      return found;
    }
    std::set<Guid> seen;
    for (const Guid& guid : query.guids) {
      if (query.limit > 0 && found.size() >= query.limit) break;
      if (!seen.insert(guid).second) continue;
      for (const auto& row : txn.exec_prepared("cache_search_cuid", store.user.str(), store.database, contains,
                                               query.metadata_only, guid.str())) {
        found.push_back(obj_from_row(row, store, 0));
      }
    }
    return found;
  });
}

Result<int64_t> PgCacheStore::live_count(const caf::StoreRef& store) {
  CFX_RETURN_IF_ERROR(check_scope(store));
  return db_->transact("cache live_count", [&](pqxx::work& txn) -> Result<int64_t> {
    return txn.exec_prepared1("cache_live_count", store.user.str(), store.database)[0].as<int64_t>();
  });
}

// ---------------------------------------------------------------------------
// Cache Monitor side

Result<size_t> PgCacheStore::queue_length(const std::string& database) {
  return db_->transact("cache queue_length", [&](pqxx::work& txn) -> Result<size_t> {
    return txn.exec_prepared1("cache_queue_length", database)[0].as<size_t>();
  });
}

Result<std::vector<QueueEntry>> PgCacheStore::queued(const std::string& database, size_t limit) {
  return db_->transact("cache queued", [&](pqxx::work& txn) -> Result<std::vector<QueueEntry>> {
    return entries_from(
        txn.exec_prepared("cache_queued", database, limit == 0 ? kNoLimit : static_cast<int64_t>(limit)));
  });
}

Result<QueueStats> PgCacheStore::queue_stats(const std::string& database) {
  return db_->transact("cache queue_stats", [&](pqxx::work& txn) -> Result<QueueStats> {
    one_snapshot(txn);
    QueueStats stats;
    const pqxx::row row = txn.exec_prepared1("cache_queue_stats", database);
    stats.length = row[0].as<size_t>();
    stats.oldest_enqueued_at = row[1].as<int64_t>();
    stats.stuck = row[2].as<size_t>();
    stats.tombstones = txn.exec_prepared1("cache_tombstones", database)[0].as<size_t>();
    return stats;
  });
}

Result<bool> PgCacheStore::claim(const QueueEntry& entry, const std::string& node, int64_t now, int64_t lease_seconds) {
  return db_->transact("cache claim", [&](pqxx::work& txn) -> Result<bool> {
    return !txn.exec_prepared("cache_claim", entry.seq, node, now + lease_seconds, now).empty();
  });
}

Result<std::optional<CacheItem>> PgCacheStore::item(const caf::StoreRef& store, const Cuid& cuid) {
  return db_->transact("cache item", [&](pqxx::work& txn) -> Result<std::optional<CacheItem>> {
    return find(txn, "cache_item_by_cuid", store, cuid.str());
  });
}

Status PgCacheStore::replicated(const QueueEntry& entry, const Guid& guid, const Anchor& backend_rev,
                                const std::string& node) {
  return db_->transact("cache replicated", [&](pqxx::work& txn) -> Status {
    if (txn.exec_prepared("cache_unqueue_leased", entry.seq, node).affected_rows() == 0) {
      return Status::aborted("cache: lease on queue entry " + std::to_string(entry.seq) + " lost");
    }
    txn.exec_prepared("cache_record_replication", entry.user.str(), entry.database, entry.cuid.str(), guid.str(),
                      backend_rev.str());
    return Status::ok();
  });
}

Status PgCacheStore::retry_later(const QueueEntry& entry, int64_t next_attempt_at, const std::string& error,
                                 Retry retry, const std::string& node) {
  return db_->transact("cache retry_later", [&](pqxx::work& txn) -> Status {
    txn.exec_prepared("cache_retry_later", entry.seq, next_attempt_at, error, retry == Retry::kStuck, node);
    return Status::ok();
  });
}

// ---------------------------------------------------------------------------
// Administrator side

Result<std::vector<QueueEntry>> PgCacheStore::stuck() {
  return db_->transact("cache stuck", [&](pqxx::work& txn) -> Result<std::vector<QueueEntry>> {
    return entries_from(txn.exec_prepared("cache_stuck"));
  });
}

Status PgCacheStore::retry_now(int64_t seq) {
  return db_->transact("cache retry", [&](pqxx::work& txn) -> Status {
    if (txn.exec_prepared("cache_retry_now", seq).affected_rows() == 0) {
      return Status::not_found("no queue entry " + std::to_string(seq));
    }
    return Status::ok();
  });
}

Result<int64_t> PgCacheStore::drop(int64_t seq, int64_t now) {
  return db_->transact("cache drop", [&](pqxx::work& txn) -> Result<int64_t> {
    const pqxx::result kept = txn.exec_prepared("cache_keep_dropped", seq, now, static_cast<int>(caf::Action::kDelete));
    if (kept.empty()) return Status::not_found("no queue entry " + std::to_string(seq));
    txn.exec_prepared("cache_unqueue", seq);
    return kept[0][0].as<int64_t>();
  });
}

Result<std::vector<DroppedEntry>> PgCacheStore::dropped() {
  return db_->transact("cache dropped", [&](pqxx::work& txn) -> Result<std::vector<DroppedEntry>> {
    std::vector<DroppedEntry> out;
    for (const auto& row : txn.exec_prepared("cache_dropped")) {
      DroppedEntry& d = out.emplace_back();
      d.id = row[0].as<int64_t>();
      d.entry.seq = row[1].as<int64_t>();
      d.entry.user = UserId(row[2].c_str());
      d.entry.database = row[3].c_str();
      d.entry.cuid = Cuid(row[4].c_str());
      d.entry.action = static_cast<caf::Action>(row[5].as<int>());
      d.entry.enqueued_at = row[6].as<int64_t>();
      d.entry.attempts = row[7].as<int64_t>();
      d.entry.last_error = row[8].c_str();
      d.content_type = row[9].c_str();
      d.raw = bytes(row[10]);
      d.dropped_at = row[11].as<int64_t>();
    }
    return out;
  });
}

// ---------------------------------------------------------------------------
// Tombstones

Result<int> PgCacheStore::purge_tombstones(const caf::StoreRef& store, int64_t synced_revision,
                                           int64_t deleted_before) {
  CFX_RETURN_IF_ERROR(check_scope(store));
  return db_->transact("cache purge", [&](pqxx::work& txn) -> Result<int> {
    return static_cast<int>(
        txn.exec_prepared("cache_purge", store.user.str(), store.database, synced_revision, deleted_before)
            .affected_rows());
  });
}

// ---------------------------------------------------------------------------
// Back End Monitor side

Result<int> PgCacheStore::fold(const caf::StoreRef& store, const caf::ChangeSet& set, const std::string& default_type,
                               int64_t now, std::vector<caf::ObservedChange>* folded_changes) {
  CFX_RETURN_IF_ERROR(check_scope(store));
  std::vector<caf::ObservedChange> changes;
  auto folded = db_->transact("cache fold", [&](pqxx::work& txn) -> Result<int> {
    changes.clear();  // a retried attempt starts over
    lock_store(txn, store);
    if (!txn.exec_prepared("cache_replicating", store.user.str(), store.database, now).empty()) return 0;
    return fold_in(txn, store, set, default_type, FoldMode::kChangesByOthers, now, folded_changes ? &changes : nullptr);
  });
  if (!folded) return folded.error();
  if (folded_changes) *folded_changes = std::move(changes);
  return *folded;
}

Result<int> PgCacheStore::fold_in(pqxx::work& txn, const caf::StoreRef& store, const caf::ChangeSet& set,
                                  const std::string& default_type, FoldMode mode, int64_t now,
                                  std::vector<caf::ObservedChange>* folded_changes) {
  const std::string& user = store.user.str();
  int folded = 0;
  for (const caf::SyncObj& change : set.changes) {
    if (change.guid.empty()) continue;
    const std::optional<CacheItem> existing = find(txn, "cache_item_by_guid", store, change.guid.str());
    if (existing) {
      if (change.action == caf::Action::kDelete && existing->deleted) continue;
      if (change.action != caf::Action::kDelete && !existing->deleted && existing->backend_rev == change.anchor.str()) {
        continue;  // the echo of our own replication
      }
      if (has_pending(txn, store, existing->cuid)) continue;  // the device's change is newer; it goes out next
    } else if (change.action == caf::Action::kDelete) {
      continue;  // never seen, nothing to delete
    }
    const int64_t revision = next_revision(txn);
    const std::string content_type = change.content_type.empty() ? default_type : change.content_type;
    std::string cuid;
    if (change.action == caf::Action::kDelete) {
      cuid = existing->cuid.str();
      txn.exec_prepared("cache_fold_delete", user, store.database, cuid, revision, change.anchor.str(), now);
    } else if (existing) {
      cuid = existing->cuid.str();
      txn.exec_prepared("cache_fold_update", user, store.database, cuid, revision, change.anchor.str(), content_type,
                        pqxx::binarystring(change.raw));
    } else {
      auto fresh = fresh_cuid(txn, store, change.guid.str());
      if (!fresh) return fresh.error();
      cuid = fresh->str();
      txn.exec_prepared("cache_fold_create", user, store.database, cuid, revision, change.anchor.str(), content_type,
                        pqxx::binarystring(change.raw), change.guid.str());
    }
    ++folded;
    if (folded_changes) folded_changes->push_back(observed(change, cuid, content_type, existing));
  }
  txn.exec_prepared(mode == FoldMode::kInitialLoad ? "cache_add_store" : "cache_move_store", user, store.database,
                    set.anchor.str());
  return folded;
}

}  // namespace conflux::cache
