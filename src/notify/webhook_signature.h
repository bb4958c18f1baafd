// Standard Webhooks 1.0 signatures (DAV-PG-REFERENCE §E1): the receiver
// checks  webhook-signature: v1,<base64 HMAC-SHA256(key, id "." timestamp
// "." body)>  where key is the base64 after "whsec_" in the secret.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace conflux::notify {

// "v1,<base64>" for one message. kInvalidArgument for a secret that is not
// whsec_ and base64 (the configuration checks it earlier).
Result<std::string> sign_webhook(std::string_view secret, std::string_view id, int64_t timestamp,
                                 std::string_view body);

}  // namespace conflux::notify
