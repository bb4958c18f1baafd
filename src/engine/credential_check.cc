// Checking a Cred against the nonces it may have been made with
// (engine/auth_nonces.h explains why a challenge nonce is derived).
#include "common/log.h"
#include "engine/credentials.h"
#include "engine/message_run.h"

namespace conflux::engine {

Result<std::vector<std::string>> SyncEngine::MessageRun::credential_nonces(const protocol::Cred& cred) {
  if (cred.meta.type != kAuthMd5) return std::vector<std::string>{""};
  auto stored = engine_.state_.auth_nonce(session_.device);
  if (!stored) return stored.error();
  std::vector<std::string> nonces;
  if (!stored->empty()) nonces.push_back(*stored);
  // The challenge nonces are derived from the device id and its stored nonce
  // (MessageRun::challenge): a login stores a new one, so a digest accepted
  // once never passes again (no replay), without any state for strangers.
  for (auto& derived : engine_.nonces_.accepted(session_.device.str() + '\n' + *stored)) {
    nonces.push_back(std::move(derived));
  }
  return nonces;
}

CheckedLogin SyncEngine::MessageRun::check_credentials(const protocol::Cred& cred,
                                                       const std::vector<std::string>& nonces) {
  CheckedLogin login;
  for (const auto& nonce : nonces) {
    login.nonce = nonce;
    login.creds = decode_credentials(cred, in_.hdr.source.loc_name, nonce);
    if (!login.creds) return login;
    login.token = engine_.caf_.authenticate(*login.creds, caf::TokenKind::kReadWrite);
    if (login.token) return login;
  }
  return login;
}

}  // namespace conflux::engine
