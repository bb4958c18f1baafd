// One HTTP POST through libcurl, for notifications (webhooks). Redirects are
// not followed: Standard Webhooks counts a 3xx as a failure.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace conflux::notify {

struct PostOptions {
  int timeout_seconds = 15;
  std::string user_agent = "Conflux-notify";
};

// The response's HTTP status; kUnavailable (with curl's reason) when no
// response came: unreachable, refused, timed out.
Result<long> http_post(const std::string& url, const std::vector<std::string>& headers, const std::string& body,
                       const PostOptions& options);

}  // namespace conflux::notify
