// Slows down password guessing without handing anyone a way to lock others
// out (issue #11). Wrong passwords are counted per (user, client address)
// pair: the first `free_failures` cost nothing, each further one doubles the
// wait — `first_delay_seconds`, twice that, four times … up to
// `max_delay_seconds` — before the pair's next attempt is checked at all. Other users, and the same user from other
// addresses, are not affected. A device that logged in before with the right
// password is never refused: the engine checks its password even while its
// pair waits (SyncEngine::MessageRun::authenticate).
//
// State is per process and bounded (kMaxTracked pairs, the oldest waits
// dropped first), or, given SharedLimits, in the database every node shares:
// then N nodes allow what one would. While that database cannot be reached
// the pairs are counted in memory.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "common/clock.h"
#include "engine/shared_limits.h"

namespace conflux::engine {

class LoginThrottle {
 public:
  static constexpr size_t kMaxTracked = 100000;

  // `clock` must outlive the throttle.
  // `shared` (may be null; must outlive the throttle) keeps the counts
  // under `kind` ("syncml-login", "portal-login").
  LoginThrottle(const Clock& clock, int free_failures, int64_t first_delay_seconds, int64_t max_delay_seconds,
                SharedLimits* shared = nullptr, std::string kind = "login");

  // Seconds before an attempt of `user` from `address` is checked again;
  // 0: check it now.
  int64_t wait_seconds(const std::string& user, const std::string& address);
  void record_failure(const std::string& user, const std::string& address);
  // The right password: the pair starts again from nothing.
  void record_success(const std::string& user, const std::string& address);

 private:
  struct Pair {
    int failures = 0;
    int64_t next_check = 0;  // Unix time
    int64_t last_failure = 0;
  };
  void prune(int64_t now);  // needs mutex_
  // The wait after the `failures`-th wrong password in a row.
  int64_t delay_after(int failures) const;
  static std::string shared_key(const std::string& user, const std::string& address);

  const Clock& clock_;
  const int free_failures_;
  const int64_t first_delay_seconds_;
  const int64_t max_delay_seconds_;
  SharedLimits* const shared_;
  const std::string kind_;
  std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, Pair> pairs_;  // guarded by mutex_
};

}  // namespace conflux::engine
