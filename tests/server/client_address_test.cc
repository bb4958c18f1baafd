#include "server/client_address.h"

#include <gtest/gtest.h>

namespace conflux::server {
namespace {

IpNetworks proxies() { return *IpNetworks::parse({"10.0.0.0/8"}); }

TEST(ClientAddressTest, HeadersCountOnlyFromATrustedProxy) {
  EXPECT_EQ(client_address("192.0.2.5", "198.51.100.1", "", proxies()), "192.0.2.5");
  EXPECT_EQ(client_address("10.0.0.2", "198.51.100.1", "", proxies()), "198.51.100.1");
  EXPECT_EQ(client_address("10.0.0.2", "", "", proxies()), "10.0.0.2");
}

TEST(ClientAddressTest, RightMostUntrustedHopOfTheChain) {
  // The client may prepend anything; only hops our proxies added count.
  EXPECT_EQ(client_address("10.0.0.2", "1.2.3.4, 198.51.100.1, 10.0.0.9", "", proxies()), "198.51.100.1");
  EXPECT_EQ(client_address("10.0.0.2", "10.0.0.7, 10.0.0.9", "", proxies()), "10.0.0.2");
  EXPECT_EQ(client_address("10.0.0.2", "198.51.100.1:4711", "", proxies()), "198.51.100.1");
}

TEST(ClientAddressTest, ForwardedHeader) {
  EXPECT_EQ(client_address("10.0.0.2", "", R"(for=192.0.2.60;proto=http;by=203.0.113.43)", proxies()), "192.0.2.60");
  EXPECT_EQ(client_address("10.0.0.2", "", R"(for="[2001:db8:cafe::17]:4711", for=10.0.0.3)", proxies()),
            "2001:db8:cafe::17");
  EXPECT_EQ(client_address("10.0.0.2", "198.51.100.1", R"(for=192.0.2.60)", proxies()), "192.0.2.60");
  EXPECT_EQ(client_address("10.0.0.2", "", "for=unknown", proxies()), "10.0.0.2");
  EXPECT_EQ(client_address("10.0.0.2", "", "for=_hidden", proxies()), "10.0.0.2");
}

TEST(ClientAddressTest, HttpsFromOurTlsOrATrustedProxysWord) {
  EXPECT_TRUE(reached_over_https(true, "192.0.2.5", "", "", proxies()));
  EXPECT_FALSE(reached_over_https(false, "192.0.2.5", "https", "proto=https", proxies()));  // not a proxy of ours
  EXPECT_TRUE(reached_over_https(false, "10.0.0.2", "https", "", proxies()));
  EXPECT_TRUE(reached_over_https(false, "10.0.0.2", "http, HTTPS", "", proxies()));  // the last hop counts
  EXPECT_FALSE(reached_over_https(false, "10.0.0.2", "http", "", proxies()));
  EXPECT_TRUE(reached_over_https(false, "10.0.0.2", "http", R"(for=192.0.2.60;proto="https")", proxies()));
  EXPECT_FALSE(reached_over_https(false, "10.0.0.2", "", "", proxies()));
}

}  // namespace
}  // namespace conflux::server
