// The pieces that keep hostile clients from hurting others (issue #11):
// login throttle, unauthenticated limiter, session ids, challenge nonces.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "engine/auth_nonces.h"
#include "engine/login_throttle.h"
#include "engine/session_ids.h"
#include "engine/unauthenticated_limiter.h"

namespace conflux::engine {
namespace {

TEST(LoginThrottleTest, WrongPasswordsSlowOnlyTheirOwnPairExponentially) {
  ManualClock clock(1000);
  LoginThrottle throttle(clock, /*free_failures=*/3, /*first_delay_seconds=*/1, /*max_delay_seconds=*/60);
  for (int i = 0; i < 3; ++i) throttle.record_failure("alice", "192.0.2.1");
  EXPECT_EQ(throttle.wait_seconds("alice", "192.0.2.1"), 0);  // free ones
  std::vector<int64_t> waits;
  for (int i = 0; i < 8; ++i) {
    throttle.record_failure("alice", "192.0.2.1");
    waits.push_back(throttle.wait_seconds("alice", "192.0.2.1"));
  }
  EXPECT_EQ(waits, (std::vector<int64_t>{1, 2, 4, 8, 16, 32, 60, 60}));
  // Nobody else waits: not alice elsewhere, not bob at that address.
  EXPECT_EQ(throttle.wait_seconds("alice", "192.0.2.2"), 0);
  EXPECT_EQ(throttle.wait_seconds("bob", "192.0.2.1"), 0);
  clock.advance(60);
  EXPECT_EQ(throttle.wait_seconds("alice", "192.0.2.1"), 0);
  throttle.record_success("alice", "192.0.2.1");
  throttle.record_failure("alice", "192.0.2.1");
  EXPECT_EQ(throttle.wait_seconds("alice", "192.0.2.1"), 0);  // starts again from nothing
}

TEST(UnauthenticatedLimiterTest, BurstThenRatePerAddress) {
  ManualClock clock(1000);
  UnauthenticatedLimiter limiter(clock, /*burst=*/3, /*per_minute=*/60);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(limiter.wait_seconds("192.0.2.1"), 0);
    limiter.charge("192.0.2.1");
  }
  EXPECT_EQ(limiter.wait_seconds("192.0.2.1"), 1);
  EXPECT_EQ(limiter.wait_seconds("192.0.2.9"), 0);
  clock.advance(1);
  EXPECT_EQ(limiter.wait_seconds("192.0.2.1"), 0);
}

TEST(SessionIdsTest, OnlyTheWholeIdOpensTheSession) {
  SessionIds ids("server secret");
  const SessionKey key("0123456789abcdef");
  const std::string id = ids.id_for(key);
  ASSERT_EQ(id.rfind(key.str() + ".", 0), 0u) << id;
  ASSERT_TRUE(ids.key_of(id).has_value());
  EXPECT_EQ(*ids.key_of(id), key);
  EXPECT_FALSE(ids.key_of(key.str()).has_value());
  std::string forged = id;
  forged.back() = forged.back() == '0' ? '1' : '0';
  EXPECT_FALSE(ids.key_of(forged).has_value());
  EXPECT_FALSE(ids.key_of("").has_value());
  // Another server secret: another tag (nodes must share the secret).
  EXPECT_FALSE(SessionIds("other secret").key_of(id).has_value());
}

TEST(ChallengeNoncesTest, DerivedPerSeedAndWindow) {
  ManualClock clock(ChallengeNonces::kWindowSeconds * 1000);
  ChallengeNonces nonces("server secret", clock);
  const std::string phone = "IMEI:1\n";  // device id and (no) stored nonce
  const std::string issued = nonces.issue(phone);
  EXPECT_EQ(issued, nonces.issue(phone));  // nothing stored, same answer
  EXPECT_NE(issued, nonces.issue("IMEI:2\n"));
  // Once the device logged in, its stored nonce changes the seed: the
  // nonce of that login is no longer accepted (no replay).
  auto after_login = nonces.accepted("IMEI:1\nbmV3");
  EXPECT_EQ(std::find(after_login.begin(), after_login.end(), issued), after_login.end());
  clock.advance(ChallengeNonces::kWindowSeconds);
  auto accepted = nonces.accepted(phone);
  EXPECT_NE(std::find(accepted.begin(), accepted.end(), issued), accepted.end());  // the window after
  clock.advance(ChallengeNonces::kWindowSeconds);
  accepted = nonces.accepted(phone);
  EXPECT_EQ(std::find(accepted.begin(), accepted.end(), issued), accepted.end());  // then no more
}

}  // namespace
}  // namespace conflux::engine
