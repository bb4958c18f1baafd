// syncml:auth-md5 nonces for challenges to devices that have not (yet)
// authenticated, made without storing anything (issue #11: no state for
// strangers). A challenge nonce is derived — HMAC(server secret, device id,
// time window) — rather than kept in a table, because a table, on disk or in
// memory, is either unbounded (a flood of invented device ids fills it) or
// bounded and then evictable (the flood pushes out the nonces of real
// devices mid-handshake). A derived nonce costs nothing, survives a restart
// and is the same on every node that shares the secret.
//
// A digest made with it is accepted in its window and the next (so a
// handshake never straddles a window edge and fails); within that time
// `first_use` refuses the same nonce twice for a device, so a captured
// digest cannot be replayed on this node. The nonce a device gets with its
// 212 (for its next session) is still random and stored: it belongs to a
// device that proved itself.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/ids.h"

namespace conflux::engine {

class ChallengeNonces {
 public:
  static constexpr int64_t kWindowSeconds = 300;

  // `secret` as for SessionIds; `clock` must outlive this.
  ChallengeNonces(const std::string& secret, const Clock& clock);

  // The nonce (base64, as sent in NextNonce) for a challenge to `device` now.
  std::string issue(const DeviceId& device) const;
  // The challenge nonces a digest from `device` may have been made with now.
  std::vector<std::string> accepted(const DeviceId& device) const;
  // Call after a login made with `nonce_b64`: true the first time, false
  // when the same device logged in with it before (a replayed digest).
  // Bounded by real logins: strangers never get here.
  bool first_use(const DeviceId& device, const std::string& nonce_b64);

 private:
  std::string nonce(const DeviceId& device, int64_t window) const;

  const std::string key_;
  const Clock& clock_;
  std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, int64_t> used_;  // (device, nonce) → forget after; guarded by mutex_
};

}  // namespace conflux::engine
