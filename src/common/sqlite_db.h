// SqliteDb: the small RAII wrapper every SQLite user in Conflux shares (state
// store, user store, SQLite adapter). One connection per database file, WAL,
// statements, transactions, numbered migrations. Nothing here throws; SQLite
// errors become Status values whose message carries sqlite3_errmsg:
//   SQLITE_BUSY, SQLITE_LOCKED          -> kUnavailable (retry later)
//   SQLITE_CONSTRAINT (PRIMARY KEY, UNIQUE) -> kAlreadyExists
//   SQLITE_CONSTRAINT (any other)       -> kFailedPrecondition
//   SQLITE_FULL                         -> kResourceExhausted
//   anything else                       -> kInternal
//
// Threading: one SqliteDb is one connection and may be shared by threads. The
// wrapper serialises every use of the connection with one recursive mutex,
// which is held by
//   - a Statement, from prepare() until it is destroyed, and
//   - a Transaction, from BEGIN until commit() or its destructor.
// So a thread's statements and transaction never interleave with another
// thread's, and a thread that already holds the lock (inside a Transaction)
// prepares further statements without deadlocking on itself. Consequences:
//   - keep Statements short-lived (prepare per call; never cache one in a
//     member), or other threads wait for as long as one lives;
//   - Statements and Transactions stay on the thread that made them (they may
//     be moved, but not handed to another thread);
//   - neither may outlive the SqliteDb.
// Other processes (nodes sharing the file) are kept apart by SQLite's own
// locking; busy_timeout is 5 s, after which a call fails with kUnavailable.
//
// Typical use:
//   auto tx = db.transaction();
//   if (!tx) return tx.error();
//   auto st = db.prepare("UPDATE t SET v = ?1 WHERE k = ?2");
//   if (!st) return st.error();
//   st->bind(1, value).bind(2, key);
//   CFX_RETURN_IF_ERROR(st->run().status());
//   return tx->commit();
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace conflux {

// Marks bytes to be bound as a BLOB rather than TEXT.
struct SqlBlob {
  std::string_view bytes;
};

class SqliteDb;

// A prepared statement. Holds the connection's lock while it lives.
class SqliteStatement {
 public:
  SqliteStatement(SqliteStatement&& other) noexcept;
  SqliteStatement& operator=(SqliteStatement&&) = delete;
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;
  ~SqliteStatement();

  // Binds parameter `index` (1-based, as in SQLite). A failed bind (index out
  // of range, out of memory) is remembered and returned by the next step() or
  // run(), so a chain of binds needs no check of its own. Text and blobs are
  // copied.
  template <std::integral Int>  // any integer type (bool too), stored as int64
  SqliteStatement& bind(int index, Int value) {
    return bind_int64(index, static_cast<int64_t>(value));
  }
  SqliteStatement& bind(int index, std::string_view text);
  SqliteStatement& bind(int index, const char* text) { return bind(index, std::string_view(text ? text : "")); }
  SqliteStatement& bind(int index, const std::string& text) { return bind(index, std::string_view(text)); }
  SqliteStatement& bind(int index, SqlBlob blob);
  SqliteStatement& bind(int index, std::nullptr_t);

  // true: a row is available through the column getters; false: done.
  Result<bool> step();
  // Steps to the end, ignoring rows; returns sqlite3_changes() (rows written
  // by an INSERT/UPDATE/DELETE).
  Result<int> run();
  // Makes the statement runnable again and clears every binding.
  void reset();

  // Column getters for the current row (0-based). NULL reads as 0 / "".
  int64_t column_int64(int col) const;
  std::string column_text(int col) const;
  std::string column_blob(int col) const;
  bool column_is_null(int col) const;

 private:
  friend class SqliteDb;
  SqliteStatement(SqliteDb& db, sqlite3_stmt* stmt, std::unique_lock<std::recursive_mutex> lock);
  SqliteStatement& bind_int64(int index, int64_t value);
  void note_bind(int rc, int index);

  std::unique_lock<std::recursive_mutex> lock_;  // first: released after finalize
  SqliteDb* db_;
  sqlite3_stmt* stmt_;
  Status bind_error_;
};

// BEGIN … COMMIT on the shared connection, holding its lock throughout.
// commit() is explicit; a Transaction destroyed without a successful commit
// rolls back. Transactions do not nest: opening one on a thread that already
// has one open fails with kFailedPrecondition.
class SqliteTransaction {
 public:
  SqliteTransaction(SqliteTransaction&& other) noexcept;
  SqliteTransaction& operator=(SqliteTransaction&&) = delete;
  SqliteTransaction(const SqliteTransaction&) = delete;
  SqliteTransaction& operator=(const SqliteTransaction&) = delete;
  ~SqliteTransaction();

  // COMMIT, then releases the lock. On failure the transaction is rolled back
  // and the lock released as well; calling commit() twice is kFailedPrecondition.
  Status commit();
  // ROLLBACK now rather than at destruction.
  void rollback();
  // false once committed or rolled back, including by SQLite itself (some
  // errors — SQLITE_FULL, SQLITE_IOERR, SQLITE_BUSY in a statement — end the
  // transaction on their own; the remaining statements then run outside it).
  bool active() const;

 private:
  friend class SqliteDb;
  SqliteTransaction(SqliteDb& db, std::unique_lock<std::recursive_mutex> lock);

  std::unique_lock<std::recursive_mutex> lock_;
  SqliteDb* db_;
  bool open_ = true;
};

class SqliteDb {
 public:
  using Statement = SqliteStatement;
  using Transaction = SqliteTransaction;

  enum class TxMode {
    kImmediate,  // BEGIN IMMEDIATE: takes the write lock now (for writers)
    kDeferred,   // BEGIN DEFERRED: a consistent snapshot for a group of reads
  };

  // Opens (creating if missing) the database at `path`; the parent directory
  // must exist. A file it creates gets mode 0600 (it may hold password hashes
  // and keys), whatever the umask. Sets journal_mode=WAL, synchronous=NORMAL, foreign_keys=ON and
  // a 5000 ms busy timeout. ":memory:" works (without WAL). kInternal or
  // kUnavailable when the file cannot be opened.
  static Result<std::unique_ptr<SqliteDb>> open(const std::string& path);

  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;
  // Every Statement and Transaction must be gone by now.
  ~SqliteDb();

  const std::string& path() const { return path_; }

  // Runs one or more ';'-separated statements that return no rows of interest.
  Status exec(const std::string& sql);

  // Prepares one statement; the result holds the lock until destroyed.
  Result<SqliteStatement> prepare(std::string_view sql);

  Result<SqliteTransaction> transaction(TxMode mode = TxMode::kImmediate);

  // Brings `module`'s schema up to date: step i (1-based) of `steps` is
  // applied, in its own transaction, when schema_migrations holds no row
  // (module, i). Steps already applied are skipped, so reopening is a no-op;
  // a second process racing on the same file is serialised by BEGIN
  // IMMEDIATE. kFailedPrecondition when the file was written by a newer build
  // (holds a version above steps.size()).
  Status migrate(const std::string& module, const std::vector<std::string>& steps);

 private:
  friend class SqliteStatement;
  friend class SqliteTransaction;
  SqliteDb(std::string path, sqlite3* db) : path_(std::move(path)), db_(db) {}

  // The Status for SQLite result `rc` on this connection, prefixed by `context`.
  Status error(int rc, std::string_view context) const;
  Status exec_locked(const std::string& sql);
  std::unique_lock<std::recursive_mutex> lock() { return std::unique_lock(mutex_); }

  const std::string path_;
  sqlite3* const db_;
  std::recursive_mutex mutex_;  // guards every use of db_ (see the header comment)
};

// The Status for SQLite result code `rc` (primary or extended) with `message`.
Status sqlite_status(int rc, std::string_view message);

}  // namespace conflux
