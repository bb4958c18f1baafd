// The device quirk rules built into the binary: config/quirks.toml as it was
// at build time, embedded by CMake (src/engine/CMakeLists.txt generates
// builtin_quirks.cc from builtin_quirks.cc.in). Internal to the engine; use
// DeviceQuirkBook::builtin().
#pragma once

#include <string_view>

namespace conflux::engine {

// The text of config/quirks.toml; static storage, never empty.
std::string_view builtin_quirks_toml();

}  // namespace conflux::engine
