#include "latency.h"

#include <algorithm>
#include <cmath>

namespace conflux::loadgen {

Percentiles percentiles(std::vector<std::chrono::nanoseconds> samples) {
  Percentiles p;
  p.count = samples.size();
  if (samples.empty()) return p;
  std::sort(samples.begin(), samples.end());
  auto rank = [&](double q) {
    // Nearest rank: the smallest sample with at least q of all at or below it.
    const auto n = static_cast<double>(samples.size());
    const size_t at = static_cast<size_t>(std::max(1.0, std::ceil(q * n))) - 1;
    return std::chrono::duration<double, std::milli>(samples[at]).count();
  };
  p.p50_ms = rank(0.50);
  p.p90_ms = rank(0.90);
  p.p99_ms = rank(0.99);
  p.max_ms = rank(1.0);
  return p;
}

}  // namespace conflux::loadgen
