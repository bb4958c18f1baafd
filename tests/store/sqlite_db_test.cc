#include "common/sqlite_db.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <thread>
#include <vector>

#include "common/base64.h"
#include "tests/common/temp_dir.h"

namespace conflux {
namespace {

namespace fs = std::filesystem;

using conflux::test::TempDir;

class SqliteDbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = SqliteDb::open(dir_.file("test.db"));
    ASSERT_TRUE(opened) << opened.error().to_string();
    db_ = std::move(*opened);
  }

  int64_t query_int(const std::string& sql) {
    auto st = db_->prepare(sql);
    EXPECT_TRUE(st) << st.error().to_string();
    if (!st) return -1;
    auto row = st->step();
    EXPECT_TRUE(row && *row);
    return st->column_int64(0);
  }

  std::string query_text(const std::string& sql) {
    auto st = db_->prepare(sql);
    EXPECT_TRUE(st) << st.error().to_string();
    if (!st) return {};
    auto row = st->step();
    EXPECT_TRUE(row && *row);
    return st->column_text(0);
  }

  TempDir dir_;
  std::unique_ptr<SqliteDb> db_;
};

TEST_F(SqliteDbTest, OpenSetsPragmas) {
  EXPECT_EQ(query_text("PRAGMA journal_mode"), "wal");
  EXPECT_EQ(query_int("PRAGMA synchronous"), 1);  // NORMAL
  EXPECT_EQ(query_int("PRAGMA foreign_keys"), 1);
  EXPECT_EQ(query_int("PRAGMA busy_timeout"), 5000);
}

TEST_F(SqliteDbTest, CreatedFilesAreForTheOwnerOnly) {
  ASSERT_TRUE(db_->exec("CREATE TABLE t(i INTEGER); INSERT INTO t VALUES (1);").is_ok());
  for (const char* name : {"test.db", "test.db-wal"}) {
    auto perms = fs::status(dir_.file(name)).permissions();
    EXPECT_EQ(perms & (fs::perms::group_all | fs::perms::others_all), fs::perms::none) << name;
  }
}

TEST_F(SqliteDbTest, InMemoryDatabaseWorks) {
  auto mem = SqliteDb::open(":memory:");
  ASSERT_TRUE(mem) << mem.error().to_string();
  EXPECT_TRUE((*mem)->exec("CREATE TABLE t(i INTEGER)").is_ok());
}

TEST_F(SqliteDbTest, OpenFailsInMissingDirectory) {
  auto opened = SqliteDb::open(dir_.file("no/such/dir/x.db"));
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code(), StatusCode::kInternal);
  EXPECT_NE(opened.error().message().find("no/such/dir/x.db"), std::string::npos);
}

TEST_F(SqliteDbTest, BindsAndReadsEveryType) {
  ASSERT_TRUE(db_->exec("CREATE TABLE t(i INTEGER, s TEXT, b BLOB, n TEXT)").is_ok());
  const std::string blob("a\0b\xff", 4);
  {
    auto st = db_->prepare("INSERT INTO t VALUES (?1, ?2, ?3, ?4)");
    ASSERT_TRUE(st);
    st->bind(1, int64_t{1} << 40).bind(2, "text").bind(3, SqlBlob{blob}).bind(4, nullptr);
    auto changed = st->run();
    ASSERT_TRUE(changed) << changed.error().to_string();
    EXPECT_EQ(*changed, 1);
  }
  auto st = db_->prepare("SELECT i, s, b, n, typeof(b) FROM t");
  ASSERT_TRUE(st);
  auto row = st->step();
  ASSERT_TRUE(row && *row);
  EXPECT_EQ(st->column_int64(0), int64_t{1} << 40);
  EXPECT_EQ(st->column_text(1), "text");
  EXPECT_EQ(st->column_blob(2), blob);
  EXPECT_TRUE(st->column_is_null(3));
  EXPECT_EQ(st->column_text(3), "");
  EXPECT_EQ(st->column_text(4), "blob");
  row = st->step();
  ASSERT_TRUE(row);
  EXPECT_FALSE(*row);
}

