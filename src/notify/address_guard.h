// Where a user's webhook may be sent (a guard against server-side request
// forgery): a user must not make the server POST to its own loopback, the
// link-local metadata services of a cloud, or the private network behind it.
// A subscription's URL is checked when it is made (check_url: every address
// its host resolves to), and again at every delivery on the address the
// connection is actually opened to (http_post's PostOptions::permit_address),
// so a name that resolves elsewhere later is caught too. The administrator's
// [notify] subscription_allowed_networks lets listed networks through.
//
// Threading: const methods from any thread.
#pragma once

#include <string>

#include "common/ip_networks.h"
#include "common/status.h"

namespace conflux::notify {

class AddressGuard {
 public:
  // `allowed`: networks let through although not public.
  explicit AddressGuard(IpNetworks allowed);

  // Empty when `address` (numeric, IPv4 or IPv6) may be sent to; otherwise
  // what it is ("loopback", "private", ...), for the message.
  std::string refusal(const std::string& address) const;

  // OK when `url` is http(s):// with a host whose every address may be sent
  // to; kInvalidArgument saying why not (for the user), kUnavailable when
  // the host name does not resolve.
  Status check_url(const std::string& url) const;

 private:
  IpNetworks allowed_;
};

}  // namespace conflux::notify
