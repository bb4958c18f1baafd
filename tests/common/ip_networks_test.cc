#include "common/ip_networks.h"

#include <gtest/gtest.h>

namespace conflux {
namespace {

TEST(IpNetworksTest, MatchesAddressesAndNetworks) {
  auto set = IpNetworks::parse({"10.0.0.0/8", "192.168.1.7", "fd00::/8", "::1"});
  ASSERT_TRUE(set) << set.error().message();
  EXPECT_TRUE(set->contains("10.200.3.4"));
  EXPECT_FALSE(set->contains("11.0.0.1"));
  EXPECT_TRUE(set->contains("192.168.1.7"));
  EXPECT_FALSE(set->contains("192.168.1.8"));
  EXPECT_TRUE(set->contains("fd12::5"));
  EXPECT_FALSE(set->contains("fe80::1"));
  EXPECT_TRUE(set->contains("::1"));
  EXPECT_TRUE(set->contains("::ffff:10.1.2.3"));  // IPv4 on a dual-stack socket
  EXPECT_FALSE(set->contains("not an address"));
  EXPECT_FALSE(set->contains(""));
}

TEST(IpNetworksTest, PrefixNotOnAByteBoundary) {
  auto set = IpNetworks::parse({"172.16.0.0/12"});
  ASSERT_TRUE(set);
  EXPECT_TRUE(set->contains("172.31.255.255"));
  EXPECT_FALSE(set->contains("172.32.0.1"));
}

TEST(IpNetworksTest, RefusesWhatIsNotANetwork) {
  EXPECT_FALSE(IpNetworks::parse({"10.0.0.0/33"}));
  EXPECT_FALSE(IpNetworks::parse({"10.0.0.0/"}));
  EXPECT_FALSE(IpNetworks::parse({"proxy.example"}));
  EXPECT_FALSE(IpNetworks::parse({"10.0.0.0/8x"}));
  EXPECT_TRUE(IpNetworks::parse({}));
}

}  // namespace
}  // namespace conflux
