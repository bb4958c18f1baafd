// The store suites on PostgreSQL, plus what only a server database does: a
// shared schema version, a server that goes away and comes back, several
// nodes on one database.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "common/clock.h"
#include "engine/login_throttle.h"
#include "engine/unauthenticated_limiter.h"
#include "store/pg_shared_limits.h"
#include "tests/store/history_store_suite.h"
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
namespace history_suite {
INSTANTIATE_TYPED_TEST_SUITE_P(PostgreSQL, HistoryStoreSuite, PgStores);
}  // namespace history_suite

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
  ASSERT_TRUE((*db)
                  ->transact("newer",
                             [](pqxx::work& txn) {
                               txn.exec("INSERT INTO conflux_schema(module, version) VALUES ('state', 99)");
                               return Status::ok();
                             })
                  .is_ok());
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

// Two transactions that lock two rows in opposite order deadlock;
// PostgreSQL aborts one (deadlock_detected) and PgDb runs it again, so both
// callers succeed and see each of their writes applied once.
TEST_F(PgStoreTest, ADeadlockedTransactionIsRetriedAndBothCallersSucceed) {
  auto db = PgDb::open(uri_);
  ASSERT_TRUE(db);
  ASSERT_TRUE((*db)
                  ->transact("setup",
                             [](pqxx::work& txn) {
                               txn.exec("CREATE TABLE counters(name TEXT PRIMARY KEY, n INTEGER NOT NULL)");
                               txn.exec("INSERT INTO counters VALUES ('a', 0), ('b', 0)");
                               return Status::ok();
                             })
                  .is_ok());

  std::atomic<int> first_locks{0};
  std::atomic<int> attempts{0};
  auto bump_both = [&](const std::string& first, const std::string& second) {
    return (*db)->transact("bump", [&](pqxx::work& txn) {
      ++attempts;
      txn.exec_params("UPDATE counters SET n = n + 1 WHERE name = $1", first);
      // Wait until the other transaction holds its first row too, so the
      // second UPDATEs cross (the other's first UPDATE never waits for us);
      // on a retry the count is past 2 already.
      ++first_locks;
      while (first_locks.load() < 2) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      txn.exec_params("UPDATE counters SET n = n + 1 WHERE name = $1", second);
      return Status::ok();
    });
  };
  Status one, two;
  std::thread ta([&] { one = bump_both("a", "b"); });
  std::thread tb([&] { two = bump_both("b", "a"); });
  ta.join();
  tb.join();
  EXPECT_TRUE(one.is_ok()) << one.to_string();
  EXPECT_TRUE(two.is_ok()) << two.to_string();
  // At least one ran again (a quick retry may deadlock once more with the
  // other, still waiting for the row the retry took first).
  EXPECT_GE(attempts.load(), 3);
  auto counts = (*db)->transact("read", [](pqxx::work& txn) -> Result<std::string> {
    std::string out;
    for (const auto& row : txn.exec("SELECT name, n FROM counters ORDER BY name")) {
      out += std::string(row[0].c_str()) + "=" + row[1].c_str() + " ";
    }
    return out;
  });
  ASSERT_TRUE(counts);
  EXPECT_EQ(*counts, "a=2 b=2 ");
}

// A table another session holds locked: the store's write waits no longer
// than statement_timeout, fails with kUnavailable saying so (nothing of it
// kept), and the same store writes once the lock is gone.
TEST_F(PgStoreTest, AWriteToALockedTableTimesOutAsUnavailableAndSucceedsOnceTheLockIsGone) {
  auto db = PgDb::open(uri_, PgDb::Options{.statement_timeout = std::chrono::milliseconds(300)});
  ASSERT_TRUE(db);
  auto store = PgStateStore::open(*db);
  ASSERT_TRUE(store);
  const engine::DeviceStore ds{UserId("alice"), DeviceId("IMEI:1"), "contacts"};
  const std::vector<engine::MapEntry> entry = {engine::MapEntry{Luid("1"), Guid("g1"), Anchor("1")}};

  pqxx::connection other(uri_);
  auto locker = std::make_unique<pqxx::work>(other);
  locker->exec0("LOCK TABLE maps IN EXCLUSIVE MODE");  // reads pass, writes wait
  Status locked = (*store)->upsert_map(ds, entry);
  EXPECT_EQ(locked.code(), StatusCode::kUnavailable) << locked.to_string();
  EXPECT_NE(locked.message().find("statement timed out after 300 ms"), std::string::npos) << locked.to_string();
  auto meanwhile = (*store)->map_entries(ds);
  ASSERT_TRUE(meanwhile) << meanwhile.error().to_string();
  EXPECT_TRUE(meanwhile->empty());
  locker->abort();
  locker.reset();

  Status unlocked = (*store)->upsert_map(ds, entry);
  EXPECT_TRUE(unlocked.is_ok()) << unlocked.to_string();
  auto entries = (*store)->map_entries(ds);
  ASSERT_TRUE(entries) << entries.error().to_string();
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ((*entries)[0].guid.str(), "g1");
}

