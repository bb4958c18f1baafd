// The SQLite side of the store suites (state_store_suite.h,
// user_store_suite.h, history_store_suite.h): conflux.db in a temporary directory.
#pragma once

#include <memory>
#include <string>

#include "common/sqlite_db.h"
#include "store/sqlite_history_store.h"
#include "store/sqlite_state_store.h"
#include "store/user_store.h"
#include "tests/common/temp_dir.h"

namespace conflux::store {

class SqliteStores {
 public:
  using NowSeconds = std::function<int64_t()>;
  static constexpr const char* kName = "SQLite";

  // (Re)opens the database the stores share, as a restarted server does.
  Status open() {
    db_.reset();
    auto db = SqliteDb::open(dir_.file("conflux.db"));
    if (!db) return db.error();
    db_ = std::move(*db);
    return Status::ok();
  }
  void close() { db_.reset(); }

  Result<std::unique_ptr<StateStore>> state(NowSeconds now) {
    auto store = SqliteStateStore::open(db_, std::move(now));
    if (!store) return store.error();
    return std::unique_ptr<StateStore>(std::move(*store));
  }
  // A state store on a database of its own.
  Result<std::unique_ptr<StateStore>> other_state() {
    auto db = SqliteDb::open(dir_.file("other.db"));
    if (!db) return db.error();
    auto store = SqliteStateStore::open(std::move(*db));
    if (!store) return store.error();
    return std::unique_ptr<StateStore>(std::move(*store));
  }
  Result<std::unique_ptr<caf::HistoryStore>> history() {
    auto store = SqliteHistoryStore::open(db_);
    if (!store) return store.error();
    return std::unique_ptr<caf::HistoryStore>(std::move(*store));
  }
  Result<std::unique_ptr<UserAccounts>> users(NowSeconds now) {
    auto store = UserStore::open(db_, std::move(now));
    if (!store) return store.error();
    return std::unique_ptr<UserAccounts>(std::move(*store));
  }

  // The stored row of a user: password_hash and created_at.
  Result<std::pair<std::string, int64_t>> user_row(const std::string& user) {
    auto st = db_->prepare("SELECT password_hash, created_at FROM users WHERE name = ?1");
    if (!st) return st.error();
    st->bind(1, user);
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) return Status::not_found(user);
    return std::make_pair(st->column_text(0), st->column_int64(1));
  }
  Status drop_users_table() { return db_->exec("DROP TABLE users"); }
  // Every text stored in the api_tokens table, joined (to look for a token in).
  Result<std::string> api_token_rows() {
    auto st = db_->prepare("SELECT user_name || ' ' || label || ' ' || token_hash FROM api_tokens");
    if (!st) return st.error();
    std::string all;
    for (;;) {
      auto row = st->step();
      if (!row) return row.error();
      if (!*row) break;
      all += st->column_text(0) + "\n";
    }
    return all;
  }

 private:
  test::TempDir dir_;
  std::shared_ptr<SqliteDb> db_;
};

}  // namespace conflux::store
