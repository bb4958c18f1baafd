#include "cache/cache_monitor.h"

#include <algorithm>
#include <limits>
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

// "Down, try later": never a reason to give up on an entry.
bool retryable(const Status& status) {
  return status.code() == StatusCode::kUnavailable || status.code() == StatusCode::kResourceExhausted;
}

}  // namespace

CacheMonitor::CacheMonitor(std::shared_ptr<CacheStore> cache, std::shared_ptr<caf::ContentAdapter> backend,
                           std::string database, Trigger trigger, int64_t start, CacheMonitorOptions options)
    : cache_(std::move(cache)),
      backend_(std::move(backend)),
      database_(std::move(database)),
      options_(std::move(options)),
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
  for (const auto& e : *entries) retry_due = retry_due || (!e.stuck && e.attempts > 0 && e.next_attempt_at <= now);
  if (!trigger_.due(*length, now, last_propagation_) && !retry_due) return 0;
  last_propagation_ = now;

  auto log = logger("cache");
  std::set<UserId> blocked;                       // users with an entry left behind this round
  std::set<std::pair<UserId, Cuid>> stuck_items;  // items with a stuck change: their later ones wait
  int replicated = 0;
  int failed = 0;
  for (const QueueEntry& entry : *entries) {
    const auto item_key = std::make_pair(entry.user, entry.cuid);
    if (entry.stuck) {
      stuck_items.insert(item_key);
      continue;
    }
    if (blocked.count(entry.user) || stuck_items.count(item_key)) continue;
    if (entry.next_attempt_at > now) {
      blocked.insert(entry.user);
      continue;
    }
    auto mine = cache_->claim(entry, options_.node_id, now, options_.lease_seconds);
    if (!mine) return mine.error().with_context("cache monitor '" + database_ + "'");
    if (!*mine) {  // another node replicates this user's changes now
      blocked.insert(entry.user);
      continue;
    }
    Status done = replicate(entry);
    if (done.is_ok()) {
      ++replicated;
      continue;
    }
    ++failed;
    const int64_t attempt = entry.attempts + 1;
    const bool stuck = !retryable(done) && attempt >= options_.stuck_after_attempts;
    const int64_t wait = backoff_seconds(attempt);
    if (stuck) {
      stuck_items.insert(item_key);
      log->error(
          "store '{}' user '{}': replication of {} {} failed {} times, marked stuck (queue entry {}; "
          "conflux cache retry|drop): {}",
          database_, entry.user.str(), caf::action_name(entry.action), entry.cuid.str(), attempt, entry.seq,
          done.to_string());
    } else {
      blocked.insert(entry.user);
      log->warn("store '{}' user '{}': replication of {} {} failed (attempt {}), retry in {} s: {}", database_,
                entry.user.str(), caf::action_name(entry.action), entry.cuid.str(), attempt, wait, done.to_string());
    }
    Status kept = cache_->retry_later(entry, now + wait, done.to_string(),
                                      stuck ? CacheStore::Retry::kStuck : CacheStore::Retry::kLater, options_.node_id);
    if (!kept.is_ok()) return kept.with_context("cache monitor '" + database_ + "'");
  }
  if (replicated > 0 || failed > 0) {
    log->info("store '{}': replicated {} of {} queued changes ({} failed, trigger {})", database_, replicated, *length,
              failed, trigger_.describe());
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
      if (item.deleted) return cache_->replicated(entry, Guid(), Anchor(), options_.node_id);
      if (item.guid.empty()) return create_in_backend(ref, entry, item);
      [[fallthrough]];  // already in the back end: write the current state
    case caf::Action::kUpdate: {
      // A delete follows: nothing to write.
      if (item.deleted) return cache_->replicated(entry, Guid(), Anchor(item.backend_rev), options_.node_id);
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
      return cache_->replicated(entry, item.guid, r.anchor, options_.node_id);
    }
    case caf::Action::kDelete: {
      // Never reached the back end: nothing to delete there.
      if (item.guid.empty()) return cache_->replicated(entry, Guid(), Anchor(), options_.node_id);
      caf::SyncObj obj;
      obj.action = caf::Action::kDelete;
      obj.guid = item.guid;
      obj.user = entry.user;
      obj.database = entry.database;
      caf::ApplyResult r = apply_one(*backend_, ref, std::move(obj));
      if (!r.status.is_ok()) return r.status;
      return cache_->replicated(entry, item.guid, r.anchor, options_.node_id);
    }
    default: return Status::internal("unknown action in the queue");
  }
}

Result<int> CacheMonitor::purge_tombstones(int64_t now) {
  std::lock_guard lock(mutex_);
  if (last_purge_ && now - *last_purge_ < options_.purge_every_seconds) return 0;
  last_purge_ = now;
  auto users = cache_->users(database_);
  if (!users) return users.error().with_context("tombstone purge '" + database_ + "'");
  int purged = 0;
  for (const UserId& user : *users) {
    const caf::StoreRef ref{user, database_, caf::Token{}};
    auto gone = cache_->purge_tombstones(ref, synced_revision(user), now - options_.tombstone_max_age_seconds);
    if (!gone) return gone.error().with_context("tombstone purge '" + database_ + "'");
    if (*gone > 0) logger("cache")->info("store '{}' user '{}': purged {} tombstones", database_, user.str(), *gone);
    purged += *gone;
  }
  return purged;
}

int64_t CacheMonitor::synced_revision(const UserId& user) {
  if (options_.progress == nullptr) return -1;
  auto anchors = options_.progress->synced_anchors(user, database_);
  if (!anchors) {
    logger("cache")->debug("store '{}' user '{}': device progress unknown: {}", database_, user.str(),
                           anchors.error().to_string());
    return -1;
  }
  // No device synced this store: none needs a tombstone.
  int64_t lowest = std::numeric_limits<int64_t>::max();
  for (const Anchor& anchor : *anchors) {
    auto revision = CacheStore::anchor_revision(anchor);
    if (!revision) return -1;  // handed out by the back end before the cache: no telling
    lowest = std::min(lowest, *revision);
  }
  return lowest;
}

Status CacheMonitor::create_in_backend(const caf::StoreRef& ref, const QueueEntry& entry, const CacheItem& item) {
  // A crash after the back end's write and before ours: the item is there
  // under its cuid already (see the header).
  caf::Query query;
  query.guids = {Guid(item.cuid.str())};
  query.metadata_only = true;
  auto there = backend_->search(ref, query);
  if (!there) return there.error();
  if (!there->empty()) {
    return cache_->replicated(entry, there->front().guid, there->front().anchor, options_.node_id);
  }

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
  return cache_->replicated(entry, r.guid, r.anchor, options_.node_id);
}

}  // namespace conflux::cache
