// CPU time and memory of the server under test, from /proc (proc(5)): one
// process (Conflux), or a process tree (SyncEvolution's server: an HTTP
// front end, D-Bus, a daemon and a helper per session) under a root that is
// not itself counted (bench/reaper.py, which adopts the daemon when D-Bus
// activation double-forks it).
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace conflux::loadgen {

enum class MeterScope : uint8_t {
  kProcess,            // the pid alone
  kDescendantsOfRoot,  // every live descendant of the pid, not the pid itself
};

struct PhaseUsage {
  double cpu_seconds = 0;  // utime+stime over the phase, incl. reaped children
  uint64_t rss_before_kb = 0;
  // A process: VmHWM, reset at the start. A tree: the largest sum of its
  // members' VmRSS seen at one sample.
  uint64_t peak_rss_kb = 0;
  uint64_t rss_after_kb = 0;
};

// start() then stop(), once per phase, from one thread. A tree is sampled
// every 100 ms, so a helper that lives shorter than that can be missed.
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
  uint64_t peak_rss_kb_ = 0;  // guarded by mutex_
  std::atomic<bool> running_{false};
  std::thread sampler_;
};

}  // namespace conflux::loadgen
