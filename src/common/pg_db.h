// PgDb: the small wrapper every PostgreSQL user in Conflux shares (state
// store, user store): a bounded connection pool, prepared statements declared
// on every connection, one transaction per call with retries, numbered
// migrations. libpqxx throws; nothing leaves this wrapper as an exception.
// Errors become Status values:
//   connection refused / lost before commit  -> kUnavailable (retry later)
//   lost during COMMIT (outcome unknown)     -> kUnavailable, message says so
//   serialization failure, deadlock          -> retried, then kAborted
//   statement_timeout or lock_timeout hit    -> kUnavailable, message says so
//   unique violation                         -> kAlreadyExists
//   insufficient privilege                   -> kPermissionDenied
//   anything else                            -> kInternal
//
// Call order: open() → prepare() every statement the store uses → transact()
// from any thread. Statements are declared by name; a connection made later
// (after the server came back) declares them before its first use.
//
// Threading: every method may be called from any thread. Each transact() holds
// one pooled connection for the duration of its work; at most pool_size
// connections exist, further callers wait for one to come back.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <pqxx/pqxx>

#include "common/status.h"

namespace conflux {

class PgDb {
 public:
  struct Options {
    // Connections kept per process; MobiLink found about five DB workers
    // optimal (DAV-PG-REFERENCE §B2), more only add lock contention.
    size_t pool_size = 4;
    // Attempts of one transaction that hits a serialization failure or a
    // deadlock, or a connection found broken before its work started.
    int max_attempts = 5;
    // Longest a statement may run, waiting for a lock included, before
    // PostgreSQL cancels it (statement_timeout): a table another session
    // holds locked costs a worker this long, not for ever. 0: no limit.
    std::chrono::milliseconds statement_timeout{30'000};
  };

  // A statement cancelled by statement_timeout or lock_timeout.
  static bool is_statement_timeout(const pqxx::sql_error& error);

  // Checks `uri` (a libpq connection string or postgresql:// URI) by opening
  // one connection. kInvalidArgument for a malformed string, kUnavailable
  // when the server cannot be reached, kUnauthenticated when it refuses the
  // login. A connect_timeout of 5 s is added unless the URI sets one.
  static Result<std::shared_ptr<PgDb>> open(const std::string& uri, Options options);
  static Result<std::shared_ptr<PgDb>> open(const std::string& uri) { return open(uri, Options{}); }

  PgDb(const PgDb&) = delete;
  PgDb& operator=(const PgDb&) = delete;
  ~PgDb();

  // The URI without its password, for messages.
  const std::string& display_uri() const { return display_uri_; }

  // Declares statement `name` (placeholders $1, $2 ...) on every connection,
  // present and future. Call before the first transact() that uses it.
  void prepare(const std::string& name, const std::string& sql);

  // Runs `work(txn)` in one transaction (READ COMMITTED) and commits it
  // when work returns OK. `work` returns Status or Result<T>; an error from
  // it rolls back and is returned as is. `what` names the operation in
  // error messages. work may run more than once (retries), so it must not
  // have effects outside the transaction.
  template <typename Work>
  auto transact(std::string_view what, Work&& work) -> std::invoke_result_t<Work&, pqxx::work&>;

  // Brings `module`'s tables to the last of `steps` (step i is version
  // i + 1) in one transaction, serialised against other nodes by an advisory
  // lock. kFailedPrecondition when the database is at a newer version than
  // this build knows.
  Status migrate(const std::string& module, const std::vector<std::string>& steps);

  // A new connection outside the pool, for state that lives as long as a
  // connection does (session-level advisory locks, common/pg_locks.h).
  // kUnavailable / kUnauthenticated as open().
  Result<std::unique_ptr<pqxx::connection>> connect_outside_pool() const;

 private:
  struct Conn {
    std::unique_ptr<pqxx::connection> conn;
    size_t declared = 0;  // statements_[0, declared) are prepared on conn
  };

  PgDb(std::string uri, std::string display_uri, Options options);

  // A connection from the pool (made when none is idle and the pool has room),
  // with every statement declared. kUnavailable when none can be made.
  Result<Conn> acquire();
  // Back to the pool; a broken connection is dropped instead.
  void release(Conn&& conn, bool broken);
  // What a failed connection attempt tells the caller.
  Status connect_error(const std::exception& e) const;
  Status status_of(std::string_view what, const std::exception_ptr& error) const;
  static bool is_retryable(const std::exception_ptr& error);
  static bool is_broken_connection(const std::exception_ptr& error);

  const std::string uri_;
  const std::string display_uri_;
  const Options options_;

  std::mutex mutex_;
  std::condition_variable returned_;
  std::vector<Conn> idle_;                                       // guarded by mutex_
  size_t open_count_ = 0;                                        // guarded by mutex_
  std::vector<std::pair<std::string, std::string>> statements_;  // guarded by mutex_; name, sql
};

template <typename Work>
auto PgDb::transact(std::string_view what, Work&& work) -> std::invoke_result_t<Work&, pqxx::work&> {
  using Out = std::invoke_result_t<Work&, pqxx::work&>;
  Status last = Status::internal(std::string(what) + ": no attempt made");
  for (int attempt = 1; attempt <= options_.max_attempts; ++attempt) {
    auto conn = acquire();
    if (!conn) return Out(conn.error().with_context(std::string(what)));
    std::exception_ptr error;
    bool committing = false;
    std::optional<Out> out;
    try {
      pqxx::work txn(*conn->conn);
      out.emplace(work(txn));
      bool ok;
      if constexpr (std::is_same_v<Out, Status>) {
        ok = out->is_ok();
      } else {
        ok = out->has_value();
      }
      if (ok) {
        committing = true;
        txn.commit();
      }
    } catch (...) {  // txn's destructor rolled back
      error = std::current_exception();
    }
    if (!error) {
      release(std::move(*conn), /*broken=*/false);
      return std::move(*out);  // an error from work was rolled back
    }
    const bool broken = is_broken_connection(error);
    release(std::move(*conn), broken);
    last = status_of(what, error);
    // A connection lost during COMMIT may or may not have committed: telling
    // the caller "unavailable" is honest, repeating the work is not.
    if (committing && broken) return Out(last);
    if (!is_retryable(error) && !broken) return Out(last);
  }
  return Out(last);
}

}  // namespace conflux
