// Message digests through nettle (GnuTLS's crypto library, a Debian package).
#pragma once

#include <string>
#include <string_view>

namespace conflux {

// Base64 of the 16 raw bytes of MD5(bytes). MD5 is here only because SyncML's
// syncml:auth-md5 scheme is defined with it; never use it for anything else.
std::string md5_base64(std::string_view bytes);

// Lower-case hex of SHA-256(bytes): content fingerprints (file data objects).
std::string sha256_hex(std::string_view bytes);

// Lower-case hex of HMAC-SHA256(key, bytes): values the server derives from
// its secret and checks later without storing them (session ids, nonces).
std::string hmac_sha256_hex(std::string_view key, std::string_view bytes);

}  // namespace conflux
