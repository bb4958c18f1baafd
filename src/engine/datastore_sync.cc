// Client changes (pkg 3), our changes (pkg 4) and the Map (pkg 5) for each
// datastore of a session.
#include <algorithm>
#include <optional>
#include <unordered_map>

#include "common/base64.h"
#include "common/log.h"
#include "engine/duplicate_matcher.h"
#include "engine/format_negotiation.h"
#include "engine/message_run.h"
#include "engine/status_map.h"

namespace conflux::engine {

using protocol::Command;
using protocol::CommandKind;
using protocol::StatusCode;

namespace {

// How many outgoing items are read from the CAF per round while a message is filled.
constexpr size_t kFetchChunk = 100;

bool is_success(int code) { return code >= 200 && code < 300; }

// What the map says about a datastore, indexed both ways.
struct MapIndex {
  std::unordered_map<std::string, MapEntry> by_luid;
  std::unordered_map<std::string, std::string> luid_by_guid;

  explicit MapIndex(const std::vector<MapEntry>& entries) {
    for (const auto& e : entries) {
      by_luid[e.luid.str()] = e;
      luid_by_guid[e.guid.str()] = e.luid.str();
    }
  }
  const MapEntry* find(const std::string& luid) const {
    auto it = by_luid.find(luid);
    return it == by_luid.end() ? nullptr : &it->second;
  }
};

}  // namespace

void SyncEngine::MessageRun::handle_sync(const Command& sync) {
  const std::string target = sync.target ? sync.target->loc_uri : "";
  Command& status = add_status(sync, StatusCode::kOk);
  if (sync.target) status.target_refs = {sync.target->loc_uri};
  if (sync.source) status.source_refs = {sync.source->loc_uri};

  DatastoreState* ds = session_.find_by_server_uri(normalize_store_uri(target));
  auto refuse_children = [&](StatusCode code) {
    for (const auto& child : sync.children) {
      Command& s = add_status(child, code);
      for (const auto& item : child.items) {
        if (item.source) s.source_refs.push_back(item.source->loc_uri);
      }
    }
  };
  if (!ds) {
    status.code = protocol::to_int(StatusCode::kNotFound);
    refuse_children(StatusCode::kNotFound);
    return;
  }
  if (session_.phase != Phase::kClientSync) {
    status.code = protocol::to_int(StatusCode::kCommandNotAllowed);
    refuse_children(StatusCode::kCommandNotAllowed);
    return;
  }
  if (!ds->client_sends()) {
    // One-way/refresh from server: the client's (empty) Sync is fine, changes in it are not.
    if (!sync.children.empty()) refuse_children(StatusCode::kCommandNotAllowed);
    return;
  }
  ds->client_sync_seen = true;
  apply_sync_children(*ds, sync.children);
}

void SyncEngine::MessageRun::apply_client_changes(DatastoreState& ds, const std::vector<const Command*>& changes) {
  auto log = logger("engine");
  const DeviceStore key{session_.user, session_.device, ds.server_uri};
  auto entries = engine_.state_.map_entries(key);
  if (!entries) {
    store_error_ = entries.error();
    return;
  }
  MapIndex map(*entries);
  const DeviceFormats formats =
      load_device_formats(engine_.state_, engine_.stores_, key, ds.client_uri, session_.key.str());

  // In a slow sync the client sends everything it has; items it already
  // holds in the server's version must not be written again, and items the
  // server has under another id must be matched, not doubled.
  // Every server item not yet claimed in this slow sync may match by
  // content, mapped or not: a device restored from a backup sends the same
  // cards under new LUIDs.
  std::vector<caf::SyncObj> everything;
  if (ds.sends_everything()) {
    auto all = engine_.caf_.search(store_ref(ds), caf::Query{});
    if (!all) {
      logger("engine")->warn("session {} datastore {}: reading items for matching failed: {}", session_.key.str(),
                             ds.server_uri, all.error().to_string());
    } else {
      everything = std::move(*all);
    }
  }
  DuplicateMatcher matcher(std::move(everything), ds.slow_claimed_guids);
  auto claim = [&](const std::string& guid) {
    ds.slow_claimed_guids.insert(guid);
    matcher.claim(guid);
  };
  // The stored version of an item the device updates, for the merge that
  // keeps what the device cannot hold; a slow sync has them all at hand.
  auto current_version = [&](const Guid& guid) -> std::optional<caf::SyncObj> {
    if (ds.sends_everything()) {
      const caf::SyncObj* known = matcher.item(guid.str());
      return known ? std::optional<caf::SyncObj>(*known) : std::nullopt;
    }
    caf::Query one;
    one.guids = {guid};
    auto found = engine_.caf_.search(store_ref(ds), one);
    return found && !found->empty() ? std::optional<caf::SyncObj>(std::move(found->front())) : std::nullopt;
  };

  // One entry per item: either a change for the CAF, or a status decided here.
  struct Pending : PendingDecision {
    const Command* cmd = nullptr;
    Luid luid;
    int batch_index = -1;
    Guid matched_guid;  // decided without a write: the item the server already has
    Anchor matched_anchor;
  };
  std::vector<Pending> pending;
  std::vector<caf::SyncObj> batch;

  // Revisions of the server items this Sync changes or deletes, to see
  // whether the server changed them too since the device last saw them.
  std::unordered_map<std::string, Anchor> current;
  if (!ds.sends_everything()) {
    caf::Query touched;
    touched.metadata_only = true;
    for (const Command* change : changes) {
      if (change->kind != CommandKind::kReplace && change->kind != CommandKind::kDelete) continue;
      for (const auto& item : change->items) {
        const protocol::LocRef* id = item.source ? &*item.source : (item.target ? &*item.target : nullptr);
        if (const MapEntry* mapped = id ? map.find(id->loc_uri) : nullptr) touched.guids.push_back(mapped->guid);
      }
    }
    if (!touched.guids.empty()) {
      auto found = engine_.caf_.search(store_ref(ds), touched);
      if (!found) {
        logger("engine")->warn("session {} datastore {}: reading item revisions failed: {}", session_.key.str(),
                               ds.server_uri, found.error().to_string());
      } else {
        for (const auto& obj : *found) current.emplace(obj.guid.str(), obj.anchor);
      }
    }
  }
  const ConflictPolicy policy = policy_for(ds.server_uri);

  for (const Command* change : changes) {
    const Command& cmd = *change;
    for (const auto& incoming : cmd.items) {
      Pending p;
      p.cmd = &cmd;
      const protocol::LocRef* id =
          incoming.source ? &*incoming.source : (incoming.target ? &*incoming.target : nullptr);
      if (!id || id->loc_uri.empty()) {
        p.decided = StatusCode::kIncompleteCommand;
        pending.push_back(p);
        continue;
      }
      p.luid = Luid(id->loc_uri);
      // A large object arrives in chunks over several messages; it is handled
      // once, when its last chunk is in.
      protocol::Item assembled;
      const ChunkStep step = take_client_chunk(ds, cmd, incoming, assembled);
      if (step.decided) {
        p.decided = *step.decided;
        pending.push_back(p);
        continue;
      }
      const protocol::Item& item = step.whole ? assembled : incoming;
      // Seen already: the client resends an item of a resumed slow sync whose
      // status it never got; the item it claimed then is its own.
      const bool seen_before = ds.slow_seen_luids.count(p.luid.str()) > 0;
      if (ds.sends_everything()) ds.slow_seen_luids.insert(p.luid.str());
      const MapEntry* mapped = map.find(p.luid.str());

      if (cmd.kind == CommandKind::kDelete && cmd.sft_del) {
        // Soft delete (RepPro §"SftDel"): the device dropped the item for
        // want of space, not the user. The server keeps it, and keeps the
        // map row, so it is not sent back while it stays unchanged.
        p.decided = mapped ? StatusCode::kOk : StatusCode::kItemNotDeleted;
        pending.push_back(p);
        continue;
      }

      if (mapped && !ds.sends_everything() && (cmd.kind == CommandKind::kReplace || cmd.kind == CommandKind::kDelete)) {
        auto now = current.find(mapped->guid.str());
        const bool server_deleted = now == current.end();
        const bool server_changed = !server_deleted && now->second != mapped->synced;
        if (server_changed || (server_deleted && cmd.kind == CommandKind::kReplace)) {
          std::optional<caf::SyncObj> change = resolve_conflict(ds, policy, cmd, item, *mapped, server_deleted, p);
          if (!store_error_.is_ok()) return;
          if (change && change->action != caf::Action::kDelete) {
            Ingested stored = formats.to_storage(std::move(change->raw), change->content_type, p.luid.str(),
                                                 [&] { return current_version(mapped->guid); });
            if (stored.refused) {
              p.decided = *stored.refused;
              change.reset();
            } else {
              change->content_type = std::move(stored.content_type);
              change->raw = std::move(stored.raw);
            }
          }
          if (change) {
            p.batch_index = static_cast<int>(batch.size());
            batch.push_back(std::move(*change));
          }
          pending.push_back(p);
          continue;
        }
      }

      if (cmd.kind == CommandKind::kDelete) {
        if (!mapped) {
          p.decided = StatusCode::kItemNotDeleted;
        } else if (defer_client_delete(ds, p.luid, mapped->guid)) {
          ++ds.counts.client_deletes;  // accepted; applied or held with the rest (engine/deletion_guard.h)
          // Archive (RepPro §"Archive"): no store keeps deleted versions, and
          // the protocol has a code for deleting without.
          if (cmd.archive) p.decided = StatusCode::kDeleteWithoutArchive;
        } else {
          caf::SyncObj obj;
          obj.action = caf::Action::kDelete;
          obj.guid = mapped->guid;
          p.batch_index = static_cast<int>(batch.size());
          batch.push_back(std::move(obj));
        }
        pending.push_back(p);
        continue;
      }

      if (item.data_kind == protocol::DataKind::kNone) {
        p.decided = StatusCode::kIncompleteCommand;
        pending.push_back(p);
        continue;
      }
      std::string raw = item.data;
      if (item_format(cmd, item) == "b64") {
        auto decoded = base64_decode(raw);
        if (!decoded) {
          p.decided = StatusCode::kBadRequest;
          pending.push_back(p);
          continue;
        }
        raw = std::move(*decoded);
      }
      // Into the storage format, merged with the server's version so fields
      // the device cannot hold survive (engine/format_negotiation.h).
      Ingested stored = formats.to_storage(std::move(raw), item_type(cmd, item, ds.content_type), p.luid.str(), [&] {
        return mapped && cmd.kind == CommandKind::kReplace ? current_version(mapped->guid) : std::nullopt;
      });
      if (stored.refused) {
        p.decided = *stored.refused;
        pending.push_back(p);
        continue;
      }
      raw = std::move(stored.raw);
      bool known = mapped != nullptr;
      if (ds.sends_everything()) {
        // The item the map names, if it still exists and no other LUID of
        // this slow sync took it; else any unclaimed item with these bytes.
        const caf::SyncObj* current = mapped ? matcher.item(mapped->guid.str()) : nullptr;
        known = current && (seen_before || !ds.slow_claimed_guids.count(mapped->guid.str()));
        if (known) {
          claim(mapped->guid.str());
          if (current->raw == raw) {
            p.matched_guid = mapped->guid;
            p.matched_anchor = current->anchor;
            pending.push_back(p);
            continue;
          }
        } else if (auto twin = matcher.match(raw, stored.content_type)) {
          ds.slow_claimed_guids.insert(twin->guid);
          const caf::SyncObj& server = *matcher.item(twin->guid);
          if (twin->identical || twin->merged_raw == server.raw) {
            // Nothing new for the server. When the bytes differ the device
            // gets the server's version (its map row names no revision).
            p.matched_guid = Guid(twin->guid);
            p.matched_anchor = twin->identical ? server.anchor : Anchor();
            pending.push_back(p);
            continue;
          }
          // The same contact with fields the server lacked: store the merge
          // and send it back to the device.
          caf::SyncObj merged;
          merged.action = caf::Action::kUpdate;
          merged.guid = Guid(twin->guid);
          merged.content_type = server.content_type;
          merged.raw = std::move(twin->merged_raw);
          p.resend_to_device = true;
          p.batch_index = static_cast<int>(batch.size());
          batch.push_back(std::move(merged));
          pending.push_back(p);
          continue;
        }
      }
      caf::SyncObj obj;
      obj.content_type = std::move(stored.content_type);
      obj.raw = std::move(raw);
      // A Replace of an unknown LUID adds the item (RepPro §"Replace").
      obj.action = known ? caf::Action::kUpdate : caf::Action::kCreate;
      if (known) obj.guid = mapped->guid;
      p.batch_index = static_cast<int>(batch.size());
      batch.push_back(std::move(obj));
      pending.push_back(p);
    }
  }

  // These changes are one batch: one back-end transaction.
  std::vector<caf::Action> actions;
  std::vector<Guid> written;  // empty for a create until applied
  for (const auto& obj : batch) {
    actions.push_back(obj.action);
    written.push_back(obj.guid);
  }
  std::map<std::string, caf::SyncObj> before = versions_before(ds, batch);
  std::vector<caf::ApplyResult> results;
  if (!batch.empty()) results = engine_.caf_.apply(store_ref(ds), std::move(batch));

  std::vector<MapEntry> upserts;
  std::vector<Luid> removals;
  for (const auto& p : pending) {
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
        report_client_failure(ds, p.luid, code, std::string(caf::action_name(action)) + " failed: " +
                                                    r.status.to_string());
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
    } else if (!is_success(protocol::to_int(code))) {
      ++ds.counts.client_errors;
      if (protocol::to_int(code) >= 400 && code != StatusCode::kConflictServerWon) {
        report_client_failure(ds, p.luid, code, "refused before it reached the back end");
      }
    }
    Command& s = add_status(*p.cmd, code);
    if (!p.luid.empty()) s.source_refs.push_back(p.luid.str());
  }
  if (!upserts.empty()) {
    if (auto st = engine_.state_.upsert_map(key, upserts); !st.is_ok()) store_error_ = st;
  }
  if (!removals.empty()) {
    if (auto st = engine_.state_.remove_map(key, removals); !st.is_ok()) store_error_ = st;
  }
}

