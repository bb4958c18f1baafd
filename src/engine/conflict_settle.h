// Settling a recorded conflict after the sync (`conflux conflicts resolve`,
// the portal's Conflict/set): the kept version is written back through the
// CAF as a new revision, so every device converges on it at its next sync,
// and the record is marked resolved.
#pragma once

#include "caf/caf_interface.h"
#include "engine/sync_state_store.h"

namespace conflux::engine {

enum class KeptVersion { kServer, kDevice };

// `token` must be of the record's user (the CAF scopes the write to them).
// A resolved conflict is refused (kFailedPrecondition) unless `again`, and
// even then when the item changed since (it holds neither recorded version):
// never over a newer edit. The CAF's refusal (kPermissionDenied for a
// read-only token, kUnavailable ...) comes back as it is. `origin` names the
// writer in the item history ("conflux conflicts resolve", "portal").
Status settle_conflict(SyncStateStore& records, caf::CafInterface& caf, const caf::Token& token,
                       const ConflictRecord& record, KeptVersion keep, bool again, std::string origin);

}  // namespace conflux::engine
