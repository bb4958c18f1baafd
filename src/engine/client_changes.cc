// A client Sync's Add/Replace/Delete commands (pkg 3): each item is
// classified (answered as decided, matched to an item the server has, or a
// write), the writes go to the CAF as one batch, and the results become the
// items' statuses and the device's map rows.
#include <optional>
#include <unordered_map>

#include "common/base64.h"
#include "common/log.h"
#include "engine/duplicate_matcher.h"
#include "engine/format_negotiation.h"
#include "engine/message_run.h"

namespace conflux::engine {

using protocol::Command;
using protocol::CommandKind;
using protocol::StatusCode;

namespace {

bool is_success(StatusCode code) { return protocol::to_int(code) >= 200 && protocol::to_int(code) < 300; }

ItemPlan decided(ItemPlan&& plan, StatusCode code) {
  plan.decided = code;
  return std::move(plan);
}

const protocol::LocRef* item_id(const protocol::Item& item) {
  return item.source ? &*item.source : (item.target ? &*item.target : nullptr);
}

}  // namespace

// What one run of client changes reads once.
struct SyncEngine::MessageRun::ClientBatch {
  DatastoreState& ds;
  caf::CafInterface& caf;
  const caf::StoreRef where;
  const MapIndex map;
  const DeviceFormats formats;
  // In a slow sync: every server item not yet claimed in this sync, which
  // may match by content, mapped or not (a device restored from a backup
  // sends the same cards under new LUIDs).
  DuplicateMatcher matcher;
  // Otherwise: revisions of the server items this Sync changes or deletes,
  // to see whether the server changed them too since the device last saw them.
  const std::unordered_map<std::string, Anchor> current;
  const caf::ConflictPolicy policy;

  void claim(const std::string& guid) {
    ds.slow_claimed_guids.insert(guid);
    matcher.claim(guid);
  }

  // The stored version of an item the device updates, for the merge that
  // keeps what the device cannot hold; a slow sync has them all at hand.
  std::optional<caf::SyncObj> current_version(const Guid& guid) {
    if (ds.sends_everything()) {
      const caf::SyncObj* known = matcher.item(guid.str());
      return known ? std::optional<caf::SyncObj>(*known) : std::nullopt;
    }
    caf::Query one;
    one.guids = {guid};
    auto found = caf.search(where, one);
    return found && !found->empty() ? std::optional<caf::SyncObj>(std::move(found->front())) : std::nullopt;
  }

