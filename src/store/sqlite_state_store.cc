#include "store/sqlite_state_store.h"

#include <chrono>
#include <map>
#include <utility>

#include <nlohmann/json.hpp>

#include "store/report_problems.h"

namespace conflux::store {
namespace {

// Schema of module "state". Append new steps; never edit a released one.
// Each step is one SQL text written as several literals: not a missing comma.
// NOLINTBEGIN(bugprone-suspicious-missing-comma)
const std::vector<std::string>& state_migrations() {
  static const std::vector<std::string> steps = {
      // 1: initial schema
      "CREATE TABLE sessions("
      "  key TEXT PRIMARY KEY NOT NULL,"
      "  state BLOB NOT NULL,"
      "  updated_at INTEGER NOT NULL);"
      "CREATE INDEX sessions_updated_at ON sessions(updated_at);"
      "CREATE TABLE anchors("
      "  user TEXT NOT NULL, device TEXT NOT NULL, database TEXT NOT NULL,"
      "  client_next TEXT NOT NULL, server_next TEXT NOT NULL,"
      "  PRIMARY KEY(user, device, database));"
      "CREATE TABLE maps("
      "  user TEXT NOT NULL, device TEXT NOT NULL, database TEXT NOT NULL,"
      "  luid TEXT NOT NULL, guid TEXT NOT NULL, synced TEXT NOT NULL,"
      "  PRIMARY KEY(user, device, database, luid),"
      "  UNIQUE(user, device, database, guid));"
      "CREATE TABLE devices("
      "  user TEXT NOT NULL, device TEXT NOT NULL,"
      "  devinf TEXT NOT NULL, updated_at INTEGER NOT NULL,"
      "  PRIMARY KEY(user, device));"
      "CREATE TABLE secrets("
      "  name TEXT PRIMARY KEY NOT NULL,"
      "  value BLOB NOT NULL);",
      // 2: per-device nonces for syncml:auth-md5
      "CREATE TABLE nonces("
      "  device TEXT PRIMARY KEY NOT NULL,"
      "  nonce TEXT NOT NULL,"
      "  updated_at INTEGER NOT NULL);",
      // 3: conflict records (engine::ConflictRecord)
      "CREATE TABLE conflicts("
      "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
      "  user TEXT NOT NULL, device TEXT NOT NULL, database TEXT NOT NULL,"
      "  guid TEXT NOT NULL, luid TEXT NOT NULL, policy TEXT NOT NULL, outcome TEXT NOT NULL,"
      "  server_type TEXT NOT NULL, server_data BLOB NOT NULL,"
      "  client_type TEXT NOT NULL, client_data BLOB NOT NULL,"
      "  created_at INTEGER NOT NULL, resolved INTEGER NOT NULL DEFAULT 0);"
      "CREATE INDEX conflicts_by_user ON conflicts(user, resolved);",
      // 4: post-synchronisation reports (engine::SyncReport)
      "CREATE TABLE reports("
      "  id INTEGER PRIMARY KEY AUTOINCREMENT, session TEXT NOT NULL,"
      "  user TEXT NOT NULL, device TEXT NOT NULL, database TEXT NOT NULL, sync_type INTEGER NOT NULL,"
      "  finished_at INTEGER NOT NULL,"
      "  client_adds INTEGER NOT NULL, client_updates INTEGER NOT NULL, client_deletes INTEGER NOT NULL,"
      "  client_errors INTEGER NOT NULL, server_adds INTEGER NOT NULL, server_updates INTEGER NOT NULL,"
      "  server_deletes INTEGER NOT NULL, conflicts INTEGER NOT NULL);"
      "CREATE INDEX reports_by_session ON reports(session);",
      // 5: items that failed in a session (engine::ItemProblem, JSON), server
      // items devices refused (poison detection), suspended syncs
      "ALTER TABLE reports ADD COLUMN problems TEXT NOT NULL DEFAULT '[]';"
      "CREATE TABLE rejections("
      "  user TEXT NOT NULL, device TEXT NOT NULL, database TEXT NOT NULL,"
      "  guid TEXT NOT NULL, revision TEXT NOT NULL, count INTEGER NOT NULL, status INTEGER NOT NULL,"
      "  PRIMARY KEY(user, device, database, guid));"
      "CREATE TABLE resume_points("
      "  user TEXT NOT NULL, device TEXT NOT NULL, database TEXT NOT NULL,"
      "  session TEXT NOT NULL,"
      "  PRIMARY KEY(user, device, database));",
      // 6: the back end the anchors and maps point into (engine/store_identity.h)
      "ALTER TABLE anchors ADD COLUMN store_identity TEXT NOT NULL DEFAULT '';",
      // 7: deletions held until the user confirms them (engine/deletion_guard.h);
      // guids is a JSON array
      "CREATE TABLE held_deletions("
      "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
      "  user TEXT NOT NULL, device TEXT NOT NULL, database TEXT NOT NULL,"
      "  session TEXT NOT NULL, reason TEXT NOT NULL, guids TEXT NOT NULL, held_at INTEGER NOT NULL);"
      "CREATE INDEX held_deletions_by_user ON held_deletions(user);",
      // 8: which way a held deletion goes (engine::HeldKind)
      "ALTER TABLE held_deletions ADD COLUMN kind INTEGER NOT NULL DEFAULT 0;",
  };
  return steps;
}
// NOLINTEND(bugprone-suspicious-missing-comma)

// Runs `sql` with (user, device, database) bound to ?1..?3 and `extra` bound
// from ?4 on.
template <typename... Extra>
Result<int> run_scoped(SqliteDb& db, std::string_view sql, const engine::DeviceStore& ds, const Extra&... extra) {
  auto st = db.prepare(sql);
  if (!st) return st.error();
  st->bind(1, ds.user.str()).bind(2, ds.device.str()).bind(3, ds.database);
  int index = 4;
  (st->bind(index++, extra), ...);
  return st->run();
}

}  // namespace

int64_t SqliteStateStore::system_now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

SqliteStateStore::SqliteStateStore(std::shared_ptr<SqliteDb> db, NowSeconds now_seconds)
    : db_(std::move(db)), now_seconds_(std::move(now_seconds)) {}

Result<std::unique_ptr<SqliteStateStore>> SqliteStateStore::open(std::shared_ptr<SqliteDb> db, NowSeconds now_seconds) {
  if (!db) return Status::invalid_argument("state store: no database");
  if (!now_seconds) now_seconds = system_now_seconds;
  CFX_RETURN_IF_ERROR(db->migrate("state", state_migrations()));
  return std::unique_ptr<SqliteStateStore>(new SqliteStateStore(std::move(db), std::move(now_seconds)));
}

// --- sessions ---------------------------------------------------------------

Result<std::optional<std::string>> SqliteStateStore::load_session(const SessionKey& key) {
  auto st = db_->prepare("SELECT state FROM sessions WHERE key = ?1");
  if (!st) return st.error();
  st->bind(1, key.str());
  auto row = st->step();
  if (!row) return row.error();
  if (!*row) return std::optional<std::string>();
  return std::optional<std::string>(st->column_blob(0));
}

Status SqliteStateStore::save_session(const SessionKey& key, const std::string& state) {
  auto st = db_->prepare(
      "INSERT INTO sessions(key, state, updated_at) VALUES (?1, ?2, ?3)"
      " ON CONFLICT(key) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at");
  if (!st) return st.error();
  st->bind(1, key.str()).bind(2, SqlBlob{state}).bind(3, now_seconds_());
  return st->run().status();
}

Status SqliteStateStore::delete_session(const SessionKey& key) {
  auto st = db_->prepare("DELETE FROM sessions WHERE key = ?1");
  if (!st) return st.error();
  st->bind(1, key.str());
  return st->run().status();
}

Result<std::vector<std::string>> SqliteStateStore::expire_sessions(int64_t max_age_seconds) {
  if (max_age_seconds < 0) return Status::invalid_argument("expire_sessions: negative age");
  auto st = db_->prepare("DELETE FROM sessions WHERE updated_at < ?1 RETURNING state");
  if (!st) return st.error();
  st->bind(1, now_seconds_() - max_age_seconds);
  std::vector<std::string> states;
  for (;;) {
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) return states;
    states.push_back(st->column_blob(0));
  }
}

