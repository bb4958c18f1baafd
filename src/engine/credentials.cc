#include "engine/credentials.h"

#include "common/base64.h"

namespace conflux::engine {

Result<caf::Credentials> decode_basic_credentials(const protocol::Cred& cred) {
  // A Cred without a type is basic (RepPro default).
  if (!cred.meta.type.empty() && cred.meta.type != kAuthBasic) {
    return Status::unimplemented("auth type " + cred.meta.type + " is not accepted");
  }
  // "b64 format does NOT mean b64 twice": the data is base64 exactly once.
  auto decoded = base64_decode(cred.data);
  if (!decoded) return Status::invalid_argument("basic credentials are not base64");
  auto colon = decoded->find(':');
  if (colon == std::string::npos) return Status::invalid_argument("basic credentials lack ':'");
  return caf::Credentials{UserId(decoded->substr(0, colon)), decoded->substr(colon + 1)};
}

protocol::Chal basic_challenge() {
  protocol::Chal chal;
  chal.meta.type = kAuthBasic;
  chal.meta.format = "b64";
  return chal;
}

}  // namespace conflux::engine
