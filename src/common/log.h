// Logging: spdlog, one named logger per component ("engine", "caf",
// "adapter.sqlite", "http", "store"). Passwords and tokens are never logged;
// item bodies only at trace.
#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <string>

namespace conflux {

// Sets the level of every logger, now and later ("trace" … "off"); returns
// false for an unknown level name.
bool set_log_level(const std::string& level);

// The logger of a component, created on first use, writing to stderr.
std::shared_ptr<spdlog::logger> logger(const std::string& component);

}  // namespace conflux
