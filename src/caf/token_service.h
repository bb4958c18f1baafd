// Session tokens the CAF issues once a user's credentials were verified
// (seed: "request an authentication token from CAF ... similar to a LTPA
// token"). A token is self-contained and signed with a key every node shares
// (kept in the state database), so any node can check it without a lookup.
//
// Wire form: "v2.<base64 user>.<base64 grants>.<expiry unix>.<hex HMAC-SHA256>",
// grants "<datastore>=<kind number>" joined by ',' (datastore names never hold
// ',' or '=': config/config.cc refuses them).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "caf/content_adapter.h"
#include "common/clock.h"
#include "common/status.h"

namespace conflux::caf {

class TokenService {
 public:
  // `key` must be 32 bytes; `clock` must outlive the service.
  TokenService(std::string key, const Clock& clock, int64_t lifetime_seconds = 3600);

  // A token granting `grants` (see Token::grants).
  Token issue(const UserId& user, std::map<std::string, TokenKind> grants) const;
  // A token granting `kind` on every datastore (administration commands).
  Token issue(const UserId& user, TokenKind kind) const;

  // The decoded token when the signature holds and it has not expired;
  // kUnauthenticated otherwise (the message says which, for the log).
  Result<Token> verify(const std::string& value) const;

 private:
  std::string sign(const std::string& payload) const;

  const std::string key_;
  const Clock& clock_;
  const int64_t lifetime_seconds_;
};

}  // namespace conflux::caf
