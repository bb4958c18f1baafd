// The periodic work of `conflux serve` that must be done once, not once per
// node: purging expired sessions, nonces and login counts, and the item
// history's retention (caf/item_history.h). Each job runs when it becomes
// this node's and then every `interval`.
//
// Several nodes on one PostgreSQL database: a job is the node's that holds
// its advisory lock (common/pg_locks.h, space kJob). Every node tries for each
// job every kLockCheck; the holder keeps it as long as it lives. A node that
// dies, even by SIGKILL, loses its locks with its connection, and another
// node takes its jobs at its next try. One server on SQLite runs every job.
//
// The cache's Cache and Back End Monitors (cache/monitor_thread.h) are not
// here: each node has its own cache and replicates it itself, and the cache
// queue leases each entry to one node. The webhook outbox leases each
// message (notify/outbox.h).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/pg_db.h"
#include "common/pg_locks.h"

namespace conflux::app {

class BackgroundJobs {
 public:
  static constexpr std::chrono::seconds kLockCheck{5};

  struct Job {
    std::string name;  // the lock's name: the same on every node
    std::chrono::seconds interval;
    std::function<void()> run;  // logs its own failures
  };

  // `pg` null: this process is the only server. The thread starts at once.
  BackgroundJobs(std::shared_ptr<PgDb> pg, std::vector<Job> jobs);
  // Stops and joins the thread; this node's job locks go with it.
  ~BackgroundJobs();
  BackgroundJobs(const BackgroundJobs&) = delete;
  BackgroundJobs& operator=(const BackgroundJobs&) = delete;

 private:
  struct Scheduled {
    Job job;
    bool asked = false;                           // its lock was tried once at least
    bool mine = false;                            // this node holds its lock
    std::chrono::steady_clock::time_point due{};  // its next run, while mine
  };
  void run();
  // Whether `job` is this node's now (takes its lock when free); logs changes.
  bool holds(Scheduled& job);

  std::unique_ptr<PgLocks> locks_;  // null: SQLite, every job is this node's
  std::vector<Scheduled> jobs_;     // used by the thread only
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mutex_
  std::thread thread_;     // last: started after everything it uses
};

}  // namespace conflux::app
