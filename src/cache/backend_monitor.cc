#include "cache/backend_monitor.h"

#include "common/log.h"

namespace conflux::cache {

BackendMonitor::BackendMonitor(std::shared_ptr<CacheStore> cache, std::shared_ptr<caf::ContentAdapter> backend,
                               std::string database, std::string default_type, int64_t interval_seconds)
    : cache_(std::move(cache)),
      backend_(std::move(backend)),
      database_(std::move(database)),
      default_type_(std::move(default_type)),
      interval_seconds_(interval_seconds) {}

void BackendMonitor::set_interval(int64_t seconds) {
  std::lock_guard lock(mutex_);
  interval_seconds_ = seconds;
}

Result<int> BackendMonitor::poll_once(int64_t now) {
  std::lock_guard lock(mutex_);
  if (last_poll_ && now - *last_poll_ < interval_seconds_) return 0;
  last_poll_ = now;

  auto users = cache_->users(database_);
  if (!users) return users.error().with_context("back end monitor '" + database_ + "'");
  auto log = logger("cache");
  Status first_error;
  int total = 0;
  for (const UserId& user : *users) {
    const caf::StoreRef ref{user, database_, caf::Token{}};
    auto since = cache_->backend_anchor(ref);
    Result<caf::ChangeSet> set = since ? backend_->changes_since(ref, *since) : Result<caf::ChangeSet>(since.error());
    Result<int> folded = set ? cache_->fold(ref, *set, default_type_) : Result<int>(set.error());
    if (!folded) {
      log->debug("store '{}' user '{}': back end not polled: {}", database_, user.str(), folded.error().to_string());
      if (first_error.is_ok()) first_error = folded.error().with_context("back end monitor '" + database_ + "'");
      continue;
    }
    if (*folded > 0) {
      log->info("store '{}' user '{}': {} changes by others brought into the cache", database_, user.str(), *folded);
    }
    total += *folded;
  }
  if (!first_error.is_ok()) return first_error;
  return total;
}

}  // namespace conflux::cache