Result<int> SqliteStateStore::expire_auth_nonces(int64_t max_age_seconds) {
  if (max_age_seconds < 0) return Status::invalid_argument("expire_auth_nonces: negative age");
  auto st = db_->prepare("DELETE FROM nonces WHERE updated_at < ?1");
  if (!st) return st.error();
  st->bind(1, now_seconds_() - max_age_seconds);
  return st->run();
}

// --- anchors ----------------------------------------------------------------

Result<std::optional<engine::SyncAnchors>> SqliteStateStore::anchors(const engine::DeviceStore& ds) {
  auto st = db_->prepare(
      "SELECT client_next, server_next, store_identity FROM anchors"
      " WHERE user = ?1 AND device = ?2 AND database = ?3");
  if (!st) return st.error();
  st->bind(1, ds.user.str()).bind(2, ds.device.str()).bind(3, ds.database);
  auto row = st->step();
  if (!row) return row.error();
  if (!*row) return std::optional<engine::SyncAnchors>();
  return std::optional<engine::SyncAnchors>(
      engine::SyncAnchors{st->column_text(0), Anchor(st->column_text(1)), st->column_text(2)});
}

Result<std::vector<Anchor>> SqliteStateStore::server_anchors(const UserId& user, const std::string& database) {
  auto st = db_->prepare("SELECT server_next FROM anchors WHERE user = ?1 AND database = ?2");
  if (!st) return st.error();
  st->bind(1, user.str()).bind(2, database);
  std::vector<Anchor> out;
  for (;;) {
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) return out;
    out.emplace_back(st->column_text(0));
  }
}

