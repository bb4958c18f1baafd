// Base64 (RFC 4648, with padding) through libsodium.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace conflux {

std::string base64_encode(std::string_view bytes);
// nullopt when `text` is not valid base64. Whitespace (folded lines) is ignored.
std::optional<std::string> base64_decode(std::string_view text);

// Random bytes from the OS CSPRNG, hex-encoded (2 * n_bytes characters).
std::string random_hex(size_t n_bytes);

}  // namespace conflux
