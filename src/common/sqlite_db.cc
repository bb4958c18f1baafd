#include "common/sqlite_db.h"

#include <sqlite3.h>

#include <filesystem>
#include <set>
#include <utility>

namespace conflux {
namespace {

constexpr int kBusyTimeoutMs = 5000;

// The statement's SQL for error messages, shortened: enough to find the call
// site in a log, never any bound value.
std::string sql_for_log(sqlite3_stmt* stmt) {
  const char* sql = sqlite3_sql(stmt);
  std::string text = sql ? sql : "";
  constexpr size_t kMax = 80;
  if (text.size() > kMax) text = text.substr(0, kMax) + "...";
  return text;
}

}  // namespace

Status sqlite_status(int rc, std::string_view message) {
  std::string msg(message);
  switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE: return Status::ok();
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return Status::unavailable(std::move(msg));
    case SQLITE_CONSTRAINT:
      if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE) {
        return Status::already_exists(std::move(msg));
      }
      return Status::failed_precondition(std::move(msg));
    case SQLITE_FULL: return Status::resource_exhausted(std::move(msg));
    default: return Status::internal(std::move(msg));
  }
}

// ---------------------------------------------------------------------------
// SqliteDb

Result<std::unique_ptr<SqliteDb>> SqliteDb::open(const std::string& path) {
  const bool in_memory = path.empty() || path == ":memory:";
  std::error_code ec;
  const bool existed = in_memory || std::filesystem::exists(path, ec);
  sqlite3* raw = nullptr;
  // NOMUTEX: SQLite's own per-connection mutex is redundant, every use of the
  // handle already runs under mutex_.
  int rc =
      sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    sqlite3_close_v2(raw);
    return sqlite_status(rc, "sqlite open " + path + ": " + msg);
  }
  if (!existed) {
    // Our databases hold password hashes and the token key: a file we create
    // is for its owner only. SQLite gives the -wal and -shm files the same
    // mode. Best effort: a file system without modes keeps its own.
    std::filesystem::permissions(path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
                                 std::filesystem::perm_options::replace, ec);
  }
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, kBusyTimeoutMs);
  std::unique_ptr<SqliteDb> db(new SqliteDb(path, raw));
  // WAL lets readers of other processes (nodes sharing the file) proceed
  // while one writes; synchronous=NORMAL is durable across process crashes
  // and loses at most the last transactions on power loss in WAL mode.
  Status configured = db->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;");
  if (!configured.is_ok()) return configured.with_context("sqlite open " + path);
  return db;
}

SqliteDb::~SqliteDb() { sqlite3_close_v2(db_); }

Status SqliteDb::error(int rc, std::string_view context) const {
  return sqlite_status(rc, "sqlite " + path_ + ": " + std::string(context) + ": " + sqlite3_errmsg(db_));
}

Status SqliteDb::exec(const std::string& sql) {
  auto guard = lock();
  return exec_locked(sql);
}

Status SqliteDb::exec_locked(const std::string& sql) {
  char* errmsg = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &errmsg);
  if (rc == SQLITE_OK) return Status::ok();
  std::string msg = errmsg ? errmsg : sqlite3_errstr(rc);
  sqlite3_free(errmsg);
  return sqlite_status(rc, "sqlite " + path_ + ": exec: " + msg);
}

Result<SqliteStatement> SqliteDb::prepare(std::string_view sql) {
  auto guard = lock();
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) {
    Status s = error(rc, "prepare '" + std::string(sql.substr(0, 80)) + "'");
    sqlite3_finalize(stmt);
    return s;
  }
  if (stmt == nullptr) return Status::internal("sqlite " + path_ + ": prepare: empty statement");
  return SqliteStatement(*this, stmt, std::move(guard));
}

