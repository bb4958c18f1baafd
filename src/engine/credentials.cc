#include "engine/credentials.h"

#include "common/base64.h"

namespace conflux::engine {

Result<caf::Credentials> decode_credentials(const protocol::Cred& cred, const std::string& loc_name,
                                            const std::string& nonce_b64) {
  if (cred.meta.type == kAuthMd5) {
    if (loc_name.empty()) return Status::invalid_argument("md5 credentials without a user name (Source LocName)");
    if (nonce_b64.empty()) return Status::unauthenticated("no nonce was issued to this device yet");
    auto nonce = base64_decode(nonce_b64);
    if (!nonce) return Status::internal("stored nonce is not base64");
    caf::Credentials creds;
    creds.user = UserId(loc_name);
    creds.secret = cred.data;
    creds.scheme = caf::CredentialScheme::kMd5Digest;
    creds.nonce = std::move(*nonce);
    return creds;
  }
  if (!cred.meta.type.empty() && cred.meta.type != kAuthBasic) {
    return Status::unimplemented("auth type " + cred.meta.type + " is not accepted");
  }
  auto decoded = base64_decode(cred.data);
  if (!decoded) return Status::invalid_argument("basic credentials are not base64");
  auto colon = decoded->find(':');
  if (colon == std::string::npos) return Status::invalid_argument("basic credentials lack ':'");
  caf::Credentials creds;
  creds.user = UserId(decoded->substr(0, colon));
  creds.secret = decoded->substr(colon + 1);
  return creds;
}

std::string claimed_user(const protocol::Cred& cred, const std::string& loc_name) {
  if (cred.meta.type == kAuthMd5) return loc_name;
  auto creds = decode_credentials(cred, loc_name, "");
  return creds ? creds->user.str() : loc_name;
}

protocol::Chal basic_challenge() {
  protocol::Chal chal;
  chal.meta.type = kAuthBasic;
  chal.meta.format = protocol::item_format_name(protocol::ItemFormat::kB64);
  return chal;
}

protocol::Chal md5_challenge(const std::string& next_nonce_b64) {
  protocol::Chal chal;
  chal.meta.type = kAuthMd5;
  chal.meta.format = protocol::item_format_name(protocol::ItemFormat::kB64);
  chal.meta.next_nonce = next_nonce_b64;
  return chal;
}

}  // namespace conflux::engine
