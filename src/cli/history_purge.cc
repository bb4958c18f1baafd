#include "cli/history_purge.h"

#include <chrono>

#include "common/log.h"

namespace conflux::app {

HistoryPurge::HistoryPurge(caf::HistoryRecorder& recorder, int interval_seconds)
    : recorder_(recorder), interval_seconds_(interval_seconds), thread_([this] { run(); }) {}

HistoryPurge::~HistoryPurge() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void HistoryPurge::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    auto dropped = recorder_.purge_expired();
    if (!dropped) {
      logger("caf")->warn("item history: purge failed, retried later: {}", dropped.error().to_string());
    } else if (*dropped > 0) {
      logger("caf")->info("item history: purged {} versions older than the retention", *dropped);
    }
    lock.lock();
    wake_.wait_for(lock, std::chrono::seconds(interval_seconds_), [this] { return stopping_; });
  }
}

}  // namespace conflux::app
