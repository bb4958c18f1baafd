// A client message that arrives after its session ended (issue #17).
//
// Clients often send one more message after what the server considers the
// session's last: the statuses for our final package, a Map for our last
// Adds, an Alert 222 asking for more. Funambol's and Sync4j's clients do so
// on the RespURI they last had. Such a message is answered, not refused with
// HTTP 404: a header status, a status per command, and for a Map one status
// per MapItem saying whether its server id is known. A Map row for an Add we
// sent and that was still awaiting its Map is stored; an id we never sent is
// refused for that item alone and logged — in a running session's Map too
// (MessageRun::handle_map), with the two helpers below.
//
// The ended session is kept in the SyncStateStore (phase kDone) until it
// expires, so its user, device and datastores are known here. Nothing of the
// message changes items; the session stays ended.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "engine/session_state.h"
#include "engine/sync_state_store.h"
#include "protocol/message.h"
#include "protocol/status_code.h"

namespace conflux::engine {

// True when `mapped` (a device's map rows) holds the pair `item` names.
bool map_item_known(const std::vector<MapEntry>& mapped, const protocol::MapItem& item);

// One warning for a MapItem whose server id was never sent to the device.
void log_unknown_map_item(const SessionState& session, const std::string& datastore, const protocol::MapItem& item);

// The answer to `in`, a message of the ended `session` (phase kDone). Map rows
// it settles are written to `state`; awaiting_map entries they used are
// removed from `session`. Errors only from the state store.
Result<protocol::Message> answer_late_message(SyncStateStore& state, SessionState& session,
                                              const protocol::Message& in);

}  // namespace conflux::engine
