// PgUserStore: Conflux's own user accounts in a PostgreSQL database several
// nodes share (`[storage] database = "postgresql://..."`). Same contracts as
// UserStore (store/user_accounts.h); hashing (about 0.1 s and 64 MiB) runs
// outside any transaction, so a login holds no pooled connection meanwhile.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/pg_db.h"
#include "store/user_accounts.h"

namespace conflux::store {

class PgUserStore final : public UserAccounts {
 public:
  // Unix time in seconds (for created_at); tests inject their own.
  using NowSeconds = std::function<int64_t()>;

  // Brings module "users"'s tables in `db` up to date and returns the store.
  static Result<std::unique_ptr<PgUserStore>> open(std::shared_ptr<PgDb> db, NowSeconds now_seconds = {});

  PgUserStore(const PgUserStore&) = delete;
  PgUserStore& operator=(const PgUserStore&) = delete;

  // UserAccounts
  Status add(const UserId& user, const std::string& password) override;
  Result<std::vector<std::string>> list() override;
  Status set_password(const UserId& user, const std::string& password) override;
  Status remove(const UserId& user) override;
  Status set_access(const UserId& user, const std::string& datastore, std::optional<caf::TokenKind> kind) override;
  Result<std::string> md5_secret(const UserId& user) override;
  Result<NewApiToken> create_api_token(const UserId& user, const std::string& name, bool read_only) override;
  Result<std::vector<ApiTokenInfo>> api_tokens(const std::optional<UserId>& user) override;
  Status revoke_api_token(int64_t id) override;

  // caf::AccountDirectory
  Status verify_password(const UserId& user, const std::string& password) override;
  Status verify_md5_digest(const UserId& user, const std::string& nonce, const std::string& digest) override;
  Result<std::map<std::string, caf::TokenKind>> access_overrides(const UserId& user) override;
  Result<caf::ApiTokenHolder> verify_api_token(const std::string& token) override;

 private:
  PgUserStore(std::shared_ptr<PgDb> db, NowSeconds now_seconds);
  // The one value `statement` selects for `user` (users_hash, users_md5);
  // empty when the user or the value is missing.
  Result<std::string> user_value(const UserId& user, const char* statement);

  const std::shared_ptr<PgDb> db_;
  const NowSeconds now_seconds_;
};

}  // namespace conflux::store
