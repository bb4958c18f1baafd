#include "latency.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

namespace conflux::loadgen {
namespace {

using std::chrono::milliseconds;

TEST(LoadgenLatency, NearestRankOfOneToAHundred) {
  std::vector<std::chrono::nanoseconds> samples;
  for (int i = 1; i <= 100; ++i) samples.push_back(milliseconds(i));
  std::shuffle(samples.begin(), samples.end(), std::mt19937(5));  // order must not matter
  const Percentiles p = percentiles(samples);
  EXPECT_EQ(p.count, 100u);
  EXPECT_DOUBLE_EQ(p.p50_ms, 50);
  EXPECT_DOUBLE_EQ(p.p90_ms, 90);
  EXPECT_DOUBLE_EQ(p.p99_ms, 99);
  EXPECT_DOUBLE_EQ(p.max_ms, 100);
}

TEST(LoadgenLatency, FewSamplesRoundUpToARealSample) {
  const Percentiles p = percentiles({milliseconds(30), milliseconds(10), milliseconds(20)});
  EXPECT_DOUBLE_EQ(p.p50_ms, 20);
  EXPECT_DOUBLE_EQ(p.p90_ms, 30);
  EXPECT_DOUBLE_EQ(p.max_ms, 30);
}

TEST(LoadgenLatency, NoSamplesGiveZeros) {
  const Percentiles p = percentiles({});
  EXPECT_EQ(p.count, 0u);
  EXPECT_EQ(p.max_ms, 0);
}

}  // namespace
}  // namespace conflux::loadgen