TEST_F(SqliteDbTest, EmptyBlobIsNotNull) {
  ASSERT_TRUE(db_->exec("CREATE TABLE t(b BLOB)").is_ok());
  {
    auto st = db_->prepare("INSERT INTO t VALUES (?1)");
    ASSERT_TRUE(st);
    st->bind(1, SqlBlob{std::string_view()});
    ASSERT_TRUE(st->run());
  }
  EXPECT_EQ(query_text("SELECT typeof(b) FROM t"), "blob");
}

TEST_F(SqliteDbTest, ResetAllowsReuse) {
  ASSERT_TRUE(db_->exec("CREATE TABLE t(i INTEGER)").is_ok());
  auto st = db_->prepare("INSERT INTO t VALUES (?1)");
  ASSERT_TRUE(st);
  for (int i = 0; i < 3; ++i) {
    st->reset();
    st->bind(1, i);
    ASSERT_TRUE(st->run());
  }
  EXPECT_EQ(query_int("SELECT count(*) FROM t"), 3);
}

TEST_F(SqliteDbTest, BindErrorSurfacesAtStep) {
  auto st = db_->prepare("SELECT ?1");
  ASSERT_TRUE(st);
  st->bind(7, 1);
  auto row = st->step();
  ASSERT_FALSE(row);
  EXPECT_EQ(row.error().code(), StatusCode::kInternal);
  EXPECT_NE(row.error().message().find("bind parameter 7"), std::string::npos);
}

TEST_F(SqliteDbTest, ErrorsMapToStatusCodes) {
  ASSERT_TRUE(db_->exec("CREATE TABLE t(k TEXT PRIMARY KEY, v TEXT NOT NULL, u TEXT UNIQUE)").is_ok());
  ASSERT_TRUE(db_->exec("INSERT INTO t VALUES ('a', 'x', 'u1')").is_ok());

  Status dup_pk = db_->exec("INSERT INTO t VALUES ('a', 'y', 'u2')");
  EXPECT_EQ(dup_pk.code(), StatusCode::kAlreadyExists) << dup_pk.to_string();
  EXPECT_NE(dup_pk.message().find("UNIQUE constraint failed"), std::string::npos) << dup_pk.message();

  auto st = db_->prepare("INSERT INTO t VALUES ('b', 'y', 'u1')");
  ASSERT_TRUE(st);
  auto unique = st->run();
  ASSERT_FALSE(unique);
  EXPECT_EQ(unique.error().code(), StatusCode::kAlreadyExists);

  Status not_null = db_->exec("INSERT INTO t VALUES ('c', NULL, 'u3')");
  EXPECT_EQ(not_null.code(), StatusCode::kFailedPrecondition) << not_null.to_string();

  auto bad = db_->prepare("SELEKT 1");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), StatusCode::kInternal);
  EXPECT_NE(bad.error().message().find("syntax error"), std::string::npos) << bad.error().message();

  EXPECT_EQ(sqlite_status(SQLITE_BUSY, "x").code(), StatusCode::kUnavailable);
  EXPECT_EQ(sqlite_status(SQLITE_LOCKED, "x").code(), StatusCode::kUnavailable);
  EXPECT_EQ(sqlite_status(SQLITE_CONSTRAINT_FOREIGNKEY, "x").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(sqlite_status(SQLITE_CORRUPT, "x").code(), StatusCode::kInternal);
}

TEST_F(SqliteDbTest, ForeignKeysAreEnforced) {
  ASSERT_TRUE(db_->exec("CREATE TABLE p(id INTEGER PRIMARY KEY);"
                        "CREATE TABLE c(pid INTEGER REFERENCES p(id));")
                  .is_ok());
  Status s = db_->exec("INSERT INTO c VALUES (42)");
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.to_string();
}

