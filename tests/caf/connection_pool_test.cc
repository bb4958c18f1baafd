// ConnectionPool: begin_connect/end_connect per (datastore, user), reuse
// within and across sessions while not idle too long, and a bound. Time is a
// ManualClock; the adapter only counts.
#include "caf/connection_pool.h"

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"

namespace conflux::caf {
namespace {

// Counts connects and disconnects per user; refuses users listed in `refuse`.
class CountingAdapter final : public ContentAdapter {
 public:
  std::map<std::string, int> connects;
  std::map<std::string, int> disconnects;
  std::string refuse;

  AdapterCaps caps() const override { return kCapNone; }
  Status verify_credentials(const std::string&, const Credentials&) override { return Status::ok(); }
  Status begin_connect(const UserId& user, const Credentials*) override {
    if (user.str() == refuse) return Status::unavailable("back end down");
    ++connects[user.str()];
    return Status::ok();
  }
  void end_connect(const UserId& user) override { ++disconnects[user.str()]; }
  Result<Anchor> current_anchor(const StoreRef&) override { return Anchor("0"); }
  Result<ChangeSet> changes_since(const StoreRef&, const Anchor&) override { return ChangeSet{}; }
  std::vector<ApplyResult> apply(const StoreRef&, std::vector<SyncObj>&& batch) override {
    return std::vector<ApplyResult>(batch.size());
  }
  Result<std::vector<SyncObj>> search(const StoreRef&, const Query&) override { return std::vector<SyncObj>{}; }
  Result<ExecResult> execute(const StoreRef&, const Command&) override { return ExecResult{}; }
};

class ConnectionPoolTest : public ::testing::Test {
 protected:
  Result<ConnectionPool::Lease> lease(const std::string& user, const std::string& database = "contacts") {
    return pool_.lease(database, adapter_, UserId(user), nullptr);
  }

  ManualClock clock_{1'700'000'000};
  CountingAdapter adapter_;
  ConnectionPool pool_{clock_, ConnectionPoolOptions{.idle_seconds = 300, .max_connections = 2}};
};

TEST_F(ConnectionPoolTest, OneConnectPerUserReusedWithinAndAcrossSessions) {
  for (int call = 0; call < 5; ++call) ASSERT_TRUE(lease("alice"));  // one session's calls
  clock_.advance(299);
  ASSERT_TRUE(lease("alice"));  // the next session, within the idle period
  EXPECT_EQ(adapter_.connects["alice"], 1);
  EXPECT_EQ(adapter_.disconnects["alice"], 0);
  EXPECT_EQ(pool_.open_connections(), 1u);
}

TEST_F(ConnectionPoolTest, IdleConnectionEndsAndTheNextUseConnectsAgain) {
  ASSERT_TRUE(lease("alice"));
  clock_.advance(300);
  pool_.close_idle();
  EXPECT_EQ(adapter_.disconnects["alice"], 1);
  EXPECT_EQ(pool_.open_connections(), 0u);
  ASSERT_TRUE(lease("alice"));
  EXPECT_EQ(adapter_.connects["alice"], 2);
}

TEST_F(ConnectionPoolTest, IdleTimeCountsFromTheEndOfTheLastLease) {
  {
    auto held = lease("alice");
    ASSERT_TRUE(held);
    clock_.advance(1000);  // a long call: a leased connection is never idle
    pool_.close_idle();
    EXPECT_EQ(adapter_.disconnects["alice"], 0);
  }
  clock_.advance(299);
  pool_.close_idle();
  EXPECT_EQ(adapter_.disconnects["alice"], 0);
  clock_.advance(1);
  pool_.close_idle();
  EXPECT_EQ(adapter_.disconnects["alice"], 1);
}

TEST_F(ConnectionPoolTest, UsersAndDatastoresHaveConnectionsOfTheirOwn) {
  ASSERT_TRUE(lease("alice", "contacts"));
  ASSERT_TRUE(lease("alice", "calendar"));
  EXPECT_EQ(adapter_.connects["alice"], 2);
  EXPECT_EQ(pool_.open_connections(), 2u);
}

TEST_F(ConnectionPoolTest, FullPoolEndsTheLeastRecentlyUsedIdleConnection) {
  ASSERT_TRUE(lease("alice"));
  clock_.advance(10);
  ASSERT_TRUE(lease("bob"));
  clock_.advance(10);
  ASSERT_TRUE(lease("carol"));  // max 2: alice's goes
  EXPECT_EQ(adapter_.disconnects["alice"], 1);
  EXPECT_EQ(adapter_.disconnects["bob"], 0);
  EXPECT_EQ(pool_.open_connections(), 2u);
}

TEST_F(ConnectionPoolTest, FullPoolOfLeasedConnectionsRefusesAnother) {
  auto a = lease("alice");
  auto b = lease("bob");
  ASSERT_TRUE(a);
  ASSERT_TRUE(b);
  auto c = lease("carol");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(adapter_.connects["carol"], 0);
  EXPECT_EQ(adapter_.disconnects["alice"] + adapter_.disconnects["bob"], 0);
}

TEST_F(ConnectionPoolTest, FailedConnectIsReturnedAndNotPooled) {
  adapter_.refuse = "alice";
  auto refused = lease("alice");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), StatusCode::kUnavailable);
  EXPECT_EQ(pool_.open_connections(), 0u);
  adapter_.refuse.clear();
  ASSERT_TRUE(lease("alice"));
  EXPECT_EQ(adapter_.connects["alice"], 1);
}

TEST_F(ConnectionPoolTest, DestroyingThePoolEndsEveryConnection) {
  CountingAdapter adapter;
  {
    ConnectionPool pool(clock_, ConnectionPoolOptions{});
    ASSERT_TRUE(pool.lease("contacts", adapter, UserId("alice"), nullptr));
    ASSERT_TRUE(pool.lease("contacts", adapter, UserId("bob"), nullptr));
  }
  EXPECT_EQ(adapter.disconnects["alice"], 1);
  EXPECT_EQ(adapter.disconnects["bob"], 1);
}

}  // namespace
}  // namespace conflux::caf
