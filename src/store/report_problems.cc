#include "store/report_problems.h"

#include <nlohmann/json.hpp>

namespace conflux::store {

std::string problems_to_json(const std::vector<engine::ItemProblem>& problems) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& p : problems) {
    out.push_back({{"to_device", p.direction == engine::ItemProblem::Direction::kToDevice},
                   {"item", p.item},
                   {"status", p.status},
                   {"what", p.what}});
  }
  // Item ids come from devices: invalid UTF-8 is replaced, never a throw.
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::vector<engine::ItemProblem> problems_from_json(const std::string& text) {
  std::vector<engine::ItemProblem> out;
  auto parsed = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_array()) return out;
  for (const auto& p : parsed) {
    if (!p.is_object()) continue;
    engine::ItemProblem problem;
    problem.direction = p.value("to_device", false) ? engine::ItemProblem::Direction::kToDevice
                                                    : engine::ItemProblem::Direction::kFromDevice;
    problem.item = p.value("item", "");
    problem.status = p.value("status", 0);
    problem.what = p.value("what", "");
    out.push_back(std::move(problem));
  }
  return out;
}

}  // namespace conflux::store
