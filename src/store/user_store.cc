#include "store/user_store.h"

#include <chrono>
#include <mutex>
#include <utility>

#include "common/digest.h"
#include "common/log.h"
#include "store/passwords.h"

namespace conflux::store {
namespace {

// Schema of module "users". Append new steps; never edit a released one.
const std::vector<std::string>& user_migrations() {
  static const std::vector<std::string> steps = {
      // 1: initial schema
      "CREATE TABLE users("
      "  name TEXT PRIMARY KEY NOT NULL,"
      "  password_hash TEXT NOT NULL,"
      "  created_at INTEGER NOT NULL);",
      // 2: syncml:auth-md5 needs B64(MD5(user:password)); NULL for accounts
      // whose password was set before, until it is set again.
      "ALTER TABLE users ADD COLUMN md5_secret TEXT;",
      // 3: per-user token kinds per datastore (`conflux user set --access`),
      // overriding the datastore's `access`. Kept by name: a per-user back
      // end's users need no Conflux account.
      "CREATE TABLE user_access("
      "  name TEXT NOT NULL,"
      "  datastore TEXT NOT NULL,"
      "  kind TEXT NOT NULL,"
      "  PRIMARY KEY (name, datastore));",
      // 4: API tokens for programs (`conflux token`), by the hash of the
      // token only. AUTOINCREMENT: a revoked token's id is never reused.
      "CREATE TABLE api_tokens("
      "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
      "  user_name TEXT NOT NULL,"
      "  label TEXT NOT NULL,"
      "  token_hash TEXT NOT NULL UNIQUE,"
      "  read_only INTEGER NOT NULL,"
      "  created_at INTEGER NOT NULL);",
  };
  return steps;
}

}  // namespace

int64_t UserStore::system_now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

UserStore::UserStore(std::shared_ptr<SqliteDb> db, NowSeconds now_seconds)
    : db_(std::move(db)), now_seconds_(std::move(now_seconds)) {}

Result<std::unique_ptr<UserStore>> UserStore::open(std::shared_ptr<SqliteDb> db, NowSeconds now_seconds) {
  if (!db) return Status::invalid_argument("user store: no database");
  if (!now_seconds) now_seconds = system_now_seconds;
  CFX_RETURN_IF_ERROR(db->migrate("users", user_migrations()));
  return std::unique_ptr<UserStore>(new UserStore(std::move(db), std::move(now_seconds)));
}

bool UserStore::valid_user_name(std::string_view name) { return store::valid_user_name(name); }

Status UserStore::add(const UserId& user, const std::string& password) {
  if (!valid_user_name(user.str())) {
    return Status::invalid_argument("invalid user name '" + user.str() +
                                    "' (1-64 characters of A-Z a-z 0-9 . _ @ -, not . or ..)");
  }
  CFX_RETURN_IF_ERROR(check_new_password(password));
  {
    // Cheap check first, so a duplicate costs no hash; the primary key still
    // settles a race with another adder.
    auto st = db_->prepare("SELECT 1 FROM users WHERE name = ?1");
    if (!st) return st.error();
    st->bind(1, user.str());
    auto row = st->step();
    if (!row) return row.error();
    if (*row) return Status::already_exists("user '" + user.str() + "' exists");
  }
  auto hash = hash_password(password);
  if (!hash) return hash.error();
  auto st = db_->prepare("INSERT INTO users(name, password_hash, created_at, md5_secret) VALUES (?1, ?2, ?3, ?4)");
  if (!st) return st.error();
  st->bind(1, user.str()).bind(2, *hash).bind(3, now_seconds_()).bind(4, md5_base64(user.str() + ":" + password));
  auto inserted = st->run();
  if (!inserted) {
    if (inserted.error().code() == StatusCode::kAlreadyExists) {
      return Status::already_exists("user '" + user.str() + "' exists");
    }
    return inserted.error();
  }
  logger("store")->info("user '{}' added", user.str());
  return Status::ok();
}

Result<std::vector<std::string>> UserStore::list() {
  auto st = db_->prepare("SELECT name FROM users ORDER BY name");
  if (!st) return st.error();
  std::vector<std::string> names;
  for (;;) {
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) break;
    names.push_back(st->column_text(0));
  }
  return names;
}

