#include "cli/background_jobs.h"

#include <algorithm>

#include "common/log.h"

namespace conflux::app {

BackgroundJobs::BackgroundJobs(std::shared_ptr<PgDb> pg, std::vector<Job> jobs)
    : locks_(pg ? std::make_unique<PgLocks>(std::move(pg)) : nullptr) {
  for (auto& job : jobs) jobs_.push_back(Scheduled{std::move(job)});
  thread_ = std::thread([this] { run(); });
}

BackgroundJobs::~BackgroundJobs() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

bool BackgroundJobs::holds(Scheduled& s) {
  bool now_mine = true;
  if (locks_) {
    // A lock held before is asked about, so one lost with the connection
    // (PostgreSQL restarted) is noticed and taken again if it is free.
    auto held = s.mine ? locks_->holds(PgLocks::Space::kJob, s.job.name) : Result<bool>(false);
    if (held && !*held) held = locks_->try_lock(PgLocks::Space::kJob, s.job.name);
    if (!held)
      logger("server")->warn("background job {}: cannot reach its lock: {}", s.job.name, held.error().to_string());
    now_mine = held && *held;
  }
  if (now_mine && !s.mine) {
    logger("server")->info("background job {} runs on this node", s.job.name);
    s.due = std::chrono::steady_clock::now();
  } else if (!now_mine && (s.mine || !s.asked)) {
    logger("server")->info("background job {} runs on another node", s.job.name);
  }
  s.asked = true;
  s.mine = now_mine;
  return now_mine;
}

void BackgroundJobs::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    auto next = std::chrono::steady_clock::now() + kLockCheck;
    for (auto& s : jobs_) {
      if (!holds(s)) continue;
      if (std::chrono::steady_clock::now() >= s.due) {
        s.job.run();
        s.due = std::chrono::steady_clock::now() + s.job.interval;
      }
      next = std::min(next, s.due);
    }
    lock.lock();
    wake_.wait_until(lock, next, [this] { return stopping_; });
  }
}

}  // namespace conflux::app
