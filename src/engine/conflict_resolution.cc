// Conflicts: a device changed an item the server changed too since that
// device last saw it; the datastore's policy decides (engine/conflict_policy.h).
#include <algorithm>
#include <optional>

#include "common/base64.h"
#include "common/log.h"
#include "engine/conflict_decision.h"
#include "engine/message_run.h"

namespace conflux::engine {

using protocol::Command;
using protocol::CommandKind;
using protocol::StatusCode;

ConflictPolicy SyncEngine::MessageRun::policy_for(const std::string& database) const {
  std::lock_guard lock(engine_.policies_mutex_);
  auto it = engine_.conflict_policies_.find(database);
  if (it == engine_.conflict_policies_.end()) return ConflictPolicy::kMerge;
  return parse_conflict_policy(it->second).value_or(ConflictPolicy::kMerge);
}

namespace {

// The conflict record's outcome of a merge; fields of the device's version it
// left out make the record say so, where `conflux conflicts` shows it.
std::string merge_outcome(const std::vector<std::string>& device_fields_left_out) {
  std::string outcome = "merged: fields of both kept, both texts where both changed a text";
  if (device_fields_left_out.empty()) return outcome + "; both originals kept here";
  outcome += "; NOT KEPT from the device (server's value stays, device's in this record):";
  for (const auto& name : device_fields_left_out) outcome += " " + name;
  return outcome;
}

}  // namespace

std::optional<caf::SyncObj> SyncEngine::MessageRun::resolve_conflict(DatastoreState& ds, ConflictPolicy policy,
                                                                     const Command& cmd, const protocol::Item& item,
                                                                     const MapEntry& mapped, bool server_deleted,
                                                                     PendingDecision& p) {
  ++ds.counts.conflicts;
  const bool client_deletes = cmd.kind == CommandKind::kDelete;
  ConflictRecord record;
  record.where = DeviceStore{session_.user, session_.device, ds.server_uri};
  record.guid = mapped.guid;
  record.luid = mapped.luid;
  record.policy = conflict_policy_name(policy);
  if (!client_deletes) {
    record.client_type = item_type(cmd, item, ds.content_type);
    record.client_data = item.data;
    if (item_format(cmd, item) == "b64") record.client_data = base64_decode(item.data).value_or(item.data);
  }
  Anchor server_anchor;
  if (!server_deleted) {
    caf::Query one;
    one.guids = {mapped.guid};
    auto found = engine_.caf_.search(store_ref(ds), one);
    if (found && !found->empty()) {
      record.server_type = found->front().content_type;
      record.server_data = found->front().raw;
      server_anchor = found->front().anchor;
    }
  }

  std::optional<caf::SyncObj> change;
  auto client_change = [&]() {
    caf::SyncObj obj;
    if (client_deletes) {
      obj.action = caf::Action::kDelete;
      obj.guid = mapped.guid;
    } else {
      obj.action = server_deleted ? caf::Action::kCreate : caf::Action::kUpdate;
      if (!server_deleted) obj.guid = mapped.guid;
      obj.content_type = record.client_type;
      obj.raw = record.client_data;
    }
    return obj;
  };

  // newest-wins and merge settle each conflict as one of the plain policies,
  // or (a merge) as a write of their own.
  ConflictPolicy settle_as = policy;
  MergedVersions merged;
  std::string merge_failure;
  if (policy == ConflictPolicy::kNewestWins) {
    const bool device_newer =
        client_deletes || server_deleted ||
        newest_side(item_modified_at(record.server_data, record.server_type),
                    item_modified_at(record.client_data, record.client_type)) == ConflictSide::kDevice;
    settle_as = device_newer ? ConflictPolicy::kClientWins : ConflictPolicy::kServerWins;
  } else if (policy == ConflictPolicy::kMerge) {
    if (client_deletes) {
      settle_as = ConflictPolicy::kServerWins;  // the server's change stays and goes back to the device
    } else if (server_deleted) {
      settle_as = ConflictPolicy::kClientWins;  // the device's change re-creates the item
    } else if (auto result = merge_versions(record.server_type, record.server_data, record.client_type,
                                            record.client_data)) {
      merged = std::move(*result);
    } else {
      merge_failure = result.error().message();
      settle_as = ConflictPolicy::kServerWins;
    }
  }

  switch (settle_as) {
    case ConflictPolicy::kMerge:
      // The merge replaces the server's version and goes back to the device
      // as a Replace (its map row names no revision, so pkg 4 sends it).
      change = caf::SyncObj{};
      change->action = caf::Action::kUpdate;
      change->guid = mapped.guid;
      change->content_type = record.server_type;
      change->raw = std::move(merged.data);
      p.success = StatusCode::kConflictMerged;
      p.resend_to_device = true;
      record.outcome = merge_outcome(merged.device_fields_left_out);
      break;
    case ConflictPolicy::kNewestWins:
      break;  // settled above as client-wins or server-wins
    case ConflictPolicy::kClientWins:
      change = client_change();
      // Under merge a device's edit of an item the server no longer holds
      // is stored again as a new item: 201, as for any Add.
      p.success = policy == ConflictPolicy::kMerge && server_deleted ? StatusCode::kItemAdded
                                                                      : StatusCode::kConflictClientWon;
      record.outcome = "device version applied; server version kept here";
      break;
    case ConflictPolicy::kDuplicate:
      if (client_deletes) {
        // Nothing of the device's to keep: the server's version stays and the
        // device gets it back.
        p.decided = StatusCode::kConflictServerWon;
        p.fix = MapFix{MapFix::Kind::kRemove, {}, {}};
        record.outcome = "device deleted a changed item: server version kept, device gets it back";
      } else {
        // Both stay: the device's version becomes a new item that the device
        // receives as an Add; its own item gets the server version back.
        change = client_change();
        change->action = caf::Action::kCreate;
        change->guid = Guid();
        p.success = StatusCode::kConflictDuplicated;
        p.map_written_item = false;
        if (server_deleted) p.fix = MapFix{MapFix::Kind::kRemove, {}, {}};
        record.outcome = "both kept: device version stored as a new item";
      }
      break;
    case ConflictPolicy::kReport:
      // Neither side changes; the server stops pushing its version to this
      // device until the conflict is settled. 202 "accepted for processing"
      // says exactly that a person will; 409 would make clients such as
      // SyncEvolution fail the whole sync and resend the change every time.
      p.decided = StatusCode::kAccepted;
      p.fix = server_deleted ? MapFix{MapFix::Kind::kRemove, {}, {}}
                             : MapFix{MapFix::Kind::kSetSynced, mapped.guid, server_anchor};
      record.outcome = "both sides left as they are; waiting for a person";
      break;
    case ConflictPolicy::kServerWins:
      p.decided = StatusCode::kConflictServerWon;
      // A device that deleted the item gets it back (unmapped items are
      // sent as Adds); a device whose change lost gets the server version.
      if (client_deletes) p.fix = MapFix{MapFix::Kind::kRemove, {}, {}};
      record.outcome = server_deleted ? "server deletion kept; device version kept here"
                                      : "server version kept; device version kept here";
      break;
  }
  if (policy == ConflictPolicy::kNewestWins && (client_deletes || server_deleted)) {
    record.outcome = "delete against change, the device's side taken (a delete has no time): " + record.outcome;
  } else if (policy == ConflictPolicy::kNewestWins) {
    record.outcome = (settle_as == ConflictPolicy::kClientWins ? "device version newer: " : "server version newer: ") +
                     record.outcome;
  } else if (!merge_failure.empty()) {
    record.outcome = "could not merge (" + merge_failure + "): " + record.outcome;
  } else if (policy == ConflictPolicy::kMerge && settle_as != ConflictPolicy::kMerge) {
    record.outcome = "delete against change, the change kept: " + record.outcome;
  }
  if (auto id = engine_.state_.save_conflict(record); !id) {
    store_error_ = id.error();
  } else {
    logger("engine")->info("session {} user {} datastore {}: conflict {} on item {} ({}): {}", session_.key.str(),
                           session_.user.str(), ds.server_uri, *id, mapped.guid.str(), record.policy,
                           record.outcome);
  }
  return change;
}

}  // namespace conflux::engine
