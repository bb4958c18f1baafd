#include "cache/cache_monitor.h"

#include <algorithm>
#include <set>

#include "common/log.h"

namespace conflux::cache {
namespace {

// The single result of a one-item batch.
caf::ApplyResult apply_one(caf::ContentAdapter& backend, const caf::StoreRef& ref, caf::SyncObj&& obj) {
  std::vector<caf::SyncObj> batch;
  batch.push_back(std::move(obj));
  auto results = backend.apply(ref, std::move(batch));
  if (results.size() != 1) {
    caf::ApplyResult broken;
    broken.status = Status::internal("back end returned " + std::to_string(results.size()) + " results for 1 item");
    return broken;
  }
  return std::move(results.front());
}

}  // namespace

CacheMonitor::CacheMonitor(std::shared_ptr<CacheStore> cache, std::shared_ptr<caf::ContentAdapter> backend,
                           std::string database, Trigger trigger, int64_t start)
    : cache_(std::move(cache)),
      backend_(std::move(backend)),
      database_(std::move(database)),
      trigger_(trigger),
      last_propagation_(start) {}

Trigger CacheMonitor::trigger() const {
  std::lock_guard lock(mutex_);
  return trigger_;
}

void CacheMonitor::set_trigger(Trigger trigger) {
  std::lock_guard lock(mutex_);
  trigger_ = trigger;
}

int64_t CacheMonitor::backoff_seconds(int64_t attempts) {
  if (attempts <= 1) return 1;
  if (attempts > 9) return kMaxBackoffSeconds;  // 2^9 > 300 already
  return std::min<int64_t>(int64_t{1} << (attempts - 1), kMaxBackoffSeconds);
}

Result<int> CacheMonitor::run_once(int64_t now) {
  std::lock_guard lock(mutex_);
  auto length = cache_->queue_length(database_);
  if (!length) return length.error().with_context("cache monitor '" + database_ + "'");
  if (*length == 0) return 0;
  auto entries = cache_->queued(database_, kBatchLimit);
  if (!entries) return entries.error().with_context("cache monitor '" + database_ + "'");
  bool retry_due = false;
  for (const auto& e : *entries) retry_due = retry_due || (e.attempts > 0 && e.next_attempt_at <= now);
  if (!trigger_.due(*length, now, last_propagation_) && !retry_due) return 0;
  last_propagation_ = now;

  auto log = logger("cache");
  std::set<UserId> blocked;  // users with an entry left behind this round
  int replicated = 0;
  int failed = 0;
  for (const QueueEntry& entry : *entries) {
    if (blocked.count(entry.user)) continue;
    if (entry.next_attempt_at > now) {
      blocked.insert(entry.user);
      continue;
    }
    Status done = replicate(entry);
    if (done.is_ok()) {
      ++replicated;
      continue;
    }
    ++failed;
    blocked.insert(entry.user);
    const int64_t wait = backoff_seconds(entry.attempts + 1);
    log->warn("store '{}' user '{}': replication of {} {} failed (attempt {}), retry in {} s: {}", database_,
              entry.user.str(), caf::action_name(entry.action), entry.cuid.str(), entry.attempts + 1, wait,
              done.to_string());
    Status kept = cache_->retry_later(entry, now + wait, done.to_string());
    if (!kept.is_ok()) return kept.with_context("cache monitor '" + database_ + "'");
  }
  if (replicated > 0 || failed > 0) {
    log->info("store '{}': replicated {} of {} queued changes ({} failed, trigger {})", database_, replicated,
              *length, failed, trigger_.describe());
  }
  return replicated;
}

Status CacheMonitor::replicate(const QueueEntry& entry) {
  const caf::StoreRef ref{entry.user, entry.database, caf::Token{}};
  auto found = cache_->item(ref, entry.cuid);
  if (!found) return found.error();
  if (!*found) return Status::internal("queued item " + entry.cuid.str() + " is not in the cache");
  const CacheItem& item = **found;

  switch (entry.action) {
    case caf::Action::kCreate:
      // Deleted before it ever left the cache: nothing to write.
      if (item.deleted) return cache_->replicated(entry, Guid(), Anchor());
      if (item.guid.empty()) return create_in_backend(ref, entry, item);
      [[fallthrough]];  // already in the back end: write the current state
    case caf::Action::kUpdate: {
      if (item.deleted) return cache_->replicated(entry, Guid(), Anchor(item.backend_rev));  // a delete follows
      if (item.guid.empty()) return create_in_backend(ref, entry, item);
      caf::SyncObj obj;
      obj.action = caf::Action::kUpdate;
      obj.guid = item.guid;
      obj.cuid = item.cuid;
      obj.user = entry.user;
      obj.database = entry.database;
      obj.content_type = item.content_type;
      obj.raw = item.raw;
      caf::ApplyResult r = apply_one(*backend_, ref, std::move(obj));
      if (r.status.is_not_found()) return create_in_backend(ref, entry, item);  // deleted there by others
      if (!r.status.is_ok()) return r.status;
      return cache_->replicated(entry, item.guid, r.anchor);
    }
    case caf::Action::kDelete: {
      if (item.guid.empty()) return cache_->replicated(entry, Guid(), Anchor());  // never reached the back end
      caf::SyncObj obj;
      obj.action = caf::Action::kDelete;
      obj.guid = item.guid;
      obj.user = entry.user;
      obj.database = entry.database;
      caf::ApplyResult r = apply_one(*backend_, ref, std::move(obj));
      if (!r.status.is_ok()) return r.status;
      return cache_->replicated(entry, item.guid, r.anchor);
    }
    default:
      return Status::internal("unknown action in the queue");
  }
}

Status CacheMonitor::create_in_backend(const caf::StoreRef& ref, const QueueEntry& entry, const CacheItem& item) {
  // A crash after the back end's write and before ours: the item is there
  // under its cuid already (see the header).
  caf::Query query;
  query.guids = {Guid(item.cuid.str())};
  query.metadata_only = true;
  auto there = backend_->search(ref, query);
  if (!there) return there.error();
  if (!there->empty()) return cache_->replicated(entry, there->front().guid, there->front().anchor);

  caf::SyncObj obj;
  obj.action = caf::Action::kCreate;
  obj.guid = Guid(item.cuid.str());  // a hint; the back end may pick another
  obj.cuid = item.cuid;
  obj.user = entry.user;
  obj.database = entry.database;
  obj.content_type = item.content_type;
  obj.raw = item.raw;
  caf::ApplyResult r = apply_one(*backend_, ref, std::move(obj));
  if (!r.status.is_ok()) return r.status;
  return cache_->replicated(entry, r.guid, r.anchor);
}

}  // namespace conflux::cache