Status UserStore::set_password(const UserId& user, const std::string& password) {
  CFX_RETURN_IF_ERROR(check_new_password(password));
  {
    auto st = db_->prepare("SELECT 1 FROM users WHERE name = ?1");
    if (!st) return st.error();
    st->bind(1, user.str());
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) return Status::not_found("no user '" + user.str() + "'");
  }
  auto hash = hash_password(password);
  if (!hash) return hash.error();
  auto st = db_->prepare("UPDATE users SET password_hash = ?2, md5_secret = ?3 WHERE name = ?1");
  if (!st) return st.error();
  st->bind(1, user.str()).bind(2, *hash).bind(3, md5_base64(user.str() + ":" + password));
  auto changed = st->run();
  if (!changed) return changed.error();
  if (*changed == 0) return Status::not_found("no user '" + user.str() + "'");
  logger("store")->info("password of user '{}' changed", user.str());
  return Status::ok();
}

Status UserStore::set_access(const UserId& user, const std::string& datastore, std::optional<caf::TokenKind> kind) {
  if (!valid_user_name(user.str())) return Status::invalid_argument("invalid user name '" + user.str() + "'");
  auto st = kind ? db_->prepare(
                       "INSERT INTO user_access(name, datastore, kind) VALUES (?1, ?2, ?3) "
                       "ON CONFLICT(name, datastore) DO UPDATE SET kind = excluded.kind")
                 : db_->prepare("DELETE FROM user_access WHERE name = ?1 AND datastore = ?2");
  if (!st) return st.error();
  st->bind(1, user.str()).bind(2, datastore);
  if (kind) st->bind(3, std::string(caf::token_kind_name(*kind)));
  auto changed = st->run();
  if (!changed) return changed.error();
  logger("store")->info("user '{}': access to '{}' {}", user.str(), datastore,
                        kind ? caf::token_kind_name(*kind) : "as the datastore says");
  return Status::ok();
}

Result<std::map<std::string, caf::TokenKind>> UserStore::access_overrides(const UserId& user) {
  auto st = db_->prepare("SELECT datastore, kind FROM user_access WHERE name = ?1");
  if (!st) return st.error();
  st->bind(1, user.str());
  std::map<std::string, caf::TokenKind> kinds;
  for (;;) {
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) break;
    // Written by set_access only; an unknown spelling allows the least.
    kinds[st->column_text(0)] = caf::parse_token_kind(st->column_text(1)).value_or(caf::TokenKind::kReadOnly);
  }
  return kinds;
}

Status UserStore::remove(const UserId& user) {
  auto st = db_->prepare("DELETE FROM users WHERE name = ?1");
  if (!st) return st.error();
  st->bind(1, user.str());
  auto removed = st->run();
  if (!removed) return removed.error();
  if (*removed == 0) return Status::not_found("no user '" + user.str() + "'");
  // A new account of the same name starts from the datastores' access.
  auto overrides = db_->prepare("DELETE FROM user_access WHERE name = ?1");
  if (!overrides) return overrides.error();
  overrides->bind(1, user.str());
  if (auto cleared = overrides->run(); !cleared) return cleared.error();
  auto tokens = db_->prepare("DELETE FROM api_tokens WHERE user_name = ?1");
  if (!tokens) return tokens.error();
  tokens->bind(1, user.str());
  if (auto cleared = tokens->run(); !cleared) return cleared.error();
  logger("store")->info("user '{}' removed", user.str());
  return Status::ok();
}

Status UserStore::verify_password(const UserId& user, const std::string& password) {
  std::string stored;  // stays empty for an unknown user
  {
    auto st = db_->prepare("SELECT password_hash FROM users WHERE name = ?1");
    if (!st) return Status::unavailable("user directory: " + st.error().message());
    st->bind(1, user.str());
    auto row = st->step();
    if (!row) return Status::unavailable("user directory: " + row.error().message());
    if (*row) stored = st->column_text(0);
  }  // the database lock is released before the (slow) verification
  // An unknown user costs a dummy verification, so timing does not tell the cases apart.
  if (!password_matches(stored, password)) return Status::unauthenticated("unknown user or wrong password");
  return Status::ok();
}

