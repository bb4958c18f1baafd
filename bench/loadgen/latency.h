// Latency percentiles (nearest-rank, as most load tools report them).
#pragma once

#include <chrono>
#include <vector>

namespace conflux::loadgen {

struct Percentiles {
  size_t count = 0;
  double p50_ms = 0, p90_ms = 0, p99_ms = 0, max_ms = 0;
};

// Nearest-rank percentiles of `samples` (their order does not matter); all
// zero for no samples.
Percentiles percentiles(std::vector<std::chrono::nanoseconds> samples);

}  // namespace conflux::loadgen
