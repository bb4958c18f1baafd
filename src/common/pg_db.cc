#include "common/pg_db.h"

#include <libpq-fe.h>

#include <regex>

namespace conflux {
namespace {

bool is_uri(const std::string& uri) { return uri.rfind("postgresql://", 0) == 0 || uri.rfind("postgres://", 0) == 0; }

// Adds `key=value` unless the connection string sets `key` already.
std::string with_default(const std::string& uri, const std::string& key, const std::string& value) {
  if (uri.find(key + "=") != std::string::npos) return uri;
  if (!is_uri(uri)) return uri + (uri.empty() ? "" : " ") + key + "=" + value;
  return uri + (uri.find('?') == std::string::npos ? "?" : "&") + key + "=" + value;
}

std::string without_password(const std::string& uri) {
  static const std::regex userinfo_password(R"(^(postgres(ql)?://[^:/@?]*):[^@/?]*@)");
  static const std::regex password_param(R"((^|[?& ])password=[^& ]*)");
  std::string out = std::regex_replace(uri, userinfo_password, "$1:***@");
  return std::regex_replace(out, password_param, "$1password=***");
}

// libpq's own parser, so a malformed string is told apart from a server
// that cannot be reached.
Status check_syntax(const std::string& uri) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(uri.c_str(), &error);
  if (options == nullptr) {
    std::string message = error != nullptr ? error : "out of memory";
    PQfreemem(error);
    while (!message.empty() && message.back() == '\n') message.pop_back();
    return Status::invalid_argument("malformed connection string: " + message);
  }
  PQconninfoFree(options);
  return Status::ok();
}

// libpq's messages span lines ("...failed: No such file\n\tIs the server
// running...?"); a startup error must be one line.
std::string one_line(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\n' || c == '\t' || c == '\r') c = ' ';
    if (c == ' ' && (out.empty() || out.back() == ' ')) continue;
    out += c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::string timeout_text(std::chrono::milliseconds timeout) {
  if (timeout.count() % 1000 == 0) return std::to_string(timeout.count() / 1000) + " s";
  return std::to_string(timeout.count()) + " ms";
}

}  // namespace

bool PgDb::is_statement_timeout(const pqxx::sql_error& error) {
  // 57014 query_canceled: statement_timeout (or a cancel request); 55P03 lock_not_available: lock_timeout.
  return error.sqlstate() == "57014" || error.sqlstate() == "55P03";
}

PgDb::PgDb(std::string uri, std::string display_uri, Options options)
    : uri_(std::move(uri)), display_uri_(std::move(display_uri)), options_(options) {}

PgDb::~PgDb() = default;

Result<std::shared_ptr<PgDb>> PgDb::open(const std::string& uri, Options options) {
  CFX_RETURN_IF_ERROR(check_syntax(uri));
  if (options.pool_size == 0) options.pool_size = 1;
  if (options.max_attempts < 1) options.max_attempts = 1;
  std::string full = with_default(with_default(uri, "connect_timeout", "5"), "application_name", "conflux");
  std::shared_ptr<PgDb> db(new PgDb(std::move(full), without_password(uri), options));
  auto first = db->acquire();
  if (!first) return first.error();
  db->release(std::move(*first), /*broken=*/false);
  return db;
}

void PgDb::prepare(const std::string& name, const std::string& sql) {
  std::lock_guard guard(mutex_);
  for (const auto& [known, _] : statements_) {
    if (known == name) return;  // a second store instance on the same pool
  }
  statements_.emplace_back(name, sql);
}

Result<std::unique_ptr<pqxx::connection>> PgDb::connect_outside_pool() const {
  try {
    return std::make_unique<pqxx::connection>(uri_);
  } catch (const std::exception& e) {
    return connect_error(e);
  }
}

Status PgDb::connect_error(const std::exception& e) const {
  const std::string why = one_line(e.what());
  if (why.find("authentication failed") != std::string::npos ||
      (why.find("role") != std::string::npos && why.find("does not exist") != std::string::npos)) {
    return Status::unauthenticated("postgresql " + display_uri_ + " refused the login: " + why);
  }
  return Status::unavailable("postgresql " + display_uri_ + " unreachable: " + why);
}

Result<PgDb::Conn> PgDb::acquire() {
  Conn conn;
  std::vector<std::pair<std::string, std::string>> statements;
  {
    std::unique_lock lock(mutex_);
    returned_.wait(lock, [&] { return !idle_.empty() || open_count_ < options_.pool_size; });
    if (!idle_.empty()) {
      conn = std::move(idle_.back());
      idle_.pop_back();
    } else {
      ++open_count_;
    }
    statements = statements_;
  }
  try {
    if (!conn.conn) {
      conn.conn = std::make_unique<pqxx::connection>(uri_);
      conn.conn->set_variable("statement_timeout", std::to_string(options_.statement_timeout.count()));
    }
    for (; conn.declared < statements.size(); ++conn.declared) {
      conn.conn->prepare(statements[conn.declared].first, statements[conn.declared].second);
    }
    return conn;
  } catch (const std::exception& e) {
    release(std::move(conn), /*broken=*/true);
    return connect_error(e);
  }
}

void PgDb::release(Conn&& conn, bool broken) {
  {
    std::lock_guard guard(mutex_);
    if (broken || !conn.conn || !conn.conn->is_open()) {
      --open_count_;
    } else {
      idle_.push_back(std::move(conn));
    }
  }
  returned_.notify_one();
}

bool PgDb::is_retryable(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const pqxx::serialization_failure&) {
    return true;
  } catch (const pqxx::deadlock_detected&) {
    return true;
  } catch (...) {
    return false;
  }
}