Result<std::vector<KnownDevice>> SqliteStateStore::devices(const UserId& user) {
  std::map<std::pair<std::string, std::string>, KnownDevice> found;
  // Calls `take` for each row of `sql`, whose ?1 is the user ('' for all).
  auto each_row = [&](std::string_view sql, const std::function<void(SqliteStatement&)>& take) -> Status {
    auto st = db_->prepare(sql);
    if (!st) return st.error();
    st->bind(1, user.str());
    for (;;) {
      auto row = st->step();
      if (!row) return row.error();
      if (!*row) return Status::ok();
      take(*st);
    }
  };
  auto known = [&](SqliteStatement& st) -> KnownDevice& {
    KnownDevice& d = found[{st.column_text(0), st.column_text(1)}];
    d.user = UserId(st.column_text(0));
    d.device = DeviceId(st.column_text(1));
    return d;
  };
  // One snapshot of the tables a device shows up in.
  auto tx = db_->transaction(SqliteDb::TxMode::kDeferred);
  if (!tx) return tx.error();
  CFX_RETURN_IF_ERROR(each_row("SELECT user, device, updated_at FROM devices WHERE ?1 = '' OR user = ?1",
                               [&](SqliteStatement& st) { known(st).devinf_at = st.column_int64(2); }));
  CFX_RETURN_IF_ERROR(
      each_row("SELECT user, device, database FROM anchors WHERE ?1 = '' OR user = ?1 ORDER BY database",
               [&](SqliteStatement& st) { known(st).databases.push_back(st.column_text(2)); }));
  // Reports outlive a forgotten device: they date the devices listed, they do not list them.
  CFX_RETURN_IF_ERROR(
      each_row("SELECT user, device, MAX(finished_at) FROM reports WHERE ?1 = '' OR user = ?1 GROUP BY user, device",
               [&](SqliteStatement& st) {
                 auto it = found.find({st.column_text(0), st.column_text(1)});
                 if (it != found.end()) it->second.last_sync_at = st.column_int64(2);
               }));
  CFX_RETURN_IF_ERROR(tx->commit());
  std::vector<KnownDevice> out;
  out.reserve(found.size());
  for (auto& [key, device] : found) out.push_back(std::move(device));
  return out;
}

