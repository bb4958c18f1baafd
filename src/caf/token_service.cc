#include "caf/token_service.h"

#include <sodium.h>

#include <vector>

#include "common/base64.h"

namespace conflux::caf {
namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t pos; (pos = s.find(sep, start)) != std::string::npos; start = pos + 1) {
    parts.push_back(s.substr(start, pos - start));
  }
  parts.push_back(s.substr(start));
  return parts;
}

}  // namespace

TokenService::TokenService(std::string key, const Clock& clock, int64_t lifetime_seconds)
    : key_(std::move(key)), clock_(clock), lifetime_seconds_(lifetime_seconds) {}

std::string TokenService::sign(const std::string& payload) const {
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(key_.data()), key_.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(payload.data()),
                                payload.size());
  crypto_auth_hmacsha256_final(&state, mac);
  char hex[sizeof mac * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
  return hex;
}

Token TokenService::issue(const UserId& user, TokenKind kind) const {
  std::string payload = "v1." + base64_encode(user.str()) + "." +
                        std::to_string(static_cast<int>(kind)) + "." +
                        std::to_string(clock_.now_seconds() + lifetime_seconds_);
  return Token{payload + "." + sign(payload), user, kind};
}

Result<Token> TokenService::verify(const std::string& value) const {
  auto parts = split(value, '.');
  if (parts.size() != 5 || parts[0] != "v1") return Status::unauthenticated("malformed token");
  std::string payload = value.substr(0, value.rfind('.'));
  std::string expected = sign(payload);
  if (expected.size() != parts[4].size() ||
      sodium_memcmp(expected.data(), parts[4].data(), expected.size()) != 0) {
    return Status::unauthenticated("token signature does not match");
  }
  auto user = base64_decode(parts[1]);
  if (!user) return Status::unauthenticated("malformed token user");
  int kind = 0;
  int64_t expiry = 0;
  try {
    kind = std::stoi(parts[2]);
    expiry = std::stoll(parts[3]);
  } catch (...) {
    return Status::unauthenticated("malformed token fields");
  }
  if (kind < 0 || kind > static_cast<int>(TokenKind::kUnrestrictedRead)) {
    return Status::unauthenticated("unknown token kind");
  }
  if (clock_.now_seconds() >= expiry) return Status::unauthenticated("token expired");
  return Token{value, UserId(*user), static_cast<TokenKind>(kind)};
}

}  // namespace conflux::caf
