#include "cache/backend_monitor.h"

#include <utility>

#include "common/log.h"

namespace conflux::cache {

BackendMonitor::BackendMonitor(std::shared_ptr<CacheStore> cache, std::shared_ptr<caf::ContentAdapter> backend,
                               std::string database, std::string default_type, int64_t interval_seconds, Policy policy)
    : cache_(std::move(cache)),
      backend_(std::move(backend)),
      database_(std::move(database)),
      default_type_(std::move(default_type)),
      policy_(policy),
      interval_seconds_(interval_seconds) {}

Status BackendMonitor::watch(std::function<void()> wake) {
  if (policy_ != Policy::kPush) return Status::failed_precondition("back end monitor '" + database_ + "' polls");
  if ((backend_->caps() & caf::kCapChangeNotify) == 0) {
    return Status::unimplemented("the back end of '" + database_ + "' does not report changes");
  }
  wake_ = std::move(wake);
  auto subscribed = backend_->watch_changes(database_, [this](const UserId& user) {
    note_change(user);
    if (wake_) wake_();
  });
  if (!subscribed) return subscribed.error().with_context("back end monitor '" + database_ + "'");
  subscription_ = std::move(*subscribed);
  return Status::ok();
}

void BackendMonitor::note_change(const UserId& user) {
  std::lock_guard lock(marks_mutex_);
  if (user.empty()) {
    all_marked_ = true;
  } else {
    marked_.insert(user);
  }
}

void BackendMonitor::set_interval(int64_t seconds) {
  std::lock_guard lock(mutex_);
  interval_seconds_ = seconds;
}

Result<int> BackendMonitor::poll_once(int64_t now) {
  std::lock_guard lock(mutex_);
  std::set<UserId> marked;
  bool all_marked = false;
  {
    std::lock_guard marks(marks_mutex_);
    marked.swap(marked_);
    all_marked = std::exchange(all_marked_, false);
  }
  const bool interval_due = !last_poll_ || now - *last_poll_ >= interval_seconds_;
  if (!interval_due && !all_marked && marked.empty()) return 0;

  auto users = cache_->users(database_);
  if (!users) return users.error().with_context("back end monitor '" + database_ + "'");
  if (interval_due || all_marked) last_poll_ = now;
  Status first_error;
  int total = 0;
  for (const UserId& user : *users) {
    // A notification for a user the cache has not loaded needs nothing: the
    // first sync imports the whole store.
    if (!interval_due && !all_marked && !marked.count(user)) continue;
    auto folded = poll_user(user, now);
    if (!folded) {
      // Push: the change is known to be there; look again next tick, not
      // only at the next interval.
      if (policy_ == Policy::kPush) note_change(user);
      logger("cache")->debug("store '{}' user '{}': back end not polled: {}", database_, user.str(),
                             folded.error().to_string());
      if (first_error.is_ok()) first_error = folded.error().with_context("back end monitor '" + database_ + "'");
      continue;
    }
    total += *folded;
  }
  if (!first_error.is_ok()) return first_error;
  return total;
}

Result<int> BackendMonitor::poll_user(const UserId& user, int64_t now) {
  const caf::StoreRef ref{user, database_, caf::Token{}};
  auto since = cache_->backend_anchor(ref);
  if (!since) return since.error();
  auto set = backend_->changes_since(ref, *since);
  if (!set) return set.error();
  std::vector<caf::ObservedChange> changes;
  const bool wanted = on_folded_ || events_;
  auto folded = cache_->fold(ref, *set, default_type_, now, wanted ? &changes : nullptr);
  if (!folded) return folded.error();
  if (on_folded_ && !changes.empty()) on_folded_(ref, changes);
  if (*folded > 0) {
    logger("cache")->info("store '{}' user '{}': {} changes by others brought into the cache", database_, user.str(),
                          *folded);
  }
  if (events_) {
    caf::ChangeEvent event{user, database_, caf::ChangeSource::kBackend, DeviceId(), {}};
    for (const auto& change : changes) {
      // A change with no version before it made the item new to the server.
      const caf::Action action = change.now.action == caf::Action::kDelete ? caf::Action::kDelete
                                 : change.before                           ? caf::Action::kUpdate
                                                                           : caf::Action::kCreate;
      event.items.push_back({action, change.now.guid});
    }
    events_->publish(event);
  }
  return folded;
}

}  // namespace conflux::cache
