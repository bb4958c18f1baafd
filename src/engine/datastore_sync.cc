// Client changes (pkg 3), our changes (pkg 4) and the Map (pkg 5) for each
// datastore of a session.
#include <algorithm>
#include <optional>
#include <unordered_map>

#include "common/log.h"
#include "common/log_context.h"
#include "engine/format_negotiation.h"
#include "engine/late_message.h"
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

}  // namespace

Status SyncEngine::MessageRun::handle_sync(const Command& sync) {
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
    return Status::ok();
  }
  if (session_.phase != Phase::kClientSync) {
    status.code = protocol::to_int(StatusCode::kCommandNotAllowed);
    refuse_children(StatusCode::kCommandNotAllowed);
    return Status::ok();
  }
  if (!ds->client_sends()) {
    // One-way/refresh from server: the client's (empty) Sync is fine, changes in it are not.
    if (!sync.children.empty()) refuse_children(StatusCode::kCommandNotAllowed);
    return Status::ok();
  }
  ds->client_sync_seen = true;
  return apply_sync_children(*ds, sync.children);
}

Status SyncEngine::MessageRun::handle_map(const Command& map) {
  const std::string target = map.target ? map.target->loc_uri : "";
  DatastoreState* ds = session_.find_by_server_uri(normalize_store_uri(target));
  Command& status = add_status(map, StatusCode::kOk);
  if (map.target) status.target_refs = {map.target->loc_uri};
  if (map.source) status.source_refs = {map.source->loc_uri};
  if (!ds) {
    status.code = protocol::to_int(StatusCode::kNotFound);
    return Status::ok();
  }
  std::vector<protocol::MapItem> unknown;
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
    } else {
      auto known = mapped_before(*ds, item);
      if (!known) return known.error();
      if (!*known) {
        unknown.push_back(item);  // an id we never sent: refused alone, below
        continue;
      }
    }
    map_upserts_[ds->server_uri].push_back(MapEntry{Luid(item.source), Guid(item.target), synced});
  }
  for (const auto& item : unknown) {
    log_unknown_map_item(session_, ds->server_uri, item);
    Command& refused = add_status(map, StatusCode::kNotFound);
    refused.target_refs = {item.target};
    refused.source_refs = {item.source};
  }
  return Status::ok();
}

Result<bool> SyncEngine::MessageRun::mapped_before(const DatastoreState& ds, const protocol::MapItem& item) {
  auto mapped = engine_.state_.map_entries(DeviceStore{session_.user, session_.device, ds.server_uri});
  if (!mapped) return mapped.error();
  return map_item_known(*mapped, item);
}

Status SyncEngine::MessageRun::on_item_status(DatastoreState& ds, const SentItem& sent, int code) {
  CFX_RETURN_IF_ERROR(track_device_answer(ds, sent, code));
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
    default: break;
  }
  if (!is_success(code)) {
    logger("engine")->warn("session {} user {} datastore {}: client answered {} for {} of {}", session_.key.str(),
                           session_.user.str(), ds.server_uri, code, protocol::command_name(sent.kind),
                           sent.guid.str());
  }
  return Status::ok();
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
  guids.reserve(deletes.size());
  for (const auto& del : deletes) guids.push_back(del.guid);
  auto held = hold_if_mass_deletion(ds, guids, live->size(), HeldKind::kFromDevice, "refresh from client would delete");
  if (!held) return held.error();
  if (*held) return Status::ok();
  const size_t n = deletes.size();
  int failed = 0;
  for (const auto& r : engine_.caf_.apply(store_ref(ds), std::move(deletes))) failed += r.status.is_ok() ? 0 : 1;
  logger("engine")->info(
      "session {} user {} datastore {}: refresh from client removed {} items the device did not "
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
  if (first_time && ds.sync_type == protocol::SyncType::kRefreshFromServer)
    CFX_RETURN_IF_ERROR(engine_.state_.clear_map(key));
  if (first_time && ds.sync_type == protocol::SyncType::kRefreshFromClient) CFX_RETURN_IF_ERROR(delete_unclaimed(ds));
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
  // The client's package is in: this session matches nothing more.
  engine_.match_indexes_.take(match_index_key(ds));
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
  return guard_deletions_to_device(ds, *entries);
}