Result<int> SqliteStateStore::forget_device(const UserId& user, const DeviceId& device) {
  auto tx = db_->transaction();
  if (!tx) return tx.error();
  int databases = 0;
  {
    auto counted = db_->prepare("SELECT COUNT(*) FROM anchors WHERE user = ?1 AND device = ?2");
    if (!counted) return counted.error();
    counted->bind(1, user.str()).bind(2, device.str());
    auto row = counted->step();
    if (!row) return row.error();
    if (*row) databases = static_cast<int>(counted->column_int64(0));
  }
  for (const char* table : {"anchors", "maps", "rejections", "resume_points", "devices"}) {
    auto st = db_->prepare(std::string("DELETE FROM ") + table + " WHERE user = ?1 AND device = ?2");
    if (!st) return st.error();
    st->bind(1, user.str()).bind(2, device.str());
    CFX_RETURN_IF_ERROR(st->run().status());
  }
  CFX_RETURN_IF_ERROR(tx->commit());
  return databases;
}

Status SqliteStateStore::save_anchors(const engine::DeviceStore& ds, const engine::SyncAnchors& anchors) {
  return run_scoped(*db_,
                    "INSERT INTO anchors(user, device, database, client_next, server_next, store_identity)"
                    " VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(user, device, database) DO UPDATE SET"
                    " client_next = excluded.client_next, server_next = excluded.server_next,"
                    " store_identity = excluded.store_identity",
                    ds, anchors.client_next, anchors.server_next.str(), anchors.store_identity)
      .status();
}

Status SqliteStateStore::forget_anchors(const engine::DeviceStore& ds) {
  return run_scoped(*db_, "DELETE FROM anchors WHERE user = ?1 AND device = ?2 AND database = ?3", ds).status();
}

// --- maps -------------------------------------------------------------------

Result<std::vector<engine::MapEntry>> SqliteStateStore::map_entries(const engine::DeviceStore& ds) {
  auto st = db_->prepare(
      "SELECT luid, guid, synced FROM maps WHERE user = ?1 AND device = ?2 AND database = ?3 ORDER BY luid");
  if (!st) return st.error();
  st->bind(1, ds.user.str()).bind(2, ds.device.str()).bind(3, ds.database);
  std::vector<engine::MapEntry> out;
  for (;;) {
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) break;
    out.push_back(engine::MapEntry{Luid(st->column_text(0)), Guid(st->column_text(1)), Anchor(st->column_text(2))});
  }
  return out;
}

Status SqliteStateStore::upsert_map(const engine::DeviceStore& ds, const std::vector<engine::MapEntry>& entries) {
  for (const auto& e : entries) {
    if (e.luid.empty() || e.guid.empty()) {
      return Status::invalid_argument("upsert_map: entry with an empty LUID or GUID ('" + e.luid.str() + "' -> '" +
                                      e.guid.str() + "')");
    }
  }
  if (entries.empty()) return Status::ok();
  auto tx = db_->transaction();
  if (!tx) return tx.error();
  auto drop =
      db_->prepare("DELETE FROM maps WHERE user = ?1 AND device = ?2 AND database = ?3 AND guid = ?4 AND luid <> ?5");
  if (!drop) return drop.error();
  auto put = db_->prepare(
      "INSERT INTO maps(user, device, database, luid, guid, synced) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
      " ON CONFLICT(user, device, database, luid) DO UPDATE SET guid = excluded.guid, synced = excluded.synced");
  if (!put) return put.error();
  for (const auto& e : entries) {
    // A GUID maps to at most one LUID: the row holding it under another LUID goes first.
    drop->reset();
    drop->bind(1, ds.user.str())
        .bind(2, ds.device.str())
        .bind(3, ds.database)
        .bind(4, e.guid.str())
        .bind(5, e.luid.str());
    CFX_RETURN_IF_ERROR(drop->run().status());
    put->reset();
    put->bind(1, ds.user.str()).bind(2, ds.device.str()).bind(3, ds.database);
    put->bind(4, e.luid.str()).bind(5, e.guid.str()).bind(6, e.synced.str());
    CFX_RETURN_IF_ERROR(put->run().status());
  }
  return tx->commit();
}

