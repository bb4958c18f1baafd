// Commands that group or copy others (RepPro §"Atomic", §"Sequence",
// §"Copy", §"Move") and credentials carried by a datastore's Alert.
//
// Atomic is all or nothing over back ends whose batches are not transactions
// across commands: every write made inside an Atomic is journaled with the
// item's version from before it, and when a child fails the journal is undone
// by compensating writes, newest first. The device's map rows and the
// session's datastore state are put back as they were. A deleted item comes
// back under a new GUID; it is left unmapped, so the device receives it again.
#include <algorithm>
#include <iterator>
#include <set>
#include <unordered_map>
#include <utility>

#include "common/log.h"
#include "engine/credentials.h"
#include "engine/message_run.h"
#include "engine/status_map.h"

namespace conflux::engine {

using protocol::Command;
using protocol::CommandKind;
using protocol::StatusCode;

namespace {

// Whether a status says its command did not do what was asked. A conflict
// the server resolved (419) and an Alert that turns into a slow sync (508)
// are outcomes, not failures.
bool command_failed(int code) {
  return code >= 300 && code != protocol::to_int(StatusCode::kConflictServerWon) &&
         code != protocol::to_int(StatusCode::kRefreshRequired);
}

bool is_item_change(CommandKind kind) {
  return kind == CommandKind::kAdd || kind == CommandKind::kReplace || kind == CommandKind::kDelete;
}

void add_item_refs(Command& status, const Command& answered) {
  for (const auto& item : answered.items) {
    if (item.source) status.source_refs.push_back(item.source->loc_uri);
  }
}

}  // namespace

bool SyncEngine::MessageRun::failed_since(size_t index) const {
  for (size_t i = index; i < statuses_.size(); ++i) {
    if (command_failed(statuses_[i].code)) return true;
  }
  return false;
}

Status SyncEngine::MessageRun::apply_sync_children(DatastoreState& ds, const std::vector<Command>& children) {
  std::vector<const Command*> changes;
  auto apply_changes = [&] {
    Status st = changes.empty() ? Status::ok() : apply_client_changes(ds, changes);
    changes.clear();
    return st;
  };
  for (const Command& child : children) {
    if (is_item_change(child.kind)) {
      changes.push_back(&child);
      continue;
    }
    CFX_RETURN_IF_ERROR(apply_changes());
    switch (child.kind) {
      case CommandKind::kAtomic: CFX_RETURN_IF_ERROR(handle_atomic(child, &ds)); break;
      case CommandKind::kSequence: CFX_RETURN_IF_ERROR(handle_sequence(child, &ds)); break;
      case CommandKind::kCopy: CFX_RETURN_IF_ERROR(handle_copy(ds, child)); break;
      case CommandKind::kMove:
        // Move re-parents an item in a hierarchical store (1.2). Every
        // datastore here is flat, and our DevInf does not claim
        // SupportHierarchicalSync.
        add_item_refs(add_status(child, StatusCode::kOptionalFeatureNotSupported), child);
        break;
      default:
        // Not a command a Sync may hold (RepPro DTD: Add, Replace, Delete,
        // Copy, Move, Atomic, Sequence).
        add_status(child, StatusCode::kCommandNotAllowed);
        break;
    }
  }
  return apply_changes();
}

Status SyncEngine::MessageRun::handle_sequence(const Command& sequence, DatastoreState* ds) {
  add_status(sequence, StatusCode::kOk);
  // Children run in the order given. Once one fails the rest would run on a
  // state the sender did not intend; they are not run and answered 514.
  bool cancelled = false;
  for (const Command& child : sequence.children) {
    if (cancelled) {
      add_item_refs(add_status(child, StatusCode::kCancelledBefore), child);
      continue;
    }
    const size_t first = statuses_.size();
    if (!ds) {
      CFX_RETURN_IF_ERROR(run_command(child));
    } else if (is_item_change(child.kind)) {
      CFX_RETURN_IF_ERROR(apply_client_changes(*ds, {&child}));
    } else {
      CFX_RETURN_IF_ERROR(apply_sync_children(*ds, {child}));
    }
    cancelled = failed_since(first);
  }
  return Status::ok();
}

Status SyncEngine::MessageRun::handle_atomic(const Command& atomic, DatastoreState* ds) {
  const size_t own = statuses_.size();
  add_status(atomic, StatusCode::kOk);

  // What an undo restores: the device's map rows and the session's state of
  // the datastores the Atomic may touch.
  std::map<std::string, std::vector<MapEntry>> maps_before;
  for (const auto& d : session_.datastores) {
    if (ds && d.server_uri != ds->server_uri) continue;
    auto entries = engine_.state_.map_entries(DeviceStore{session_.user, session_.device, d.server_uri});
    if (!entries) return entries.error();
    maps_before.emplace(d.server_uri, std::move(*entries));
  }
  const std::vector<DatastoreState> datastores_before = session_.datastores;

  std::vector<JournalEntry>* outer = journal_;
  auto journal = run_journaled(atomic, ds);
  if (!journal) return journal.error();
  if (!failed_since(own + 1)) {
    // Done; an enclosing Atomic may still have to undo these writes.
    if (outer) std::move(journal->begin(), journal->end(), std::back_inserter(*outer));
    return Status::ok();
  }

  std::set<std::string> recreated;
  const bool undone = undo_writes(*journal, recreated);
  CFX_RETURN_IF_ERROR(restore_maps(maps_before, recreated));
  if (ds) {
    for (const auto& d : datastores_before) {
      if (d.server_uri == ds->server_uri) *ds = d;
    }
  } else {
    session_.datastores = datastores_before;
  }

  statuses_[own].code = protocol::to_int(StatusCode::kAtomicFailed);
  for (size_t i = own + 1; i < statuses_.size(); ++i) {
    if (command_failed(statuses_[i].code)) continue;
    statuses_[i].code = protocol::to_int(undone ? StatusCode::kAtomicRollbackOk : StatusCode::kAtomicRollbackFailed);
  }
  logger("engine")->info("session {} user {}: Atomic {} failed; {} writes {}", session_.key.str(), session_.user.str(),
                         atomic.cmd_id, journal->size(), undone ? "rolled back" : "NOT all rolled back");
  return Status::ok();
}

Result<std::vector<SyncEngine::MessageRun::JournalEntry>> SyncEngine::MessageRun::run_journaled(const Command& atomic,
                                                                                                DatastoreState* ds) {
  std::vector<JournalEntry> journal;
  std::vector<JournalEntry>* outer = std::exchange(journal_, &journal);
  Status st = Status::ok();
  if (ds) {
    st = apply_sync_children(*ds, atomic.children);
  } else {
    for (const Command& child : atomic.children) {
      st = run_command(child);
      if (!st.is_ok()) break;
    }
  }
  journal_ = outer;
  if (!st.is_ok()) return st;
  return journal;
}

bool SyncEngine::MessageRun::undo_writes(const std::vector<JournalEntry>& journal, std::set<std::string>& recreated) {
  bool undone = true;
  for (auto it = journal.rbegin(); it != journal.rend(); ++it) {
    caf::SyncObj undo;
    undo.guid = it->guid;
    if (it->action == caf::Action::kCreate) {
      undo.action = caf::Action::kDelete;
    } else if (it->before) {
      undo.action = it->action == caf::Action::kUpdate ? caf::Action::kUpdate : caf::Action::kCreate;
      if (undo.action == caf::Action::kCreate) undo.guid = Guid();
      undo.content_type = it->before->content_type;
      undo.raw = it->before->raw;
    } else {
      undone = false;  // the version before could not be read
      continue;
    }
    // With the message's credentials, as the writes were made: an
    // unrestricted-read token writes only with them.
    auto results = engine_.caf_.apply(store_ref(it->database), {std::move(undo)});
    if (results.empty() || !results[0].status.is_ok()) {
      undone = false;
      logger("engine")->error("session {} user {} datastore {}: undoing a write of a failed Atomic failed for {}: {}",
                              session_.key.str(), session_.user.str(), it->database, it->guid.str(),
                              results.empty() ? "no result" : results[0].status.to_string());
      continue;
    }
    if (it->action == caf::Action::kDelete) recreated.insert(it->guid.str());
  }
  return undone;
}

Status SyncEngine::MessageRun::restore_maps(const std::map<std::string, std::vector<MapEntry>>& maps_before,
                                            const std::set<std::string>& recreated) {
  for (const auto& [uri, before] : maps_before) {
    const DeviceStore key{session_.user, session_.device, uri};
    auto now = engine_.state_.map_entries(key);
    if (!now) return now.error();
    std::unordered_map<std::string, const MapEntry*> then;
    for (const auto& e : before) then[e.luid.str()] = &e;
    std::vector<Luid> removals;
    for (const auto& e : *now) {
      auto was = then.find(e.luid.str());
      if (was == then.end() || was->second->guid != e.guid || was->second->synced != e.synced) {
        removals.push_back(e.luid);
      }
    }
    std::vector<MapEntry> upserts;
    for (const auto& e : before) {
      if (recreated.count(e.guid.str())) {
        removals.push_back(e.luid);
      } else {
        upserts.push_back(e);
      }
    }
    if (!removals.empty()) CFX_RETURN_IF_ERROR(engine_.state_.remove_map(key, removals));
    if (!upserts.empty()) CFX_RETURN_IF_ERROR(engine_.state_.upsert_map(key, upserts));
  }
  return Status::ok();
}

Status SyncEngine::MessageRun::handle_copy(DatastoreState& ds, const Command& copy) {
  // A copy is a new item with the source item's data. The device names the
  // source by its LUID; the copy has none on the device yet, so it stays
  // unmapped and the device receives it as an Add in our Sync.
  const DeviceStore key{session_.user, session_.device, ds.server_uri};
  auto entries = engine_.state_.map_entries(key);
  if (!entries) return entries.error();
  for (const auto& item : copy.items) {
    const std::string luid = item.source ? item.source->loc_uri : "";
    auto answer = [&](StatusCode code) { add_status(copy, code).source_refs = {luid}; };
    if (luid.empty()) {
      answer(StatusCode::kIncompleteCommand);
      continue;
    }
    auto mapped =
        std::find_if(entries->begin(), entries->end(), [&](const MapEntry& e) { return e.luid.str() == luid; });
    if (mapped == entries->end()) {
      answer(StatusCode::kNotFound);
      continue;
    }
    caf::Query query;
    query.guids = {mapped->guid};
    auto found = engine_.caf_.search(store_ref(ds), query);
    if (!found || found->empty()) {
      answer(found ? StatusCode::kNotFound : item_write_status(found.error(), CommandKind::kCopy));
      continue;
    }
    caf::SyncObj created;
    created.action = caf::Action::kCreate;
    created.content_type = (*found)[0].content_type;
    created.raw = std::move((*found)[0].raw);
    auto results = engine_.caf_.apply(store_ref(ds), {std::move(created)});
    if (results.empty() || !results[0].status.is_ok()) {
      ++ds.counts.client_errors;
      answer(results.empty() ? StatusCode::kCommandFailed : item_write_status(results[0].status, CommandKind::kCopy));
      continue;
    }
    journal_write(ds, caf::Action::kCreate, results[0].guid, std::nullopt);
    // A refresh from the client keeps only what it sent, and it sent this.
    if (ds.sends_everything()) ds.slow_claimed_guids.insert(results[0].guid.str());
    ++ds.counts.client_adds;
    answer(StatusCode::kItemAdded);
  }
  return Status::ok();
}

std::map<std::string, caf::SyncObj> SyncEngine::MessageRun::versions_before(const DatastoreState& ds,
                                                                            const std::vector<caf::SyncObj>& batch) {
  std::map<std::string, caf::SyncObj> before;
  if (!journal_) return before;
  caf::Query query;
  for (const auto& obj : batch) {
    if (obj.action != caf::Action::kCreate) query.guids.push_back(obj.guid);
  }
  if (query.guids.empty()) return before;
  auto found = engine_.caf_.search(store_ref(ds), query);
  if (!found) {
    // Without them the writes cannot be undone; a failing Atomic says 516.
    logger("engine")->warn("session {} datastore {}: reading items before an Atomic's writes failed: {}",
                           session_.key.str(), ds.server_uri, found.error().to_string());
    return before;
  }
  for (auto& obj : *found) before.emplace(obj.guid.str(), std::move(obj));
  return before;
}

void SyncEngine::MessageRun::journal_write(const DatastoreState& ds, caf::Action action, const Guid& guid,
                                           std::optional<caf::SyncObj> before) {
  if (journal_) journal_->push_back(JournalEntry{ds.server_uri, action, guid, std::move(before)});
}

Result<std::optional<StatusCode>> SyncEngine::MessageRun::check_alert_credentials(const Command& alert) {
  if (!alert.cred) return std::optional<StatusCode>();
  std::vector<std::string> nonces{header_nonce_};
  if (alert.cred->meta.type == kAuthMd5 && header_nonce_.empty()) {
    auto candidates = credential_nonces(*alert.cred);
    if (!candidates) return candidates.error();
    nonces = std::move(*candidates);
  }
  const std::string claimed = claimed_user(*alert.cred, in_.hdr.source.loc_name);
  auto refuse = [&](const std::string& why) -> std::optional<StatusCode> {
    logger("engine")->info("session {} device {}: credentials on the Alert for {} refused ({})", session_.key.str(),
                           session_.device.str(), alert.items.empty() ? "" : alert.items[0].target->loc_uri, why);
    return StatusCode::kInvalidCredentials;
  };
  if (engine_.throttle_.wait_seconds(claimed, where_.remote_address) > 0 &&
      !engine_.known_device(claimed, session_.device)) {
    return refuse("wrong passwords: checked again later");
  }
  // The session's token is the session user's: a datastore of another
  // account cannot join it.
  if (claimed != session_.user.str()) return refuse("another user than the session's");
  CheckedLogin checked = check_credentials(*alert.cred, nonces);
  if (!checked.creds) return refuse(checked.creds.error().message());
  if (!checked.token) {
    engine_.throttle_.record_failure(claimed, where_.remote_address);
    return refuse(checked.token.error().message());
  }
  return std::optional<StatusCode>();
}

}  // namespace conflux::engine
