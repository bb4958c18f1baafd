#include "engine/auth_nonces.h"

#include "common/base64.h"
#include "common/digest.h"

namespace conflux::engine {

ChallengeNonces::ChallengeNonces(const std::string& secret, const Clock& clock)
    : key_(hmac_sha256_hex(secret.empty() ? random_hex(32) : secret, "conflux challenge nonces")), clock_(clock) {}

std::string ChallengeNonces::nonce(const std::string& seed, int64_t window) const {
  // 16 hex characters, as random_hex(8) makes for the stored nonces; the seed
  // is length-prefixed so no two (seed, window) pairs share an input.
  const std::string input = std::to_string(seed.size()) + ":" + seed + ":" + std::to_string(window);
  return base64_encode(hmac_sha256_hex(key_, input).substr(0, 16));
}

std::string ChallengeNonces::issue(const std::string& seed) const {
  return nonce(seed, clock_.now_seconds() / kWindowSeconds);
}

std::vector<std::string> ChallengeNonces::accepted(const std::string& seed) const {
  const int64_t window = clock_.now_seconds() / kWindowSeconds;
  return {nonce(seed, window), nonce(seed, window - 1)};
}

}  // namespace conflux::engine
