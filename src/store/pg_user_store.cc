#include "store/pg_user_store.h"

#include <chrono>
#include <utility>

#include "common/digest.h"
#include "common/log.h"
#include "store/passwords.h"

namespace conflux::store {
namespace {

// Schema of module "users" in PostgreSQL. Append new steps; never edit a
// released one.
const std::vector<std::string>& user_migrations() {
  static const std::vector<std::string> steps = {
      // 1: everything UserStore has at its version 3
      "CREATE TABLE users("
      "  name TEXT PRIMARY KEY,"
      "  password_hash TEXT NOT NULL,"
      "  created_at BIGINT NOT NULL,"
      "  md5_secret TEXT);"
      "CREATE TABLE user_access("
      "  name TEXT NOT NULL,"
      "  datastore TEXT NOT NULL,"
      "  kind TEXT NOT NULL,"
      "  PRIMARY KEY (name, datastore));",
      // 2: UserStore's version 4, API tokens by their hash only
      "CREATE TABLE api_tokens("
      "  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
      "  user_name TEXT NOT NULL,"
      "  label TEXT NOT NULL,"
      "  token_hash TEXT NOT NULL UNIQUE,"
      "  read_only BOOLEAN NOT NULL,"
      "  created_at BIGINT NOT NULL);",
  };
  return steps;
}

const std::vector<std::pair<std::string, std::string>>& statements() {
  static const std::vector<std::pair<std::string, std::string>> list = {
      {"users_exists", "SELECT 1 FROM users WHERE name = $1"},
      {"users_add", "INSERT INTO users(name, password_hash, created_at, md5_secret) VALUES ($1, $2, $3, $4)"},
      {"users_list", "SELECT name FROM users ORDER BY name COLLATE \"C\""},
      {"users_set_password", "UPDATE users SET password_hash = $2, md5_secret = $3 WHERE name = $1"},
      {"users_remove", "DELETE FROM users WHERE name = $1"},
      {"users_remove_access", "DELETE FROM user_access WHERE name = $1"},
      {"users_put_access",
       "INSERT INTO user_access(name, datastore, kind) VALUES ($1, $2, $3)"
       " ON CONFLICT(name, datastore) DO UPDATE SET kind = excluded.kind"},
      {"users_drop_access", "DELETE FROM user_access WHERE name = $1 AND datastore = $2"},
      {"users_access", "SELECT datastore, kind FROM user_access WHERE name = $1"},
      {"users_hash", "SELECT password_hash FROM users WHERE name = $1"},
      {"users_md5", "SELECT md5_secret FROM users WHERE name = $1"},
      {"tokens_add",
       "INSERT INTO api_tokens(user_name, label, token_hash, read_only, created_at)"
       " SELECT $1, $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM users WHERE name = $1) RETURNING id"},
      {"tokens_list",
       "SELECT id, user_name, label, read_only, created_at FROM api_tokens"
       " WHERE $1::text IS NULL OR user_name = $1 ORDER BY id"},
      {"tokens_revoke", "DELETE FROM api_tokens WHERE id = $1"},
      {"tokens_remove_user", "DELETE FROM api_tokens WHERE user_name = $1"},
      {"tokens_find",
       "SELECT t.user_name, t.read_only FROM api_tokens t JOIN users u ON u.name = t.user_name"
       " WHERE t.token_hash = $1"},
  };
  return list;
}

int64_t system_now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

Result<bool> exists(PgDb& db, const UserId& user) {
  return db.transact("user exists", [&](pqxx::work& txn) -> Result<bool> {
    return !txn.exec_prepared("users_exists", user.str()).empty();
  });
}

}  // namespace

PgUserStore::PgUserStore(std::shared_ptr<PgDb> db, NowSeconds now_seconds)
    : db_(std::move(db)), now_seconds_(std::move(now_seconds)) {}

Result<std::unique_ptr<PgUserStore>> PgUserStore::open(std::shared_ptr<PgDb> db, NowSeconds now_seconds) {
  if (!db) return Status::invalid_argument("user store: no database");
  if (!now_seconds) now_seconds = system_now_seconds;
  CFX_RETURN_IF_ERROR(db->migrate("users", user_migrations()));
  for (const auto& [name, sql] : statements()) db->prepare(name, sql);
  return std::unique_ptr<PgUserStore>(new PgUserStore(std::move(db), std::move(now_seconds)));
}

Status PgUserStore::add(const UserId& user, const std::string& password) {
  if (!valid_user_name(user.str())) {
    return Status::invalid_argument("invalid user name '" + user.str() + "' (1-64 characters of A-Z a-z 0-9 . _ @ -)");
  }
  CFX_RETURN_IF_ERROR(check_new_password(password));
  // Cheap check first, so a duplicate costs no hash; the primary key still
  // settles a race with another adder.
  auto present = exists(*db_, user);
  if (!present) return present.error();
  if (*present) return Status::already_exists("user '" + user.str() + "' exists");
  auto hash = hash_password(password);
  if (!hash) return hash.error();
  Status added = db_->transact("add user", [&](pqxx::work& txn) {
    txn.exec_prepared("users_add", user.str(), *hash, now_seconds_(), md5_base64(user.str() + ":" + password));
    return Status::ok();
  });
  if (added.code() == StatusCode::kAlreadyExists) return Status::already_exists("user '" + user.str() + "' exists");
  CFX_RETURN_IF_ERROR(added);
  logger("store")->info("user '{}' added", user.str());
  return Status::ok();
}

Result<std::vector<std::string>> PgUserStore::list() {
  return db_->transact("list users", [&](pqxx::work& txn) -> Result<std::vector<std::string>> {
    std::vector<std::string> names;
    for (const auto& row : txn.exec_prepared("users_list")) names.emplace_back(row[0].c_str());
    return names;
  });
}

Status PgUserStore::set_password(const UserId& user, const std::string& password) {
  CFX_RETURN_IF_ERROR(check_new_password(password));
  auto present = exists(*db_, user);
  if (!present) return present.error();
  if (!*present) return Status::not_found("no user '" + user.str() + "'");
  auto hash = hash_password(password);
  if (!hash) return hash.error();
  CFX_RETURN_IF_ERROR(db_->transact("set password", [&](pqxx::work& txn) {
    if (txn.exec_prepared("users_set_password", user.str(), *hash, md5_base64(user.str() + ":" + password))
            .affected_rows() == 0) {
      return Status::not_found("no user '" + user.str() + "'");
    }
    return Status::ok();
  }));
  logger("store")->info("password of user '{}' changed", user.str());
  return Status::ok();
}

Status PgUserStore::set_access(const UserId& user, const std::string& datastore, std::optional<caf::TokenKind> kind) {
  if (!valid_user_name(user.str())) return Status::invalid_argument("invalid user name '" + user.str() + "'");
  CFX_RETURN_IF_ERROR(db_->transact("set access", [&](pqxx::work& txn) {
    if (kind) {
      txn.exec_prepared("users_put_access", user.str(), datastore, std::string(caf::token_kind_name(*kind)));
    } else {
      txn.exec_prepared("users_drop_access", user.str(), datastore);
    }
    return Status::ok();
  }));
  logger("store")->info("user '{}': access to '{}' {}", user.str(), datastore,
                        kind ? caf::token_kind_name(*kind) : "as the datastore says");
  return Status::ok();
}

Result<std::map<std::string, caf::TokenKind>> PgUserStore::access_overrides(const UserId& user) {
  return db_->transact("access overrides", [&](pqxx::work& txn) -> Result<std::map<std::string, caf::TokenKind>> {
    std::map<std::string, caf::TokenKind> kinds;
    for (const auto& row : txn.exec_prepared("users_access", user.str())) {
      // Written by set_access only; an unknown spelling allows the least.
      kinds[row[0].c_str()] = caf::parse_token_kind(row[1].c_str()).value_or(caf::TokenKind::kReadOnly);
    }
    return kinds;
  });
}

Status PgUserStore::remove(const UserId& user) {
  CFX_RETURN_IF_ERROR(db_->transact("remove user", [&](pqxx::work& txn) {
    if (txn.exec_prepared("users_remove", user.str()).affected_rows() == 0) {
      return Status::not_found("no user '" + user.str() + "'");
    }
    // A new account of the same name starts from the datastores' access.
    txn.exec_prepared("users_remove_access", user.str());
    txn.exec_prepared("tokens_remove_user", user.str());
    return Status::ok();
  }));
  logger("store")->info("user '{}' removed", user.str());
  return Status::ok();
}

Result<std::string> PgUserStore::user_value(const UserId& user, const char* statement) {
  return db_->transact("user directory", [&](pqxx::work& txn) -> Result<std::string> {
    const pqxx::result rows = txn.exec_prepared(statement, user.str());
    if (rows.empty() || rows[0][0].is_null()) return std::string();
    return std::string(rows[0][0].c_str());
  });
}

Status PgUserStore::verify_password(const UserId& user, const std::string& password) {
  auto stored = user_value(user, "users_hash");
  if (!stored) return Status::unavailable("user directory: " + stored.error().message());
  // An unknown user (empty hash) costs a dummy verification, so timing does
  // not tell the cases apart.
  if (!password_matches(*stored, password)) return Status::unauthenticated("unknown user or wrong password");
  return Status::ok();
}

Result<std::string> PgUserStore::md5_secret(const UserId& user) {
  auto secret = user_value(user, "users_md5");
  if (!secret) return secret.error();
  if (secret->empty()) return Status::not_found("no MD5 secret for user '" + user.str() + "'");
  return secret;
}

Status PgUserStore::verify_md5_digest(const UserId& user, const std::string& nonce, const std::string& digest) {
  auto secret = user_value(user, "users_md5");
  if (!secret) return Status::unavailable("user directory: " + secret.error().message());
  if (!md5_digest_matches(*secret, nonce, digest)) return Status::unauthenticated("unknown user or wrong password");
  return Status::ok();
}

Result<NewApiToken> PgUserStore::create_api_token(const UserId& user, const std::string& name, bool read_only) {
  if (!valid_api_token_name(name)) return Status::invalid_argument("a token name is 1-64 printable characters");
  NewApiToken made{{0, user, name, read_only, now_seconds_()}, new_api_token()};
  CFX_RETURN_IF_ERROR(db_->transact("create API token", [&](pqxx::work& txn) {
    const pqxx::result rows =
        txn.exec_prepared("tokens_add", user.str(), name, api_token_hash(made.token), read_only, made.info.created_at);
    if (rows.empty()) return Status::not_found("no user '" + user.str() + "'");
    made.info.id = rows[0][0].as<int64_t>();
    return Status::ok();
  }));
  logger("store")->info("user '{}': API token {} ('{}') made", user.str(), made.info.id, name);
  return made;
}

Result<std::vector<ApiTokenInfo>> PgUserStore::api_tokens(const std::optional<UserId>& user) {
  return db_->transact("list API tokens", [&](pqxx::work& txn) -> Result<std::vector<ApiTokenInfo>> {
    std::vector<ApiTokenInfo> out;
    const std::optional<std::string> name = user ? std::optional<std::string>(user->str()) : std::nullopt;
    for (const auto& row : txn.exec_prepared("tokens_list", name)) {
      out.push_back(
          {row[0].as<int64_t>(), UserId(row[1].c_str()), row[2].c_str(), row[3].as<bool>(), row[4].as<int64_t>()});
    }
    return out;
  });
}

Status PgUserStore::revoke_api_token(int64_t id) {
  CFX_RETURN_IF_ERROR(db_->transact("revoke API token", [&](pqxx::work& txn) {
    if (txn.exec_prepared("tokens_revoke", id).affected_rows() == 0) {
      return Status::not_found("no API token " + std::to_string(id));
    }
    return Status::ok();
  }));
  logger("store")->info("API token {} revoked", id);
  return Status::ok();
}

Result<caf::ApiTokenHolder> PgUserStore::verify_api_token(const std::string& token) {
  auto holder = db_->transact("user directory", [&](pqxx::work& txn) -> Result<caf::ApiTokenHolder> {
    const pqxx::result rows = txn.exec_prepared("tokens_find", api_token_hash(token));
    if (rows.empty()) return Status::unauthenticated("unknown or revoked API token");
    return caf::ApiTokenHolder{UserId(rows[0][0].c_str()), rows[0][1].as<bool>()};
  });
  if (!holder && holder.error().code() != StatusCode::kUnauthenticated) {
    return Status::unavailable("user directory: " + holder.error().message());
  }
  return holder;
}

}  // namespace conflux::store
