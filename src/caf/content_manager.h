// Content Manager (seed FIG. 6, "Content Manager 30"): a router. It checks the
// caller's token and user on every call, then sends authentication to the Back
// End Manager role and reads/writes to the adapter of the datastore (the
// cache's CachedAdapter when the store has `cache = true`).
//
// Tokens and ACLs (seed FIG. 8): authenticate() checks the credentials per
// datastore as its `login` says —
//   service:  Conflux's own accounts (AccountDirectory); a back end with
//             accounts of its own must also accept the store's service account;
//   per-user: the back end's verify_credentials with the user's credentials —
// and issues one token granting, per datastore that accepted, the narrower
// of the requested kind and the user's kind there (a per-user override from
// the directory, else the store's `access`). A write needs read-write, or
// unrestricted-read plus StoreRef::credentials that pass that same check
// again at the moment of the write; read-only never writes.
//
// Stores without the cache get a back-end connection per user from a
// ConnectionPool around each call (begin_connect/endConnect, seed p. 16).
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "caf/accounts.h"
#include "caf/backend_registry.h"
#include "caf/caf_interface.h"
#include "caf/change_events.h"
#include "caf/connection_pool.h"
#include "caf/item_history.h"
#include "caf/token_service.h"

namespace conflux::caf {

// The first line of a secret file (`service_password_file`), without its
// line end; kUnavailable when it cannot be read.
Result<std::string> read_secret_file(const std::string& path);

class ContentManager final : public CafInterface {
 public:
  // registry, accounts, tokens and clock must outlive the manager.
  ContentManager(const BackendRegistry& registry, AccountDirectory& accounts, const TokenService& tokens,
                 const Clock& clock, ConnectionPoolOptions pool_options = {});

  Result<Token> authenticate(const Credentials& creds, TokenKind kind) override;
  Result<Anchor> current_anchor(const StoreRef& store) override;
  Result<ChangeSet> changes_since(const StoreRef& store, const Anchor& since) override;
  std::vector<ApplyResult> apply(const StoreRef& store, std::vector<SyncObj>&& batch) override;
  Result<std::vector<SyncObj>> search(const StoreRef& store, const Query& query) override;
  Result<ExecResult> execute(const StoreRef& store, const Command& command) override;
  std::vector<std::string> databases() const override;

  // System preferences: the datastores' `access` as reloaded. Stores not in
  // `stores` keep theirs; tokens issued before keep what they grant until
  // they expire (sessions in progress are not cut off).
  void set_store_access(const std::vector<StoreSettings>& stores);
  TokenKind store_access(const std::string& database) const;

  const ConnectionPool& connections() const { return connections_; }

  // Where apply() publishes each batch's changes (one event per call, the
  // items that succeeded); none by default. Set before serving.
  void set_change_events(const ChangeEvents* events) { events_ = events; }

  // Every successful write is kept as a version by `history` (it must
  // outlive the manager); null keeps none. Set before the first call.
  void set_history(HistoryRecorder* history) { history_ = history; }

 private:
  enum class Access { kRead, kWrite };
  // The adapter for `store` once the token proves the caller may `access` it,
  // with the connection leased for the call (stores without the cache).
  struct Admitted {
    ContentAdapter* adapter;
    std::optional<ConnectionPool::Lease> connection;
  };
  Result<Admitted> admit(const StoreRef& store, Access access);
  // The store's login check for `creds` (see the header comment).
  // `directory` is the AccountDirectory's verdict on `creds`, for kService.
  Status check_login(const StoreSettings& settings, ContentAdapter& adapter, const Credentials& creds,
                     const Status& directory) const;
  Status verify_with_directory(const Credentials& creds);
  // The credentials the CAF logs in to the store's back end with; nullopt
  // when it trusts Conflux's accounts (service mode without own accounts)
  // or, per-user, when the call carried none.
  Result<std::optional<Credentials>> backend_login(const StoreSettings& settings, ContentAdapter& adapter,
                                                   const StoreRef& store) const;

  const BackendRegistry& registry_;
  AccountDirectory& accounts_;
  const TokenService& tokens_;
  ConnectionPool connections_;
  const ChangeEvents* events_ = nullptr;

  HistoryRecorder* history_ = nullptr;  // may be null: no item history
  mutable std::mutex access_mutex_;
  std::map<std::string, TokenKind> access_;  // as reloaded, over the registry's; guarded by access_mutex_
};

}  // namespace conflux::caf
