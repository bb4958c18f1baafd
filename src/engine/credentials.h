// SyncML credentials in the SyncHdr (RepPro §"Authentication"): decoding what
// a client sent and writing the challenge we answer with.
#pragma once

#include <optional>

#include "caf/content_adapter.h"
#include "common/status.h"
#include "protocol/message.h"

namespace conflux::engine {

inline constexpr const char* kAuthBasic = "syncml:auth-basic";
inline constexpr const char* kAuthMd5 = "syncml:auth-md5";

// The user and password of a syncml:auth-basic Cred. kUnimplemented for
// another auth type (md5 arrives with the protocol issue), kInvalidArgument
// for data that is not base64 "user:password".
Result<caf::Credentials> decode_basic_credentials(const protocol::Cred& cred);

// The Chal element asking for basic authentication.
protocol::Chal basic_challenge();

}  // namespace conflux::engine