Result<std::string> UserStore::md5_secret(const UserId& user) {
  auto st = db_->prepare("SELECT md5_secret FROM users WHERE name = ?1");
  if (!st) return st.error();
  st->bind(1, user.str());
  auto row = st->step();
  if (!row) return row.error();
  if (!*row || st->column_is_null(0)) return Status::not_found("no MD5 secret for user '" + user.str() + "'");
  return st->column_text(0);
}

Status UserStore::verify_md5_digest(const UserId& user, const std::string& nonce, const std::string& digest) {
  std::string secret;
  {
    auto st = db_->prepare("SELECT md5_secret FROM users WHERE name = ?1");
    if (!st) return Status::unavailable("user directory: " + st.error().message());
    st->bind(1, user.str());
    auto row = st->step();
    if (!row) return Status::unavailable("user directory: " + row.error().message());
    if (*row && !st->column_is_null(0)) secret = st->column_text(0);
  }
  const bool match = md5_digest_matches(secret, nonce, digest);
  if (!match) return Status::unauthenticated("unknown user or wrong password");
  return Status::ok();
}

Result<NewApiToken> UserStore::create_api_token(const UserId& user, const std::string& name, bool read_only) {
  if (!valid_api_token_name(name)) return Status::invalid_argument("a token name is 1-64 printable characters");
  auto tx = db_->transaction();
  if (!tx) return tx.error();
  {
    auto st = db_->prepare("SELECT 1 FROM users WHERE name = ?1");
    if (!st) return st.error();
    st->bind(1, user.str());
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) return Status::not_found("no user '" + user.str() + "'");
  }
  NewApiToken made{{0, user, name, read_only, now_seconds_()}, new_api_token()};
  auto st = db_->prepare(
      "INSERT INTO api_tokens(user_name, label, token_hash, read_only, created_at) VALUES (?1, ?2, ?3, ?4, ?5) "
      "RETURNING id");
  if (!st) return st.error();
  st->bind(1, user.str())
      .bind(2, name)
      .bind(3, api_token_hash(made.token))
      .bind(4, read_only)
      .bind(5, made.info.created_at);
  auto row = st->step();
  if (!row) return row.error();
  made.info.id = st->column_int64(0);
  st->reset();
  CFX_RETURN_IF_ERROR(tx->commit());
  logger("store")->info("user '{}': API token {} ('{}') made", user.str(), made.info.id, name);
  return made;
}

Result<std::vector<ApiTokenInfo>> UserStore::api_tokens(const std::optional<UserId>& user) {
  auto st = db_->prepare(
      "SELECT id, user_name, label, read_only, created_at FROM api_tokens WHERE ?1 IS NULL OR user_name = ?1 "
      "ORDER BY id");
  if (!st) return st.error();
  if (user)
    st->bind(1, user->str());
  else
    st->bind(1, nullptr);
  std::vector<ApiTokenInfo> out;
  for (;;) {
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) break;
    out.push_back({st->column_int64(0), UserId(st->column_text(1)), st->column_text(2), st->column_int64(3) != 0,
                   st->column_int64(4)});
  }
  return out;
}

Status UserStore::revoke_api_token(int64_t id) {
  auto st = db_->prepare("DELETE FROM api_tokens WHERE id = ?1");
  if (!st) return st.error();
  st->bind(1, id);
  auto removed = st->run();
  if (!removed) return removed.error();
  if (*removed == 0) return Status::not_found("no API token " + std::to_string(id));
  logger("store")->info("API token {} revoked", id);
  return Status::ok();
}

Result<caf::ApiTokenHolder> UserStore::verify_api_token(const std::string& token) {
  auto st = db_->prepare(
      "SELECT t.user_name, t.read_only FROM api_tokens t JOIN users u ON u.name = t.user_name "
      "WHERE t.token_hash = ?1");
  if (!st) return Status::unavailable("user directory: " + st.error().message());
  st->bind(1, api_token_hash(token));
  auto row = st->step();
  if (!row) return Status::unavailable("user directory: " + row.error().message());
  if (!*row) return Status::unauthenticated("unknown or revoked API token");
  return caf::ApiTokenHolder{UserId(st->column_text(0)), st->column_int64(1) != 0};
}

}  // namespace conflux::store
