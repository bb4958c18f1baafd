// UserStore: Conflux's own user accounts in conflux.db, the AccountDirectory
// the embedded back ends trust. Passwords are kept only as libsodium argon2id
// strings (crypto_pwhash_str, interactive limits); no password is ever logged
// or stored in clear.
//
// Threading: every method may be called from any thread. Hashing (about 0.1 s
// and 64 MiB per call) runs outside the database lock, so a login does not
// hold up other users of the shared SqliteDb.
// Failures: kUnavailable / kInternal from the database (see common/sqlite_db.h),
// kResourceExhausted when hashing runs out of memory, and per method below.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/sqlite_db.h"
#include "store/user_accounts.h"

namespace conflux::store {

class UserStore final : public UserAccounts {
 public:
  // Unix time in seconds (for created_at); tests inject their own.
  using NowSeconds = std::function<int64_t()>;
  static int64_t system_now_seconds();

  // Brings the "users" table of `db` up to date and returns the store.
  static Result<std::unique_ptr<UserStore>> open(std::shared_ptr<SqliteDb> db,
                                                 NowSeconds now_seconds = system_now_seconds);

  UserStore(const UserStore&) = delete;
  UserStore& operator=(const UserStore&) = delete;

  // 1..64 characters of [A-Za-z0-9._@-], other than "." and "..".
  static bool valid_user_name(std::string_view name);

  // kInvalidArgument for an invalid name or an empty password; kAlreadyExists
  // when the user exists.
  Status add(const UserId& user, const std::string& password) override;
  // Every user name, in byte order.
  Result<std::vector<std::string>> list() override;
  // kNotFound when the user does not exist; kInvalidArgument for an empty password.
  Status set_password(const UserId& user, const std::string& password) override;
  // kNotFound when the user does not exist. Only the account (with its access
  // overrides) goes; the user's sync state and items stay where they are.
  Status remove(const UserId& user) override;

  // Sets the token kind `user` gets on `datastore`, overriding its `access`;
  // nullopt removes the override. kInvalidArgument for an invalid name.
  Status set_access(const UserId& user, const std::string& datastore, std::optional<caf::TokenKind> kind) override;

  // The user's syncml:auth-md5 secret, B64(MD5(user ":" password)), as
  // stored (for the digest of a Server Alerted Notification). kNotFound for an
  // unknown user or an account made before secrets were kept.
  Result<std::string> md5_secret(const UserId& user) override;

  Result<NewApiToken> create_api_token(const UserId& user, const std::string& name, bool read_only) override;
  Result<std::vector<ApiTokenInfo>> api_tokens(const std::optional<UserId>& user) override;
  Status revoke_api_token(int64_t id) override;

  // caf::AccountDirectory. OK when the password is right; kUnauthenticated
  // for an unknown user and a wrong password alike, and an unknown user costs
  // a full hash verification too, so timing does not tell them apart.
  // kUnavailable when the database cannot be read.
  Status verify_password(const UserId& user, const std::string& password) override;
  Status verify_md5_digest(const UserId& user, const std::string& nonce, const std::string& digest) override;
  Result<std::map<std::string, caf::TokenKind>> access_overrides(const UserId& user) override;
  Result<caf::ApiTokenHolder> verify_api_token(const std::string& token) override;

 private:
  UserStore(std::shared_ptr<SqliteDb> db, NowSeconds now_seconds);

  const std::shared_ptr<SqliteDb> db_;
  const NowSeconds now_seconds_;
};

}  // namespace conflux::store
