// UserAccounts: the storage seam for Conflux's own user accounts — the
// AccountDirectory the embedded back ends trust, plus what `conflux user`
// administers. Two implementations, chosen by `[storage] database`:
// UserStore (conflux.db, the default) and PgUserStore (PostgreSQL).
// Passwords are kept only as libsodium argon2id strings (store/passwords.h);
// no password is ever logged or stored in clear.
//
// Threading: every method may be called from any thread.
// Failures: kUnavailable / kInternal from the database, kResourceExhausted
// when hashing runs out of memory, and per method below.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "caf/accounts.h"

namespace conflux::store {

// A program's API token as `conflux token list` shows it; the token itself
// is not kept (only its hash), so it is shown once, when made.
struct ApiTokenInfo {
  int64_t id = 0;  // what `conflux token revoke` names
  UserId user;
  std::string name;
  bool read_only = false;
  int64_t created_at = 0;  // unix seconds
};

struct NewApiToken {
  ApiTokenInfo info;
  std::string token;  // "cfx_..." — to hand to the program, never to log
};

class UserAccounts : public caf::AccountDirectory {
 public:
  // kInvalidArgument for an invalid name (see valid_user_name) or an empty
  // password; kAlreadyExists when the user exists.
  virtual Status add(const UserId& user, const std::string& password) = 0;
  // Every user name, in byte order.
  virtual Result<std::vector<std::string>> list() = 0;
  // kNotFound when the user does not exist; kInvalidArgument for an empty password.
  virtual Status set_password(const UserId& user, const std::string& password) = 0;
  // kNotFound when the user does not exist. Only the account (with its access
  // overrides) goes; the user's sync state and items stay where they are.
  virtual Status remove(const UserId& user) = 0;
  // Sets the token kind `user` gets on `datastore`, overriding its `access`;
  // nullopt removes the override. kInvalidArgument for an invalid name.
  virtual Status set_access(const UserId& user, const std::string& datastore, std::optional<caf::TokenKind> kind) = 0;
  // The user's syncml:auth-md5 secret, B64(MD5(user ":" password)), as
  // stored. kNotFound for an unknown user or an account made before secrets
  // were kept.
  virtual Result<std::string> md5_secret(const UserId& user) = 0;

  // API tokens for programs (the portal's "Authorization: Bearer"). Removing
  // the user removes their tokens. create: kNotFound for an unknown user,
  // kInvalidArgument for a bad name (valid_api_token_name).
  virtual Result<NewApiToken> create_api_token(const UserId& user, const std::string& name, bool read_only) = 0;
  // The tokens of `user`, or everyone's when nullopt, oldest first.
  virtual Result<std::vector<ApiTokenInfo>> api_tokens(const std::optional<UserId>& user) = 0;
  // kNotFound when no token has that id (or it was revoked already).
  virtual Status revoke_api_token(int64_t id) = 0;
};

}  // namespace conflux::store
