#pragma once

#include <functional>
#include <string>

#include "config/config.h"

namespace conflux::app {

// Reads the configuration again, as at start (file plus command-line
// overrides), for a reload.
using ConfigSource = std::function<Result<config::Config>()>;

// Runs the server until SIGTERM or SIGINT; SIGHUP reloads the configuration
// from `reread` (config/preferences.h says what changes live). While it runs,
// <data_dir>/conflux.pid holds its process id, locked, for `conflux reload`.
// Returns the process exit code; a startup error is printed as one line.
int serve(const config::Config& config, const ConfigSource& reread);

// Whether a server runs with `data_dir` (holds the lock of its pid file).
bool server_running(const std::string& data_dir);

// `conflux reload`: sends SIGHUP to the server whose pid file is in
// `data_dir`. kNotFound when no server runs there (no pid file, or nobody
// holds its lock).
Status signal_reload(const std::string& data_dir);

}  // namespace conflux::app
