#include "store/pg_state_store.h"

#include <chrono>
#include <map>
#include <utility>

#include <nlohmann/json.hpp>

#include "store/report_problems.h"

namespace conflux::store {
namespace {

// Schema of module "state" in PostgreSQL: the SQLite schema's tables, named
// the same but for "user" (reserved in PostgreSQL) -> user_name. Append new
// steps; never edit a released one.
const std::vector<std::string>& state_migrations() {
  static const std::vector<std::string> steps = {
      // 1: everything SqliteStateStore has at its version 5
      "CREATE TABLE sessions("
      "  key TEXT PRIMARY KEY,"
      "  state BYTEA NOT NULL,"
      "  updated_at BIGINT NOT NULL);"
      "CREATE INDEX sessions_updated_at ON sessions(updated_at);"
      "CREATE TABLE anchors("
      "  user_name TEXT NOT NULL, device TEXT NOT NULL, database TEXT NOT NULL,"
      "  client_next TEXT NOT NULL, server_next TEXT NOT NULL,"
      "  PRIMARY KEY(user_name, device, database));"
      "CREATE TABLE maps("
      "  user_name TEXT NOT NULL, device TEXT NOT NULL, database TEXT NOT NULL,"
      "  luid TEXT NOT NULL, guid TEXT NOT NULL, synced TEXT NOT NULL,"
      "  PRIMARY KEY(user_name, device, database, luid),"
      "  UNIQUE(user_name, device, database, guid));"
      "CREATE TABLE devices("
      "  user_name TEXT NOT NULL, device TEXT NOT NULL,"
      "  devinf TEXT NOT NULL, updated_at BIGINT NOT NULL,"
      "  PRIMARY KEY(user_name, device));"
      "CREATE TABLE secrets(name TEXT PRIMARY KEY, value BYTEA NOT NULL);"
      "CREATE TABLE nonces(device TEXT PRIMARY KEY, nonce TEXT NOT NULL, updated_at BIGINT NOT NULL);"
      "CREATE TABLE conflicts("
      "  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
      "  user_name TEXT NOT NULL, device TEXT NOT NULL, database TEXT NOT NULL,"
      "  guid TEXT NOT NULL, luid TEXT NOT NULL, policy TEXT NOT NULL, outcome TEXT NOT NULL,"
      "  server_type TEXT NOT NULL, server_data BYTEA NOT NULL,"
      "  client_type TEXT NOT NULL, client_data BYTEA NOT NULL,"
      "  created_at BIGINT NOT NULL, resolved BOOLEAN NOT NULL DEFAULT FALSE);"
      "CREATE INDEX conflicts_by_user ON conflicts(user_name, resolved);"
      "CREATE TABLE reports("
      "  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, session TEXT NOT NULL,"
      "  user_name TEXT NOT NULL, device TEXT NOT NULL, database TEXT NOT NULL, sync_type INTEGER NOT NULL,"
      "  finished_at BIGINT NOT NULL,"
      "  client_adds INTEGER NOT NULL, client_updates INTEGER NOT NULL, client_deletes INTEGER NOT NULL,"
      "  client_errors INTEGER NOT NULL, server_adds INTEGER NOT NULL, server_updates INTEGER NOT NULL,"
      "  server_deletes INTEGER NOT NULL, conflicts INTEGER NOT NULL, problems TEXT NOT NULL DEFAULT '[]');"
      "CREATE INDEX reports_by_session ON reports(session);"
      "CREATE TABLE rejections("
      "  user_name TEXT NOT NULL, device TEXT NOT NULL, database TEXT NOT NULL,"
      "  guid TEXT NOT NULL, revision TEXT NOT NULL, count INTEGER NOT NULL, status INTEGER NOT NULL,"
      "  PRIMARY KEY(user_name, device, database, guid));"
      "CREATE TABLE resume_points("
      "  user_name TEXT NOT NULL, device TEXT NOT NULL, database TEXT NOT NULL,"
      "  session TEXT NOT NULL,"
      "  PRIMARY KEY(user_name, device, database));",
      // 2: SqliteStateStore's steps 6 and 7: the back end the anchors and
      // maps point into (engine/store_identity.h), and deletions held until
      // the user confirms them (engine/deletion_guard.h); guids is a JSON array
      "ALTER TABLE anchors ADD COLUMN store_identity TEXT NOT NULL DEFAULT '';"
      "CREATE TABLE held_deletions("
      "  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
      "  user_name TEXT NOT NULL, device TEXT NOT NULL, database TEXT NOT NULL,"
      "  session TEXT NOT NULL, reason TEXT NOT NULL, guids TEXT NOT NULL, held_at BIGINT NOT NULL);"
      "CREATE INDEX held_deletions_by_user ON held_deletions(user_name);",
      // 3: SqliteStateStore's step 8: which way a held deletion goes (engine::HeldKind)
      "ALTER TABLE held_deletions ADD COLUMN kind INTEGER NOT NULL DEFAULT 0;",
  };
  return steps;
}

// Prepared statements, by name. Those scoped to one device's datastore take
// (user_name, device, database) as $1..$3.
const std::vector<std::pair<std::string, std::string>>& statements() {
  static const std::vector<std::pair<std::string, std::string>> list = {
      {"state_load_session", "SELECT state FROM sessions WHERE key = $1"},
      {"state_save_session",
       "INSERT INTO sessions(key, state, updated_at) VALUES ($1, $2, $3)"
       " ON CONFLICT(key) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at"},
      {"state_delete_session", "DELETE FROM sessions WHERE key = $1"},
      {"state_expire_sessions", "DELETE FROM sessions WHERE updated_at < $1 RETURNING state"},
      {"state_expire_nonces", "DELETE FROM nonces WHERE updated_at < $1"},
      {"state_anchors",
       "SELECT client_next, server_next, store_identity FROM anchors"
       " WHERE user_name = $1 AND device = $2 AND database = $3"},
      {"state_server_anchors", "SELECT server_next FROM anchors WHERE user_name = $1 AND database = $2"},
      {"state_save_anchors",
       "INSERT INTO anchors(user_name, device, database, client_next, server_next, store_identity)"
       " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT(user_name, device, database) DO UPDATE SET"
       " client_next = excluded.client_next, server_next = excluded.server_next,"
       " store_identity = excluded.store_identity"},
      {"state_forget_anchors", "DELETE FROM anchors WHERE user_name = $1 AND device = $2 AND database = $3"},
      {"state_map_entries",
       "SELECT luid, guid, synced FROM maps WHERE user_name = $1 AND device = $2 AND database = $3"
       " ORDER BY luid COLLATE \"C\""},
      {"state_map_drop_guid",
       "DELETE FROM maps WHERE user_name = $1 AND device = $2 AND database = $3 AND guid = $4 AND luid <> $5"},
      {"state_map_put",
       "INSERT INTO maps(user_name, device, database, luid, guid, synced) VALUES ($1, $2, $3, $4, $5, $6)"
       " ON CONFLICT(user_name, device, database, luid) DO UPDATE SET guid = excluded.guid, synced = excluded.synced"},
      {"state_map_remove", "DELETE FROM maps WHERE user_name = $1 AND device = $2 AND database = $3 AND luid = $4"},
      {"state_map_clear", "DELETE FROM maps WHERE user_name = $1 AND device = $2 AND database = $3"},
      {"state_save_device",
       "INSERT INTO devices(user_name, device, devinf, updated_at) VALUES ($1, $2, $3, $4)"
       " ON CONFLICT(user_name, device) DO UPDATE SET devinf = excluded.devinf, updated_at = excluded.updated_at"},
      {"state_device", "SELECT devinf FROM devices WHERE user_name = $1 AND device = $2"},
      {"state_nonce", "SELECT nonce FROM nonces WHERE device = $1"},
      {"state_save_nonce",
       "INSERT INTO nonces(device, nonce, updated_at) VALUES ($1, $2, $3)"
       " ON CONFLICT(device) DO UPDATE SET nonce = excluded.nonce, updated_at = excluded.updated_at"},
      {"state_save_conflict",
       "INSERT INTO conflicts(user_name, device, database, guid, luid, policy, outcome, server_type, server_data,"
       " client_type, client_data, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
       " RETURNING id"},
      {"state_conflicts",
       "SELECT id, user_name, device, database, guid, luid, policy, outcome, server_type, server_data, client_type,"
       " client_data, created_at, resolved FROM conflicts"
       " WHERE ($1 = '' OR user_name = $1) AND ($2 OR NOT resolved) ORDER BY id DESC"},
      {"state_conflict",
       "SELECT id, user_name, device, database, guid, luid, policy, outcome, server_type, server_data, client_type,"
       " client_data, created_at, resolved FROM conflicts WHERE id = $1"},
      {"state_resolve_conflict", "UPDATE conflicts SET resolved = TRUE WHERE id = $1"},
      {"state_save_report",
       "INSERT INTO reports(session, user_name, device, database, sync_type, finished_at, client_adds,"
       " client_updates, client_deletes, client_errors, server_adds, server_updates, server_deletes, conflicts,"
       " problems) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"},
      {"state_reports",
       "SELECT session, user_name, device, database, sync_type, finished_at, client_adds, client_updates,"
       " client_deletes, client_errors, server_adds, server_updates, server_deletes, conflicts, problems"
       " FROM reports WHERE ($1 = '' OR user_name = $1) ORDER BY id DESC LIMIT $2"},
      {"state_session_report",
       "SELECT session, user_name, device, database, sync_type, finished_at, client_adds, client_updates,"
       " client_deletes, client_errors, server_adds, server_updates, server_deletes, conflicts, problems"
       " FROM reports WHERE session = $1 ORDER BY id"},
      {"state_rejections",
       "SELECT guid, revision, count, status FROM rejections WHERE user_name = $1 AND device = $2 AND database = $3"},
      {"state_record_rejection",
       "INSERT INTO rejections AS r(user_name, device, database, guid, revision, count, status)"
       " VALUES ($1, $2, $3, $4, $5, 1, $6)"
       " ON CONFLICT(user_name, device, database, guid) DO UPDATE SET"
       "  count = CASE WHEN r.revision = excluded.revision THEN r.count + 1 ELSE 1 END,"
       "  revision = excluded.revision, status = excluded.status"},
      {"state_clear_rejection",
       "DELETE FROM rejections WHERE user_name = $1 AND device = $2 AND database = $3 AND guid = $4"},
      {"state_save_resume",
       "INSERT INTO resume_points(user_name, device, database, session) VALUES ($1, $2, $3, $4)"
       " ON CONFLICT(user_name, device, database) DO UPDATE SET session = excluded.session"},
      {"state_resume", "SELECT session FROM resume_points WHERE user_name = $1 AND device = $2 AND database = $3"},
      {"state_forget_resume", "DELETE FROM resume_points WHERE user_name = $1 AND device = $2 AND database = $3"},
      {"state_hold_deletions",
       "INSERT INTO held_deletions(user_name, device, database, session, reason, guids, held_at, kind)"
       " VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id"},
      {"state_held_deletions",
       "SELECT id, user_name, device, database, session, reason, guids, held_at, kind FROM held_deletions"
       " WHERE ($1 = '' OR user_name = $1) ORDER BY id"},
      {"state_release_held", "DELETE FROM held_deletions WHERE id = $1"},
      {"state_devices", "SELECT user_name, device, updated_at FROM devices WHERE $1 = '' OR user_name = $1"},
      {"state_device_anchors",
       "SELECT user_name, device, database FROM anchors WHERE $1 = '' OR user_name = $1 ORDER BY database COLLATE "
       "\"C\""},
      {"state_device_last_sync",
       "SELECT user_name, device, MAX(finished_at) FROM reports WHERE $1 = '' OR user_name = $1"
       " GROUP BY user_name, device"},
      {"state_forget_device_anchors",
       "WITH gone AS (DELETE FROM anchors WHERE user_name = $1 AND device = $2 RETURNING 1) SELECT COUNT(*) FROM gone"},
      {"state_forget_device_maps", "DELETE FROM maps WHERE user_name = $1 AND device = $2"},
      {"state_forget_device_rejections", "DELETE FROM rejections WHERE user_name = $1 AND device = $2"},
      {"state_forget_device_resume_points", "DELETE FROM resume_points WHERE user_name = $1 AND device = $2"},
      {"state_forget_device_devinf", "DELETE FROM devices WHERE user_name = $1 AND device = $2"},
      {"state_put_secret", "INSERT INTO secrets(name, value) VALUES ($1, $2) ON CONFLICT(name) DO NOTHING"},
      {"state_secret", "SELECT value FROM secrets WHERE name = $1"},
  };
  return list;
}

int64_t system_now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string bytes(const pqxx::field& f) { return pqxx::binarystring(f).str(); }

engine::ConflictRecord conflict_from_row(const pqxx::row& row) {
  engine::ConflictRecord r;
  r.id = row[0].as<int64_t>();
  r.where = engine::DeviceStore{UserId(row[1].c_str()), DeviceId(row[2].c_str()), row[3].c_str()};
  r.guid = Guid(row[4].c_str());
  r.luid = Luid(row[5].c_str());
  r.policy = row[6].c_str();
  r.outcome = row[7].c_str();
  r.server_type = row[8].c_str();
  r.server_data = bytes(row[9]);
  r.client_type = row[10].c_str();
  r.client_data = bytes(row[11]);
  r.created_at = row[12].as<int64_t>();
  r.resolved = row[13].as<bool>();
  return r;
}

std::vector<engine::SyncReport> reports_from(const pqxx::result& rows) {
  std::vector<engine::SyncReport> out;
  for (const auto& row : rows) {
    engine::SyncReport r;
    r.session = SessionKey(row[0].c_str());
    r.where = engine::DeviceStore{UserId(row[1].c_str()), DeviceId(row[2].c_str()), row[3].c_str()};
    r.sync_type = static_cast<protocol::SyncType>(row[4].as<int>());  // as sqlite_state_store.cc
    r.finished_at = row[5].as<int64_t>();
    int* counts[] = {&r.counts.client_adds, &r.counts.client_updates, &r.counts.client_deletes, &r.counts.client_errors,
                     &r.counts.server_adds, &r.counts.server_updates, &r.counts.server_deletes, &r.counts.conflicts};
    for (int i = 0; i < 8; ++i) *counts[i] = row[6 + i].as<int>();
    r.problems = problems_from_json(row[14].c_str());
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace

PgStateStore::PgStateStore(std::shared_ptr<PgDb> db, NowSeconds now_seconds)
    : db_(std::move(db)), now_seconds_(std::move(now_seconds)), session_locks_(db_) {}

Result<std::unique_ptr<PgStateStore>> PgStateStore::open(std::shared_ptr<PgDb> db, NowSeconds now_seconds) {
  if (!db) return Status::invalid_argument("state store: no database");
  if (!now_seconds) now_seconds = system_now_seconds;
  CFX_RETURN_IF_ERROR(db->migrate("state", state_migrations()));
  for (const auto& [name, sql] : statements()) db->prepare(name, sql);
  return std::unique_ptr<PgStateStore>(new PgStateStore(std::move(db), std::move(now_seconds)));
}

// --- sessions ---------------------------------------------------------------

namespace {

class PgSessionHold final : public engine::SyncStateStore::SessionHold {
 public:
  PgSessionHold(PgLocks& locks, std::string key) : locks_(locks), key_(std::move(key)) {}
  ~PgSessionHold() override { locks_.unlock(PgLocks::Space::kSession, key_); }

 private:
  PgLocks& locks_;
  const std::string key_;
};

}  // namespace

Result<std::unique_ptr<engine::SyncStateStore::SessionHold>> PgStateStore::hold_session(const SessionKey& key) {
  CFX_RETURN_IF_ERROR(session_locks_.lock(PgLocks::Space::kSession, key.str(), session_wait_));
  return std::unique_ptr<SessionHold>(std::make_unique<PgSessionHold>(session_locks_, key.str()));
}

Result<std::optional<std::string>> PgStateStore::load_session(const SessionKey& key) {
  return db_->transact("load session", [&](pqxx::work& txn) -> Result<std::optional<std::string>> {
    const pqxx::result rows = txn.exec_prepared("state_load_session", key.str());
    if (rows.empty()) return std::optional<std::string>();
    return std::optional<std::string>(bytes(rows[0][0]));
  });
}

Status PgStateStore::save_session(const SessionKey& key, const std::string& state) {
  return db_->transact("save session", [&](pqxx::work& txn) {
    txn.exec_prepared("state_save_session", key.str(), pqxx::binarystring(state), now_seconds_());
    return Status::ok();
  });
}

Status PgStateStore::delete_session(const SessionKey& key) {
  return db_->transact("delete session", [&](pqxx::work& txn) {
    txn.exec_prepared("state_delete_session", key.str());
    return Status::ok();
  });
}

Result<std::vector<std::string>> PgStateStore::expire_sessions(int64_t max_age_seconds) {
  if (max_age_seconds < 0) return Status::invalid_argument("expire_sessions: negative age");
  const int64_t before = now_seconds_() - max_age_seconds;
  return db_->transact("expire sessions", [&](pqxx::work& txn) -> Result<std::vector<std::string>> {
    std::vector<std::string> states;
    for (const auto& row : txn.exec_prepared("state_expire_sessions", before)) {
      states.push_back(bytes(row[0]));
    }
    return states;
  });
}

Result<int> PgStateStore::expire_auth_nonces(int64_t max_age_seconds) {
  if (max_age_seconds < 0) return Status::invalid_argument("expire_auth_nonces: negative age");
  const int64_t before = now_seconds_() - max_age_seconds;
  return db_->transact("expire nonces", [&](pqxx::work& txn) -> Result<int> {
    return static_cast<int>(txn.exec_prepared("state_expire_nonces", before).affected_rows());
  });
}

// --- anchors ----------------------------------------------------------------

Result<std::optional<engine::SyncAnchors>> PgStateStore::anchors(const engine::DeviceStore& ds) {
  return db_->transact("anchors", [&](pqxx::work& txn) -> Result<std::optional<engine::SyncAnchors>> {
    const pqxx::result rows = txn.exec_prepared("state_anchors", ds.user.str(), ds.device.str(), ds.database);
    if (rows.empty()) return std::optional<engine::SyncAnchors>();
    return std::optional<engine::SyncAnchors>(
        engine::SyncAnchors{rows[0][0].c_str(), Anchor(rows[0][1].c_str()), rows[0][2].c_str()});
  });
}

Result<std::vector<Anchor>> PgStateStore::server_anchors(const UserId& user, const std::string& database) {
  return db_->transact("server anchors", [&](pqxx::work& txn) -> Result<std::vector<Anchor>> {
    std::vector<Anchor> out;
    for (const auto& row : txn.exec_prepared("state_server_anchors", user.str(), database)) {
      out.emplace_back(row[0].c_str());
    }
    return out;
  });
}

Result<std::vector<KnownDevice>> PgStateStore::devices(const UserId& user) {
  return db_->transact("devices", [&](pqxx::work& txn) -> Result<std::vector<KnownDevice>> {
    std::map<std::pair<std::string, std::string>, KnownDevice> found;
    auto known = [&](const pqxx::row& row) -> KnownDevice& {
      KnownDevice& d = found[{row[0].c_str(), row[1].c_str()}];
      d.user = UserId(row[0].c_str());
      d.device = DeviceId(row[1].c_str());
      return d;
    };
    for (const auto& row : txn.exec_prepared("state_devices", user.str())) known(row).devinf_at = row[2].as<int64_t>();
    for (const auto& row : txn.exec_prepared("state_device_anchors", user.str())) {
      known(row).databases.emplace_back(row[2].c_str());
    }
    // Reports outlive a forgotten device: they date the devices listed, they do not list them.
    for (const auto& row : txn.exec_prepared("state_device_last_sync", user.str())) {
      auto it = found.find({row[0].c_str(), row[1].c_str()});
      if (it != found.end()) it->second.last_sync_at = row[2].as<int64_t>();
    }
    std::vector<KnownDevice> out;
    out.reserve(found.size());
    for (auto& [key, device] : found) out.push_back(std::move(device));
    return out;
  });
}

Result<int> PgStateStore::forget_device(const UserId& user, const DeviceId& device) {
  return db_->transact("forget device", [&](pqxx::work& txn) -> Result<int> {
    const int databases = txn.exec_prepared("state_forget_device_anchors", user.str(), device.str())[0][0].as<int>();
    for (const char* statement : {"state_forget_device_maps", "state_forget_device_rejections",
                                  "state_forget_device_resume_points", "state_forget_device_devinf"}) {
      txn.exec_prepared(statement, user.str(), device.str());
    }
    return databases;
  });
}

Status PgStateStore::save_anchors(const engine::DeviceStore& ds, const engine::SyncAnchors& anchors) {
  return db_->transact("save anchors", [&](pqxx::work& txn) {
    txn.exec_prepared("state_save_anchors", ds.user.str(), ds.device.str(), ds.database, anchors.client_next,
                      anchors.server_next.str(), anchors.store_identity);
    return Status::ok();
  });
}

Status PgStateStore::forget_anchors(const engine::DeviceStore& ds) {
  return db_->transact("forget anchors", [&](pqxx::work& txn) {
    txn.exec_prepared("state_forget_anchors", ds.user.str(), ds.device.str(), ds.database);
    return Status::ok();
  });
}

// --- maps -------------------------------------------------------------------

Result<std::vector<engine::MapEntry>> PgStateStore::map_entries(const engine::DeviceStore& ds) {
  return db_->transact("map entries", [&](pqxx::work& txn) -> Result<std::vector<engine::MapEntry>> {
    std::vector<engine::MapEntry> out;
    for (const auto& row : txn.exec_prepared("state_map_entries", ds.user.str(), ds.device.str(), ds.database)) {
      out.push_back(engine::MapEntry{Luid(row[0].c_str()), Guid(row[1].c_str()), Anchor(row[2].c_str())});
    }
    return out;
  });
}

Status PgStateStore::upsert_map(const engine::DeviceStore& ds, const std::vector<engine::MapEntry>& entries) {
  for (const auto& e : entries) {
    if (e.luid.empty() || e.guid.empty()) {
      return Status::invalid_argument("upsert_map: entry with an empty LUID or GUID ('" + e.luid.str() + "' -> '" +
                                      e.guid.str() + "')");
    }
  }
  if (entries.empty()) return Status::ok();
  return db_->transact("upsert map", [&](pqxx::work& txn) {
    for (const auto& e : entries) {
      // A GUID maps to at most one LUID: the row holding it under another LUID goes first.
      txn.exec_prepared("state_map_drop_guid", ds.user.str(), ds.device.str(), ds.database, e.guid.str(), e.luid.str());
      txn.exec_prepared("state_map_put", ds.user.str(), ds.device.str(), ds.database, e.luid.str(), e.guid.str(),
                        e.synced.str());
    }
    return Status::ok();
  });
}

Status PgStateStore::remove_map(const engine::DeviceStore& ds, const std::vector<Luid>& luids) {
  if (luids.empty()) return Status::ok();
  return db_->transact("remove map", [&](pqxx::work& txn) {
    for (const auto& luid : luids) {
      txn.exec_prepared("state_map_remove", ds.user.str(), ds.device.str(), ds.database, luid.str());
    }
    return Status::ok();
  });
}

Status PgStateStore::clear_map(const engine::DeviceStore& ds) {
  return db_->transact("clear map", [&](pqxx::work& txn) {
    txn.exec_prepared("state_map_clear", ds.user.str(), ds.device.str(), ds.database);
    return Status::ok();
  });
}

// --- devices and nonces -----------------------------------------------------

Status PgStateStore::save_device_info(const UserId& user, const DeviceId& device, const std::string& devinf_xml) {
  return db_->transact("save device info", [&](pqxx::work& txn) {
    txn.exec_prepared("state_save_device", user.str(), device.str(), devinf_xml, now_seconds_());
    return Status::ok();
  });
}

Result<std::optional<std::string>> PgStateStore::device_info(const UserId& user, const DeviceId& device) {
  return db_->transact("device info", [&](pqxx::work& txn) -> Result<std::optional<std::string>> {
    const pqxx::result rows = txn.exec_prepared("state_device", user.str(), device.str());
    if (rows.empty()) return std::optional<std::string>();
    return std::optional<std::string>(rows[0][0].c_str());
  });
}

Result<std::string> PgStateStore::auth_nonce(const DeviceId& device) {
  return db_->transact("auth nonce", [&](pqxx::work& txn) -> Result<std::string> {
    const pqxx::result rows = txn.exec_prepared("state_nonce", device.str());
    if (rows.empty()) return std::string();
    return std::string(rows[0][0].c_str());
  });
}

Status PgStateStore::save_auth_nonce(const DeviceId& device, const std::string& nonce_b64) {
  return db_->transact("save auth nonce", [&](pqxx::work& txn) {
    txn.exec_prepared("state_save_nonce", device.str(), nonce_b64, now_seconds_());
    return Status::ok();
  });
}

// --- conflicts ----------------------------------------------------------------

Result<int64_t> PgStateStore::save_conflict(const engine::ConflictRecord& r) {
  const int64_t now = now_seconds_();
  return db_->transact("save conflict", [&](pqxx::work& txn) -> Result<int64_t> {
    const pqxx::result rows =
        txn.exec_prepared("state_save_conflict", r.where.user.str(), r.where.device.str(), r.where.database,
                          r.guid.str(), r.luid.str(), r.policy, r.outcome, r.server_type,
                          pqxx::binarystring(r.server_data), r.client_type, pqxx::binarystring(r.client_data), now);
    return rows[0][0].as<int64_t>();
  });
}

Result<std::vector<engine::ConflictRecord>> PgStateStore::conflicts(const UserId& user, bool include_resolved) {
  return db_->transact("conflicts", [&](pqxx::work& txn) -> Result<std::vector<engine::ConflictRecord>> {
    std::vector<engine::ConflictRecord> out;
    for (const auto& row : txn.exec_prepared("state_conflicts", user.str(), include_resolved)) {
      out.push_back(conflict_from_row(row));
    }
    return out;
  });
}

Result<std::optional<engine::ConflictRecord>> PgStateStore::conflict(int64_t id) {
  return db_->transact("conflict", [&](pqxx::work& txn) -> Result<std::optional<engine::ConflictRecord>> {
    const pqxx::result rows = txn.exec_prepared("state_conflict", id);
    if (rows.empty()) return std::optional<engine::ConflictRecord>();
    return std::optional<engine::ConflictRecord>(conflict_from_row(rows[0]));
  });
}

Status PgStateStore::mark_conflict_resolved(int64_t id) {
  return db_->transact("resolve conflict", [&](pqxx::work& txn) {
    if (txn.exec_prepared("state_resolve_conflict", id).affected_rows() == 0) {
      return Status::not_found("no conflict " + std::to_string(id));
    }
    return Status::ok();
  });
}

// --- reports ----------------------------------------------------------------

Status PgStateStore::save_report(const engine::SyncReport& r) {
  const int64_t now = now_seconds_();
  return db_->transact("save report", [&](pqxx::work& txn) {
    const auto& c = r.counts;
    txn.exec_prepared("state_save_report", r.session.str(), r.where.user.str(), r.where.device.str(), r.where.database,
                      protocol::to_int(r.sync_type), now, c.client_adds, c.client_updates, c.client_deletes,
                      c.client_errors, c.server_adds, c.server_updates, c.server_deletes, c.conflicts,
                      problems_to_json(r.problems));
    return Status::ok();
  });
}

Result<std::vector<engine::SyncReport>> PgStateStore::reports(const UserId& user, int limit) {
  return db_->transact("reports", [&](pqxx::work& txn) -> Result<std::vector<engine::SyncReport>> {
    return reports_from(txn.exec_prepared("state_reports", user.str(), limit));
  });
}

Result<std::vector<engine::SyncReport>> PgStateStore::session_report(const SessionKey& session) {
  return db_->transact("session report", [&](pqxx::work& txn) -> Result<std::vector<engine::SyncReport>> {
    return reports_from(txn.exec_prepared("state_session_report", session.str()));
  });
}

// --- rejected items and resume points -------------------------------------

Result<std::vector<engine::Rejection>> PgStateStore::rejections(const engine::DeviceStore& ds) {
  return db_->transact("rejections", [&](pqxx::work& txn) -> Result<std::vector<engine::Rejection>> {
    std::vector<engine::Rejection> out;
    for (const auto& row : txn.exec_prepared("state_rejections", ds.user.str(), ds.device.str(), ds.database)) {
      out.push_back(
          engine::Rejection{Guid(row[0].c_str()), Anchor(row[1].c_str()), row[2].as<int>(), row[3].as<int>()});
    }
    return out;
  });
}

Status PgStateStore::record_rejection(const engine::DeviceStore& ds, const Guid& guid, const Anchor& revision,
                                      int status) {
  return db_->transact("record rejection", [&](pqxx::work& txn) {
    txn.exec_prepared("state_record_rejection", ds.user.str(), ds.device.str(), ds.database, guid.str(), revision.str(),
                      status);
    return Status::ok();
  });
}

Status PgStateStore::clear_rejections(const engine::DeviceStore& ds, const std::vector<Guid>& guids) {
  if (guids.empty()) return Status::ok();
  return db_->transact("clear rejections", [&](pqxx::work& txn) {
    for (const auto& guid : guids) {
      txn.exec_prepared("state_clear_rejection", ds.user.str(), ds.device.str(), ds.database, guid.str());
    }
    return Status::ok();
  });
}

Status PgStateStore::save_resume_point(const engine::DeviceStore& ds, const SessionKey& session) {
  return db_->transact("save resume point", [&](pqxx::work& txn) {
    txn.exec_prepared("state_save_resume", ds.user.str(), ds.device.str(), ds.database, session.str());
    return Status::ok();
  });
}

Result<std::optional<SessionKey>> PgStateStore::resume_point(const engine::DeviceStore& ds) {
  return db_->transact("resume point", [&](pqxx::work& txn) -> Result<std::optional<SessionKey>> {
    const pqxx::result rows = txn.exec_prepared("state_resume", ds.user.str(), ds.device.str(), ds.database);
    if (rows.empty()) return std::optional<SessionKey>();
    return std::optional<SessionKey>(SessionKey(rows[0][0].c_str()));
  });
}

Status PgStateStore::forget_resume_point(const engine::DeviceStore& ds) {
  return db_->transact("forget resume point", [&](pqxx::work& txn) {
    txn.exec_prepared("state_forget_resume", ds.user.str(), ds.device.str(), ds.database);
    return Status::ok();
  });
}

// --- held deletions ---------------------------------------------------------

Result<int64_t> PgStateStore::hold_deletions(const engine::HeldDeletion& held) {
  nlohmann::json guids = nlohmann::json::array();
  for (const auto& g : held.guids) guids.push_back(g.str());
  return db_->transact("hold deletions", [&](pqxx::work& txn) -> Result<int64_t> {
    const pqxx::result rows =
        txn.exec_prepared("state_hold_deletions", held.where.user.str(), held.where.device.str(), held.where.database,
                          held.session.str(), held.reason, guids.dump(), now_seconds_(), static_cast<int>(held.kind));
    if (rows.empty()) return Status::internal("held deletion insert returned no id");
    return rows[0][0].as<int64_t>();
  });
}

Result<std::vector<engine::HeldDeletion>> PgStateStore::held_deletions(const UserId& user) {
  return db_->transact("held deletions", [&](pqxx::work& txn) -> Result<std::vector<engine::HeldDeletion>> {
    std::vector<engine::HeldDeletion> out;
    for (const auto& row : txn.exec_prepared("state_held_deletions", user.str())) {
      engine::HeldDeletion h;
      h.id = row[0].as<int64_t>();
      h.where = engine::DeviceStore{UserId(row[1].c_str()), DeviceId(row[2].c_str()), row[3].c_str()};
      h.session = SessionKey(row[4].c_str());
      h.reason = row[5].c_str();
      auto guids = nlohmann::json::parse(row[6].c_str(), nullptr, false);
      if (!guids.is_array()) return Status::internal("held deletion " + std::to_string(h.id) + ": broken guid list");
      for (const auto& g : guids) h.guids.emplace_back(g.get<std::string>());
      h.held_at = row[7].as<int64_t>();
      auto kind = engine::held_kind(row[8].as<int64_t>(), h.id);
      if (!kind) return kind.error();
      h.kind = *kind;
      out.push_back(std::move(h));
    }
    return out;
  });
}

Status PgStateStore::release_held(int64_t id) {
  return db_->transact("release held", [&](pqxx::work& txn) {
    if (txn.exec_prepared("state_release_held", id).affected_rows() == 0) {
      return Status::not_found("no held deletion " + std::to_string(id));
    }
    return Status::ok();
  });
}

// --- server secret ----------------------------------------------------------

Result<std::string> PgStateStore::server_secret() {
  // INSERT ... DO NOTHING then SELECT, in one transaction.
  return secret_.get([&](const std::string& fresh) {
    return db_->transact("server secret", [&](pqxx::work& txn) -> Result<std::string> {
      txn.exec_prepared("state_put_secret", ServerSecret::kName, pqxx::binarystring(fresh));
      const pqxx::result rows = txn.exec_prepared("state_secret", ServerSecret::kName);
      if (rows.empty()) return Status::internal("server secret: row vanished inside its transaction");
      return bytes(rows[0][0]);
    });
  });
}

}  // namespace conflux::store
