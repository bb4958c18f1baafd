// The PostgreSQL side of the store suites (state_store_suite.h,
// user_store_suite.h, history_store_suite.h): a fresh database per test on the binary's
// PgTestServer.
#pragma once

#include <memory>
#include <string>

#include "common/pg_db.h"
#include "store/pg_history_store.h"
#include "store/pg_state_store.h"
#include "store/pg_user_store.h"
#include "tests/pg/pg_test_server.h"

namespace conflux::store {

class PgStores {
 public:
  using NowSeconds = std::function<int64_t()>;
  static constexpr const char* kName = "PostgreSQL";

  Status open() {
    db_.reset();
    if (uri_.empty()) {
      auto server = test::PgTestServer::shared();
      if (!server) return server.error();
      auto uri = (*server)->create_database();
      if (!uri) return uri.error();
      uri_ = *uri;
    }
    auto db = PgDb::open(uri_);
    if (!db) return db.error();
    db_ = std::move(*db);
    return Status::ok();
  }
  void close() { db_.reset(); }

  Result<std::unique_ptr<StateStore>> state(NowSeconds now) {
    auto store = PgStateStore::open(db_, std::move(now));
    if (!store) return store.error();
    return std::unique_ptr<StateStore>(std::move(*store));
  }
  Result<std::unique_ptr<StateStore>> other_state() {
    auto server = test::PgTestServer::shared();
    if (!server) return server.error();
    auto uri = (*server)->create_database();
    if (!uri) return uri.error();
    auto db = PgDb::open(*uri);
    if (!db) return db.error();
    auto store = PgStateStore::open(std::move(*db));
    if (!store) return store.error();
    return std::unique_ptr<StateStore>(std::move(*store));
  }
  Result<std::unique_ptr<caf::HistoryStore>> history() {
    auto store = PgHistoryStore::open(db_);
    if (!store) return store.error();
    return std::unique_ptr<caf::HistoryStore>(std::move(*store));
  }
  Result<std::unique_ptr<UserAccounts>> users(NowSeconds now) {
    auto store = PgUserStore::open(db_, std::move(now));
    if (!store) return store.error();
    return std::unique_ptr<UserAccounts>(std::move(*store));
  }

  Result<std::pair<std::string, int64_t>> user_row(const std::string& user) {
    return db_->transact("user row", [&](pqxx::work& txn) -> Result<std::pair<std::string, int64_t>> {
      const pqxx::result rows = txn.exec_params("SELECT password_hash, created_at FROM users WHERE name = $1", user);
      if (rows.empty()) return Status::not_found(user);
      return std::make_pair(std::string(rows[0][0].c_str()), rows[0][1].as<int64_t>());
    });
  }
  Status drop_users_table() {
    return db_->transact("drop users", [](pqxx::work& txn) {
      txn.exec("DROP TABLE users");
      return Status::ok();
    });
  }

  Result<std::string> api_token_rows() {
    return db_->transact("token rows", [&](pqxx::work& txn) -> Result<std::string> {
      std::string all;
      for (const auto& row : txn.exec("SELECT user_name || ' ' || label || ' ' || token_hash FROM api_tokens")) {
        all += std::string(row[0].c_str()) + "\n";
      }
      return all;
    });
  }

  const std::string& uri() const { return uri_; }

 private:
  std::string uri_;  // this test's database
  std::shared_ptr<PgDb> db_;
};

}  // namespace conflux::store
