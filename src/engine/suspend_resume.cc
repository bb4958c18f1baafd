// Suspend and resume (SyncML DS 1.2; SYNCML-REFERENCE §15).
//
// A datastore's sync is resumable from the moment its Alert is answered
// until its session completes: the SyncStateStore keeps a resume point (the
// session key) per device and datastore, and the session itself, saved after
// every message, holds what was done. So a client that suspends (Alert 224)
// and one that vanishes mid-package can both resume, also after a server
// restart, for as long as the session is kept (session_timeout_seconds).
//
// On Alert 225 with the Last anchor of the suspended sync, the datastore
// continues with that sync's state: its sync type, the anchor announced,
// what the client already sent (slow sync: the items seen and matched), the
// report so far, and the Adds sent whose Map is still to come (those the
// device acknowledged are not sent again). What the device acknowledged is in the
// maps already, so pkg 4 is worked out anew from them and sends only what
// the device still lacks; what was sent but not acknowledged goes again. A
// client item applied but not acknowledged may come again: its LUID is
// mapped by then, so it updates the item instead of adding a second one.
// Anchors advance only when the resumed sync completes.
#include "common/log.h"
#include "engine/message_run.h"

namespace conflux::engine {

using protocol::Command;
using protocol::StatusCode;

void SyncEngine::MessageRun::handle_suspend(const Command& cmd) {
  add_status(cmd, StatusCode::kOk);
  // The session is kept (SyncEngine::handle saves rather than deletes it),
  // but no message may continue it: only a new session's Alert 225 can.
  session_.suspended = true;
  session_.phase = Phase::kDone;
  end_session_ = true;
  for (const auto& ds : session_.datastores) {
    logger("engine")->info("session {} user {} datastore {}: suspended by the device", session_.key.str(),
                           session_.user.str(), ds.server_uri);
  }
}

Result<bool> SyncEngine::MessageRun::resume_datastore(DatastoreState& ds) {
  const DeviceStore key{session_.user, session_.device, ds.server_uri};
  auto cannot = [&](const char* why) {
    logger("engine")->info("session {} user {} datastore {}: no resume: {}", session_.key.str(), session_.user.str(),
                           ds.server_uri, why);
    return false;
  };
  auto point = engine_.state_.resume_point(key);
  if (!point) return point.error();
  if (!point->has_value()) return cannot("no unfinished sync");
  auto blob = engine_.state_.load_session(**point);
  if (!blob) return blob.error();
  SessionState earlier;
  if (!blob->has_value() || !deserialize(**blob, earlier)) return cannot("its session has expired");
  DatastoreState* saved = earlier.find_by_server_uri(ds.server_uri);
  if (!saved || earlier.user != session_.user || earlier.device != session_.device) {
    return cannot("its session holds no such datastore");
  }
  if (saved->client_last != ds.client_last) return cannot("the Last anchor differs from the suspended sync's");

  DatastoreState resumed = std::move(*saved);
  resumed.client_uri = ds.client_uri;
  resumed.client_next = ds.client_next;
  resumed.content_type = ds.content_type;
  resumed.resumed = true;
  // Sent but not acknowledged: Adds are sent again unless the device shows
  // it has them (a Map); Replaces and Deletes are found again from the map.
  for (const auto& [ref, items] : resumed.awaiting_status) {
    for (const auto& sent : items) {
      if (sent.kind == protocol::CommandKind::kAdd) resumed.unacknowledged_adds.insert(sent.guid.str());
    }
  }
  resumed.awaiting_status.clear();
  resumed.outgoing.clear();
  resumed.outgoing_offset = 0;
  resumed.partial.reset();  // a chunked item comes again whole
  resumed.client_sync_seen = false;
  resumed.server_sync_sent = false;
  ds = std::move(resumed);
  session_.resumed_tallies[ds.server_uri] = item_tally(ds);
  logger("engine")->info("session {} user {} datastore {}: resuming sync {} of session {}", session_.key.str(),
                         session_.user.str(), ds.server_uri, ds.alert_code, (*point)->str());
  return true;
}

}  // namespace conflux::engine
