// Slows down password guessing (SyncML protocol issue: "failed logins are
// rate-limited per user and address"). After `max_failures` failed logins
// within `window_seconds` for one user name — or five times that many from
// one client address, which may be a NAT or proxy in front of many users —
// further attempts are refused without checking the credentials until the
// window has passed. State is per process; several nodes each count their own.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>

#include "common/clock.h"

namespace conflux::engine {

class LoginThrottle {
 public:
  // `clock` must outlive the throttle.
  LoginThrottle(const Clock& clock, int max_failures, int64_t window_seconds);

  // True when attempts for this user or from this address must wait.
  bool blocked(const std::string& user, const std::string& address);
  void record_failure(const std::string& user, const std::string& address);
  // A successful login clears the user's count (not the address's: one
  // address may serve many users, some of them guessing).
  void record_success(const std::string& user);

 private:
  bool over_limit(std::deque<int64_t>& failures, int64_t now, int limit) const;

  const Clock& clock_;
  const int max_failures_;
  const int64_t window_seconds_;
  std::mutex mutex_;
  std::map<std::string, std::deque<int64_t>> by_user_;     // guarded by mutex_
  std::map<std::string, std::deque<int64_t>> by_address_;  // guarded by mutex_
};

}  // namespace conflux::engine
