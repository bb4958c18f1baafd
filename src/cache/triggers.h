// Triggers (seed: "Amount Trigger", "Interval Trigger", "Combined Trigger"):
// when a monitor's queue propagates. A value, no state: the monitor keeps the
// queue and the time of its last propagation and asks due() on every tick.
//   Amount{n}        the queue holds at least n entries (n = 1: trickle)
//   Interval{s}      the queue is not empty and s seconds have passed since
//                    the last propagation
//   Combined{n, s}   whichever of the two fires first
// An empty queue is never due.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "caf/backend_registry.h"

namespace conflux::cache {

class Trigger {
 public:
  enum class Kind : uint8_t { kAmount, kInterval, kCombined };

  static Trigger amount(size_t n) { return Trigger(Kind::kAmount, n, 0); }
  static Trigger interval(int64_t seconds) { return Trigger(Kind::kInterval, 0, seconds); }
  static Trigger combined(size_t n, int64_t seconds) { return Trigger(Kind::kCombined, n, seconds); }
  // The trigger a store's [stores.<name>] cache_* keys describe.
  static Trigger from_settings(const caf::CacheSettings& settings);

  // Times are Unix seconds of one Clock.
  bool due(size_t queue_length, int64_t now, int64_t last_propagation) const;

  Kind kind() const { return kind_; }
  // "amount(3)", "interval(60s)", "combined(3, 60s)" — for the log.
  std::string describe() const;

 private:
  Trigger(Kind kind, size_t amount, int64_t seconds) : kind_(kind), amount_(amount), seconds_(seconds) {}

  Kind kind_;
  size_t amount_;    // kAmount, kCombined; 0 is taken as 1
  int64_t seconds_;  // kInterval, kCombined
};

}  // namespace conflux::cache