Status SqliteStateStore::remove_map(const engine::DeviceStore& ds, const std::vector<Luid>& luids) {
  if (luids.empty()) return Status::ok();
  auto tx = db_->transaction();
  if (!tx) return tx.error();
  auto st = db_->prepare("DELETE FROM maps WHERE user = ?1 AND device = ?2 AND database = ?3 AND luid = ?4");
  if (!st) return st.error();
  for (const auto& luid : luids) {
    st->reset();
    st->bind(1, ds.user.str()).bind(2, ds.device.str()).bind(3, ds.database).bind(4, luid.str());
    CFX_RETURN_IF_ERROR(st->run().status());
  }
  return tx->commit();
}

Status SqliteStateStore::clear_map(const engine::DeviceStore& ds) {
  return run_scoped(*db_, "DELETE FROM maps WHERE user = ?1 AND device = ?2 AND database = ?3", ds).status();
}

// --- devices ----------------------------------------------------------------

Status SqliteStateStore::save_device_info(const UserId& user, const DeviceId& device, const std::string& devinf_xml) {
  auto st = db_->prepare(
      "INSERT INTO devices(user, device, devinf, updated_at) VALUES (?1, ?2, ?3, ?4)"
      " ON CONFLICT(user, device) DO UPDATE SET devinf = excluded.devinf, updated_at = excluded.updated_at");
  if (!st) return st.error();
  st->bind(1, user.str()).bind(2, device.str()).bind(3, devinf_xml).bind(4, now_seconds_());
  return st->run().status();
}

Result<std::optional<std::string>> SqliteStateStore::device_info(const UserId& user, const DeviceId& device) {
  auto st = db_->prepare("SELECT devinf FROM devices WHERE user = ?1 AND device = ?2");
  if (!st) return st.error();
  st->bind(1, user.str()).bind(2, device.str());
  auto row = st->step();
  if (!row) return row.error();
  if (!*row) return std::optional<std::string>();
  return std::optional<std::string>(st->column_text(0));
}

Result<std::string> SqliteStateStore::auth_nonce(const DeviceId& device) {
  auto st = db_->prepare("SELECT nonce FROM nonces WHERE device = ?1");
  if (!st) return st.error();
  st->bind(1, device.str());
  auto row = st->step();
  if (!row) return row.error();
  if (!*row) return std::string();
  return st->column_text(0);
}

// --- conflicts ----------------------------------------------------------------

namespace {

constexpr const char* kConflictColumns =
    "id, user, device, database, guid, luid, policy, outcome, server_type, server_data, client_type, client_data,"
    " created_at, resolved";

engine::ConflictRecord conflict_from_row(const SqliteStatement& st) {
  engine::ConflictRecord r;
  r.id = st.column_int64(0);
  r.where = engine::DeviceStore{UserId(st.column_text(1)), DeviceId(st.column_text(2)), st.column_text(3)};
  r.guid = Guid(st.column_text(4));
  r.luid = Luid(st.column_text(5));
  r.policy = st.column_text(6);
  r.outcome = st.column_text(7);
  r.server_type = st.column_text(8);
  r.server_data = st.column_blob(9);
  r.client_type = st.column_text(10);
  r.client_data = st.column_blob(11);
  r.created_at = st.column_int64(12);
  r.resolved = st.column_int64(13) != 0;
  return r;
}

}  // namespace

Result<int64_t> SqliteStateStore::save_conflict(const engine::ConflictRecord& r) {
  auto st = db_->prepare(
      "INSERT INTO conflicts(user, device, database, guid, luid, policy, outcome, server_type, server_data,"
      " client_type, client_data, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
      " RETURNING id");
  if (!st) return st.error();
  st->bind(1, r.where.user.str()).bind(2, r.where.device.str()).bind(3, r.where.database);
  st->bind(4, r.guid.str()).bind(5, r.luid.str()).bind(6, r.policy).bind(7, r.outcome);
  st->bind(8, r.server_type).bind(9, SqlBlob{r.server_data}).bind(10, r.client_type);
  st->bind(11, SqlBlob{r.client_data}).bind(12, now_seconds_());
  auto row = st->step();
  if (!row) return row.error();
  if (!*row) return Status::internal("conflict insert returned no id");
  return st->column_int64(0);
}

