#include "store/sqlite_history_store.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

namespace conflux::store {
namespace {

// Schema of module "history". Append new steps; never edit a released one.
const std::vector<std::string>& history_migrations() {
  static const std::vector<std::string> steps = {
      // 1: one row per version (caf::ItemVersion); kind is caf::VersionKind
      "CREATE TABLE item_versions("
      "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
      "  user TEXT NOT NULL, database TEXT NOT NULL, guid TEXT NOT NULL,"
      "  kind INTEGER NOT NULL, content_type TEXT NOT NULL, data BLOB NOT NULL,"
      "  origin TEXT NOT NULL, session TEXT NOT NULL, at INTEGER NOT NULL);"
      "CREATE INDEX item_versions_by_item ON item_versions(user, database, guid);"
      "CREATE INDEX item_versions_by_age ON item_versions(database, at);",
      // 2: per user and datastore, the moment from which no version was
      // purged by count: the version id history is whole from (caf::HistoryStore::whole_from)
      "CREATE TABLE history_horizons("
      "  user TEXT NOT NULL, database TEXT NOT NULL, whole_from INTEGER NOT NULL,"
      "  PRIMARY KEY(user, database));",
  };
  return steps;
}

}  // namespace

Result<std::unique_ptr<SqliteHistoryStore>> SqliteHistoryStore::open(std::shared_ptr<SqliteDb> db) {
  if (!db) return Status::invalid_argument("history store: no database");
  CFX_RETURN_IF_ERROR(db->migrate("history", history_migrations()));
  return std::unique_ptr<SqliteHistoryStore>(new SqliteHistoryStore(std::move(db)));
}

Status SqliteHistoryStore::record(const std::vector<caf::ItemVersion>& versions) {
  auto tx = db_->transaction();
  if (!tx) return tx.error();
  for (const auto& v : versions) {
    auto st = db_->prepare(
        "INSERT INTO item_versions(user, database, guid, kind, content_type, data, origin, session, at)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
    if (!st) return st.error();
    st->bind(1, v.user.str()).bind(2, v.database).bind(3, v.guid.str()).bind(4, static_cast<int>(v.kind));
    st->bind(5, v.content_type).bind(6, SqlBlob{v.raw}).bind(7, v.origin).bind(8, v.session);
    st->bind(9, v.at);
    auto done = st->run();
    if (!done) return done.error();
  }
  return tx->commit();
}

Result<std::set<std::string>> SqliteHistoryStore::known(const UserId& user, const std::string& database,
                                                        const std::vector<Guid>& guids) {
  std::set<std::string> out;
  for (const auto& guid : guids) {
    auto st = db_->prepare("SELECT 1 FROM item_versions WHERE user = ?1 AND database = ?2 AND guid = ?3 LIMIT 1");
    if (!st) return st.error();
    st->bind(1, user.str()).bind(2, database).bind(3, guid.str());
    auto row = st->step();
    if (!row) return row.error();
    if (*row) out.insert(guid.str());
  }
  return out;
}

Result<std::vector<caf::ItemVersion>> SqliteHistoryStore::versions(const UserId& user, const std::string& database,
                                                                   const std::optional<Guid>& guid) {
  auto st = db_->prepare(
      "SELECT id, guid, kind, content_type, data, origin, session, at FROM item_versions"
      " WHERE user = ?1 AND database = ?2 AND (?3 = '' OR guid = ?3) ORDER BY id");
  if (!st) return st.error();
  st->bind(1, user.str()).bind(2, database).bind(3, guid ? guid->str() : std::string());
  std::vector<caf::ItemVersion> out;
  for (;;) {
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) return out;
    caf::ItemVersion v;
    v.id = st->column_int64(0);
    v.user = user;
    v.database = database;
    v.guid = Guid(st->column_text(1));
    const int64_t kind = st->column_int64(2);
    if (kind < 0 || kind > static_cast<int64_t>(caf::VersionKind::kDeleted)) {
      return Status::internal("item version " + std::to_string(v.id) + " has an unknown kind");
    }
    v.kind = static_cast<caf::VersionKind>(kind);
    v.content_type = st->column_text(3);
    v.raw = st->column_blob(4);
    v.origin = st->column_text(5);
    v.session = st->column_text(6);
    v.at = st->column_int64(7);
    out.push_back(std::move(v));
  }
}

Result<int64_t> SqliteHistoryStore::whole_from(const UserId& user, const std::string& database) {
  auto st = db_->prepare("SELECT whole_from FROM history_horizons WHERE user = ?1 AND database = ?2");
  if (!st) return st.error();
  st->bind(1, user.str()).bind(2, database);
  auto row = st->step();
  if (!row) return row.error();
  return *row ? st->column_int64(0) : int64_t{0};
}

Result<int64_t> SqliteHistoryStore::purge(const std::string& database, int64_t before, int max_versions) {
  auto tx = db_->transaction();
  if (!tx) return tx.error();
  // Older versions superseded by a newer old one go; of the last old one per
  // item only a deletion goes (a restore within the retention starts there).
  auto superseded = db_->prepare(
      "DELETE FROM item_versions WHERE database = ?1 AND at < ?2 AND id NOT IN"
      " (SELECT MAX(id) FROM item_versions WHERE database = ?1 AND at < ?2 GROUP BY user, guid)");
  if (!superseded) return superseded.error();
  superseded->bind(1, database).bind(2, before);
  auto n1 = superseded->run();
  if (!n1) return n1.error();
  auto deletions = db_->prepare("DELETE FROM item_versions WHERE database = ?1 AND at < ?2 AND kind = ?3");
  if (!deletions) return deletions.error();
  deletions->bind(1, database).bind(2, before).bind(3, static_cast<int>(caf::VersionKind::kDeleted));
  auto n2 = deletions->run();
  if (!n2) return n2.error();
  int64_t by_count = 0;
  if (max_versions > 0) {
    // Each item's newest max_versions stay. Where older ones went, the user's
    // history is complete only from the oldest version the item still has.
    auto excess = db_->prepare(
        "DELETE FROM item_versions WHERE id IN (SELECT id FROM (SELECT id, ROW_NUMBER() OVER"
        " (PARTITION BY user, guid ORDER BY id DESC) AS newer FROM item_versions WHERE database = ?1)"
        " WHERE newer > ?2) RETURNING user, guid");
    if (!excess) return excess.error();
    excess->bind(1, database).bind(2, max_versions);
    std::set<std::pair<std::string, std::string>> thinned;  // (user, guid)
    for (;;) {
      auto row = excess->step();
      if (!row) return row.error();
      if (!*row) break;
      thinned.emplace(excess->column_text(0), excess->column_text(1));
      ++by_count;
    }
    std::map<std::string, int64_t> horizon;  // by user
    for (const auto& [user, guid] : thinned) {
      auto oldest = db_->prepare("SELECT MIN(id) FROM item_versions WHERE user = ?1 AND database = ?2 AND guid = ?3");
      if (!oldest) return oldest.error();
      oldest->bind(1, user).bind(2, database).bind(3, guid);
      auto row = oldest->step();
      if (!row) return row.error();
      if (*row) horizon[user] = std::max(horizon[user], oldest->column_int64(0));
    }
    for (const auto& [user, since] : horizon) {
      auto up = db_->prepare(
          "INSERT INTO history_horizons(user, database, whole_from) VALUES (?1, ?2, ?3)"
          " ON CONFLICT(user, database) DO UPDATE SET whole_from = MAX(whole_from, excluded.whole_from)");
      if (!up) return up.error();
      up->bind(1, user).bind(2, database).bind(3, since);
      CFX_RETURN_IF_ERROR(up->run().status());
    }
  }
  CFX_RETURN_IF_ERROR(tx->commit());
  return int64_t{*n1} + *n2 + by_count;
}

}  // namespace conflux::store
