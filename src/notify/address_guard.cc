#include "notify/address_guard.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netdb.h>

#include <memory>
#include <utility>
#include <vector>

namespace conflux::notify {
namespace {

// The address ranges that are not public unicast, with what they are
// (IANA special-purpose registries, RFC 6890).
const std::vector<std::pair<IpNetworks, std::string>>& special_ranges() {
  static const auto ranges = [] {
    const std::vector<std::pair<std::vector<std::string>, std::string>> text = {
        {{"127.0.0.0/8", "::1/128"}, "loopback"},
        {{"169.254.0.0/16", "fe80::/10"}, "link-local"},
        {{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7", "fec0::/10"}, "private"},
        {{"100.64.0.0/10"}, "shared (carrier-grade NAT)"},
        {{"0.0.0.0/8", "::/128"}, "unspecified"},
        {{"224.0.0.0/4", "ff00::/8"}, "multicast"},
        {{"192.0.0.0/24", "198.18.0.0/15", "240.0.0.0/4"}, "reserved"},
        // IPv4 carried in IPv6, where the IPv4 address could be any of the above.
        {{"64:ff9b::/96", "64:ff9b:1::/48", "2002::/16", "2001::/32"}, "IPv4 translation (NAT64, 6to4, Teredo)"},
    };
    std::vector<std::pair<IpNetworks, std::string>> out;
    out.reserve(text.size());
    for (const auto& [networks, what] : text) out.emplace_back(*IpNetworks::parse(networks), what);
    return out;
  }();
  return ranges;
}

}  // namespace

AddressGuard::AddressGuard(IpNetworks allowed) : allowed_(std::move(allowed)) {}

std::string AddressGuard::refusal(const std::string& address) const {
  if (allowed_.contains(address)) return "";
  for (const auto& [networks, what] : special_ranges()) {
    if (networks.contains(address)) return what;
  }
  return "";
}

Status AddressGuard::check_url(const std::string& url) const {
  std::unique_ptr<CURLU, void (*)(CURLU*)> parsed(curl_url(), &curl_url_cleanup);
  if (!parsed || curl_url_set(parsed.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) {
    return Status::invalid_argument("url: not a URL");
  }
  auto part = [&](CURLUPart which) {
    char* value = nullptr;
    std::string out;
    if (curl_url_get(parsed.get(), which, &value, 0) == CURLUE_OK && value) out = value;
    curl_free(value);
    return out;
  };
  const std::string scheme = part(CURLUPART_SCHEME);
  if (scheme != "http" && scheme != "https")
    return Status::invalid_argument("url: must start with http:// or https://");
  if (!part(CURLUPART_USER).empty()) return Status::invalid_argument("url: must not hold a user name or password");
  std::string host = part(CURLUPART_HOST);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty()) return Status::invalid_argument("url: names no host");

  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(host.c_str(), nullptr, &hints, &found); rc != 0) {
    return Status::unavailable("url: host " + host + " does not resolve: " + gai_strerror(rc));
  }
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> guard(found, &freeaddrinfo);
  for (const addrinfo* a = found; a; a = a->ai_next) {
    char text[INET6_ADDRSTRLEN] = {0};
    const void* raw = a->ai_family == AF_INET6
                          ? static_cast<const void*>(&reinterpret_cast<const sockaddr_in6*>(a->ai_addr)->sin6_addr)
                          : static_cast<const void*>(&reinterpret_cast<const sockaddr_in*>(a->ai_addr)->sin_addr);
    if (!inet_ntop(a->ai_family, raw, text, sizeof text)) continue;
    if (const std::string what = refusal(text); !what.empty()) {
      const std::string subject = host == text ? host + " is" : host + " resolves to " + text + ",";
      return Status::invalid_argument("url: " + subject + " a " + what +
                                      " address; webhooks are not sent to loopback, link-local or private "
                                      "networks unless the administrator allows them");
    }
  }
  return Status::ok();
}

}  // namespace conflux::notify
