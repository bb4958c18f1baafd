// The one place where a Conflux Status becomes a SyncML status code.
#pragma once

#include "common/status.h"
#include "protocol/message.h"
#include "protocol/status_code.h"

namespace conflux::engine {

// The wire code answering `command` whose execution ended in `status`.
protocol::StatusCode to_syncml_status(const Status& status, protocol::CommandKind command);

}  // namespace conflux::engine
