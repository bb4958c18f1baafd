#include "common/ip_networks.h"

#include <arpa/inet.h>

#include <cstring>
#include <optional>

namespace conflux {
namespace {

struct Parsed {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};
};

// inet_pton rather than a hand-written parser: it is the libc's own.
std::optional<Parsed> parse_address(const std::string& text) {
  Parsed p;
  in_addr v4{};
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    std::memcpy(p.bytes.data(), &v4, 4);
    return p;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, text.c_str(), &v6) != 1) return std::nullopt;
  static constexpr uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(&v6, kMappedPrefix, 12) == 0) {
    std::memcpy(p.bytes.data(), reinterpret_cast<const uint8_t*>(&v6) + 12, 4);
    return p;
  }
  p.v6 = true;
  std::memcpy(p.bytes.data(), &v6, 16);
  return p;
}

}  // namespace

Result<IpNetworks> IpNetworks::parse(const std::vector<std::string>& entries) {
  IpNetworks set;
  for (const auto& entry : entries) {
    const auto slash = entry.find('/');
    auto address = parse_address(entry.substr(0, slash));
    if (!address) return Status::invalid_argument("'" + entry + "' is not an IP address or network");
    Network n;
    n.v6 = address->v6;
    n.bytes = address->bytes;
    const int max_prefix = n.v6 ? 128 : 32;
    n.prefix = max_prefix;
    if (slash != std::string::npos) {
      const std::string length = entry.substr(slash + 1);
      if (length.empty() || length.size() > 3 || length.find_first_not_of("0123456789") != std::string::npos ||
          std::stoi(length) > max_prefix) {
        return Status::invalid_argument("'" + entry + "': the prefix length must be 0 to " +
                                        std::to_string(max_prefix));
      }
      n.prefix = std::stoi(length);
    }
    set.networks_.push_back(n);
  }
  return set;
}

bool IpNetworks::contains(const std::string& text) const {
  auto address = parse_address(text);
  if (!address) return false;
  for (const auto& n : networks_) {
    if (n.v6 != address->v6) continue;
    const int full = n.prefix / 8;
    const int rest = n.prefix % 8;
    if (std::memcmp(n.bytes.data(), address->bytes.data(), full) != 0) continue;
    if (rest != 0) {
      const uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
      if ((n.bytes[full] & mask) != (address->bytes[full] & mask)) continue;
    }
    return true;
  }
  return false;
}

}  // namespace conflux
