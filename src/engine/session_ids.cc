#include "engine/session_ids.h"

#include <sodium.h>

#include "common/base64.h"
#include "common/digest.h"

namespace conflux::engine {
namespace {
constexpr size_t kTagHexChars = 32;  // 128 bits
}  // namespace

SessionIds::SessionIds(const std::string& secret)
    : key_(hmac_sha256_hex(secret.empty() ? random_hex(32) : secret, "conflux session ids")) {}

std::string SessionIds::tag(const SessionKey& key) const {
  return hmac_sha256_hex(key_, key.str()).substr(0, kTagHexChars);
}

std::string SessionIds::id_for(const SessionKey& key) const { return key.str() + "." + tag(key); }

std::optional<SessionKey> SessionIds::key_of(const std::string& id) const {
  const auto dot = id.rfind('.');
  if (dot == std::string::npos || dot == 0 || id.size() - dot - 1 != kTagHexChars) return std::nullopt;
  SessionKey key(id.substr(0, dot));
  const std::string expected = tag(key);
  // Constant time: the comparison must not tell how much of a guess was right.
  if (sodium_memcmp(expected.data(), id.data() + dot + 1, kTagHexChars) != 0) return std::nullopt;
  return key;
}

}  // namespace conflux::engine
