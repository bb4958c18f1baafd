// AdapterWrapper forwards every ContentAdapter call to the adapter it wraps
// (LevelDB's EnvWrapper): a wrapper — the cache, a read-only view, the
// tests' fault injection — overrides only what it changes and inherits the
// rest, so a capability added to ContentAdapter (watch_changes, connection
// hooks) reaches the wrapped adapter without every wrapper learning it.
//
// Thread rule: as the wrapped adapter's; the wrapper adds no state.
#pragma once

#include <memory>
#include <utility>

#include "caf/content_adapter.h"

namespace conflux::caf {

class AdapterWrapper : public ContentAdapter {
 public:
  // `base` must not be null.
  explicit AdapterWrapper(std::shared_ptr<ContentAdapter> base) : base_(std::move(base)) {}

  AdapterCaps caps() const override { return base_->caps(); }
  Status verify_credentials(const std::string& database, const Credentials& creds) override {
    return base_->verify_credentials(database, creds);
  }
  Status begin_connect(const UserId& user, const Credentials* credentials) override {
    return base_->begin_connect(user, credentials);
  }
  void end_connect(const UserId& user) override { base_->end_connect(user); }
  Result<Anchor> current_anchor(const StoreRef& store) override { return base_->current_anchor(store); }
  Result<ChangeSet> changes_since(const StoreRef& store, const Anchor& since) override {
    return base_->changes_since(store, since);
  }
  std::vector<ApplyResult> apply(const StoreRef& store, std::vector<SyncObj>&& batch) override {
    return base_->apply(store, std::move(batch));
  }
  Result<std::vector<SyncObj>> search(const StoreRef& store, const Query& query) override {
    return base_->search(store, query);
  }
  Result<ExecResult> execute(const StoreRef& store, const Command& command) override {
    return base_->execute(store, command);
  }
  Result<std::unique_ptr<ChangeSubscription>> watch_changes(const std::string& database,
                                                            ChangeCallback on_change) override {
    return base_->watch_changes(database, std::move(on_change));
  }

 protected:
  ContentAdapter& base() const { return *base_; }
  const std::shared_ptr<ContentAdapter>& base_ptr() const { return base_; }

 private:
  const std::shared_ptr<ContentAdapter> base_;
};

}  // namespace conflux::caf
