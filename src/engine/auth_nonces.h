// syncml:auth-md5 nonces for challenges to devices that have not (yet)
// authenticated, made without storing anything (issue #11: no state for
// strangers). A challenge nonce is derived — HMAC(server secret, seed, time
// window) — rather than kept in a table, because a table, on disk or in
// memory, is either unbounded (a flood of invented device ids fills it) or
// bounded and then evictable (the flood pushes out the nonces of real
// devices mid-handshake). A derived nonce costs nothing, survives a restart
// and is the same on every node that shares the secret.
//
// The engine seeds it with the device id and the nonce stored with the
// device's last 212 (empty for a stranger). Every md5 login stores a new one,
// so a digest accepted once is never accepted again: no replay. A digest is
// accepted in its window and the next, so a handshake never straddles a
// window edge and fails.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/clock.h"

namespace conflux::engine {

class ChallengeNonces {
 public:
  static constexpr int64_t kWindowSeconds = 300;

  // `secret` as for SessionIds; `clock` must outlive this.
  ChallengeNonces(const std::string& secret, const Clock& clock);

  // The nonce (base64, as sent in NextNonce) for a challenge now.
  std::string issue(const std::string& seed) const;
  // The challenge nonces a digest may have been made with now.
  std::vector<std::string> accepted(const std::string& seed) const;

 private:
  std::string nonce(const std::string& seed, int64_t window) const;

  const std::string key_;
  const Clock& clock_;
};

}  // namespace conflux::engine
