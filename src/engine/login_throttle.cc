#include "engine/login_throttle.h"

#include <algorithm>
#include <vector>

namespace conflux::engine {

LoginThrottle::LoginThrottle(const Clock& clock, int free_failures, int64_t first_delay_seconds,
                             int64_t max_delay_seconds)
    : clock_(clock),
      free_failures_(free_failures),
      first_delay_seconds_(first_delay_seconds),
      max_delay_seconds_(max_delay_seconds) {}

int64_t LoginThrottle::wait_seconds(const std::string& user, const std::string& address) {
  const int64_t now = clock_.now_seconds();
  std::lock_guard lock(mutex_);
  auto it = pairs_.find({user, address});
  if (it == pairs_.end()) return 0;
  return std::max<int64_t>(0, it->second.next_check - now);
}

void LoginThrottle::record_failure(const std::string& user, const std::string& address) {
  const int64_t now = clock_.now_seconds();
  std::lock_guard lock(mutex_);
  if (pairs_.size() >= kMaxTracked) prune(now);
  Pair& pair = pairs_[{user, address}];
  ++pair.failures;
  pair.last_failure = now;
  const int over = pair.failures - free_failures_;
  if (over <= 0) return;
  // first_delay * 2^(over-1), capped; the shift is bounded so it cannot overflow.
  const int64_t delay =
      over > 30 ? max_delay_seconds_ : std::min<int64_t>(first_delay_seconds_ << (over - 1), max_delay_seconds_);
  pair.next_check = now + delay;
}

void LoginThrottle::record_success(const std::string& user, const std::string& address) {
  std::lock_guard lock(mutex_);
  pairs_.erase({user, address});
}

void LoginThrottle::prune(int64_t now) {
  // A pair quiet for the longest delay has nothing left to slow down.
  std::erase_if(pairs_, [&](const auto& entry) { return entry.second.last_failure + max_delay_seconds_ < now; });
  // Still full (a flood of fresh pairs): drop the half that failed longest ago.
  if (pairs_.size() < kMaxTracked) return;
  std::vector<int64_t> times;
  times.reserve(pairs_.size());
  for (const auto& [key, pair] : pairs_) times.push_back(pair.last_failure);
  auto middle = times.begin() + static_cast<std::ptrdiff_t>(times.size() / 2);
  std::nth_element(times.begin(), middle, times.end());
  const int64_t cutoff = *middle;
  std::erase_if(pairs_, [&](const auto& entry) { return entry.second.last_failure <= cutoff; });
}

}  // namespace conflux::engine
