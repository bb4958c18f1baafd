// What the engine does when a device changes an item the server changed too
// since that device last saw it (MISSION §3). Chosen per datastore
// (`conflict_policy` in [stores.<name>]). Every policy keeps the losing
// version in a ConflictRecord.
#pragma once

#include <optional>
#include <string_view>

namespace conflux::engine {

enum class ConflictPolicy {
  kServerWins,  // server version stays and goes back to the device (Status 419)
  kClientWins,  // device version is applied (Status 208)
  kDuplicate,   // both stay: the device's version becomes a new item (Status 209)
  kReport,      // neither side changes until a person settles it (Status 202)
};

// "server-wins", "client-wins", "duplicate", "report"; nullopt for anything else.
std::optional<ConflictPolicy> parse_conflict_policy(std::string_view name);
const char* conflict_policy_name(ConflictPolicy policy);

}  // namespace conflux::engine
