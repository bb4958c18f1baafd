// One HTTP POST through libcurl, for notifications (webhooks). Redirects are
// not followed: Standard Webhooks counts a 3xx as a failure.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace conflux::notify {

struct PostOptions {
  int timeout_seconds = 15;
  std::string user_agent = "Conflux-notify";
  // When set: asked for every address a connection is about to be opened to
  // (after DNS resolution); a non-empty answer (what the address is) refuses
  // it, and the POST fails with kPermissionDenied.
  std::function<std::string(const std::string& address)> refuse_address;
};

struct PostResponse {
  long status = 0;
  std::string retry_after;  // the Retry-After header as sent; empty: none
};

// The response's status and the headers a sender acts on; kUnavailable (with
// curl's reason) when no response came: unreachable, refused, timed out;
// kPermissionDenied when options.refuse_address refused the address.
Result<PostResponse> http_post(const std::string& url, const std::vector<std::string>& headers, const std::string& body,
                               const PostOptions& options);

// How long a Retry-After value (RFC 9110 §10.2.3: delay-seconds or an
// HTTP-date) asks to wait at `now`; nullopt when it is neither. A date in the
// past is 0.
std::optional<int64_t> retry_after_seconds(const std::string& value, int64_t now);

}  // namespace conflux::notify
