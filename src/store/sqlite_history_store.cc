#include "store/sqlite_history_store.h"

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

Result<int64_t> SqliteHistoryStore::purge(const std::string& database, int64_t before) {
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
  CFX_RETURN_IF_ERROR(tx->commit());
  return int64_t{*n1} + *n2;
}

}  // namespace conflux::store
