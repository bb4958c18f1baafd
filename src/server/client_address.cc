#include "server/client_address.h"

#include <cctype>
#include <vector>

namespace conflux::server {
namespace {

std::string trim(const std::string& s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  size_t pos = 0;
  for (;;) {
    const size_t next = s.find(sep, pos);
    parts.push_back(trim(s.substr(pos, next == std::string::npos ? std::string::npos : next - pos)));
    if (next == std::string::npos) return parts;
    pos = next + 1;
  }
}

// "192.0.2.1", "192.0.2.1:4711", "[2001:db8::1]", "[2001:db8::1]:4711",
// "2001:db8::1" → the address alone.
std::string strip_port(std::string node) {
  if (!node.empty() && node.front() == '"' && node.back() == '"' && node.size() >= 2) {
    node = node.substr(1, node.size() - 2);
  }
  if (!node.empty() && node.front() == '[') {
    const auto close = node.find(']');
    return close == std::string::npos ? "" : node.substr(1, close - 1);
  }
  if (node.find(':') != node.rfind(':')) return node;  // bare IPv6
  return node.substr(0, node.find(':'));
}

// The for= nodes of a Forwarded header (RFC 7239 §4), in order.
std::vector<std::string> forwarded_for_nodes(const std::string& forwarded) {
  std::vector<std::string> nodes;
  for (const auto& element : split(forwarded, ',')) {
    for (const auto& pair : split(element, ';')) {
      if (pair.size() > 4 &&
          (pair.compare(0, 4, "for=") == 0 || pair.compare(0, 4, "For=") == 0 || pair.compare(0, 4, "FOR=") == 0)) {
        nodes.push_back(strip_port(trim(pair.substr(4))));
      }
    }
  }
  return nodes;
}

// The value of the last proto= of a Forwarded header, lower case; empty
// when there is none.
std::string forwarded_proto(const std::string& forwarded) {
  std::string proto;
  for (const auto& element : split(forwarded, ',')) {
    for (const auto& pair : split(element, ';')) {
      if (pair.size() <= 6) continue;
      std::string name = pair.substr(0, 6);
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (name == "proto=") proto = pair.substr(6);
    }
  }
  if (proto.size() >= 2 && proto.front() == '"' && proto.back() == '"') proto = proto.substr(1, proto.size() - 2);
  for (auto& c : proto) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return proto;
}

}  // namespace

bool reached_over_https(bool tls, const std::string& peer, const std::string& x_forwarded_proto,
                        const std::string& forwarded, const IpNetworks& trusted_proxies) {
  if (tls) return true;
  if (!trusted_proxies.contains(peer)) return false;
  std::string proto = forwarded_proto(forwarded);
  if (proto.empty()) {
    const auto hops = split(x_forwarded_proto, ',');
    proto = hops.back();
    for (auto& c : proto) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return proto == "https";
}

std::string client_address(const std::string& peer, const std::string& x_forwarded_for, const std::string& forwarded,
                           const IpNetworks& trusted_proxies) {
  if (!trusted_proxies.contains(peer)) return peer;
  std::vector<std::string> chain;
  if (!forwarded.empty()) {
    chain = forwarded_for_nodes(forwarded);
  } else if (!x_forwarded_for.empty()) {
    for (const auto& node : split(x_forwarded_for, ',')) chain.push_back(strip_port(node));
  }
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    if (trusted_proxies.contains(*it)) continue;
    // "unknown" or an obfuscated node: not an address we can count by.
    return it->find('/') == std::string::npos && IpNetworks::parse({*it}) ? *it : peer;
  }
  return peer;
}

}  // namespace conflux::server
