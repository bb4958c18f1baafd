// The store suites on PostgreSQL, plus what only a server database does: a
// shared schema version, a server that goes away and comes back, several
// nodes on one database.
#include <gtest/gtest.h>

#include <thread>

#include "tests/store/pg_stores.h"
#include "tests/store/state_store_suite.h"
#include "tests/store/user_store_suite.h"

namespace conflux::store {
namespace state_suite {
INSTANTIATE_TYPED_TEST_SUITE_P(PostgreSQL, StateStoreSuite, PgStores);
}  // namespace state_suite
namespace user_suite {
INSTANTIATE_TYPED_TEST_SUITE_P(PostgreSQL, UserStoreSuite, PgStores);
}  // namespace user_suite

namespace {

class PgStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = test::PgTestServer::shared();
    ASSERT_TRUE(server) << server.error().to_string();
    server_ = *server;
    auto uri = server_->create_database();
    ASSERT_TRUE(uri) << uri.error().to_string();
    uri_ = *uri;
  }

  test::PgTestServer* server_ = nullptr;
  std::string uri_;
};

TEST_F(PgStoreTest, OpenRequiresADatabase) {
  EXPECT_EQ(PgStateStore::open(nullptr).error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(PgUserStore::open(nullptr).error().code(), StatusCode::kInvalidArgument);
}

TEST_F(PgStoreTest, ABadConnectionStringIsToldApartFromAnUnreachableServer) {
  auto malformed = PgDb::open("postgresql://[::1");
  ASSERT_FALSE(malformed);
  EXPECT_EQ(malformed.error().code(), StatusCode::kInvalidArgument) << malformed.error().to_string();

  auto nobody_listens = PgDb::open("postgresql:///x?host=/nonexistent-conflux-dir");
  ASSERT_FALSE(nobody_listens);
  EXPECT_EQ(nobody_listens.error().code(), StatusCode::kUnavailable) << nobody_listens.error().to_string();

  auto unknown_role = PgDb::open(uri_ + "x&user=no_such_role");
  ASSERT_FALSE(unknown_role);
  EXPECT_EQ(unknown_role.error().code(), StatusCode::kUnauthenticated) << unknown_role.error().to_string();
}

TEST_F(PgStoreTest, PasswordsInTheUriAreNotShown) {
  auto db = PgDb::open(uri_ + "&password=hunter2");
  ASSERT_TRUE(db) << db.error().to_string();
  EXPECT_EQ((*db)->display_uri().find("hunter2"), std::string::npos) << (*db)->display_uri();
  auto refused = PgDb::open("postgresql://alice:hunter2@/x?host=/nonexistent-conflux-dir");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message().find("hunter2"), std::string::npos) << refused.error().message();
}

TEST_F(PgStoreTest, ADatabaseOfANewerConfluxIsRefused) {
  auto db = PgDb::open(uri_);
  ASSERT_TRUE(db);
  ASSERT_TRUE(PgStateStore::open(*db));
  ASSERT_TRUE((*db)->transact("newer", [](pqxx::work& txn) {
    txn.exec("INSERT INTO conflux_schema(module, version) VALUES ('state', 99)");
    return Status::ok();
  }).is_ok());
  auto refused = PgStateStore::open(*db);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.error().message().find("newer Conflux"), std::string::npos) << refused.error().message();
}

TEST_F(PgStoreTest, NodesStartingTogetherMigrateOnce) {
  std::vector<std::thread> nodes;
  std::atomic<int> failures{0};
  for (int i = 0; i < 4; ++i) {
    nodes.emplace_back([&] {
      auto db = PgDb::open(uri_);
      if (!db || !PgStateStore::open(*db) || !PgUserStore::open(*db)) ++failures;
    });
  }
  for (auto& node : nodes) node.join();
  EXPECT_EQ(failures.load(), 0);
}

// The state written before PostgreSQL went away is there when it is back;
// meanwhile calls fail with kUnavailable (nothing half-written), and the
// same store (its pool) recovers without being reopened.
TEST_F(PgStoreTest, AServerThatGoesAwayIsUnavailableAndTheStoreRecoversByItself) {
  auto db = PgDb::open(uri_);
  ASSERT_TRUE(db);
  auto store = PgStateStore::open(*db);
  ASSERT_TRUE(store);
  const engine::DeviceStore ds{UserId("alice"), DeviceId("IMEI:1"), "contacts"};
  ASSERT_TRUE((*store)->upsert_map(ds, {engine::MapEntry{Luid("1"), Guid("g1"), Anchor("1")}}).is_ok());

  ASSERT_TRUE(server_->stop().is_ok());
  Status down = (*store)->upsert_map(ds, {engine::MapEntry{Luid("2"), Guid("g2"), Anchor("2")}});
  Status started = server_->start();
  ASSERT_TRUE(started.is_ok()) << started.to_string();
  EXPECT_EQ(down.code(), StatusCode::kUnavailable) << down.to_string();

  auto entries = (*store)->map_entries(ds);
  ASSERT_TRUE(entries) << entries.error().to_string();
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ((*entries)[0].guid.str(), "g1");
  EXPECT_TRUE((*store)->upsert_map(ds, {engine::MapEntry{Luid("2"), Guid("g2"), Anchor("2")}}).is_ok());
}

// Two nodes save the same rows at once: every call succeeds (conflicts on the
// same key are settled by ON CONFLICT and retries, not reported) and the
// rejection count adds up.
TEST_F(PgStoreTest, TwoNodesCountingTheSameRejectionLoseNoIncrement) {
  auto db_a = PgDb::open(uri_);
  auto db_b = PgDb::open(uri_);
  ASSERT_TRUE(db_a && db_b);
  auto a = PgStateStore::open(*db_a);
  auto b = PgStateStore::open(*db_b);
  ASSERT_TRUE(a && b);
  const engine::DeviceStore ds{UserId("alice"), DeviceId("IMEI:1"), "contacts"};
  std::atomic<int> failures{0};
  auto count = [&](StateStore& node) {
    for (int i = 0; i < 25; ++i) {
      if (!node.record_rejection(ds, Guid("g"), Anchor("7"), 500).is_ok()) ++failures;
    }
  };
  std::thread ta([&] { count(**a); });
  std::thread tb([&] { count(**b); });
  ta.join();
  tb.join();
  EXPECT_EQ(failures.load(), 0);
  auto rejections = (*a)->rejections(ds);
  ASSERT_TRUE(rejections);
  ASSERT_EQ(rejections->size(), 1u);
  EXPECT_EQ((*rejections)[0].count, 50);
}

}  // namespace
}  // namespace conflux::store
