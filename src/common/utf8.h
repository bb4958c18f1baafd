// UTF-8 validity, shared by the protocol decoders and the data objects.
#pragma once

#include <string_view>

namespace conflux {

// True when `text` is well-formed UTF-8: no overlong forms, no surrogates, no
// code points above U+10FFFF, no truncated sequence.
bool is_valid_utf8(std::string_view text);

}  // namespace conflux