void SyncEngine::MessageRun::handle_map(const Command& map) {
  const std::string target = map.target ? map.target->loc_uri : "";
  DatastoreState* ds = session_.find_by_server_uri(normalize_store_uri(target));
  Command& status = add_status(map, StatusCode::kOk);
  if (map.target) status.target_refs = {map.target->loc_uri};
  if (map.source) status.source_refs = {map.source->loc_uri};
  if (!ds) {
    status.code = protocol::to_int(StatusCode::kNotFound);
    return;
  }
  for (const auto& item : map.map_items) {
    if (item.source.empty() || item.target.empty()) {
      // A MapItem needs both ids (RepPro §"MapItem"); the rest of the Map stands.
      status.code = protocol::to_int(StatusCode::kIncompleteCommand);
      continue;
    }
    Anchor synced;
    if (auto it = ds->awaiting_map.find(item.target); it != ds->awaiting_map.end()) {
      synced = it->second;
      ds->awaiting_map.erase(it);
    }
    map_upserts_[ds->server_uri].push_back(MapEntry{Luid(item.source), Guid(item.target), synced});
  }
}

void SyncEngine::MessageRun::on_item_status(DatastoreState& ds, const SentItem& sent, int code) {
  track_device_answer(ds, sent, code);
  switch (sent.kind) {
    case CommandKind::kAdd:
      // The map row comes with the client's Map; a refused Add is sent again
      // next time because the item stays unmapped.
      if (!is_success(code)) ds.awaiting_map.erase(sent.guid.str());
      break;
    case CommandKind::kReplace:
      if (is_success(code)) {
        map_upserts_[ds.server_uri].push_back(MapEntry{sent.luid, sent.guid, sent.anchor});
      } else if (code == 404 || code == 410) {
        map_removals_[ds.server_uri].push_back(sent.luid);  // the device lost it: add it anew next time
      }
      break;
    case CommandKind::kDelete:
      if (is_success(code) || code == 404 || code == 410) map_removals_[ds.server_uri].push_back(sent.luid);
      break;
    default:
      break;
  }
  if (!is_success(code)) {
    logger("engine")->warn("session {} user {} datastore {}: client answered {} for {} of {}", session_.key.str(),
                           session_.user.str(), ds.server_uri, code, protocol::command_name(sent.kind),
                           sent.guid.str());
  }
}

