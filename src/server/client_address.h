// The address of the client behind a request. Behind a reverse proxy every
// connection comes from the proxy, and the proxy names the client in
// X-Forwarded-For or Forwarded (RFC 7239). Those headers are believed only
// when the connection comes from a configured proxy (`trusted_proxies`):
// anyone else could name any address, and so slip out of per-address limits
// or get someone else's address throttled.
#pragma once

#include <string>

#include "common/ip_networks.h"

namespace conflux::server {

// `peer`: the TCP peer. From a trusted proxy: the right-most address of the
// forwarding chain that is not itself a trusted proxy (each proxy appends
// the address it saw, so left of the first untrusted hop is unverifiable).
// Forwarded wins over X-Forwarded-For when both are present. A chain of
// nothing but trusted proxies, or a header that names no IP address,
// yields `peer`.
std::string client_address(const std::string& peer, const std::string& x_forwarded_for, const std::string& forwarded,
                           const IpNetworks& trusted_proxies);

// Whether the client reached us over HTTPS: the connection itself is TLS,
// or a trusted proxy that terminated TLS says so (Forwarded proto=https,
// else X-Forwarded-Proto: https; its last hop counts). From anyone else
// those headers are ignored.
bool reached_over_https(bool tls, const std::string& peer, const std::string& x_forwarded_proto,
                        const std::string& forwarded, const IpNetworks& trusted_proxies);

}  // namespace conflux::server
