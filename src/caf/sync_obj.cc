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

std::optional<TokenKind> parse_token_kind(std::string_view name) {
  for (TokenKind kind : {TokenKind::kReadOnly, TokenKind::kReadWrite, TokenKind::kUnrestrictedRead}) {
    if (name == token_kind_name(kind)) return kind;
  }
  return std::nullopt;
}

TokenKind narrower(TokenKind a, TokenKind b) {
  auto rank = [](TokenKind k) { return k == TokenKind::kReadOnly ? 0 : k == TokenKind::kUnrestrictedRead ? 1 : 2; };
  return rank(a) <= rank(b) ? a : b;
}

}  // namespace conflux::caf