Status SyncEngine::MessageRun::flush_map_changes() {
  for (auto& [uri, entries] : map_upserts_) {
    CFX_RETURN_IF_ERROR(engine_.state_.upsert_map(DeviceStore{session_.user, session_.device, uri}, entries));
  }
  for (auto& [uri, luids] : map_removals_) {
    CFX_RETURN_IF_ERROR(engine_.state_.remove_map(DeviceStore{session_.user, session_.device, uri}, luids));
  }
  map_upserts_.clear();
  map_removals_.clear();
  return Status::ok();
}

Status SyncEngine::MessageRun::delete_unclaimed(DatastoreState& ds) {
  // Refresh from client (SyncProt §"Refresh sync from client"): the server's
  // data becomes what the client sent; every item it did not send goes (and
  // other devices receive the deletes at their next sync).
  caf::Query listing;
  listing.metadata_only = true;
  auto live = engine_.caf_.search(store_ref(ds), listing);
  if (!live) {
    logger("engine")->warn("session {} datastore {}: refresh from client could not list items, none deleted: {}",
                           session_.key.str(), ds.server_uri, live.error().to_string());
    return Status::ok();
  }
  std::vector<caf::SyncObj> deletes;
  for (const auto& obj : *live) {
    if (ds.slow_claimed_guids.count(obj.guid.str())) continue;
    caf::SyncObj del;
    del.action = caf::Action::kDelete;
    del.guid = obj.guid;
    deletes.push_back(std::move(del));
  }
  if (deletes.empty()) return Status::ok();
  std::vector<Guid> guids;
  for (const auto& del : deletes) guids.push_back(del.guid);
  if (hold_if_mass_deletion(ds, guids, live->size(), "refresh from client would delete")) return store_error_;
  const size_t n = deletes.size();
  int failed = 0;
  for (const auto& r : engine_.caf_.apply(store_ref(ds), std::move(deletes))) failed += r.status.is_ok() ? 0 : 1;
  logger("engine")->info("session {} user {} datastore {}: refresh from client removed {} items the device did not "
                         "send ({} failed)",
                         session_.key.str(), session_.user.str(), ds.server_uri, n - failed, failed);
  return Status::ok();
}

