#include "engine/login_throttle.h"

namespace conflux::engine {

LoginThrottle::LoginThrottle(const Clock& clock, int max_failures, int64_t window_seconds)
    : clock_(clock), max_failures_(max_failures), window_seconds_(window_seconds) {}

namespace {
constexpr int kAddressFactor = 5;  // an address may front many users
}  // namespace

bool LoginThrottle::over_limit(std::deque<int64_t>& failures, int64_t now, int limit) const {
  while (!failures.empty() && failures.front() <= now - window_seconds_) failures.pop_front();
  return static_cast<int>(failures.size()) >= limit;
}

bool LoginThrottle::blocked(const std::string& user, const std::string& address) {
  const int64_t now = clock_.now_seconds();
  std::lock_guard lock(mutex_);
  bool blocked = false;
  if (auto it = by_user_.find(user); it != by_user_.end()) {
    blocked = over_limit(it->second, now, max_failures_);
    if (it->second.empty()) by_user_.erase(it);
  }
  if (auto it = by_address_.find(address); !address.empty() && it != by_address_.end()) {
    blocked = over_limit(it->second, now, max_failures_ * kAddressFactor) || blocked;
    if (it->second.empty()) by_address_.erase(it);
  }
  return blocked;
}

void LoginThrottle::record_failure(const std::string& user, const std::string& address) {
  const int64_t now = clock_.now_seconds();
  std::lock_guard lock(mutex_);
  // Bounded: at most max_failures entries per key are ever needed.
  auto add = [&](std::deque<int64_t>& failures, int limit) {
    failures.push_back(now);
    while (static_cast<int>(failures.size()) > limit) failures.pop_front();
  };
  if (!user.empty()) add(by_user_[user], max_failures_);
  if (!address.empty()) add(by_address_[address], max_failures_ * kAddressFactor);
}

void LoginThrottle::record_success(const std::string& user) {
  std::lock_guard lock(mutex_);
  by_user_.erase(user);
}

}  // namespace conflux::engine
