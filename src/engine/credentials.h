// SyncML credentials in the SyncHdr (RepPro §"Authentication"; SyncML DS
// Protocol §"Authentication"): decoding what a client sent and writing the
// challenge we answer with.
#pragma once

#include <string>

#include "caf/content_adapter.h"
#include "common/status.h"
#include "protocol/message.h"

namespace conflux::engine {

inline constexpr const char* kAuthBasic = "syncml:auth-basic";
inline constexpr const char* kAuthMd5 = "syncml:auth-md5";

// CAF credentials from a Cred element.
//  - syncml:auth-basic (or no type): Data is base64 "user:password", once
//    ("b64 format does NOT mean b64 twice").
//  - syncml:auth-md5: Data is B64(MD5(B64(MD5(user:password)) ":" nonce));
//    the user is the header's Source LocName; `nonce_b64` is the NextNonce we
//    last gave this device (empty: none yet, and then no digest can pass).
// kInvalidArgument for data that does not decode; kUnimplemented for another
// auth type.
Result<caf::Credentials> decode_credentials(const protocol::Cred& cred, const std::string& loc_name,
                                            const std::string& nonce_b64);

// The user a Cred claims to be, before anything is checked: the basic
// credentials' user, or `loc_name` for MD5. Empty when there is none.
std::string claimed_user(const protocol::Cred& cred, const std::string& loc_name);

// What checking a login gave.
struct CheckedLogin {
  Result<caf::Credentials> creds = Status::unauthenticated("no credentials");
  Result<caf::Token> token = Status::unauthenticated("not checked");
  std::string nonce;  // the MD5 nonce that passed (or was tried last)
};

// The Chal element asking for basic authentication.
protocol::Chal basic_challenge();
// The Chal element asking for MD5 authentication with `next_nonce_b64`.
protocol::Chal md5_challenge(const std::string& next_nonce_b64);

}  // namespace conflux::engine
