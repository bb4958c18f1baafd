#include "engine/deletion_guard.h"

#include <algorithm>

#include "common/log.h"
#include "engine/message_run.h"

namespace conflux::engine {

bool is_mass_deletion(size_t deletes, size_t store_size, const caf::MassDeletionRule& rule) {
  return deletes > static_cast<size_t>(rule.min_items) &&
         deletes * 100 > store_size * static_cast<size_t>(rule.percent);
}

const caf::MassDeletionRule& SyncEngine::MessageRun::mass_deletion_rule(const std::string& database) const {
  static const caf::MassDeletionRule kDefault;
  for (const auto& s : engine_.stores_) {
    if (s.name == database) return s.mass_delete;
  }
  return kDefault;
}

bool SyncEngine::MessageRun::defer_client_delete(DatastoreState& ds, const Luid& luid, const Guid& guid) {
  if (journal_) return false;  // inside an Atomic: applied now, so it can be undone
  if (ds.deferred_deletes.empty()) {
    // A device whose token may not write must get its refusal now, not a
    // 200 for a delete that never happens. The Content Manager refuses before
    // any back end is asked; for a writable store deleting an id no item has
    // changes nothing (kAlreadyDeleted).
    caf::SyncObj probe;
    probe.action = caf::Action::kDelete;
    probe.guid = Guid("conflux-write-permission-probe");
    std::vector<caf::SyncObj> batch;
    batch.push_back(std::move(probe));
    auto results = engine_.caf_.apply(store_ref(ds), std::move(batch));
    if (!results.empty() && results.front().status.code() == conflux::StatusCode::kPermissionDenied) return false;
  }
  ds.deferred_deletes[luid.str()] = guid.str();
  return true;
}

Result<bool> SyncEngine::MessageRun::hold_if_mass_deletion(DatastoreState& ds, const std::vector<Guid>& guids,
                                                           size_t store_size, HeldKind kind, const std::string& what) {
  if (!is_mass_deletion(guids.size(), store_size, mass_deletion_rule(ds.server_uri))) return false;
  HeldDeletion held;
  held.kind = kind;
  held.where = DeviceStore{session_.user, session_.device, ds.server_uri};
  held.session = session_.key;
  held.reason = what + " " + std::to_string(guids.size()) + " of " + std::to_string(store_size) + " items" +
                (kind == HeldKind::kToDevice ? " on the device" : "");
  held.guids = guids;
  auto id = engine_.state_.hold_deletions(held);
  if (!id) return id.error();  // nothing is deleted when the hold could not be recorded
  logger("engine")->warn(
      "session {} user {} device {} datastore {}: {} — deletions HELD as {} until `conflux held confirm {}` "
      "(or `discard`)",
      session_.key.str(), session_.user.str(), session_.device.str(), ds.server_uri, held.reason, *id, *id);
  const auto direction =
      kind == HeldKind::kToDevice ? ItemProblem::Direction::kToDevice : ItemProblem::Direction::kFromDevice;
  ds.problems.push_back(ItemProblem{
      direction, "", protocol::to_int(protocol::StatusCode::kOk),
      "held deletion " + std::to_string(*id) + ": " + held.reason + "; confirm or discard with `conflux held`"});
  return true;
}

Status SyncEngine::MessageRun::settle_client_deletes(DatastoreState& ds) {
  if (ds.deferred_deletes.empty()) return Status::ok();
  const DeviceStore key{session_.user, session_.device, ds.server_uri};
  std::vector<Luid> luids;
  std::vector<Guid> guids;
  for (const auto& [luid, guid] : ds.deferred_deletes) {
    luids.emplace_back(luid);
    guids.emplace_back(guid);
  }
  ds.deferred_deletes.clear();
  caf::Query listing;
  listing.metadata_only = true;
  auto live = engine_.caf_.search(store_ref(ds), listing);
  if (!live) return live.error().with_context("counting the store's items before deleting");
  auto held = hold_if_mass_deletion(ds, guids, live->size(), HeldKind::kFromDevice, "device deleted");
  if (!held) return held.error();
  if (!*held) {
    std::vector<caf::SyncObj> batch;
    for (const auto& guid : guids) {
      caf::SyncObj del;
      del.action = caf::Action::kDelete;
      del.guid = guid;
      batch.push_back(std::move(del));
    }
    auto results = engine_.caf_.apply(store_ref(ds), std::move(batch));
    for (size_t i = 0; i < results.size(); ++i) {
      if (results[i].status.is_ok() || results[i].status.is_not_found()) continue;
      // The device's status went out already; the item stays, unmapped, and
      // comes back to the device at its next sync: nothing is lost.
      ds.problems.push_back(ItemProblem{ItemProblem::Direction::kFromDevice, luids[i].str(),
                                        protocol::to_int(protocol::StatusCode::kOk),
                                        "delete failed: " + results[i].status.to_string()});
    }
  }
  return engine_.state_.remove_map(key, luids);
}

Result<std::set<std::string>> SyncEngine::MessageRun::held_from(const DatastoreState& ds) {
  auto held = engine_.state_.held_deletions(session_.user);
  if (!held) return held.error();
  std::set<std::string> guids;
  for (const auto& h : *held) {
    if (h.kind != HeldKind::kFromDevice) continue;
    if (h.where.device != session_.device || h.where.database != ds.server_uri) continue;
    for (const auto& g : h.guids) guids.insert(g.str());
  }
  return guids;
}

Status SyncEngine::MessageRun::guard_deletions_to_device(DatastoreState& ds, const std::vector<MapEntry>& mapped) {
  auto is_delete = [](const Outgoing& out) { return out.kind == protocol::CommandKind::kDelete; };
  // Read even without deletions: a confirmation for this device is released here.
  auto all = engine_.state_.held_deletions(session_.user);
  if (!all) return all.error();
  std::set<std::string> waiting;    // held for this device, not yet decided
  std::set<std::string> confirmed;  // the user said yes (for this device or every one)
  std::set<std::string> device_has;
  for (const auto& e : mapped) device_has.insert(e.guid.str());
  for (const auto& h : *all) {
    if (h.where.database != ds.server_uri) continue;
    const bool here = h.where.device == session_.device;
    if (h.kind == HeldKind::kToDevice && here) {
      for (const auto& g : h.guids) waiting.insert(g.str());
    } else if (h.kind == HeldKind::kConfirmed && (here || h.where.device.empty())) {
      const bool delivered =
          std::none_of(h.guids.begin(), h.guids.end(), [&](const Guid& g) { return device_has.count(g.str()) > 0; });
      // A confirmation for this device alone is done once it has none of them.
      if (here && delivered) {
        CFX_RETURN_IF_ERROR(engine_.state_.release_held(h.id));
        continue;
      }
      for (const auto& g : h.guids) confirmed.insert(g.str());
    }
  }
  std::vector<Guid> fresh;
  for (const auto& out : ds.outgoing) {
    if (is_delete(out) && !waiting.count(out.guid.str()) && !confirmed.count(out.guid.str())) {
      fresh.push_back(out.guid);
    }
  }
  if (!fresh.empty()) {
    auto held = hold_if_mass_deletion(ds, fresh, mapped.size(), HeldKind::kToDevice, "server would delete");
    if (!held) return held.error();
    if (*held) {
      for (const auto& g : fresh) waiting.insert(g.str());
    }
  }
  // The device keeps these items, and its map rows for them, until the user decides.
  std::erase_if(ds.outgoing, [&](const Outgoing& out) { return is_delete(out) && waiting.count(out.guid.str()); });
  return Status::ok();
}

}  // namespace conflux::engine