Status SyncEngine::MessageRun::prepare_server_changes(DatastoreState& ds) {
  const DeviceStore key{session_.user, session_.device, ds.server_uri};
  // A resumed sync did these steps before its suspend (engine/suspend_resume.cc).
  const bool first_time = !ds.prepared;
  ds.prepared = true;
  CFX_RETURN_IF_ERROR(settle_client_deletes(ds));
  // Refresh from server: the device starts empty.
  if (first_time && ds.alert_code == 205) CFX_RETURN_IF_ERROR(engine_.state_.clear_map(key));
  if (first_time && ds.alert_code == 203) CFX_RETURN_IF_ERROR(delete_unclaimed(ds));
  if (first_time && ds.sends_everything()) {
    // Map rows for items the client did not send any more are stale.
    auto entries = engine_.state_.map_entries(key);
    if (!entries) return entries.error();
    std::vector<Luid> stale;
    for (const auto& e : *entries) {
      if (!ds.slow_seen_luids.count(e.luid.str())) stale.push_back(e.luid);
    }
    if (!stale.empty()) CFX_RETURN_IF_ERROR(engine_.state_.remove_map(key, stale));
    ds.slow_seen_luids.clear();
    ds.slow_claimed_guids.clear();
  }
  if (!ds.server_sends()) return Status::ok();
  auto entries = engine_.state_.map_entries(key);
  if (!entries) return entries.error();
  MapIndex map(*entries);

  // What the device lacks follows from the store's items and the device's
  // map alone (as SyncEvolution's TrackingSyncSource does), not from an
  // anchor: an item that was not delivered or not acknowledged in an earlier
  // session — back end down, refused by the device, session broken before
  // its Map — is found again every time until the device has it.
  caf::Query listing;
  listing.metadata_only = true;
  auto live = engine_.caf_.search(store_ref(ds), listing);
  if (!live) {
    logger("engine")->warn("session {} user {} datastore {}: listing items failed, nothing sent: {}",
                           session_.key.str(), session_.user.str(), ds.server_uri, live.error().to_string());
    return Status::ok();
  }
  auto poison = poison_items(ds, *live);
  if (!poison) return poison.error();
  auto held = held_from(ds);
  if (!held) return held.error();
  std::unordered_map<std::string, bool> live_guids;
  for (const auto& obj : *live) {
    live_guids[obj.guid.str()] = true;
    if (poison->count(obj.guid.str())) continue;
    auto luid_it = map.luid_by_guid.find(obj.guid.str());
    const MapEntry* mapped = luid_it == map.luid_by_guid.end() ? nullptr : map.find(luid_it->second);
    if (!mapped) {
      if (held->count(obj.guid.str())) continue;  // the device deleted it; held until the user decides
      // An Add the device acknowledged before a suspend waits for its Map.
      if (ds.awaiting_map.count(obj.guid.str()) && !ds.unacknowledged_adds.count(obj.guid.str())) continue;
      ds.outgoing.push_back(Outgoing{CommandKind::kAdd, obj.guid, Luid()});
    } else if (mapped->synced != obj.anchor) {
      // The device holds an older version (its own writes carry the anchor
      // they produced, so they are never echoed back).
      ds.outgoing.push_back(Outgoing{CommandKind::kReplace, obj.guid, mapped->luid});
    }
  }
  for (const auto& entry : *entries) {
    if (!live_guids.count(entry.guid.str())) {
      ds.outgoing.push_back(Outgoing{CommandKind::kDelete, entry.guid, entry.luid});
    }
  }
  return Status::ok();
}