Result<std::vector<engine::ConflictRecord>> SqliteStateStore::conflicts(const UserId& user, bool include_resolved) {
  std::string sql = std::string("SELECT ") + kConflictColumns + " FROM conflicts WHERE (?1 = '' OR user = ?1)";
  if (!include_resolved) sql += " AND resolved = 0";
  sql += " ORDER BY id DESC";
  auto st = db_->prepare(sql);
  if (!st) return st.error();
  st->bind(1, user.str());
  std::vector<engine::ConflictRecord> out;
  for (;;) {
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) break;
    out.push_back(conflict_from_row(*st));
  }
  return out;
}

Result<std::optional<engine::ConflictRecord>> SqliteStateStore::conflict(int64_t id) {
  auto st = db_->prepare(std::string("SELECT ") + kConflictColumns + " FROM conflicts WHERE id = ?1");
  if (!st) return st.error();
  st->bind(1, id);
  auto row = st->step();
  if (!row) return row.error();
  if (!*row) return std::optional<engine::ConflictRecord>();
  return std::optional<engine::ConflictRecord>(conflict_from_row(*st));
}

Status SqliteStateStore::mark_conflict_resolved(int64_t id) {
  auto st = db_->prepare("UPDATE conflicts SET resolved = 1 WHERE id = ?1");
  if (!st) return st.error();
  st->bind(1, id);
  auto changed = st->run();
  if (!changed) return changed.error();
  if (*changed == 0) return Status::not_found("no conflict " + std::to_string(id));
  return Status::ok();
}

// --- reports ----------------------------------------------------------------

namespace {

constexpr const char* kReportColumns =
    "session, user, device, database, sync_type, finished_at, client_adds, client_updates, client_deletes,"
    " client_errors, server_adds, server_updates, server_deletes, conflicts, problems";

engine::SyncReport report_from_row(const SqliteStatement& st) {
  engine::SyncReport r;
  r.session = SessionKey(st.column_text(0));
  r.where = engine::DeviceStore{UserId(st.column_text(1)), DeviceId(st.column_text(2)), st.column_text(3)};
  // Written from a SyncType; kept as read, so a number this build does not know prints as "other".
  r.sync_type = static_cast<protocol::SyncType>(st.column_int64(4));
  r.finished_at = st.column_int64(5);
  int* counts[] = {&r.counts.client_adds, &r.counts.client_updates, &r.counts.client_deletes, &r.counts.client_errors,
                   &r.counts.server_adds, &r.counts.server_updates, &r.counts.server_deletes, &r.counts.conflicts};
  for (int i = 0; i < 8; ++i) *counts[i] = static_cast<int>(st.column_int64(6 + i));
  r.problems = problems_from_json(st.column_text(14));
  return r;
}

Result<std::vector<engine::SyncReport>> collect_reports(Result<SqliteStatement>& st) {
  std::vector<engine::SyncReport> out;
  for (;;) {
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) break;
    out.push_back(report_from_row(*st));
  }
  return out;
}

}  // namespace

Status SqliteStateStore::save_report(const engine::SyncReport& r) {
  auto st = db_->prepare(std::string("INSERT INTO reports(") + kReportColumns +
                         ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)");
  if (!st) return st.error();
  st->bind(1, r.session.str()).bind(2, r.where.user.str()).bind(3, r.where.device.str()).bind(4, r.where.database);
  st->bind(5, protocol::to_int(r.sync_type)).bind(6, now_seconds_());
  const int counts[] = {r.counts.client_adds, r.counts.client_updates, r.counts.client_deletes, r.counts.client_errors,
                        r.counts.server_adds, r.counts.server_updates, r.counts.server_deletes, r.counts.conflicts};
  for (int i = 0; i < 8; ++i) st->bind(7 + i, counts[i]);
  st->bind(15, problems_to_json(r.problems));
  return st->run().status();
}

