#include "store/passwords.h"

#include <sodium.h>

#include <algorithm>

#include <mutex>

#include "common/base64.h"
#include "common/digest.h"
#include "common/log.h"

namespace conflux::store {
namespace {

constexpr size_t kMaxUserNameLength = 64;

// An argon2id hash of a random password that was thrown away, made with the
// interactive limits the real hashes use: verifying against it costs what
// verifying a real user costs, and no password matches it. Remake it should
// the limits change.
constexpr const char* kDummyHash =
    "$argon2id$v=19$m=65536,t=2,p=1$Cl4+1ik9S9kxj4iVljhJKg$Vro6bqu1TuVljOF/3b377+u7c31y9ewxC9FHFF6Bkh4";

void ensure_sodium() {
  static std::once_flag once;
  std::call_once(once, [] {
    // sodium_init() fails only when no CSPRNG can be opened; libsodium's
    // random functions then abort on their own.
    if (sodium_init() < 0) logger("store")->error("sodium_init failed");
  });
}

}  // namespace

bool valid_user_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxUserNameLength) return false;
  // Names become path segments (the vdir adapter's <root>/<user>): "." and
  // ".." would name the root or its parent.
  if (name == "." || name == "..") return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '@' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Status check_new_password(const std::string& password) {
  if (password.empty()) return Status::invalid_argument("empty password");
  if (password.size() > crypto_pwhash_PASSWD_MAX) return Status::invalid_argument("password too long");
  return Status::ok();
}

Result<std::string> hash_password(const std::string& password) {
  ensure_sodium();
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
    return Status::resource_exhausted("password hashing ran out of memory");
  }
  return std::string(out);
}

bool password_matches(const std::string& hash, const std::string& password) {
  ensure_sodium();
  if (hash.empty()) {
    [[maybe_unused]] const int never_matches = crypto_pwhash_str_verify(kDummyHash, password.data(), password.size());
    return false;
  }
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

bool md5_digest_matches(const std::string& secret, const std::string& nonce, const std::string& digest) {
  // SyncML RepPro §"MD5 digest access authentication":
  // B64(MD5(B64(MD5(user:password)) ":" nonce)).
  const std::string expected = md5_base64(secret + ":" + nonce);
  ensure_sodium();
  return !secret.empty() && expected.size() == digest.size() &&
         sodium_memcmp(expected.data(), digest.data(), expected.size()) == 0;
}

std::string new_api_token() { return "cfx_" + random_hex(32); }

std::string api_token_hash(const std::string& token) { return sha256_hex("conflux api token\n" + token); }

bool valid_api_token_name(std::string_view name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return static_cast<unsigned char>(c) >= 0x20 && c != 0x7f;
  });
}

}  // namespace conflux::store
