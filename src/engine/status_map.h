// The one place where a Conflux Status becomes a SyncML status code.
#pragma once

#include "common/status.h"
#include "protocol/message.h"
#include "protocol/status_code.h"

namespace conflux::engine {

// Add, Replace, Delete, Copy and Move: the commands that write one item.
bool is_item_write(protocol::CommandKind command);

// The wire code answering `command` whose execution ended in `status`: the
// protocol's code, the same for every device. Per-device exceptions are
// DeviceQuirks (engine/device_quirks.h), applied by the engine.
protocol::StatusCode to_syncml_status(const Status& status, protocol::CommandKind command);

}  // namespace conflux::engine
