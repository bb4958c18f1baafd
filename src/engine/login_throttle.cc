#include "engine/login_throttle.h"

#include <algorithm>
#include <vector>

#include "common/log.h"

namespace conflux::engine {

LoginThrottle::LoginThrottle(const Clock& clock, int free_failures, int64_t first_delay_seconds,
                             int64_t max_delay_seconds, SharedLimits* shared, std::string kind)
    : clock_(clock),
      free_failures_(free_failures),
      first_delay_seconds_(first_delay_seconds),
      max_delay_seconds_(max_delay_seconds),
      shared_(shared),
      kind_(std::move(kind)) {}

std::string LoginThrottle::shared_key(const std::string& user, const std::string& address) {
  return user + '\x1f' + address;  // a unit separator: in neither a user name nor an address
}

int64_t LoginThrottle::delay_after(int failures) const {
  const int over = failures - free_failures_;
  if (over <= 0) return 0;
  // first_delay * 2^(over-1), capped; the shift is bounded so it cannot overflow.
  return over > 30 ? max_delay_seconds_ : std::min<int64_t>(first_delay_seconds_ << (over - 1), max_delay_seconds_);
}

int64_t LoginThrottle::wait_seconds(const std::string& user, const std::string& address) {
  const int64_t now = clock_.now_seconds();
  if (shared_ != nullptr) {
    auto record = shared_->read(kind_, shared_key(user, address));
    if (record) return *record ? std::max<int64_t>(0, (*record)->until - now) : 0;
    logger("engine")->warn("login throttle: shared counts unreadable, counting here: {}", record.error().to_string());
  }
  std::lock_guard lock(mutex_);
  auto it = pairs_.find({user, address});
  if (it == pairs_.end()) return 0;
  return std::max<int64_t>(0, it->second.next_check - now);
}

void LoginThrottle::record_failure(const std::string& user, const std::string& address) {
  const int64_t now = clock_.now_seconds();
  if (shared_ != nullptr) {
    Status st = shared_->update(kind_, shared_key(user, address), [&](std::optional<LimitRecord> record) {
      LimitRecord next = record.value_or(LimitRecord{});
      ++next.count;
      next.at = now;
      if (const int64_t delay = delay_after(static_cast<int>(std::min<int64_t>(next.count, 1 << 20))); delay > 0) {
        next.until = now + delay;
      }
      return std::optional<LimitRecord>(next);
    });
    if (st.is_ok()) return;
    logger("engine")->warn("login throttle: shared counts not written, counting here: {}", st.to_string());
  }
  std::lock_guard lock(mutex_);
  if (pairs_.size() >= kMaxTracked) prune(now);
  Pair& pair = pairs_[{user, address}];
  ++pair.failures;
  pair.last_failure = now;
  if (const int64_t delay = delay_after(pair.failures); delay > 0) pair.next_check = now + delay;
}

void LoginThrottle::record_success(const std::string& user, const std::string& address) {
  if (shared_ != nullptr) {
    Status st = shared_->update(kind_, shared_key(user, address),
                                [](std::optional<LimitRecord>) { return std::optional<LimitRecord>(); });
    if (!st.is_ok()) logger("engine")->warn("login throttle: shared count not reset: {}", st.to_string());
  }
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