TEST_F(SqliteDbTest, TransactionRollsBackOnDestruction) {
  ASSERT_TRUE(db_->exec("CREATE TABLE t(i INTEGER)").is_ok());
  {
    auto tx = db_->transaction();
    ASSERT_TRUE(tx) << tx.error().to_string();
    ASSERT_TRUE(db_->exec("INSERT INTO t VALUES (1)").is_ok());
    EXPECT_TRUE(tx->active());
  }
  EXPECT_EQ(query_int("SELECT count(*) FROM t"), 0);
  {
    auto tx = db_->transaction();
    ASSERT_TRUE(tx);
    ASSERT_TRUE(db_->exec("INSERT INTO t VALUES (2)").is_ok());
    ASSERT_TRUE(tx->commit().is_ok());
    EXPECT_FALSE(tx->active());
    EXPECT_EQ(tx->commit().code(), StatusCode::kFailedPrecondition);
  }
  EXPECT_EQ(query_int("SELECT count(*) FROM t"), 1);
  {
    auto tx = db_->transaction();
    ASSERT_TRUE(tx);
    ASSERT_TRUE(db_->exec("INSERT INTO t VALUES (3)").is_ok());
    tx->rollback();
    EXPECT_FALSE(tx->active());
  }
  EXPECT_EQ(query_int("SELECT count(*) FROM t"), 1);
}

TEST_F(SqliteDbTest, TransactionsDoNotNest) {
  auto outer = db_->transaction();
  ASSERT_TRUE(outer);
  auto inner = db_->transaction();
  ASSERT_FALSE(inner);
  EXPECT_EQ(inner.error().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(outer->active());
}

TEST_F(SqliteDbTest, ReadTransactionSeesOneSnapshot) {
  ASSERT_TRUE(db_->exec("CREATE TABLE t(i INTEGER); INSERT INTO t VALUES (1);").is_ok());
  auto other = SqliteDb::open(dir_.file("test.db"));
  ASSERT_TRUE(other);
  auto tx = db_->transaction(SqliteDb::TxMode::kDeferred);
  ASSERT_TRUE(tx);
  EXPECT_EQ(query_int("SELECT count(*) FROM t"), 1);
  ASSERT_TRUE((*other)->exec("INSERT INTO t VALUES (2)").is_ok());  // a writer of another connection
  EXPECT_EQ(query_int("SELECT count(*) FROM t"), 1);
  ASSERT_TRUE(tx->commit().is_ok());
  EXPECT_EQ(query_int("SELECT count(*) FROM t"), 2);
}

TEST_F(SqliteDbTest, BusyDatabaseIsUnavailable) {
  auto other = SqliteDb::open(dir_.file("test.db"));
  ASSERT_TRUE(other);
  ASSERT_TRUE((*other)->exec("PRAGMA busy_timeout = 50").is_ok());
  auto holder = db_->transaction();  // write lock held by this connection
  ASSERT_TRUE(holder);
  auto blocked = (*other)->transaction();
  ASSERT_FALSE(blocked);
  EXPECT_EQ(blocked.error().code(), StatusCode::kUnavailable) << blocked.error().to_string();
  EXPECT_NE(blocked.error().message().find("locked"), std::string::npos) << blocked.error().message();
}

TEST_F(SqliteDbTest, MigrationsApplyOnceAndAreIdempotentOnReopen) {
  std::vector<std::string> steps = {
      "CREATE TABLE a(x INTEGER)",
      "ALTER TABLE a ADD COLUMN y TEXT",
  };
  ASSERT_TRUE(db_->migrate("mod", steps).is_ok());
  ASSERT_TRUE(db_->migrate("mod", steps).is_ok());  // would fail if re-run
  EXPECT_EQ(query_int("SELECT count(*) FROM schema_migrations WHERE module = 'mod'"), 2);

  db_.reset();
  auto reopened = SqliteDb::open(dir_.file("test.db"));
  ASSERT_TRUE(reopened);
  db_ = std::move(*reopened);
  ASSERT_TRUE(db_->migrate("mod", steps).is_ok());

  // A later build adds a step: only that one runs.
  steps.push_back("CREATE TABLE b(z INTEGER)");
  ASSERT_TRUE(db_->migrate("mod", steps).is_ok());
  EXPECT_EQ(query_int("SELECT max(version) FROM schema_migrations WHERE module = 'mod'"), 3);
  EXPECT_TRUE(db_->exec("INSERT INTO a(x, y) VALUES (1, 'one'); INSERT INTO b VALUES (2);").is_ok());

  // Modules are independent.
  ASSERT_TRUE(db_->migrate("other", {"CREATE TABLE c(x INTEGER)"}).is_ok());
  EXPECT_EQ(query_int("SELECT count(*) FROM schema_migrations WHERE module = 'other'"), 1);

  // An older build refuses a schema it does not know.
  Status older = db_->migrate("mod", {steps[0]});
  EXPECT_EQ(older.code(), StatusCode::kFailedPrecondition) << older.to_string();
}

TEST_F(SqliteDbTest, FailedMigrationStepLeavesNoTrace) {
  Status s = db_->migrate("mod", {"CREATE TABLE a(x INTEGER); CREATE TABLE a(y INTEGER)"});
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("migrate mod to version 1"), std::string::npos) << s.message();
  EXPECT_EQ(query_int("SELECT count(*) FROM schema_migrations"), 0);
  EXPECT_EQ(query_int("SELECT count(*) FROM sqlite_master WHERE name = 'a'"), 0);
  // Fixed, it applies.
  EXPECT_TRUE(db_->migrate("mod", {"CREATE TABLE a(x INTEGER)"}).is_ok());
}

