#pragma once

#include "config/config.h"

namespace conflux::app {

// Runs the server until SIGTERM or SIGINT. Returns the process exit code; a
// startup error is printed as one line.
int serve(const config::Config& config);

}  // namespace conflux::app