// Two nodes, one session: the second node's message waits for the first's
// to end and then reads what it saved (a resent message finds its answer).
TEST_F(PgStoreTest, AMessageOfASessionWaitsWhileAnotherNodeRunsOne) {
  auto db_a = PgDb::open(uri_);
  auto db_b = PgDb::open(uri_);
  ASSERT_TRUE(db_a && db_b);
  auto a = PgStateStore::open(*db_a);
  auto b = PgStateStore::open(*db_b);
  ASSERT_TRUE(a && b);
  const SessionKey key("s1");
  auto first = (*a)->hold_session(key);
  ASSERT_TRUE(first) << first.error().to_string();
  ASSERT_NE(*first, nullptr);

  std::atomic<bool> second_held{false};
  Result<std::optional<std::string>> seen = std::optional<std::string>();
  std::thread second_node([&] {
    auto hold = (*b)->hold_session(key);
    if (!hold) {
      seen = hold.error();
      return;
    }
    second_held = true;
    seen = (*b)->load_session(key);
  });
  // Give the second node every chance to get in wrongly.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_FALSE(second_held.load());
  ASSERT_TRUE((*a)->save_session(key, "after the first message").is_ok());
  first->reset();
  second_node.join();
  ASSERT_TRUE(seen) << seen.error().to_string();
  EXPECT_EQ(seen->value_or("(none)"), "after the first message");
}

TEST_F(PgStoreTest, OtherSessionsDoNotWaitAndABusySessionIsUnavailableAfterTheWait) {
  auto db_a = PgDb::open(uri_);
  auto db_b = PgDb::open(uri_);
  ASSERT_TRUE(db_a && db_b);
  auto a = PgStateStore::open(*db_a);
  auto b = PgStateStore::open(*db_b);
  ASSERT_TRUE(a && b);
  (*b)->TEST_set_session_wait(std::chrono::milliseconds(50));
  auto held = (*a)->hold_session(SessionKey("s1"));
  ASSERT_TRUE(held);

  auto other = (*b)->hold_session(SessionKey("s2"));
  EXPECT_TRUE(other) << other.error().to_string();
  auto busy = (*b)->hold_session(SessionKey("s1"));
  ASSERT_FALSE(busy);
  EXPECT_EQ(busy.error().code(), StatusCode::kUnavailable) << busy.error().to_string();

  held->reset();
  auto free_again = (*b)->hold_session(SessionKey("s1"));
  EXPECT_TRUE(free_again) << free_again.error().to_string();
}

// Ends the connections of every other backend holding an advisory lock in
// `space`: what PostgreSQL does when the node behind them dies.
Status end_lock_holders(PgDb& db, PgLocks::Space space) {
  return db.transact("end lock holders", [&](pqxx::work& txn) {
    txn.exec_params(
        "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory'"
        " AND classid = $1::int4::oid AND pid <> pg_backend_pid()",
        static_cast<int32_t>(space));
    return Status::ok();
  });
}

TEST_F(PgStoreTest, ADeadNodesSessionIsFreedForTheOthers) {
  auto db_a = PgDb::open(uri_);
  auto db_b = PgDb::open(uri_);
  ASSERT_TRUE(db_a && db_b);
  auto a = PgStateStore::open(*db_a);
  auto b = PgStateStore::open(*db_b);
  ASSERT_TRUE(a && b);
  (*b)->TEST_set_session_wait(std::chrono::milliseconds(50));
  auto held = (*a)->hold_session(SessionKey("s1"));
  ASSERT_TRUE(held);
  ASSERT_FALSE((*b)->hold_session(SessionKey("s1")));

  ASSERT_TRUE(end_lock_holders(**db_b, PgLocks::Space::kSession).is_ok());
  (*b)->TEST_set_session_wait(PgStateStore::kSessionWait);
  auto taken = (*b)->hold_session(SessionKey("s1"));
  EXPECT_TRUE(taken) << taken.error().to_string();
  held->reset();  // the dead node's hold lets go of nothing it still has
}

