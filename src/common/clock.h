// Time as a seam: production code asks a Clock, tests inject a ManualClock.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace conflux {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t now_seconds() const = 0;  // Unix time
};

class SystemClock final : public Clock {
 public:
  int64_t now_seconds() const override {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t start) : now_(start) {}
  int64_t now_seconds() const override { return now_.load(); }
  void advance(int64_t seconds) { now_ += seconds; }

 private:
  std::atomic<int64_t> now_;
};

}  // namespace conflux
