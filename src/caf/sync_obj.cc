#include "caf/sync_obj.h"

#include "caf/content_adapter.h"

namespace conflux::caf {

const char* action_name(Action action) {
  switch (action) {
    case Action::kCreate: return "create";
    case Action::kUpdate: return "update";
    case Action::kDelete: return "delete";
  }
  return "unknown";
}

const char* token_kind_name(TokenKind kind) {
  switch (kind) {
    case TokenKind::kReadOnly: return "read-only";
    case TokenKind::kReadWrite: return "read-write";
    case TokenKind::kUnrestrictedRead: return "unrestricted-read";
  }
  return "unknown";
}

}  // namespace conflux::caf