bool PgDb::is_broken_connection(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const pqxx::broken_connection&) {
    return true;
  } catch (const pqxx::in_doubt_error&) {
    return true;
  } catch (const pqxx::sql_error& e) {
    // Class 57P: the server is shutting down or was restarted under us.
    return e.sqlstate().rfind("57P", 0) == 0;
  } catch (...) {
    return false;
  }
}

Status PgDb::status_of(std::string_view what, const std::exception_ptr& error) const {
  const std::string where = "postgresql " + std::string(what) + ": ";
  try {
    std::rethrow_exception(error);
  } catch (const pqxx::in_doubt_error& e) {
    return Status::unavailable(where + "connection lost during commit, outcome unknown: " + one_line(e.what()));
  } catch (const pqxx::broken_connection& e) {
    return Status::unavailable(where + "connection lost: " + one_line(e.what()));
  } catch (const pqxx::transaction_rollback& e) {
    return Status::aborted(where + one_line(e.what()));
  } catch (const pqxx::unique_violation& e) {
    return Status::already_exists(where + one_line(e.what()));
  } catch (const pqxx::insufficient_privilege& e) {
    return Status::permission_denied(where + one_line(e.what()));
  } catch (const pqxx::sql_error& e) {
    if (e.sqlstate().rfind("57P", 0) == 0) return Status::unavailable(where + one_line(e.what()));
    if (is_statement_timeout(e)) {
      return Status::unavailable(
          where + "statement timed out after " + timeout_text(options_.statement_timeout) +
          " (a lock another session holds, or an overloaded server; statement_timeout_seconds): " + one_line(e.what()));
    }
    return Status::internal(where + one_line(e.what()));
  } catch (const std::exception& e) {
    return Status::internal(where + one_line(e.what()));
  } catch (...) {
    return Status::internal(where + "unknown exception");
  }
}

Status PgDb::migrate(const std::string& module, const std::vector<std::string>& steps) {
  const int64_t known = static_cast<int64_t>(steps.size());
  return transact("migrate " + module, [&](pqxx::work& txn) -> Status {
    // One lock key for every module: nodes starting together migrate one
    // after the other, and the loser sees the winner's versions.
    txn.exec("SELECT pg_advisory_xact_lock(7262031571)");
    txn.exec(
        "CREATE TABLE IF NOT EXISTS conflux_schema("
        " module TEXT NOT NULL, version BIGINT NOT NULL, PRIMARY KEY(module, version))");
    const pqxx::row top =
        txn.exec_params1("SELECT COALESCE(MAX(version), 0) FROM conflux_schema WHERE module = $1", module);
    const int64_t current = top[0].as<int64_t>();
    if (current > known) {
      return Status::failed_precondition("postgresql " + display_uri_ + ": schema of '" + module + "' is at version " +
                                         std::to_string(current) + ", this build knows " + std::to_string(known) +
                                         " (written by a newer Conflux; upgrade it)");
    }
    for (int64_t version = current + 1; version <= known; ++version) {
      txn.exec(steps[version - 1]);
      txn.exec_params0("INSERT INTO conflux_schema(module, version) VALUES ($1, $2)", module, version);
    }
    return Status::ok();
  });
}

}  // namespace conflux
