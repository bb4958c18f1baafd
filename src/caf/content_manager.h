// Content Manager (seed FIG. 6, "Content Manager 30"): a router. It checks the
// caller's token and user on every call, then sends authentication to the Back
// End Manager role (the account directory, or the adapter for back ends with
// their own accounts) and reads/writes to the adapter of the datastore. The
// persistent cache slots in between here (issue: CAF complete); until then
// calls go straight to the adapter.
#pragma once

#include "caf/accounts.h"
#include "caf/backend_registry.h"
#include "caf/caf_interface.h"
#include "caf/token_service.h"

namespace conflux::caf {

class ContentManager final : public CafInterface {
 public:
  // All three must outlive the manager.
  ContentManager(const BackendRegistry& registry, AccountDirectory& accounts, const TokenService& tokens);

  Result<Token> authenticate(const Credentials& creds, TokenKind kind) override;
  Result<Anchor> current_anchor(const StoreRef& store) override;
  Result<ChangeSet> changes_since(const StoreRef& store, const Anchor& since) override;
  std::vector<ApplyResult> apply(const StoreRef& store, std::vector<SyncObj>&& batch) override;
  Result<std::vector<SyncObj>> search(const StoreRef& store, const Query& query) override;
  Result<ExecResult> execute(const StoreRef& store, const Command& command) override;
  std::vector<std::string> databases() const override;

 private:
  enum class Access { kRead, kWrite };
  // The adapter for `store` once the token proves the caller may `access` it.
  Result<ContentAdapter*> admit(const StoreRef& store, Access access) const;

  const BackendRegistry& registry_;
  AccountDirectory& accounts_;
  const TokenService& tokens_;
};

}  // namespace conflux::caf
