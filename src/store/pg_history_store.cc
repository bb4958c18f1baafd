#include "store/pg_history_store.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

namespace conflux::store {
namespace {

// Schema of module "history" in PostgreSQL. Append new steps; never edit a
// released one.
const std::vector<std::string>& history_migrations() {
  static const std::vector<std::string> steps = {
      // 1: SqliteHistoryStore's steps 1 and 2: one row per version
      // (caf::ItemVersion; kind is caf::VersionKind) and, per user and
      // datastore, where purges by count left history whole from
      "CREATE TABLE item_versions("
      "  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
      "  user_name TEXT NOT NULL, database TEXT NOT NULL, guid TEXT NOT NULL,"
      "  kind INTEGER NOT NULL, content_type TEXT NOT NULL, data BYTEA NOT NULL,"
      "  origin TEXT NOT NULL, session TEXT NOT NULL, at BIGINT NOT NULL);"
      "CREATE INDEX item_versions_by_item ON item_versions(user_name, database, guid);"
      "CREATE INDEX item_versions_by_age ON item_versions(database, at);"
      "CREATE TABLE history_horizons("
      "  user_name TEXT NOT NULL, database TEXT NOT NULL, whole_from BIGINT NOT NULL,"
      "  PRIMARY KEY(user_name, database));",
  };
  return steps;
}

const std::vector<std::pair<std::string, std::string>>& statements() {
  static const std::vector<std::pair<std::string, std::string>> list = {
      {"history_record",
       "INSERT INTO item_versions(user_name, database, guid, kind, content_type, data, origin, session, at)"
       " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"},
      {"history_known",
       "SELECT DISTINCT guid FROM item_versions WHERE user_name = $1 AND database = $2 AND guid = ANY($3::text[])"},
      {"history_versions",
       "SELECT id, guid, kind, content_type, data, origin, session, at FROM item_versions"
       " WHERE user_name = $1 AND database = $2 AND ($3 = '' OR guid = $3) ORDER BY id"},
      {"history_purge_superseded",
       "DELETE FROM item_versions WHERE database = $1 AND at < $2 AND id NOT IN"
       " (SELECT MAX(id) FROM item_versions WHERE database = $1 AND at < $2 GROUP BY user_name, guid)"},
      {"history_purge_deletions", "DELETE FROM item_versions WHERE database = $1 AND at < $2 AND kind = $3"},
      {"history_purge_excess",
       "DELETE FROM item_versions WHERE id IN (SELECT id FROM (SELECT id, ROW_NUMBER() OVER"
       " (PARTITION BY user_name, guid ORDER BY id DESC) AS newer FROM item_versions WHERE database = $1) ranked"
       " WHERE newer > $2) RETURNING user_name, guid"},
      {"history_oldest", "SELECT MIN(id) FROM item_versions WHERE user_name = $1 AND database = $2 AND guid = $3"},
      {"history_move_horizon",
       "INSERT INTO history_horizons(user_name, database, whole_from) VALUES ($1, $2, $3)"
       " ON CONFLICT(user_name, database) DO UPDATE SET"
       " whole_from = GREATEST(history_horizons.whole_from, excluded.whole_from)"},
      {"history_horizon", "SELECT whole_from FROM history_horizons WHERE user_name = $1 AND database = $2"},
  };
  return list;
}

// A PostgreSQL text array literal of `guids` ({"a","b"}), quoted so any
// character is safe.
std::string text_array(const std::vector<Guid>& guids) {
  std::string out = "{";
  for (size_t i = 0; i < guids.size(); ++i) {
    if (i) out += ",";
    out += "\"";
    for (char c : guids[i].str()) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += "\"";
  }
  return out + "}";
}

}  // namespace

Result<std::unique_ptr<PgHistoryStore>> PgHistoryStore::open(std::shared_ptr<PgDb> db) {
  if (!db) return Status::invalid_argument("history store: no database");
  CFX_RETURN_IF_ERROR(db->migrate("history", history_migrations()));
  for (const auto& [name, sql] : statements()) db->prepare(name, sql);
  return std::unique_ptr<PgHistoryStore>(new PgHistoryStore(std::move(db)));
}

Status PgHistoryStore::record(const std::vector<caf::ItemVersion>& versions) {
  return db_->transact("record versions", [&](pqxx::work& txn) {
    for (const auto& v : versions) {
      txn.exec_prepared("history_record", v.user.str(), v.database, v.guid.str(), static_cast<int>(v.kind),
                        v.content_type, pqxx::binarystring(v.raw), v.origin, v.session, v.at);
    }
    return Status::ok();
  });
}

Result<std::set<std::string>> PgHistoryStore::known(const UserId& user, const std::string& database,
                                                    const std::vector<Guid>& guids) {
  return db_->transact("known items", [&](pqxx::work& txn) -> Result<std::set<std::string>> {
    std::set<std::string> out;
    for (const auto& row : txn.exec_prepared("history_known", user.str(), database, text_array(guids))) {
      out.insert(row[0].c_str());
    }
    return out;
  });
}

Result<std::vector<caf::ItemVersion>> PgHistoryStore::versions(const UserId& user, const std::string& database,
                                                               const std::optional<Guid>& guid) {
  return db_->transact("item versions", [&](pqxx::work& txn) -> Result<std::vector<caf::ItemVersion>> {
    std::vector<caf::ItemVersion> out;
    for (const auto& row :
         txn.exec_prepared("history_versions", user.str(), database, guid ? guid->str() : std::string())) {
      caf::ItemVersion v;
      v.id = row[0].as<int64_t>();
      v.user = user;
      v.database = database;
      v.guid = Guid(row[1].c_str());
      const int64_t kind = row[2].as<int64_t>();
      if (kind < 0 || kind > static_cast<int64_t>(caf::VersionKind::kDeleted)) {
        return Status::internal("item version " + std::to_string(v.id) + " has an unknown kind");
      }
      v.kind = static_cast<caf::VersionKind>(kind);
      v.content_type = row[3].c_str();
      const pqxx::binarystring data(row[4]);
      v.raw = data.str();
      v.origin = row[5].c_str();
      v.session = row[6].c_str();
      v.at = row[7].as<int64_t>();
      out.push_back(std::move(v));
    }
    return out;
  });
}

Result<int64_t> PgHistoryStore::purge(const std::string& database, int64_t before, int max_versions) {
  return db_->transact("purge history", [&](pqxx::work& txn) -> Result<int64_t> {
    // As SqliteHistoryStore::purge: by age, keeping each item's last old
    // version unless a deletion; then by count, moving the horizon.
    int64_t dropped = txn.exec_prepared("history_purge_superseded", database, before).affected_rows();
    dropped +=
        txn.exec_prepared("history_purge_deletions", database, before, static_cast<int>(caf::VersionKind::kDeleted))
            .affected_rows();
    if (max_versions <= 0) return dropped;
    std::set<std::pair<std::string, std::string>> thinned;  // (user, guid)
    for (const auto& row : txn.exec_prepared("history_purge_excess", database, max_versions)) {
      thinned.emplace(row[0].c_str(), row[1].c_str());
      ++dropped;
    }
    std::map<std::string, int64_t> horizon;  // by user
    for (const auto& [user, guid] : thinned) {
      const pqxx::result oldest = txn.exec_prepared("history_oldest", user, database, guid);
      if (!oldest.empty() && !oldest[0][0].is_null()) {
        horizon[user] = std::max(horizon[user], oldest[0][0].as<int64_t>());
      }
    }
    for (const auto& [user, since] : horizon) txn.exec_prepared("history_move_horizon", user, database, since);
    return dropped;
  });
}

Result<int64_t> PgHistoryStore::whole_from(const UserId& user, const std::string& database) {
  return db_->transact("history horizon", [&](pqxx::work& txn) -> Result<int64_t> {
    const pqxx::result rows = txn.exec_prepared("history_horizon", user.str(), database);
    return rows.empty() ? int64_t{0} : rows[0][0].as<int64_t>();
  });
}

}  // namespace conflux::store
