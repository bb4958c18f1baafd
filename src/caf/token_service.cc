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
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(payload.data()), payload.size());
  crypto_auth_hmacsha256_final(&state, mac);
  char hex[sizeof mac * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
  return hex;
}

Token TokenService::issue(const UserId& user, std::map<std::string, TokenKind> grants) const {
  std::string grant_text;
  for (const auto& [database, kind] : grants) {
    grant_text += (grant_text.empty() ? "" : ",") + database + "=" + std::to_string(static_cast<int>(kind));
  }
  std::string payload = "v2." + base64_encode(user.str()) + "." + base64_encode(grant_text) + "." +
                        std::to_string(clock_.now_seconds() + lifetime_seconds_);
  return Token{payload + "." + sign(payload), user, std::move(grants)};
}

Token TokenService::issue(const UserId& user, TokenKind kind) const {
  return issue(user, std::map<std::string, TokenKind>{{Token::kEveryStore, kind}});
}

Result<Token> TokenService::verify(const std::string& value) const {
  auto parts = split(value, '.');
  if (parts.size() != 5 || parts[0] != "v2") return Status::unauthenticated("malformed token");
  std::string payload = value.substr(0, value.rfind('.'));
  std::string expected = sign(payload);
  if (expected.size() != parts[4].size() || sodium_memcmp(expected.data(), parts[4].data(), expected.size()) != 0) {
    return Status::unauthenticated("token signature does not match");
  }
  auto user = base64_decode(parts[1]);
  if (!user) return Status::unauthenticated("malformed token user");
  auto grant_text = base64_decode(parts[2]);
  if (!grant_text) return Status::unauthenticated("malformed token grants");
  std::map<std::string, TokenKind> grants;
  int64_t expiry = 0;
  try {
    for (const auto& grant : grant_text->empty() ? std::vector<std::string>{} : split(*grant_text, ',')) {
      auto eq = grant.find('=');
      if (eq == std::string::npos) return Status::unauthenticated("malformed token grant");
      int kind = std::stoi(grant.substr(eq + 1));
      if (kind < 0 || kind > static_cast<int>(TokenKind::kUnrestrictedRead)) {
        return Status::unauthenticated("unknown token kind");
      }
      grants[grant.substr(0, eq)] = static_cast<TokenKind>(kind);
    }
    expiry = std::stoll(parts[3]);
  } catch (...) {
    return Status::unauthenticated("malformed token fields");
  }
  if (clock_.now_seconds() >= expiry) return Status::unauthenticated("token expired");
  return Token{value, UserId(*user), std::move(grants)};
}

}  // namespace conflux::caf
