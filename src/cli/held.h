// The mass-deletion guard's part of the server's /metrics (cli/held.cc has
// `conflux held`).
#pragma once

#include <string>

#include "cli/services.h"

namespace conflux::app {

// Prometheus text exposition: held deletions awaiting the user, by direction.
std::string held_metrics(Services& services);

}  // namespace conflux::app
