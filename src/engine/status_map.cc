#include "engine/status_map.h"

namespace conflux::engine {

using protocol::CommandKind;
using protocol::StatusCode;

StatusCode to_syncml_status(const Status& status, CommandKind command) {
  switch (status.code()) {
    case conflux::StatusCode::kOk:
      return command == CommandKind::kAdd ? StatusCode::kItemAdded : StatusCode::kOk;
    case conflux::StatusCode::kNotFound:
      return command == CommandKind::kDelete ? StatusCode::kItemNotDeleted : StatusCode::kNotFound;
    case conflux::StatusCode::kAlreadyExists: return StatusCode::kAlreadyExists;
    case conflux::StatusCode::kInvalidArgument: return StatusCode::kBadRequest;
    case conflux::StatusCode::kUnauthenticated: return StatusCode::kInvalidCredentials;
    case conflux::StatusCode::kPermissionDenied:
      // An item write the datastore's ACL forbids (read-only token, refused
      // re-authentication) gets 500 per item, not DS 1.2's 425: libsynthesis
      // clients (SyncEvolution) abort the whole session on 425 (and on 403,
      // 405, 406, 409, 503), so the device would never again receive the
      // server's changes; on 500 they keep the item for a later session.
      // Checked with Debian's SyncEvolution 2.0 (tests/integration/test_acl_reload.py).
      return command == CommandKind::kAdd || command == CommandKind::kReplace || command == CommandKind::kDelete
                 ? StatusCode::kCommandFailed
                 : StatusCode::kForbidden;
    case conflux::StatusCode::kResourceExhausted: return StatusCode::kDeviceFull;
    case conflux::StatusCode::kUnimplemented: return StatusCode::kOptionalFeatureNotSupported;
    case conflux::StatusCode::kUnavailable: return StatusCode::kServiceUnavailable;
    case conflux::StatusCode::kAborted:
    case conflux::StatusCode::kFailedPrecondition: return StatusCode::kDataStoreFailure;
    case conflux::StatusCode::kInternal: return StatusCode::kCommandFailed;
  }
  return StatusCode::kCommandFailed;
}

}  // namespace conflux::engine
