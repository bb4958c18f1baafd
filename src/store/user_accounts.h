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

#include <optional>
#include <string>
#include <vector>

#include "caf/accounts.h"

namespace conflux::store {

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
  virtual Status set_access(const UserId& user, const std::string& datastore,
                            std::optional<caf::TokenKind> kind) = 0;
  // The user's syncml:auth-md5 secret, B64(MD5(user ":" password)), as
  // stored. kNotFound for an unknown user or an account made before secrets
  // were kept.
  virtual Result<std::string> md5_secret(const UserId& user) = 0;
};

}  // namespace conflux::store