Result<std::vector<engine::SyncReport>> SqliteStateStore::reports(const UserId& user, int limit) {
  auto st = db_->prepare(std::string("SELECT ") + kReportColumns +
                         " FROM reports WHERE (?1 = '' OR user = ?1) ORDER BY id DESC LIMIT ?2");
  if (!st) return st.error();
  st->bind(1, user.str()).bind(2, limit);
  return collect_reports(st);
}

Result<std::vector<engine::SyncReport>> SqliteStateStore::session_report(const SessionKey& session) {
  auto st = db_->prepare(std::string("SELECT ") + kReportColumns + " FROM reports WHERE session = ?1 ORDER BY id");
  if (!st) return st.error();
  st->bind(1, session.str());
  return collect_reports(st);
}

// --- rejected items and resume points -------------------------------------

Result<std::vector<engine::Rejection>> SqliteStateStore::rejections(const engine::DeviceStore& ds) {
  auto st = db_->prepare(
      "SELECT guid, revision, count, status FROM rejections WHERE user = ?1 AND device = ?2 AND database = ?3");
  if (!st) return st.error();
  st->bind(1, ds.user.str()).bind(2, ds.device.str()).bind(3, ds.database);
  std::vector<engine::Rejection> out;
  for (;;) {
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) break;
    out.push_back(engine::Rejection{Guid(st->column_text(0)), Anchor(st->column_text(1)),
                                    static_cast<int>(st->column_int64(2)), static_cast<int>(st->column_int64(3))});
  }
  return out;
}

Status SqliteStateStore::record_rejection(const engine::DeviceStore& ds, const Guid& guid, const Anchor& revision,
                                          int status) {
  return run_scoped(*db_,
                    "INSERT INTO rejections(user, device, database, guid, revision, count, status)"
                    " VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6)"
                    " ON CONFLICT(user, device, database, guid) DO UPDATE SET"
                    "  count = CASE WHEN revision = excluded.revision THEN count + 1 ELSE 1 END,"
                    "  revision = excluded.revision, status = excluded.status",
                    ds, guid.str(), revision.str(), status)
      .status();
}

Status SqliteStateStore::clear_rejections(const engine::DeviceStore& ds, const std::vector<Guid>& guids) {
  if (guids.empty()) return Status::ok();
  auto tx = db_->transaction();
  if (!tx) return tx.error();
  auto st = db_->prepare("DELETE FROM rejections WHERE user = ?1 AND device = ?2 AND database = ?3 AND guid = ?4");
  if (!st) return st.error();
  for (const auto& guid : guids) {
    st->reset();
    st->bind(1, ds.user.str()).bind(2, ds.device.str()).bind(3, ds.database).bind(4, guid.str());
    CFX_RETURN_IF_ERROR(st->run().status());
  }
  return tx->commit();
}

Status SqliteStateStore::save_resume_point(const engine::DeviceStore& ds, const SessionKey& session) {
  return run_scoped(*db_,
                    "INSERT INTO resume_points(user, device, database, session) VALUES (?1, ?2, ?3, ?4)"
                    " ON CONFLICT(user, device, database) DO UPDATE SET session = excluded.session",
                    ds, session.str())
      .status();
}

Result<std::optional<SessionKey>> SqliteStateStore::resume_point(const engine::DeviceStore& ds) {
  auto st = db_->prepare("SELECT session FROM resume_points WHERE user = ?1 AND device = ?2 AND database = ?3");
  if (!st) return st.error();
  st->bind(1, ds.user.str()).bind(2, ds.device.str()).bind(3, ds.database);
  auto row = st->step();
  if (!row) return row.error();
  if (!*row) return std::optional<SessionKey>();
  return std::optional<SessionKey>(SessionKey(st->column_text(0)));
}

Status SqliteStateStore::forget_resume_point(const engine::DeviceStore& ds) {
  return run_scoped(*db_, "DELETE FROM resume_points WHERE user = ?1 AND device = ?2 AND database = ?3", ds).status();
}

