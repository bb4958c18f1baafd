// What the engine does when a device changes an item the server changed too
// since that device last saw it (MISSION §3). Chosen per datastore
// (`conflict_policy` in [stores.<name>]). Every policy keeps the losing
// version in a ConflictRecord (under merge and report: both versions).
#pragma once

#include <optional>
#include <string_view>

namespace conflux::caf {

enum class ConflictPolicy {
  kServerWins,  // server version stays and goes back to the device (Status 419)
  kClientWins,  // device version is applied (Status 208)
  kDuplicate,   // both stay: the device's version becomes a new item (Status 209)
  kReport,      // neither side changes until a person settles it (Status 202)
  // The version modified last wins, as server-wins (419) or client-wins (208)
  // would. Modification times are the versions' own (vCard REV, iCalendar
  // LAST-MODIFIED, else DTSTAMP) when both carry one and they differ; otherwise the order in
  // which the changes reached the server, which makes the device's change the
  // newer (engine/conflict_decision.h). A delete carries no time of its own,
  // so in a delete-vs-change conflict the device's side wins: its delete
  // removes the changed server item, its change re-creates a deleted one.
  kNewestWins,
  // Field-level merge (data::DataObject::merged_with) with the server's
  // version winning fields both changed; the merge is stored and sent back to
  // the device (Status 207). A delete against a change keeps the change: the
  // server's changed item goes back to a device that deleted it (419), a
  // device's change re-creates an item the server deleted (208). Versions
  // that cannot be merged (unparsable, different kinds) are settled as
  // server-wins.
  kMerge,
};

// "server-wins", "client-wins", "duplicate", "report", "newest-wins",
// "merge"; nullopt for anything else.
std::optional<ConflictPolicy> parse_conflict_policy(std::string_view name);
const char* conflict_policy_name(ConflictPolicy policy);

}  // namespace conflux::caf
