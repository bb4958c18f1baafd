// The load generator's results as a text table and as JSON.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "scenarios.h"

namespace conflux::loadgen {

// One row per phase: sessions, failures, sessions/s, latency percentiles per
// session and per message (ms), server CPU and RSS (MiB) when measured.
std::string format_table(const std::vector<PhaseResult>& phases, bool with_server);

nlohmann::json to_json(const PhaseResult& phase);

}  // namespace conflux::loadgen
