#include "store/user_store.h"

#include <sodium.h>

#include <chrono>
#include <mutex>
#include <utility>

#include "common/digest.h"
#include "common/log.h"

namespace conflux::store {
namespace {

constexpr size_t kMaxUserNameLength = 64;

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
  };
  return steps;
}

void ensure_sodium() {
  static std::once_flag once;
  std::call_once(once, [] {
    // sodium_init() fails only when no CSPRNG can be opened; libsodium's
    // random functions then abort on their own.
    if (sodium_init() < 0) logger("store")->error("sodium_init failed");
  });
}

// argon2id with the interactive limits; kResourceExhausted when libsodium
// cannot get the memory.
Result<std::string> hash_password(const std::string& password) {
  ensure_sodium();
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
    return Status::resource_exhausted("password hashing ran out of memory");
  }
  return std::string(out);
}

bool hash_matches(const std::string& hash, const std::string& password) {
  ensure_sodium();
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

// An argon2id hash of a random password that was thrown away, made with the
// interactive limits the real hashes use: verifying against it costs what
// verifying a real user costs, and no password matches it. Remake it should
// the limits change.
constexpr const char* kDummyHash =
    "$argon2id$v=19$m=65536,t=2,p=1$Cl4+1ik9S9kxj4iVljhJKg$Vro6bqu1TuVljOF/3b377+u7c31y9ewxC9FHFF6Bkh4";

Status check_new_password(const std::string& password) {
  if (password.empty()) return Status::invalid_argument("empty password");
  if (password.size() > crypto_pwhash_PASSWD_MAX) return Status::invalid_argument("password too long");
  return Status::ok();
}

}  // namespace

int64_t UserStore::system_now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

UserStore::UserStore(std::shared_ptr<SqliteDb> db, NowSeconds now_seconds)
    : db_(std::move(db)), now_seconds_(std::move(now_seconds)) {}

Result<std::unique_ptr<UserStore>> UserStore::open(std::shared_ptr<SqliteDb> db, NowSeconds now_seconds) {
  if (!db) return Status::invalid_argument("user store: no database");
  if (!now_seconds) now_seconds = system_now_seconds;
  ensure_sodium();
  CFX_RETURN_IF_ERROR(db->migrate("users", user_migrations()));
  return std::unique_ptr<UserStore>(new UserStore(std::move(db), std::move(now_seconds)));
}

bool UserStore::valid_user_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxUserNameLength) return false;
  // Names become path segments (the vdir adapter's <root>/<user>): "." and
  // ".." would name the root or its parent.
  if (name == "." || name == "..") return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '_' || c == '@' || c == '-';
    if (!ok) return false;
  }
  return true;
}

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
  auto st = db_->prepare(
      "INSERT INTO users(name, password_hash, created_at, md5_secret) VALUES (?1, ?2, ?3, ?4)");
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
  auto st = kind ? db_->prepare("INSERT INTO user_access(name, datastore, kind) VALUES (?1, ?2, ?3) "
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
  logger("store")->info("user '{}' removed", user.str());
  return Status::ok();
}

Status UserStore::verify_password(const UserId& user, const std::string& password) {
  std::string stored;
  bool known = false;
  {
    auto st = db_->prepare("SELECT password_hash FROM users WHERE name = ?1");
    if (!st) return Status::unavailable("user directory: " + st.error().message());
    st->bind(1, user.str());
    auto row = st->step();
    if (!row) return Status::unavailable("user directory: " + row.error().message());
    if (*row) {
      known = true;
      stored = st->column_text(0);
    }
  }  // the database lock is released before the (slow) verification
  if (!known) {
    (void)hash_matches(kDummyHash, password);
    return Status::unauthenticated("unknown user or wrong password");
  }
  if (!hash_matches(stored, password)) return Status::unauthenticated("unknown user or wrong password");
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
  // SyncML RepPro §"MD5 digest access authentication":
  // B64(MD5(B64(MD5(user:password)) ":" nonce)).
  const std::string expected = md5_base64(secret + ":" + nonce);
  ensure_sodium();
  const bool match = !secret.empty() && expected.size() == digest.size() &&
                     sodium_memcmp(expected.data(), digest.data(), expected.size()) == 0;
  if (!match) return Status::unauthenticated("unknown user or wrong password");
  return Status::ok();
}

}  // namespace conflux::store
