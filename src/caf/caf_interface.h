// The CAF interface (seed FIG. 5/7, "CAF-interface 22"): the single
// back-end-neutral door the sync engine, the portal and notifications use.
// Implemented by ContentManager; tests may substitute their own.
//
// Call order: authenticate() once per session → Token; then any of the data
// calls with a StoreRef carrying that token. Every call is scoped to
// StoreRef::user: a token of another user, an empty user, or a datastore that
// is not configured is refused before any back end is touched.
// Errors: kUnauthenticated (bad or expired token, bad credentials),
// kPermissionDenied (token kind forbids the call), kNotFound (no such
// datastore), kUnavailable (back end down; retry later).
#pragma once

#include <string>
#include <vector>

#include "caf/content_adapter.h"

namespace conflux::caf {

class CafInterface {
 public:
  virtual ~CafInterface() = default;

  virtual Result<Token> authenticate(const Credentials& creds, TokenKind kind) = 0;
  virtual Result<Anchor> current_anchor(const StoreRef& store) = 0;
  virtual Result<ChangeSet> changes_since(const StoreRef& store, const Anchor& since) = 0;
  // One result per input, in order. An empty vector never happens for a
  // non-empty batch; a refused call gives every item the same error.
  virtual std::vector<ApplyResult> apply(const StoreRef& store, std::vector<SyncObj>&& batch) = 0;
  virtual Result<std::vector<SyncObj>> search(const StoreRef& store, const Query& query) = 0;
  virtual Result<ExecResult> execute(const StoreRef& store, const Command& command) = 0;
  // Datastores this CAF serves (configured names).
  virtual std::vector<std::string> databases() const = 0;
};

}  // namespace conflux::caf