// A job's lock: one node holds it as long as it lives; when its connection
// ends, another takes it, and the first learns it lost it.
TEST_F(PgStoreTest, AJobLockIsOneNodesUntilThatNodeDies) {
  auto db_a = PgDb::open(uri_);
  auto db_b = PgDb::open(uri_);
  ASSERT_TRUE(db_a && db_b);
  PgLocks a(*db_a);
  PgLocks b(*db_b);
  const std::string job = "purge";
  auto got_a = a.try_lock(PgLocks::Space::kJob, job);
  ASSERT_TRUE(got_a) << got_a.error().to_string();
  EXPECT_TRUE(*got_a);
  EXPECT_TRUE(*a.try_lock(PgLocks::Space::kJob, job));  // still ours
  EXPECT_FALSE(*b.try_lock(PgLocks::Space::kJob, job));
  EXPECT_TRUE(*b.try_lock(PgLocks::Space::kSession, job));  // another space
  EXPECT_TRUE(*a.holds(PgLocks::Space::kJob, job));

  ASSERT_TRUE(end_lock_holders(**db_b, PgLocks::Space::kJob).is_ok());
  auto still = a.holds(PgLocks::Space::kJob, job);
  EXPECT_FALSE(still && *still);
  EXPECT_TRUE(*b.try_lock(PgLocks::Space::kJob, job));
  EXPECT_FALSE(*a.try_lock(PgLocks::Space::kJob, job));  // reconnected, but b has it now

  b.unlock(PgLocks::Space::kJob, job);
  EXPECT_TRUE(*a.try_lock(PgLocks::Space::kJob, job));
}

// Two nodes count one guesser's wrong passwords together: the free ones are
// free once in all, not once per node, and the wait then holds on both.
TEST_F(PgStoreTest, TwoNodesShareOneLoginThrottle) {
  auto db_a = PgDb::open(uri_);
  auto db_b = PgDb::open(uri_);
  ASSERT_TRUE(db_a && db_b);
  auto limits_a = PgSharedLimits::open(*db_a);
  auto limits_b = PgSharedLimits::open(*db_b);
  ASSERT_TRUE(limits_a && limits_b);
  ManualClock clock(1000000);
  engine::LoginThrottle a(clock, 4, 10, 900, limits_a->get(), "syncml-login");
  engine::LoginThrottle b(clock, 4, 10, 900, limits_b->get(), "syncml-login");

  for (int i = 0; i < 2; ++i) {
    a.record_failure("alice", "192.0.2.7");
    b.record_failure("alice", "192.0.2.7");
  }
  EXPECT_EQ(a.wait_seconds("alice", "192.0.2.7"), 0);  // four: all free
  b.record_failure("alice", "192.0.2.7");
  EXPECT_EQ(a.wait_seconds("alice", "192.0.2.7"), 10);
  EXPECT_EQ(b.wait_seconds("alice", "192.0.2.7"), 10);
  EXPECT_EQ(b.wait_seconds("alice", "198.51.100.1"), 0);  // another address
  a.record_failure("alice", "192.0.2.7");
  EXPECT_EQ(b.wait_seconds("alice", "192.0.2.7"), 20);

  a.record_success("alice", "192.0.2.7");
  EXPECT_EQ(b.wait_seconds("alice", "192.0.2.7"), 0);
  // The portal's count is its own.
  engine::LoginThrottle portal(clock, 0, 10, 900, limits_a->get(), "portal-login");
  EXPECT_EQ(portal.wait_seconds("alice", "192.0.2.7"), 0);
}

TEST_F(PgStoreTest, TwoNodesShareOneUnauthenticatedBucketAndOldCountsExpire) {
  auto db_a = PgDb::open(uri_);
  auto db_b = PgDb::open(uri_);
  ASSERT_TRUE(db_a && db_b);
  auto limits_a = PgSharedLimits::open(*db_a);
  auto limits_b = PgSharedLimits::open(*db_b);
  ASSERT_TRUE(limits_a && limits_b);
  ManualClock clock(1000000);
  engine::UnauthenticatedLimiter a(clock, 3, 60, limits_a->get());
  engine::UnauthenticatedLimiter b(clock, 3, 60, limits_b->get());

  a.charge("192.0.2.7");
  b.charge("192.0.2.7");
  EXPECT_EQ(a.wait_seconds("192.0.2.7"), 0);
  a.charge("192.0.2.7");  // the burst of 3, spent on two nodes
  EXPECT_EQ(b.wait_seconds("192.0.2.7"), 1);
  EXPECT_EQ(a.wait_seconds("192.0.2.7"), 1);
  EXPECT_EQ(b.wait_seconds("203.0.113.9"), 0);
  clock.advance(1);  // 60 a minute: one back
  EXPECT_EQ(b.wait_seconds("192.0.2.7"), 0);

  auto kept = (*limits_a)->expire(1000000);
  ASSERT_TRUE(kept);
  EXPECT_EQ(*kept, 0);
  auto expired = (*limits_a)->expire(1000002);
  ASSERT_TRUE(expired) << expired.error().to_string();
  EXPECT_EQ(*expired, 1);
  auto gone = (*limits_b)->read("unauthenticated", "192.0.2.7");
  ASSERT_TRUE(gone);
  EXPECT_FALSE(gone->has_value());
}

}  // namespace
}  // namespace conflux::store
