// The item history's retention (caf/item_history.h), kept in the background
// of `conflux serve`: versions older than each store's history_days are
// purged at start and then every `interval_seconds`.
#pragma once

#include <condition_variable>
#include <mutex>
#include <thread>

#include "caf/item_history.h"

namespace conflux::app {

class HistoryPurge {
 public:
  // `recorder` must outlive this object; the thread starts at once.
  HistoryPurge(caf::HistoryRecorder& recorder, int interval_seconds);
  // Stops and joins the thread.
  ~HistoryPurge();
  HistoryPurge(const HistoryPurge&) = delete;
  HistoryPurge& operator=(const HistoryPurge&) = delete;

 private:
  void run();

  caf::HistoryRecorder& recorder_;
  const int interval_seconds_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mutex_
  std::thread thread_;     // last: starts after the members it uses
};

}  // namespace conflux::app
