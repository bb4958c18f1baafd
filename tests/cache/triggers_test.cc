#include "cache/triggers.h"

#include <gtest/gtest.h>

namespace conflux::cache {
namespace {

TEST(TriggerTest, EmptyQueueIsNeverDue) {
  EXPECT_FALSE(Trigger::amount(1).due(0, 1000, 0));
  EXPECT_FALSE(Trigger::interval(60).due(0, 1000, 0));
  EXPECT_FALSE(Trigger::combined(3, 60).due(0, 1000, 0));
}

TEST(TriggerTest, AmountOneIsTrickle) {
  const Trigger t = Trigger::amount(1);
  EXPECT_TRUE(t.due(1, 100, 100));
  EXPECT_TRUE(t.due(7, 100, 100));
}

TEST(TriggerTest, AmountWaitsForN) {
  const Trigger t = Trigger::amount(3);
  EXPECT_FALSE(t.due(1, 10'000, 0));  // time plays no part
  EXPECT_FALSE(t.due(2, 10'000, 0));
  EXPECT_TRUE(t.due(3, 0, 0));
  EXPECT_TRUE(t.due(4, 0, 0));
}

TEST(TriggerTest, IntervalCountsFromLastPropagation) {
  const Trigger t = Trigger::interval(60);
  EXPECT_FALSE(t.due(100, 1059, 1000));  // length plays no part
  EXPECT_TRUE(t.due(1, 1060, 1000));
  EXPECT_TRUE(t.due(1, 5000, 1000));
}

TEST(TriggerTest, CombinedFiresOnWhicheverComesFirst) {
  const Trigger t = Trigger::combined(3, 60);
  EXPECT_FALSE(t.due(2, 1059, 1000));
  EXPECT_TRUE(t.due(3, 1001, 1000));  // amount first
  EXPECT_TRUE(t.due(1, 1060, 1000));  // interval first
}

TEST(TriggerTest, FromSettings) {
  caf::CacheSettings s;
  EXPECT_EQ(Trigger::from_settings(s).describe(), "amount(1)");
  s.trigger = caf::CacheTrigger::kCombined;
  s.amount = 5;
  s.interval_seconds = 30;
  EXPECT_EQ(Trigger::from_settings(s).describe(), "combined(5, 30s)");
  s.trigger = caf::CacheTrigger::kInterval;
  EXPECT_EQ(Trigger::from_settings(s).describe(), "interval(30s)");
}

}  // namespace
}  // namespace conflux::cache
