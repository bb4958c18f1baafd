// Conflux's own user accounts, as the CAF's Back End Manager sees them: the
// embedded back ends (SQLite) trust these; back ends with their own accounts
// (kCapOwnAccounts) verify at the back end instead.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "caf/content_adapter.h"
#include "common/ids.h"
#include "common/status.h"

namespace conflux::caf {

// Whom an API token (`conflux token create`) speaks for.
struct ApiTokenHolder {
  UserId user;
  bool read_only = false;  // the token reads only, whatever the user may do
};

class AccountDirectory {
 public:
  virtual ~AccountDirectory() = default;
  // OK when the password is right. kUnauthenticated for an unknown user and a
  // wrong password alike (callers must not learn which); kUnavailable when the
  // directory cannot be read.
  virtual Status verify_password(const UserId& user, const std::string& password) = 0;

  // The same for a syncml:auth-md5 digest made with `nonce` (raw bytes).
  // Accounts whose password was set before MD5 support cannot pass it.
  virtual Status verify_md5_digest(const UserId& user, const std::string& nonce, const std::string& digest) = 0;

  // Per-datastore token kinds set for this user (`conflux user set --access`),
  // overriding the datastore's `access`; empty when none. kUnavailable when
  // the directory cannot be read.
  virtual Result<std::map<std::string, TokenKind>> access_overrides(const UserId& user) = 0;

  // The holder of API token `token`. kUnauthenticated for a token never made
  // or revoked (a revoked one is refused from the next call on: nothing
  // caches it); kUnavailable when the directory cannot be read.
  virtual Result<ApiTokenHolder> verify_api_token(const std::string& token) = 0;
};

}  // namespace conflux::caf
