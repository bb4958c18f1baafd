#include "caf/conflict_policy.h"

namespace conflux::caf {

std::optional<ConflictPolicy> parse_conflict_policy(std::string_view name) {
  if (name == "server-wins") return ConflictPolicy::kServerWins;
  if (name == "client-wins") return ConflictPolicy::kClientWins;
  if (name == "duplicate") return ConflictPolicy::kDuplicate;
  if (name == "report") return ConflictPolicy::kReport;
  if (name == "newest-wins") return ConflictPolicy::kNewestWins;
  if (name == "merge") return ConflictPolicy::kMerge;
  return std::nullopt;
}

const char* conflict_policy_name(ConflictPolicy policy) {
  switch (policy) {
    case ConflictPolicy::kServerWins: return "server-wins";
    case ConflictPolicy::kClientWins: return "client-wins";
    case ConflictPolicy::kDuplicate: return "duplicate";
    case ConflictPolicy::kReport: return "report";
    case ConflictPolicy::kNewestWins: return "newest-wins";
    case ConflictPolicy::kMerge: return "merge";
  }
  return "server-wins";
}

}  // namespace conflux::caf
