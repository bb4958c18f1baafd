// What both user stores do with names and passwords, outside any database:
// argon2id hashing (libsodium crypto_pwhash_str, interactive limits), the
// syncml:auth-md5 digest check, the user-name rule.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace conflux::store {

// 1..64 characters of [A-Za-z0-9._@-].
bool valid_user_name(std::string_view name);
// kInvalidArgument for an empty or over-long password.
Status check_new_password(const std::string& password);
// argon2id with the interactive limits; kResourceExhausted when libsodium
// cannot get the memory.
Result<std::string> hash_password(const std::string& password);
// Whether `password` matches `hash`. An empty hash stands for an unknown
// user: a dummy hash is verified instead, so it costs what a real one does
// and never matches.
bool password_matches(const std::string& hash, const std::string& password);
// SyncML RepPro "MD5 digest access authentication": whether `digest` is
// B64(MD5(secret ":" nonce)); false for an empty secret. Constant time.
bool md5_digest_matches(const std::string& secret, const std::string& nonce, const std::string& digest);

// A new API token: "cfx_" and 32 random bytes in hex. Only its
// api_token_hash is stored: a token is random enough that a plain SHA-256
// cannot be reversed, and it is found by that hash without a slow compare.
std::string new_api_token();
std::string api_token_hash(const std::string& token);
// A name for a token: 1..64 printable characters.
bool valid_api_token_name(std::string_view name);

}  // namespace conflux::store
