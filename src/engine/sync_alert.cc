// A datastore's Alert in pkg 1 (SyncProt §"Sync initialization"): the sync
// type asked for, the anchor rule, and our Alert in answer.
#include <algorithm>
#include <optional>

#include "common/log.h"
#include "engine/message_run.h"
#include "engine/status_map.h"

namespace conflux::engine {

using protocol::AlertCode;
using protocol::Command;
using protocol::CommandKind;
using protocol::StatusCode;

namespace {

// The sync type (200–205) an Alert code asks for; 0 when it asks for none.
// A device answering a server alert (package 0) sends 206–210: the sync
// types initiated by the server (SYNCML-REFERENCE §4). They run as 200 and
// 202–205 (there is no server-alerted slow sync), and our Alert answers with
// the type run, as libsynthesis' server does.
int requested_sync_type(int code) {
  if (code >= protocol::to_int(AlertCode::kTwoWay) && code <= protocol::to_int(AlertCode::kRefreshFromServer)) {
    return code;
  }
  switch (static_cast<AlertCode>(code)) {
    case AlertCode::kTwoWayByServer: return protocol::to_int(AlertCode::kTwoWay);
    case AlertCode::kOneWayFromClientByServer: return protocol::to_int(AlertCode::kOneWayFromClient);
    case AlertCode::kRefreshFromClientByServer: return protocol::to_int(AlertCode::kRefreshFromClient);
    case AlertCode::kOneWayFromServerByServer: return protocol::to_int(AlertCode::kOneWayFromServer);
    case AlertCode::kRefreshFromServerByServer: return protocol::to_int(AlertCode::kRefreshFromServer);
    default: return 0;
  }
}

// Whether the sync type needs the history of an earlier sync (the anchors).
bool needs_history(int sync_type) {
  return sync_type == protocol::to_int(AlertCode::kTwoWay) ||
         sync_type == protocol::to_int(AlertCode::kOneWayFromClient) ||
         sync_type == protocol::to_int(AlertCode::kOneWayFromServer);
}

}  // namespace

Status SyncEngine::MessageRun::handle_alert(const Command& cmd) {
  const int code = cmd.code;
  if (code == protocol::to_int(AlertCode::kNextMessage)) {
    add_status(cmd, StatusCode::kOk);
    return Status::ok();
  }
  if (code == protocol::to_int(AlertCode::kSuspend)) {
    handle_suspend(cmd);
    return Status::ok();
  }
  const bool is_resume = code == protocol::to_int(AlertCode::kResume);
  const int requested = requested_sync_type(code);
  if ((requested == 0 && !is_resume) || cmd.items.empty() || !cmd.items[0].target || !cmd.items[0].source) {
    add_status(cmd, StatusCode::kOptionalFeatureNotSupported);
    return Status::ok();
  }
  const protocol::Item& item = cmd.items[0];
  auto refused = check_alert_credentials(cmd);
  if (!refused) return refused.error();
  Command& status = add_status(cmd, refused->value_or(StatusCode::kOk));
  status.target_refs = {item.target->loc_uri};
  status.source_refs = {item.source->loc_uri};
  if (*refused) return Status::ok();

  const std::string server_uri = normalize_store_uri(item.target->loc_uri);
  auto settings = std::find_if(engine_.stores_.begin(), engine_.stores_.end(),
                               [&](const caf::StoreSettings& s) { return s.name == server_uri; });
  if (settings == engine_.stores_.end()) {
    status.code = protocol::to_int(StatusCode::kNotFound);
    return Status::ok();
  }
  if (session_.phase != Phase::kInit) {
    status.code = protocol::to_int(StatusCode::kCommandNotAllowed);
    return Status::ok();
  }
  auto opened = open_datastore(cmd, *settings, requested, status);
  if (!opened) return opened.error();
  if (!*opened) return Status::ok();
  // Until it completes, this session is where the datastore's sync resumes.
  return engine_.state_.save_resume_point(DeviceStore{session_.user, session_.device, server_uri}, session_.key);
}

Result<bool> SyncEngine::MessageRun::open_datastore(const Command& cmd, const caf::StoreSettings& settings,
                                                    int requested, Command& status) {
  const protocol::Item& item = cmd.items[0];
  const bool is_resume = cmd.code == protocol::to_int(AlertCode::kResume);
  DatastoreState fresh;
  fresh.server_uri = settings.name;
  fresh.client_uri = item.source->loc_uri;
  fresh.content_type = settings.content_type;
  if (item.meta && item.meta->anchor) {
    fresh.client_last = item.meta->anchor->last.value_or("");
    fresh.client_next = item.meta->anchor->next;
  }
  DatastoreState* ds = session_.find_by_server_uri(settings.name);
  if (!ds) {
    session_.datastores.push_back(std::move(fresh));
    ds = &session_.datastores.back();
  } else {
    *ds = std::move(fresh);
  }

  // Anchor rule (SyncProt §"Sync anchors"): a normal sync needs the client's
  // Last to equal the Next we stored after the last completed session.
  const DeviceStore key{session_.user, session_.device, settings.name};
  auto stored = engine_.state_.anchors(key);
  if (!stored) return stored.error();
  ds->alert_code = requested;
  bool resumed = false;
  if (is_resume) {
    // Resume (SYNCML-REFERENCE §15): continue the suspended sync where it
    // stopped, or, when that is not possible, 508 and a slow sync.
    auto done = resume_datastore(*ds);
    if (!done) return done.error();
    resumed = *done;
  }
  bool moved = false;
  if (!resumed) {
    auto forgotten = forget_map_of_moved_store(key, *stored);
    if (!forgotten) return forgotten.error();
    moved = *forgotten;
  }
  if ((is_resume && !resumed) || (!is_resume && needs_history(requested) && moved) ||
      (!is_resume && needs_history(requested) && (!stored->has_value() || (*stored)->client_next != ds->client_last))) {
    status.code = protocol::to_int(StatusCode::kRefreshRequired);
    ds->alert_code = protocol::to_int(AlertCode::kSlow);
    logger("engine")->info(
        "session {} user {} datastore {}: {}, slow sync", session_.key.str(), session_.user.str(), settings.name,
        is_resume ? "suspended sync cannot be resumed" : (moved ? "its back end changed" : "anchors do not match"));
  }
  // Echo the client's Next anchor (RepPro §"Alert": Status carries it back).
  protocol::Item echo;
  echo.data_kind = protocol::DataKind::kXml;
  echo.data = "<Anchor xmlns=\"syncml:metinf\"><Next>" + ds->client_next + "</Next></Anchor>";
  status.items.push_back(std::move(echo));

  auto anchor = engine_.caf_.current_anchor(store_ref(*ds));
  if (!anchor) {
    logger("engine")->warn("session {} user {} datastore {}: {}", session_.key.str(), session_.user.str(),
                           settings.name, anchor.error().to_string());
    status.code = protocol::to_int(to_syncml_status(anchor.error(), CommandKind::kAlert));
    std::erase_if(session_.datastores, [&](const DatastoreState& d) { return d.server_uri == settings.name; });
    return false;
  }
  // A resumed sync keeps the anchor it announced before the suspend.
  if (!resumed) ds->server_next = *anchor;
  if (!resumed && ds->alert_code == protocol::to_int(AlertCode::kOneWayFromClient) && stored->has_value()) {
    // Nothing flows to the device: what changed on the server since the
    // last sync is still owed to it, so the anchor does not move.
    ds->server_next = (*stored)->server_next;
  }
  announce_datastore(*ds, *stored);
  return true;
}

void SyncEngine::MessageRun::announce_datastore(const DatastoreState& ds, const std::optional<SyncAnchors>& stored) {
  Command alert;
  alert.kind = CommandKind::kAlert;
  alert.cmd_id = next_cmd_id();
  // A resumed sync is announced with its own type: libsynthesis refuses a
  // server Alert 225 (seen with SyncEvolution 2.0).
  alert.code = ds.alert_code;
  protocol::Item ours;
  ours.target = protocol::LocRef{ds.client_uri, {}};
  ours.source = protocol::LocRef{ds.server_uri, {}};
  ours.meta = protocol::Meta{};
  ours.meta->anchor = protocol::MetAnchor{};
  if (stored) ours.meta->anchor->last = stored->server_next.str();
  ours.meta->anchor->next = ds.server_next.str();
  ours.meta->max_obj_size = engine_.options_.max_object_size;
  alert.items.push_back(std::move(ours));
  commands_.push_back(std::move(alert));
}

}  // namespace conflux::engine
