// CPU time and memory of the server under test, from /proc (proc(5)): one
// process (Conflux), or a process tree (SyncEvolution's server: an HTTP
// front end, D-Bus, a daemon and a helper per session) under a root that is
// not itself counted (bench/reaper.py, which adopts the daemon when D-Bus
// activation double-forks it).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace conflux::loadgen {

enum class MeterScope : uint8_t {
  kProcess,            // the pid alone
  kDescendantsOfRoot,  // every live descendant of the pid, not the pid itself
};

struct PhaseUsage {
  double cpu_seconds = 0;    // utime+stime over the phase, incl. reaped children
  uint64_t rss_before_kb = 0;
  uint64_t peak_rss_kb = 0;  // VmHWM (reset at the start); summed over a tree
  uint64_t rss_after_kb = 0;
};

// start() then stop(), once per phase, from one thread. Sampling every
// 100 ms catches the peak of helpers that exit before the phase ends.
class ProcMeter {
 public:
  ProcMeter(int pid, MeterScope scope);
  ~ProcMeter();
  ProcMeter(const ProcMeter&) = delete;
  ProcMeter& operator=(const ProcMeter&) = delete;

  void start();
  PhaseUsage stop();

 private:
  std::vector<int> members() const;
  double cpu_seconds() const;
  uint64_t rss_now_kb() const;
  void sample();

  const int pid_;
  const MeterScope scope_;
  PhaseUsage usage_;
  std::mutex mutex_;
  std::map<int, uint64_t> peak_by_pid_;  // guarded by mutex_
  std::atomic<bool> running_{false};
  std::thread sampler_;
};

}  // namespace conflux::loadgen
