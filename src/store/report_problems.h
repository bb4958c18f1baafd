// A session report's item problems as the JSON text both state stores keep
// in reports.problems.
#pragma once

#include <string>
#include <vector>

#include "engine/sync_state_store.h"

namespace conflux::store {

std::string problems_to_json(const std::vector<engine::ItemProblem>& problems);
// Unreadable text gives no problems rather than an error (the report stays readable).
std::vector<engine::ItemProblem> problems_from_json(const std::string& text);

}  // namespace conflux::store