// Two threads share one connection: transactions stay atomic (no lost
// increments) and plain statements interleave safely.
TEST_F(SqliteDbTest, TwoThreadsHammeringOneConnection) {
  ASSERT_TRUE(db_->exec("CREATE TABLE counter(n INTEGER); INSERT INTO counter VALUES (0);"
                        "CREATE TABLE log(thread INTEGER, i INTEGER);")
                  .is_ok());
  constexpr int kIterations = 300;
  auto work = [&](int thread, std::vector<std::string>* errors) {
    for (int i = 0; i < kIterations; ++i) {
      auto tx = db_->transaction();
      if (!tx) {
        errors->push_back(tx.error().to_string());
        continue;
      }
      int64_t n = 0;
      {
        auto read = db_->prepare("SELECT n FROM counter");
        auto row = read ? read->step() : Result<bool>(read.error());
        if (!row || !*row) {
          errors->push_back("read failed");
          continue;
        }
        n = read->column_int64(0);
      }
      std::this_thread::yield();  // invite the other thread in: it must wait
      {
        auto write = db_->prepare("UPDATE counter SET n = ?1");
        if (!write) {
          errors->push_back(write.error().to_string());
          continue;
        }
        write->bind(1, n + 1);
        if (auto r = write->run(); !r) errors->push_back(r.error().to_string());
      }
      if (Status c = tx->commit(); !c.is_ok()) errors->push_back(c.to_string());
      // Outside any transaction.
      auto log = db_->prepare("INSERT INTO log VALUES (?1, ?2)");
      if (!log) {
        errors->push_back(log.error().to_string());
        continue;
      }
      log->bind(1, thread).bind(2, i);
      if (auto r = log->run(); !r) errors->push_back(r.error().to_string());
    }
  };
  std::vector<std::string> errors_a, errors_b;
  std::thread a(work, 1, &errors_a);
  std::thread b(work, 2, &errors_b);
  a.join();
  b.join();
  EXPECT_TRUE(errors_a.empty()) << errors_a.front();
  EXPECT_TRUE(errors_b.empty()) << errors_b.front();
  EXPECT_EQ(query_int("SELECT n FROM counter"), 2 * kIterations);
  EXPECT_EQ(query_int("SELECT count(*) FROM log"), 2 * kIterations);
}

}  // namespace
}  // namespace conflux
