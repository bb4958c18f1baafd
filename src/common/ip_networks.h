// A set of IP addresses and networks ("10.0.0.5", "10.0.0.0/8", "::1",
// "fd00::/8"), for configuration such as `trusted_proxies`. An IPv4-mapped
// IPv6 address ("::ffff:10.0.0.5", how a dual-stack socket reports an IPv4
// peer) is the IPv4 address.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace conflux {

class IpNetworks {
 public:
  // kInvalidArgument naming the first entry that is not an address or
  // address/prefix-length.
  static Result<IpNetworks> parse(const std::vector<std::string>& entries);

  // False for text that is not an IP address.
  bool contains(const std::string& address) const;
  bool empty() const { return networks_.empty(); }

 private:
  struct Network {
    bool v6 = false;
    std::array<uint8_t, 16> bytes{};
    int prefix = 0;  // leading bits that must match
  };
  std::vector<Network> networks_;
};

}  // namespace conflux
