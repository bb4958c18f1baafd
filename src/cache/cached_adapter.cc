#include "cache/cached_adapter.h"

#include "common/log.h"

namespace conflux::cache {

CachedAdapter::CachedAdapter(std::shared_ptr<CacheStore> cache, std::shared_ptr<caf::ContentAdapter> backend,
                             std::string default_type, const Clock& clock)
    : AdapterWrapper(backend),
      cache_(std::move(cache)),
      backend_(std::move(backend)),
      default_type_(std::move(default_type)),
      clock_(clock) {}

caf::AdapterCaps CachedAdapter::caps() const {
  return (backend_->caps() & caf::kCapOwnAccounts) | caf::kCapTombstones | caf::kCapSearch;
}

Status CachedAdapter::verify_credentials(const std::string& database, const caf::Credentials& creds) {
  return backend_->verify_credentials(database, creds);
}

Status CachedAdapter::ensure_loaded(const caf::StoreRef& store) {
  std::lock_guard lock(load_mutex_);
  const auto key = std::make_pair(store.user, store.database);
  if (loaded_.count(key)) return Status::ok();
  auto done = cache_->loaded(store);
  if (!done) return done.error();
  if (!*done) {
    auto set = backend_->changes_since(store, Anchor());
    if (!set) return set.error().with_context("cache: initial load of '" + store.database + "'");
    CFX_RETURN_IF_ERROR(cache_->import(store, *set, default_type_));
    logger("cache")->info("store '{}' user '{}': loaded {} items from the back end", store.database, store.user.str(),
                          set->changes.size());
  }
  loaded_.insert(key);
  return Status::ok();
}

Result<Anchor> CachedAdapter::current_anchor(const caf::StoreRef& store) {
  CFX_RETURN_IF_ERROR(ensure_loaded(store));
  return cache_->current_anchor(store);
}

Result<caf::ChangeSet> CachedAdapter::changes_since(const caf::StoreRef& store, const Anchor& since) {
  CFX_RETURN_IF_ERROR(ensure_loaded(store));
  return cache_->changes_since(store, since);
}

std::vector<caf::ApplyResult> CachedAdapter::apply(const caf::StoreRef& store, std::vector<caf::SyncObj>&& batch) {
  if (Status loaded = ensure_loaded(store); !loaded.is_ok()) {
    std::vector<caf::ApplyResult> failed(batch.size());
    for (auto& r : failed) r.status = loaded;
    return failed;
  }
  return cache_->apply(store, std::move(batch), default_type_, clock_.now_seconds());
}

Result<std::vector<caf::SyncObj>> CachedAdapter::search(const caf::StoreRef& store, const caf::Query& query) {
  CFX_RETURN_IF_ERROR(ensure_loaded(store));
  return cache_->search(store, query);
}

Result<caf::ExecResult> CachedAdapter::execute(const caf::StoreRef& store, const caf::Command& command) {
  if (command.name == "count" && command.args.empty()) {
    CFX_RETURN_IF_ERROR(ensure_loaded(store));
    auto n = cache_->live_count(store);
    if (!n) return n.error();
    return caf::ExecResult{std::to_string(*n)};
  }
  if (command.name == "cache-queue" && command.args.empty()) {
    auto entries = cache_->queued(store.database);
    if (!entries) return entries.error();
    size_t mine = 0;
    for (const auto& e : *entries) mine += e.user == store.user ? 1 : 0;
    return caf::ExecResult{std::to_string(mine)};
  }
  return backend_->execute(store, command);
}

}  // namespace conflux::cache
