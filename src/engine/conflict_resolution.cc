// Conflicts: a device changed an item the server changed too since that
// device last saw it; the datastore's policy decides (caf/conflict_policy.h).
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
  return it == engine_.conflict_policies_.end() ? ConflictPolicy::kMerge : it->second;
}

Result<std::optional<caf::SyncObj>> SyncEngine::MessageRun::resolve_conflict(DatastoreState& ds, ConflictPolicy policy,
                                                                             const Command& cmd,
                                                                             const protocol::Item& item,
                                                                             const MapEntry& mapped,
                                                                             bool server_deleted, PendingDecision& p) {
  ++ds.counts.conflicts;
  ConflictCase c;
  c.policy = policy;
  c.client_deletes = cmd.kind == CommandKind::kDelete;
  c.server_deleted = server_deleted;
  if (!c.client_deletes) {
    c.client_type = item_type(cmd, item, ds.content_type);
    c.client_data = item.data;
    if (item_format(cmd, item) == protocol::ItemFormat::kB64)
      c.client_data = base64_decode(item.data).value_or(item.data);
  }
  Anchor server_anchor;
  if (!server_deleted) {
    caf::Query one;
    one.guids = {mapped.guid};
    auto found = engine_.caf_.search(store_ref(ds), one);
    if (found && !found->empty()) {
      c.server_type = found->front().content_type;
      c.server_data = found->front().raw;
      server_anchor = found->front().anchor;
    }
  }
  ConflictDecision d = decide_conflict(c);

  p.decided = d.decided;
  p.success = d.success;
  p.map_written_item = d.map_written_item;
  p.resend_to_device = d.resend_to_device;
  if (d.map == ConflictDecision::MapChange::kRemove) p.fix = MapFix{MapFix::Kind::kRemove, {}, {}};
  if (d.map == ConflictDecision::MapChange::kSetSynced)
    p.fix = MapFix{MapFix::Kind::kSetSynced, mapped.guid, server_anchor};
  std::optional<caf::SyncObj> change;
  if (d.write != ConflictDecision::Write::kNone) {
    change = caf::SyncObj{};
    change->guid = mapped.guid;
    if (d.write == ConflictDecision::Write::kMerged) {
      change->action = caf::Action::kUpdate;
      change->content_type = c.server_type;
      change->raw = std::move(d.merged);
    } else if (c.client_deletes) {
      change->action = caf::Action::kDelete;
    } else {
      change->action = server_deleted ? caf::Action::kCreate : caf::Action::kUpdate;
      change->content_type = c.client_type;
      change->raw = c.client_data;
    }
    if (d.write == ConflictDecision::Write::kClientVersionAsNew) {
      change->action = caf::Action::kCreate;
      change->guid = Guid();
    } else if (change->action == caf::Action::kCreate) {
      change->guid = Guid();
    }
  }

  ConflictRecord record;
  record.where = DeviceStore{session_.user, session_.device, ds.server_uri};
  record.guid = mapped.guid;
  record.luid = mapped.luid;
  record.policy = caf::conflict_policy_name(policy);
  record.client_type = std::move(c.client_type);
  record.client_data = std::move(c.client_data);
  record.server_type = std::move(c.server_type);
  record.server_data = std::move(c.server_data);
  record.outcome = std::move(d.outcome);
  auto id = engine_.state_.save_conflict(record);
  if (!id) return id.error();
  logger("engine")->info("session {} user {} datastore {}: conflict {} on item {} ({}): {}", session_.key.str(),
                         session_.user.str(), ds.server_uri, *id, mapped.guid.str(), record.policy, record.outcome);
  return change;
}

}  // namespace conflux::engine
