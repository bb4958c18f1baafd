// MonitorThread: the one background thread that drives the monitors of every
// cached datastore — each second, per datastore, CacheMonitor::run_once,
// BackendMonitor::poll_once and CacheMonitor::purge_tombstones with the
// Clock's time. Running them on one thread means a back-end poll never sees a
// replication half recorded. The first tick comes one period after start().
//
// Push: start() subscribes every kPush BackendMonitor (a back end that cannot
// watch now is logged and left to the interval poll). A notification wakes
// the thread early; it then waits until no further notification came for
// kSettle (at most kMaxSettle in all) and ticks once — a burst of writes (a
// vdirsyncer run, an editor's save dance) costs one listing, not one per
// file.
//
// Call order: add() every datastore, start(), then stop() (or destroy) before
// the adapters the monitors use go away. Errors are logged (warn, once per
// change of message), never fatal: the queue is durable and the next tick
// retries.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cache/backend_monitor.h"
#include "cache/cache_monitor.h"
#include "common/clock.h"

namespace conflux::cache {

class MonitorThread {
 public:
  static constexpr std::chrono::milliseconds kSettle{100};
  static constexpr std::chrono::milliseconds kMaxSettle{1000};

  // `clock` must outlive the thread.
  explicit MonitorThread(const Clock& clock, int64_t tick_millis = 1000);
  MonitorThread(const MonitorThread&) = delete;
  MonitorThread& operator=(const MonitorThread&) = delete;
  ~MonitorThread();  // stop(), then the monitors' subscriptions end

  // Before start() only.
  void add(std::unique_ptr<CacheMonitor> cache_monitor, std::unique_ptr<BackendMonitor> backend_monitor);
  void start();
  // Wakes the thread, waits for the current tick to finish and joins. Idempotent.
  void stop();
  // Asks for a tick soon (after the settle time). Any thread.
  void wake();

  size_t size() const { return monitors_.size(); }

  // System preferences: the triggers and poll intervals of `stores` as
  // reloaded (cache_trigger, cache_amount, cache_interval_seconds,
  // backend_poll_seconds); stores without monitors here are skipped. Any
  // thread, started or not; each monitor takes it under its own lock.
  // Returns how many datastores were retuned.
  size_t retune(const std::vector<caf::StoreSettings>& stores);

 private:
  struct Pair {
    std::unique_ptr<CacheMonitor> cache;
    std::unique_ptr<BackendMonitor> backend;
    std::string last_cache_error;    // thread-local to run()
    std::string last_backend_error;  // thread-local to run()
    std::string last_purge_error;    // thread-local to run()
  };
  void run();
  void tick();

  const Clock& clock_;
  const int64_t tick_millis_;
  std::vector<Pair> monitors_;  // fixed after start(); used by the thread only

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mutex_
  bool woken_ = false;     // guarded by mutex_
  std::thread thread_;
};

}  // namespace conflux::cache
