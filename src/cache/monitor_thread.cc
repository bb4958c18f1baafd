#include "cache/monitor_thread.h"

#include <chrono>

#include "common/log.h"

namespace conflux::cache {
namespace {

// Logs `status` at warn when its text differs from the last one logged.
void note(const Status& status, std::string& last, const char* what, const std::string& database) {
  std::string text = status.is_ok() ? "" : status.to_string();
  if (text == last) return;
  if (!status.is_ok()) {
    logger("cache")->warn("store '{}': {}: {}", database, what, text);
  } else {
    logger("cache")->info("store '{}': {} works again", database, what);
  }
  last = std::move(text);
}

}  // namespace

MonitorThread::MonitorThread(const Clock& clock, int64_t tick_millis) : clock_(clock), tick_millis_(tick_millis) {}

MonitorThread::~MonitorThread() {
  stop();
  // The monitors' subscriptions call wake(): end them while mutex_ and wake_ exist.
  monitors_.clear();
}

void MonitorThread::add(std::unique_ptr<CacheMonitor> cache_monitor, std::unique_ptr<BackendMonitor> backend_monitor) {
  monitors_.push_back(Pair{std::move(cache_monitor), std::move(backend_monitor), {}, {}, {}});
}

size_t MonitorThread::retune(const std::vector<caf::StoreSettings>& stores) {
  size_t retuned = 0;
  for (const auto& store : stores) {
    for (Pair& pair : monitors_) {
      const std::string& database = pair.cache ? pair.cache->database() : pair.backend->database();
      if (database != store.name) continue;
      if (pair.cache) pair.cache->set_trigger(Trigger::from_settings(store.cache));
      if (pair.backend) pair.backend->set_interval(store.cache.backend_poll_seconds);
      logger("cache")->info("store '{}': trigger now {}, back end polled every {} s", store.name,
                            Trigger::from_settings(store.cache).describe(), store.cache.backend_poll_seconds);
      ++retuned;
    }
  }
  return retuned;
}

void MonitorThread::start() {
  if (thread_.joinable() || monitors_.empty()) return;
  for (Pair& pair : monitors_) {
    if (!pair.backend || pair.backend->policy() != BackendMonitor::Policy::kPush) continue;
    Status watching = pair.backend->watch([this] { wake(); });
    if (!watching.is_ok()) {
      logger("cache")->warn("store '{}': changes by others are only polled for: {}", pair.backend->database(),
                            watching.to_string());
    }
  }
  thread_ = std::thread([this] { run(); });
}

void MonitorThread::wake() {
  {
    std::lock_guard lock(mutex_);
    woken_ = true;
  }
  wake_.notify_all();
}

void MonitorThread::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void MonitorThread::run() {
  // Waits before the first tick: a short-lived process (an admin command)
  // that opens the services and exits never replicates.
  std::unique_lock lock(mutex_);
  auto woken_or_stopping = [this] { return stopping_ || woken_; };
  for (;;) {
    wake_.wait_for(lock, std::chrono::milliseconds(tick_millis_), woken_or_stopping);
    if (woken_) {
      const auto settle_until = std::chrono::steady_clock::now() + kMaxSettle;
      do {
        woken_ = false;
      } while (!stopping_ && wake_.wait_for(lock, kSettle, woken_or_stopping) &&
               std::chrono::steady_clock::now() < settle_until);
      woken_ = false;
    }
    if (stopping_) return;
    lock.unlock();
    tick();
    lock.lock();
  }
}

void MonitorThread::tick() {
  for (Pair& pair : monitors_) {
    const int64_t now = clock_.now_seconds();
    if (pair.cache)
      note(pair.cache->run_once(now).status(), pair.last_cache_error, "cache monitor", pair.cache->database());
    if (pair.backend)
      note(pair.backend->poll_once(now).status(), pair.last_backend_error, "back end monitor",
           pair.backend->database());
    if (pair.cache)
      note(pair.cache->purge_tombstones(now).status(), pair.last_purge_error, "tombstone purge",
           pair.cache->database());
  }
}

}  // namespace conflux::cache
