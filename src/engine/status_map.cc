#include "engine/status_map.h"

namespace conflux::engine {

using protocol::CommandKind;
using protocol::StatusCode;

bool is_item_write(CommandKind command) {
  switch (command) {
    case CommandKind::kAdd:
    case CommandKind::kReplace:
    case CommandKind::kDelete:
    case CommandKind::kCopy:
    case CommandKind::kMove: return true;
    default: return false;
  }
}

StatusCode to_syncml_status(const Status& status, CommandKind command) {
  switch (status.code()) {
    case conflux::StatusCode::kOk: return command == CommandKind::kAdd ? StatusCode::kItemAdded : StatusCode::kOk;
    case conflux::StatusCode::kNotFound:
      return command == CommandKind::kDelete ? StatusCode::kItemNotDeleted : StatusCode::kNotFound;
    case conflux::StatusCode::kAlreadyExists: return StatusCode::kAlreadyExists;
    case conflux::StatusCode::kInvalidArgument: return StatusCode::kBadRequest;
    case conflux::StatusCode::kUnauthenticated: return StatusCode::kInvalidCredentials;
    case conflux::StatusCode::kPermissionDenied:
      // A write the datastore's ACL forbids (read-only token, refused
      // re-authentication): DS 1.2's 425 per item; other commands 403. Some
      // devices get another code for the item (DeviceQuirks::denied_write_status,
      // applied by the engine where item statuses are made).
      return is_item_write(command) ? StatusCode::kPermissionDenied : StatusCode::kForbidden;
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