uint64_t SyncEngine::MessageRun::reply_size_so_far() const {
  protocol::Message shell = reply_;
  shell.hdr.resp_uri = where_.base_url + "?sid=" + session_.key.str();
  shell.final = true;
  uint64_t used = protocol::encoded_overhead(shell, where_.encoding);
  for (const auto& c : statuses_) used += protocol::encoded_size(c, session_.version, where_.encoding);
  for (const auto& c : commands_) used += protocol::encoded_size(c, session_.version, where_.encoding);
  return used;
}

Result<bool> SyncEngine::MessageRun::add_server_changes() {
  const uint64_t budget = message_budget(client_max_msg_size());
  uint64_t used = reply_size_so_far();
  bool any_item = false;
  for (auto& ds : session_.datastores) {
    if (!ds.server_sends()) continue;
    if (ds.server_sync_sent && ds.outgoing.empty()) continue;
    LogScope log_scope;
    log_context().datastore = ds.server_uri;

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
    fill_server_sync(ds, sync, budget, used, any_item);
    commands_.push_back(std::move(sync));
    if (!ds.outgoing.empty()) return false;  // the message is full
  }
  return true;
}

namespace {

// Our command carrying one outgoing change (without its CmdID), or nullopt
// when the item went away since the list was made.
std::optional<Command> server_change(const Outgoing& out, const std::unordered_map<std::string, caf::SyncObj>& data,
                                     const DeviceFormats& formats, SentItem& sent) {
  Command cmd;
  cmd.kind = out.kind;
  protocol::Item item;
  sent = SentItem{out.kind, out.guid, out.luid, Anchor()};
  if (out.kind == CommandKind::kDelete) {
    item.target = protocol::LocRef{out.luid.str(), {}};
  } else {
    auto it = data.find(out.guid.str());
    if (it == data.end()) return std::nullopt;
    Delivered delivered = formats.to_device(it->second);
    cmd.meta = protocol::Meta{};
    cmd.meta->type = std::move(delivered.content_type);
    // chr is the default: sent without a Format, as devices expect.
    if (delivered.format != protocol::ItemFormat::kChr) cmd.meta->format = protocol::item_format_name(delivered.format);
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
  return cmd;
}

}  // namespace

void SyncEngine::MessageRun::fill_server_sync(DatastoreState& ds, Command& sync, uint64_t budget, uint64_t& used,
                                              bool& any_item) {
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
        logger("engine")->warn("session {} datastore {}: reading items failed: {}", session_.key.str(), ds.server_uri,
                               found.error().to_string());
        full = true;
        break;
      }
      for (auto& obj : *found) data.emplace(obj.guid.str(), std::move(obj));
    }
    for (; next < end; ++next) {
      SentItem sent;
      std::optional<Command> cmd = server_change(ds.outgoing[next], data, formats, sent);
      if (!cmd) continue;  // deleted since the list was made; nothing to send
      cmd->cmd_id = cmd_id_ + 1;
      uint64_t size = protocol::encoded_size(*cmd, session_.version, where_.encoding);
      bool last_chunk = true;
      if (used + size > budget || ds.outgoing_offset > 0) {
        if (any_item) {
          full = true;
          break;
        }
        // Alone it does not fit (or it is being sent in parts already):
        // Large Object Handling (RepPro §"Large objects"), one chunk per
        // message, MoreData on all but the last, Size on the first.
        if (cmd->kind != CommandKind::kDelete) {
          auto chunked = take_chunk(*cmd, ds.outgoing_offset, budget > used ? budget - used : 0);
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
        sync.children.push_back(std::move(*cmd));
        full = true;
        break;
      }
      ds.outgoing_offset = 0;
      note_sent(ds, *cmd, sent);
      sync.children.push_back(std::move(*cmd));
    }
  }
  ds.outgoing.erase(ds.outgoing.begin(), ds.outgoing.begin() + static_cast<std::ptrdiff_t>(next));
}

void SyncEngine::MessageRun::note_sent(DatastoreState& ds, const Command& cmd, const SentItem& sent) {
  ds.awaiting_status[CommandRef{reply_.hdr.msg_id, std::to_string(cmd.cmd_id)}] = {sent};
  if (cmd.kind == CommandKind::kAdd) {
    ds.awaiting_map[sent.guid.str()] = sent.anchor;
    ++ds.counts.server_adds;
  } else if (cmd.kind == CommandKind::kReplace) {
    ++ds.counts.server_updates;
  } else {
    ++ds.counts.server_deletes;
  }
}

}  // namespace conflux::engine