Result<bool> SyncEngine::MessageRun::add_server_changes() {
  const uint64_t budget = message_budget(client_max_msg_size());
  protocol::Message shell = reply_;
  shell.hdr.resp_uri = where_.base_url + "?sid=" + session_.key.str();
  shell.final = true;
  uint64_t used = protocol::encoded_overhead(shell, where_.encoding);
  for (const auto& c : statuses_) used += protocol::encoded_size(c, session_.version, where_.encoding);
  for (const auto& c : commands_) used += protocol::encoded_size(c, session_.version, where_.encoding);

  bool all_sent = true;
  bool any_item = false;
  for (auto& ds : session_.datastores) {
    if (!ds.server_sends()) continue;
    if (ds.server_sync_sent && ds.outgoing.empty()) continue;

    Command sync;
    sync.kind = CommandKind::kSync;
    sync.cmd_id = next_cmd_id();
    sync.target = protocol::LocRef{ds.client_uri, {}};
    sync.source = protocol::LocRef{ds.server_uri, {}};
    if (!ds.server_sync_sent && quirks_.send_number_of_changes) {
      sync.number_of_changes = static_cast<uint32_t>(ds.outgoing.size());
    }
    used += protocol::encoded_size(sync, session_.version, where_.encoding);
    ds.server_sync_sent = true;

    const DeviceFormats formats =
        load_device_formats(engine_.state_, engine_.stores_, DeviceStore{session_.user, session_.device, ds.server_uri},
                            ds.client_uri, session_.key.str());
    size_t next = 0;
    bool full = false;
    while (next < ds.outgoing.size() && !full) {
      // Read the data of the next chunk of outgoing items in one CAF call.
      const size_t end = std::min(ds.outgoing.size(), next + kFetchChunk);
      caf::Query query;
      for (size_t i = next; i < end; ++i) {
        if (ds.outgoing[i].kind != CommandKind::kDelete) query.guids.push_back(ds.outgoing[i].guid);
      }
      std::unordered_map<std::string, caf::SyncObj> data;
      if (!query.guids.empty()) {
        auto found = engine_.caf_.search(store_ref(ds), query);
        if (!found) {
          // Back end unreachable: send what we have; the rest goes next message or session.
          logger("engine")->warn("session {} datastore {}: reading items failed: {}", session_.key.str(),
                                 ds.server_uri, found.error().to_string());
          full = true;
          break;
        }
        for (auto& obj : *found) data.emplace(obj.guid.str(), std::move(obj));
      }
      for (; next < end; ++next) {
        const Outgoing& out = ds.outgoing[next];
        Command cmd;
        cmd.kind = out.kind;
        cmd.cmd_id = cmd_id_ + 1;
        protocol::Item item;
        SentItem sent{out.kind, out.guid, out.luid, Anchor()};
        if (out.kind == CommandKind::kDelete) {
          item.target = protocol::LocRef{out.luid.str(), {}};
        } else {
          auto it = data.find(out.guid.str());
          if (it == data.end()) continue;  // deleted since the list was made; nothing to send
          Delivered delivered = formats.to_device(it->second);
          cmd.meta = protocol::Meta{};
          cmd.meta->type = std::move(delivered.content_type);
          item.data_kind = protocol::DataKind::kText;
          item.data = std::move(delivered.raw);
          sent.anchor = it->second.anchor;
          if (out.kind == CommandKind::kAdd) {
            item.source = protocol::LocRef{out.guid.str(), {}};
          } else {
            item.target = protocol::LocRef{out.luid.str(), {}};
          }
        }
        cmd.items.push_back(std::move(item));
        uint64_t size = protocol::encoded_size(cmd, session_.version, where_.encoding);
        bool last_chunk = true;
        if (used + size > budget || ds.outgoing_offset > 0) {
          if (any_item) {
            full = true;
            break;
          }
          // Alone it does not fit (or it is being sent in parts already):
          // Large Object Handling (RepPro §"Large objects"), one chunk per
          // message, MoreData on all but the last, Size on the first.
          if (out.kind != CommandKind::kDelete) {
            auto chunked = take_chunk(cmd, ds.outgoing_offset, budget > used ? budget - used : 0);
            size = chunked.encoded;
            last_chunk = chunked.last;
          }
        }
        next_cmd_id();
        used += size;
        any_item = true;
        if (!last_chunk) {
          // The client answers 213 for this chunk; the item's real status
          // comes with the last one, in a later message.
          sync.children.push_back(std::move(cmd));
          full = true;
          break;
        }
        ds.outgoing_offset = 0;
        ds.awaiting_status[reply_.hdr.msg_id + ":" + std::to_string(cmd.cmd_id)] = {sent};
        if (out.kind == CommandKind::kAdd) {
          ds.awaiting_map[out.guid.str()] = sent.anchor;
          ++ds.counts.server_adds;
        } else if (out.kind == CommandKind::kReplace) {
          ++ds.counts.server_updates;
        } else {
          ++ds.counts.server_deletes;
        }
        sync.children.push_back(std::move(cmd));
      }
    }
    ds.outgoing.erase(ds.outgoing.begin(), ds.outgoing.begin() + static_cast<std::ptrdiff_t>(next));
    commands_.push_back(std::move(sync));
    if (!ds.outgoing.empty()) {
      all_sent = false;
      break;  // the message is full
    }
  }
  return all_sent;
}

}  // namespace conflux::engine
