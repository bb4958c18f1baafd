#include "engine/auth_nonces.h"

#include "common/base64.h"
#include "common/digest.h"

namespace conflux::engine {

ChallengeNonces::ChallengeNonces(const std::string& secret, const Clock& clock)
    : key_(hmac_sha256_hex(secret.empty() ? random_hex(32) : secret, "conflux challenge nonces")), clock_(clock) {}

std::string ChallengeNonces::nonce(const DeviceId& device, int64_t window) const {
  // 16 hex characters, as random_hex(8) made before; the device id is
  // length-prefixed so no two (device, window) pairs share an input.
  const std::string input = std::to_string(device.str().size()) + ":" + device.str() + ":" + std::to_string(window);
  return base64_encode(hmac_sha256_hex(key_, input).substr(0, 16));
}

std::string ChallengeNonces::issue(const DeviceId& device) const {
  return nonce(device, clock_.now_seconds() / kWindowSeconds);
}

std::vector<std::string> ChallengeNonces::accepted(const DeviceId& device) const {
  const int64_t window = clock_.now_seconds() / kWindowSeconds;
  return {nonce(device, window), nonce(device, window - 1)};
}

bool ChallengeNonces::first_use(const DeviceId& device, const std::string& nonce_b64) {
  const int64_t now = clock_.now_seconds();
  std::lock_guard lock(mutex_);
  std::erase_if(used_, [&](const auto& entry) { return entry.second < now; });
  // Accepted for at most two windows from its own.
  return used_.emplace(std::make_pair(device.str(), nonce_b64), now + 2 * kWindowSeconds).second;
}

}  // namespace conflux::engine