Result<SqliteTransaction> SqliteDb::transaction(TxMode mode) {
  auto guard = lock();
  if (sqlite3_get_autocommit(db_) == 0) {
    return Status::failed_precondition("sqlite " + path_ + ": a transaction is already open on this thread");
  }
  const char* begin = mode == TxMode::kImmediate ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED";
  int rc = sqlite3_exec(db_, begin, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return error(rc, begin);
  return SqliteTransaction(*this, std::move(guard));
}

Status SqliteDb::migrate(const std::string& module, const std::vector<std::string>& steps) {
  auto context = [&](int64_t version) { return "migrate " + module + " to version " + std::to_string(version); };
  CFX_RETURN_IF_ERROR(
      exec("CREATE TABLE IF NOT EXISTS schema_migrations("
           " module TEXT NOT NULL, version INTEGER NOT NULL, PRIMARY KEY(module, version))"));

  std::set<int64_t> applied;
  {
    auto st = prepare("SELECT version FROM schema_migrations WHERE module = ?1");
    if (!st) return st.error();
    st->bind(1, module);
    for (;;) {
      auto row = st->step();
      if (!row) return row.error();
      if (!*row) break;
      applied.insert(st->column_int64(0));
    }
  }
  const int64_t known = static_cast<int64_t>(steps.size());
  if (!applied.empty() && *applied.rbegin() > known) {
    return Status::failed_precondition("sqlite " + path_ + ": schema of '" + module + "' is at version " +
                                       std::to_string(*applied.rbegin()) + ", this build knows " +
                                       std::to_string(known) + " (written by a newer Conflux?)");
  }

  for (int64_t version = 1; version <= known; ++version) {
    if (applied.count(version)) continue;
    auto tx = transaction();
    if (!tx) return tx.error().with_context(context(version));
    {
      // Another process may have applied it since we looked.
      auto check = prepare("SELECT 1 FROM schema_migrations WHERE module = ?1 AND version = ?2");
      if (!check) return check.error().with_context(context(version));
      check->bind(1, module).bind(2, version);
      auto present = check->step();
      if (!present) return present.error().with_context(context(version));
      if (*present) continue;  // tx rolls back: nothing was written
    }
    CFX_RETURN_IF_ERROR(exec(steps[version - 1]).with_context(context(version)));
    auto record = prepare("INSERT INTO schema_migrations(module, version) VALUES (?1, ?2)");
    if (!record) return record.error().with_context(context(version));
    record->bind(1, module).bind(2, version);
    auto inserted = record->run();
    if (!inserted) return inserted.error().with_context(context(version));
    CFX_RETURN_IF_ERROR(tx->commit().with_context(context(version)));
  }
  return Status::ok();
}

// ---------------------------------------------------------------------------
// SqliteStatement

SqliteStatement::SqliteStatement(SqliteDb& db, sqlite3_stmt* stmt, std::unique_lock<std::recursive_mutex> lock)
    : lock_(std::move(lock)), db_(&db), stmt_(stmt) {}

SqliteStatement::SqliteStatement(SqliteStatement&& other) noexcept
    : lock_(std::move(other.lock_)),
      db_(other.db_),
      stmt_(std::exchange(other.stmt_, nullptr)),
      bind_error_(std::move(other.bind_error_)) {}

SqliteStatement::~SqliteStatement() {
  if (stmt_) sqlite3_finalize(stmt_);
}

void SqliteStatement::note_bind(int rc, int index) {
  if (rc != SQLITE_OK && bind_error_.is_ok()) {
    bind_error_ = db_->error(rc, "bind parameter " + std::to_string(index) + " of '" + sql_for_log(stmt_) + "'");
  }
}

SqliteStatement& SqliteStatement::bind_int64(int index, int64_t value) {
  note_bind(sqlite3_bind_int64(stmt_, index, value), index);
  return *this;
}

SqliteStatement& SqliteStatement::bind(int index, std::string_view text) {
  // A null pointer would bind NULL; empty text must stay text.
  const char* data = text.data() ? text.data() : "";
  note_bind(sqlite3_bind_text64(stmt_, index, data, text.size(), SQLITE_TRANSIENT, SQLITE_UTF8), index);
  return *this;
}

SqliteStatement& SqliteStatement::bind(int index, SqlBlob blob) {
  // A null pointer would bind NULL; an empty blob must stay a (zero-length) blob.
  static const char kEmpty = 0;
  const char* data = blob.bytes.data() ? blob.bytes.data() : &kEmpty;
  note_bind(sqlite3_bind_blob64(stmt_, index, data, blob.bytes.size(), SQLITE_TRANSIENT), index);
  return *this;
}

SqliteStatement& SqliteStatement::bind(int index, std::nullptr_t) {
  note_bind(sqlite3_bind_null(stmt_, index), index);
  return *this;
}

Result<bool> SqliteStatement::step() {
  if (!bind_error_.is_ok()) return bind_error_;
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Status s = db_->error(rc, "'" + sql_for_log(stmt_) + "'");
  sqlite3_reset(stmt_);
  return s;
}

Result<int> SqliteStatement::run() {
  for (;;) {
    auto row = step();
    if (!row) return row.error();
    if (!*row) break;
  }
  return sqlite3_changes(db_->db_);
}

void SqliteStatement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_error_ = Status::ok();
}

int64_t SqliteStatement::column_int64(int col) const { return sqlite3_column_int64(stmt_, col); }

std::string SqliteStatement::column_text(int col) const {
  const unsigned char* text = sqlite3_column_text(stmt_, col);
  int len = sqlite3_column_bytes(stmt_, col);
  if (!text) return {};
  return std::string(reinterpret_cast<const char*>(text), static_cast<size_t>(len));
}

std::string SqliteStatement::column_blob(int col) const {
  const void* blob = sqlite3_column_blob(stmt_, col);
  int len = sqlite3_column_bytes(stmt_, col);
  if (!blob) return {};
  return std::string(static_cast<const char*>(blob), static_cast<size_t>(len));
}

bool SqliteStatement::column_is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

// ---------------------------------------------------------------------------
// SqliteTransaction

SqliteTransaction::SqliteTransaction(SqliteDb& db, std::unique_lock<std::recursive_mutex> lock)
    : lock_(std::move(lock)), db_(&db) {}

SqliteTransaction::SqliteTransaction(SqliteTransaction&& other) noexcept
    : lock_(std::move(other.lock_)), db_(other.db_), open_(std::exchange(other.open_, false)) {}

SqliteTransaction::~SqliteTransaction() { rollback(); }

bool SqliteTransaction::active() const { return open_ && sqlite3_get_autocommit(db_->db_) == 0; }

void SqliteTransaction::rollback() {
  if (!open_) return;
  if (sqlite3_get_autocommit(db_->db_) == 0) sqlite3_exec(db_->db_, "ROLLBACK", nullptr, nullptr, nullptr);
  open_ = false;
  if (lock_.owns_lock()) lock_.unlock();
}

Status SqliteTransaction::commit() {
  if (!open_) return Status::failed_precondition("sqlite " + db_->path() + ": commit of a finished transaction");
  if (sqlite3_get_autocommit(db_->db_) != 0) {
    // SQLite ended it itself after an error; what ran since is not atomic.
    open_ = false;
    lock_.unlock();
    return Status::aborted("sqlite " + db_->path() + ": transaction was rolled back by an earlier error");
  }
  int rc = sqlite3_exec(db_->db_, "COMMIT", nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) {
    Status s = db_->error(rc, "COMMIT");
    rollback();
    return s;
  }
  open_ = false;
  lock_.unlock();
  return Status::ok();
}

}  // namespace conflux