Status SqliteStateStore::save_auth_nonce(const DeviceId& device, const std::string& nonce_b64) {
  auto st = db_->prepare(
      "INSERT INTO nonces(device, nonce, updated_at) VALUES (?1, ?2, ?3)"
      " ON CONFLICT(device) DO UPDATE SET nonce = excluded.nonce, updated_at = excluded.updated_at");
  if (!st) return st.error();
  st->bind(1, device.str()).bind(2, nonce_b64).bind(3, now_seconds_());
  return st->run().status();
}

// --- server secret ----------------------------------------------------------

Result<std::string> SqliteStateStore::server_secret() {
  // INSERT OR IGNORE then SELECT, in one transaction.
  return secret_.get([&](const std::string& fresh) -> Result<std::string> {
    auto tx = db_->transaction();
    if (!tx) return tx.error().with_context("server secret");
    auto put = db_->prepare("INSERT OR IGNORE INTO secrets(name, value) VALUES (?1, ?2)");
    if (!put) return put.error().with_context("server secret");
    put->bind(1, ServerSecret::kName).bind(2, SqlBlob{fresh});
    if (auto written = put->run(); !written) return written.error().with_context("server secret");
    auto get = db_->prepare("SELECT value FROM secrets WHERE name = ?1");
    if (!get) return get.error().with_context("server secret");
    get->bind(1, ServerSecret::kName);
    auto row = get->step();
    if (!row) return row.error().with_context("server secret");
    if (!*row) return Status::internal("server secret: row vanished inside its transaction");
    std::string stored = get->column_blob(0);
    CFX_RETURN_IF_ERROR(tx->commit().with_context("server secret"));
    return stored;
  });
}

// --- held deletions -----------------------------------------------------------

Result<int64_t> SqliteStateStore::hold_deletions(const engine::HeldDeletion& held) {
  nlohmann::json guids = nlohmann::json::array();
  for (const auto& g : held.guids) guids.push_back(g.str());
  auto st = db_->prepare(
      "INSERT INTO held_deletions(user, device, database, session, reason, guids, held_at, kind)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id");
  if (!st) return st.error();
  st->bind(1, held.where.user.str()).bind(2, held.where.device.str()).bind(3, held.where.database);
  st->bind(4, held.session.str()).bind(5, held.reason).bind(6, guids.dump()).bind(7, now_seconds_());
  st->bind(8, static_cast<int>(held.kind));
  auto row = st->step();
  if (!row) return row.error();
  if (!*row) return Status::internal("held deletion insert returned no id");
  return st->column_int64(0);
}

Result<std::vector<engine::HeldDeletion>> SqliteStateStore::held_deletions(const UserId& user) {
  auto st = db_->prepare(
      "SELECT id, user, device, database, session, reason, guids, held_at, kind FROM held_deletions"
      " WHERE ?1 = '' OR user = ?1 ORDER BY id");
  if (!st) return st.error();
  st->bind(1, user.str());
  std::vector<engine::HeldDeletion> out;
  for (;;) {
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) return out;
    engine::HeldDeletion h;
    h.id = st->column_int64(0);
    h.where = engine::DeviceStore{UserId(st->column_text(1)), DeviceId(st->column_text(2)), st->column_text(3)};
    h.session = SessionKey(st->column_text(4));
    h.reason = st->column_text(5);
    auto guids = nlohmann::json::parse(st->column_text(6), nullptr, false);
    if (!guids.is_array()) return Status::internal("held deletion " + std::to_string(h.id) + ": broken guid list");
    for (const auto& g : guids) h.guids.emplace_back(g.get<std::string>());
    h.held_at = st->column_int64(7);
    auto kind = engine::held_kind(st->column_int64(8), h.id);
    if (!kind) return kind.error();
    h.kind = *kind;
    out.push_back(std::move(h));
  }
}

Status SqliteStateStore::release_held(int64_t id) {
  auto st = db_->prepare("DELETE FROM held_deletions WHERE id = ?1");
  if (!st) return st.error();
  st->bind(1, id);
  auto n = st->run();
  if (!n) return n.error();
  if (*n == 0) return Status::not_found("no held deletion " + std::to_string(id));
  return Status::ok();
}

}  // namespace conflux::store