  // A slow-sync item that matches `twin`, an unclaimed server item.
  ItemPlan match_twin(ItemPlan&& plan, DuplicateMatcher::Match&& twin) {
    ds.slow_claimed_guids.insert(twin.guid);
    const caf::SyncObj& server = *matcher.item(twin.guid);
    if (twin.identical || twin.merged_raw == server.raw) {
      // Nothing new for the server. When the bytes differ the device
      // gets the server's version (its map row names no revision).
      plan.matched_guid = Guid(twin.guid);
      plan.matched_anchor = twin.identical ? server.anchor : Anchor();
      return std::move(plan);
    }
    // The same contact with fields the server lacked: store the merge
    // and send it back to the device.
    caf::SyncObj merged;
    merged.action = caf::Action::kUpdate;
    merged.guid = Guid(twin.guid);
    merged.content_type = server.content_type;
    merged.raw = std::move(twin.merged_raw);
    plan.resend_to_device = true;
    plan.write = std::move(merged);
    return std::move(plan);
  }
};

namespace {

std::unordered_map<std::string, Anchor> server_revisions(caf::CafInterface& caf, const caf::StoreRef& where,
                                                         const DatastoreState& ds, const MapIndex& map,
                                                         const std::vector<const Command*>& changes,
                                                         const std::string& session) {
  std::unordered_map<std::string, Anchor> current;
  if (ds.sends_everything()) return current;
  caf::Query touched;
  touched.metadata_only = true;
  for (const Command* change : changes) {
    if (change->kind != CommandKind::kReplace && change->kind != CommandKind::kDelete) continue;
    for (const auto& item : change->items) {
      const protocol::LocRef* id = item_id(item);
      if (const MapEntry* mapped = id ? map.find(id->loc_uri) : nullptr) touched.guids.push_back(mapped->guid);
    }
  }
  if (touched.guids.empty()) return current;
  auto found = caf.search(where, touched);
  if (!found) {
    logger("engine")->warn("session {} datastore {}: reading item revisions failed: {}", session, ds.server_uri,
                           found.error().to_string());
    return current;
  }
  for (const auto& obj : *found) current.emplace(obj.guid.str(), obj.anchor);
  return current;
}

}  // namespace

Status SyncEngine::MessageRun::apply_client_changes(DatastoreState& ds, const std::vector<const Command*>& changes) {
  const DeviceStore key{session_.user, session_.device, ds.server_uri};
  auto entries = engine_.state_.map_entries(key);
  if (!entries) return entries.error();
  MapIndex map(*entries);
  const caf::StoreRef where = store_ref(ds);
  auto current = server_revisions(engine_.caf_, where, ds, map, changes, session_.key.str());
  ClientBatch batch{ds,
                    engine_.caf_,
                    where,
                    std::move(map),
                    load_device_formats(engine_.state_, engine_.stores_, key, ds.client_uri, session_.key.str()),
                    DuplicateMatcher(matching_index(ds, where), ds.slow_claimed_guids),
                    std::move(current),
                    policy_for(ds.server_uri)};

  std::vector<ItemPlan> plans;
  // These changes are one batch: one back-end transaction.
  std::vector<caf::SyncObj> writes;
  std::vector<caf::Action> actions;
  std::vector<Guid> written;  // empty for a create until applied
  for (const Command* change : changes) {
    for (const auto& item : change->items) {
      auto plan = classify_item(batch, *change, item);
      if (!plan) return plan.error();
      if (plan->write) {
        plan->batch_index = static_cast<int>(writes.size());
        actions.push_back(plan->write->action);
        written.push_back(plan->write->guid);
        writes.push_back(std::move(*plan->write));
        plan->write.reset();
      }
      plans.push_back(std::move(*plan));
    }
  }
  const std::map<std::string, caf::SyncObj> before = versions_before(ds, writes);
  std::vector<caf::ApplyResult> results;
  if (!writes.empty()) {
    results = engine_.caf_.apply(where, std::move(writes));
    CFX_RETURN_IF_ERROR(settle_lost_races(batch, plans, actions, written, results));
  }
  ItemIndex index = std::move(batch.matcher).release();
  // Read from the store: right as of its anchor whatever this batch did.
  if (!index.anchor().empty()) engine_.match_indexes_.put(match_index_key(ds), std::move(index));
  return answer_client_items(batch, plans, actions, written, results, before);
}

std::string SyncEngine::MessageRun::match_index_key(const DatastoreState& ds) const {
  return session_.key.str() + "\n" + ds.server_uri;
}

// In a slow sync the client sends everything it has; items it already
// holds in the server's version must not be written again, and items the
// server has under another id must be matched, not doubled. A rerun or
// resumed sync matches its Adds too.
//
// The store is read whole once per session, not per message: the index this
// node kept after the session's last message is brought up to date with the
// store's changes since (its own writes and anyone else's). Chosen over an
// index in the shared state store (10,000 items' match keys written back
// after every message) and over a lookup by match key in the back ends
// (each adapter would need one): correctness never depends on the kept
// index, only cost does, since any node without it reads the store again.
ItemIndex SyncEngine::MessageRun::matching_index(const DatastoreState& ds, const caf::StoreRef& where) {
  if (!ds.sends_everything() && !rerun_ && !ds.resumed) return ItemIndex();
  auto log = logger("engine");
  if (std::optional<ItemIndex> kept = engine_.match_indexes_.take(match_index_key(ds))) {
    auto changes = engine_.caf_.changes_since(where, kept->anchor());
    if (changes) {
      kept->fold_in(std::move(*changes));
      return std::move(*kept);
    }
    log->info("session {} datastore {}: changes since the matching index's anchor {} unreadable, reading all: {}",
              session_.key.str(), ds.server_uri, kept->anchor().str(), changes.error().to_string());
  }
  ItemIndex index;
  auto all = engine_.caf_.changes_since(where, Anchor());
  if (!all) {
    log->warn("session {} datastore {}: reading items for matching failed: {}", session_.key.str(), ds.server_uri,
              all.error().to_string());
    return index;
  }
  index.fold_in(std::move(*all));
  return index;
}

Status SyncEngine::MessageRun::settle_lost_races(ClientBatch& batch, std::vector<ItemPlan>& plans,
                                                 std::vector<caf::Action>& actions, std::vector<Guid>& written,
                                                 std::vector<caf::ApplyResult>& results) {
  for (ItemPlan& p : plans) {
    if (p.batch_index < 0 || !p.race_item || results.at(p.batch_index).status.code() != conflux::StatusCode::kAborted) {
      continue;
    }
    const MapEntry* mapped = batch.map.find(p.luid.str());
    if (!mapped) continue;
    caf::Query one;
    one.guids = {mapped->guid};
    one.metadata_only = true;
    auto now = engine_.caf_.search(batch.where, one);
    if (!now) continue;  // the refusal stands; the next sync decides
    logger("engine")->info("session {} datastore {}: item {} changed in the back end during the sync: a conflict",
                           session_.key.str(), batch.ds.server_uri, mapped->guid.str());
    const int index = p.batch_index;
    const protocol::Item& item = *p.race_item;
    ItemPlan raced = std::move(p);
    raced.batch_index = -1;
    raced.race_item = nullptr;
    raced.write.reset();
    auto plan = plan_conflict(batch, std::move(raced), item, *mapped, now->empty());
    if (!plan) return plan.error();
    p = std::move(*plan);
    if (!p.write) continue;  // answered by its decision alone
    actions.at(index) = p.write->action;
    written.at(index) = p.write->guid;
    std::vector<caf::SyncObj> alone;
    alone.push_back(std::move(*p.write));
    p.write.reset();
    auto again = engine_.caf_.apply(batch.where, std::move(alone));
    if (again.size() == 1) {
      results.at(index) = std::move(again.front());
    } else {
      results.at(index).status = Status::internal("apply returned " + std::to_string(again.size()) + " results for 1");
    }
    p.batch_index = index;
  }
  return Status::ok();
}

Result<ItemPlan> SyncEngine::MessageRun::classify_item(ClientBatch& batch, const Command& cmd,
                                                       const protocol::Item& incoming) {
  DatastoreState& ds = batch.ds;
  ItemPlan plan;
  plan.cmd = &cmd;
  const protocol::LocRef* id = item_id(incoming);
  if (!id || id->loc_uri.empty()) return decided(std::move(plan), StatusCode::kIncompleteCommand);
  plan.luid = Luid(id->loc_uri);
  // A large object arrives in chunks over several messages; it is handled
  // once, when its last chunk is in.
  protocol::Item assembled;
  const ChunkStep step = take_client_chunk(ds, cmd, incoming, assembled);
  if (step.decided) return decided(std::move(plan), *step.decided);
  const protocol::Item& item = step.whole ? assembled : incoming;
  // Seen already: the client resends an item of a resumed slow sync whose
  // status it never got; the item it claimed then is its own.
  const bool seen_before = ds.slow_seen_luids.count(plan.luid.str()) > 0;
  if (ds.sends_everything()) ds.slow_seen_luids.insert(plan.luid.str());
  const MapEntry* mapped = batch.map.find(plan.luid.str());

  if (cmd.kind == CommandKind::kDelete && cmd.sft_del) {
    // Soft delete (RepPro §"SftDel"): the device dropped the item for
    // want of space, not the user. The server keeps it, and keeps the
    // map row, so it is not sent back while it stays unchanged.
    return decided(std::move(plan), mapped ? StatusCode::kOk : StatusCode::kItemNotDeleted);
  }
  if (mapped && !ds.sends_everything() && (cmd.kind == CommandKind::kReplace || cmd.kind == CommandKind::kDelete)) {
    auto now = batch.current.find(mapped->guid.str());
    const bool server_deleted = now == batch.current.end();
    const bool server_changed = !server_deleted && now->second != mapped->synced;
    if (server_changed || (server_deleted && cmd.kind == CommandKind::kReplace)) {
      return plan_conflict(batch, std::move(plan), item, *mapped, server_deleted);
    }
  }
  if (mapped && !ds.sends_everything() && !step.whole) plan.race_item = &incoming;
  if (cmd.kind == CommandKind::kDelete) {
    if (!mapped) return decided(std::move(plan), StatusCode::kItemNotDeleted);
    if (defer_client_delete(ds, plan.luid, mapped->guid)) {
      ++ds.counts.client_deletes;  // accepted; applied or held with the rest (engine/deletion_guard.h)
      // Archive (RepPro §"Archive"): no store keeps deleted versions, and
      // the protocol has a code for deleting without.
      return decided(std::move(plan), cmd.archive ? StatusCode::kDeleteWithoutArchive : StatusCode::kOk);
    }
    plan.write = caf::SyncObj{};
    plan.write->action = caf::Action::kDelete;
    plan.write->guid = mapped->guid;
    return plan;
  }
  if (item.data_kind == protocol::DataKind::kNone) return decided(std::move(plan), StatusCode::kIncompleteCommand);
  ItemPlan planned = plan_write(batch, std::move(plan), item, mapped, seen_before);
  // A slow sync marks no changes: an item the device had (its map row says
  // so) that the server changed or deleted since may come as the device's
  // older copy (say its anchors went with an answer it never got) as well
  // as a change of its own. Written over or added again, the server's
  // change would be undone without a trace; it is a conflict, for the
  // store's policy, as in a two-way sync (issue #20: found by the crash loop).
  if (ds.sends_everything() && mapped && planned.write) {
    const caf::SyncObj* current = batch.matcher.item(mapped->guid.str());
    const bool changed = current && current->anchor != mapped->synced &&
                         planned.write->action == caf::Action::kUpdate && planned.write->guid == mapped->guid;
    const bool deleted = !current && planned.write->action == caf::Action::kCreate;
    if (changed || deleted) {
      planned.write.reset();
      return plan_conflict(batch, std::move(planned), item, *mapped, deleted);
    }
  }
  return planned;
}

Result<ItemPlan> SyncEngine::MessageRun::plan_conflict(ClientBatch& batch, ItemPlan&& plan, const protocol::Item& item,
                                                       const MapEntry& mapped, bool server_deleted) {
  auto change = resolve_conflict(batch.ds, batch.policy, *plan.cmd, item, mapped, server_deleted, plan);
  if (!change) return change.error();
  if (*change && (*change)->action != caf::Action::kDelete) {
    caf::SyncObj& obj = **change;
    Ingested stored = batch.formats.to_storage(std::move(obj.raw), obj.content_type, plan.luid.str(),
                                               [&] { return batch.current_version(mapped.guid); });
    if (stored.refused) return decided(std::move(plan), *stored.refused);
    obj.content_type = std::move(stored.content_type);
    obj.raw = std::move(stored.raw);
  }
  plan.write = std::move(*change);
  return std::move(plan);
}

ItemPlan SyncEngine::MessageRun::plan_write(ClientBatch& batch, ItemPlan&& plan, const protocol::Item& item,
                                            const MapEntry* mapped, bool seen_before) {
  const Command& cmd = *plan.cmd;
  DatastoreState& ds = batch.ds;
  std::string raw = item.data;
  if (item_format(cmd, item) == protocol::ItemFormat::kB64) {
    auto decoded = base64_decode(raw);
    if (!decoded) return decided(std::move(plan), StatusCode::kBadRequest);
    raw = std::move(*decoded);
  }
  // Into the storage format, merged with the server's version so fields
  // the device cannot hold survive (engine/format_negotiation.h).
  Ingested stored = batch.formats.to_storage(
      std::move(raw), item_type(cmd, item, ds.content_type), plan.luid.str(),
      [&] { return mapped && cmd.kind == CommandKind::kReplace ? batch.current_version(mapped->guid) : std::nullopt; });
  if (stored.refused) return decided(std::move(plan), *stored.refused);
  bool known = mapped != nullptr;
  if (ds.sends_everything()) {
    // The item the map names, if it still exists and no other LUID of
    // this slow sync took it; else any unclaimed item with these bytes.
    const caf::SyncObj* current = mapped ? batch.matcher.item(mapped->guid.str()) : nullptr;
    known = current && (seen_before || !ds.slow_claimed_guids.count(mapped->guid.str()));
    if (known) {
      batch.claim(mapped->guid.str());
      if (current->raw == stored.raw) {
        plan.matched_guid = mapped->guid;
        plan.matched_anchor = current->anchor;
        return std::move(plan);
      }
    } else if (auto twin = batch.matcher.match(stored.raw, stored.content_type)) {
      return batch.match_twin(std::move(plan), std::move(*twin));
    }
  } else if ((rerun_ || ds.resumed) && !mapped && cmd.kind == CommandKind::kAdd) {
    // Stored by the run its server did not live to answer: map it, once. A
    // resumed sync's Adds too: the suspended session may have ended in such
    // a run, its message never sent again (issue #20: the crash loop).
    if (auto twin = batch.matcher.match(stored.raw, stored.content_type)) {
      return batch.match_twin(std::move(plan), std::move(*twin));
    }
  }
  plan.write = caf::SyncObj{};
  plan.write->content_type = std::move(stored.content_type);
  plan.write->raw = std::move(stored.raw);
  // A Replace of an unknown LUID adds the item (RepPro §"Replace").
  plan.write->action = known ? caf::Action::kUpdate : caf::Action::kCreate;
  if (known) plan.write->guid = mapped->guid;
  return std::move(plan);
}

Status SyncEngine::MessageRun::answer_client_items(ClientBatch& batch, const std::vector<ItemPlan>& plans,
                                                   const std::vector<caf::Action>& actions,
                                                   const std::vector<Guid>& written,
                                                   const std::vector<caf::ApplyResult>& results,
                                                   const std::map<std::string, caf::SyncObj>& before) {
  DatastoreState& ds = batch.ds;
  std::vector<MapEntry> upserts;
  std::vector<Luid> removals;
  for (const auto& p : plans) {
    StatusCode code = p.decided;
    if (!p.matched_guid.empty()) {
      upserts.push_back(MapEntry{p.luid, p.matched_guid, p.matched_anchor});
      code = p.cmd->kind == CommandKind::kAdd ? StatusCode::kItemAdded : StatusCode::kOk;
    } else if (p.batch_index >= 0) {
      const caf::ApplyResult& r = results.at(p.batch_index);
      const caf::Action action = actions.at(p.batch_index);
      if (r.status.is_ok() && r.outcome != caf::ApplyOutcome::kAlreadyDeleted) {
        const Guid guid = action == caf::Action::kCreate ? r.guid : written.at(p.batch_index);
        auto old = before.find(guid.str());
        journal_write(ds, action, guid, old == before.end() ? std::nullopt : std::optional(old->second));
      }
      if (!r.status.is_ok()) {
        ++ds.counts.client_errors;
        code = item_write_status(r.status, p.cmd->kind);
        report_client_failure(ds, p.luid, code,
                              std::string(caf::action_name(action)) + " failed: " + r.status.to_string());
        if (action == caf::Action::kDelete && r.status.is_not_found()) removals.push_back(p.luid);
      } else if (action == caf::Action::kDelete) {
        ++ds.counts.client_deletes;
        removals.push_back(p.luid);
        code = r.outcome == caf::ApplyOutcome::kAlreadyDeleted ? StatusCode::kItemNotDeleted : p.success;
        // Archive (RepPro §"Archive"): no store keeps deleted versions, and
        // the protocol has a code for deleting without.
        if (code == StatusCode::kOk && p.cmd->archive) code = StatusCode::kDeleteWithoutArchive;
      } else {
        if (p.map_written_item) upserts.push_back(MapEntry{p.luid, r.guid, p.resend_to_device ? Anchor() : r.anchor});
        if (ds.sends_everything()) ds.slow_claimed_guids.insert(r.guid.str());
        if (action == caf::Action::kCreate) {
          ++ds.counts.client_adds;
          code = p.success == StatusCode::kOk ? StatusCode::kItemAdded : p.success;
        } else {
          ++ds.counts.client_updates;
          code = p.success;
        }
      }
    } else if (p.fix.kind == MapFix::Kind::kRemove) {
      removals.push_back(p.luid);
    } else if (p.fix.kind == MapFix::Kind::kSetSynced) {
      upserts.push_back(MapEntry{p.luid, p.fix.guid, p.fix.anchor});
    } else if (!is_success(code)) {
      ++ds.counts.client_errors;
      if (protocol::to_int(code) >= 400 && code != StatusCode::kConflictServerWon) {
        report_client_failure(ds, p.luid, code, "refused before it reached the back end");
      }
    }
    Command& s = add_status(*p.cmd, code);
    if (!p.luid.empty()) s.source_refs.push_back(p.luid.str());
  }
  const DeviceStore key{session_.user, session_.device, ds.server_uri};
  if (!upserts.empty()) CFX_RETURN_IF_ERROR(engine_.state_.upsert_map(key, upserts));
  if (!removals.empty()) CFX_RETURN_IF_ERROR(engine_.state_.remove_map(key, removals));
  return Status::ok();
}

}  // namespace conflux::engine
