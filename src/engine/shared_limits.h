// SharedLimits: where LoginThrottle and UnauthenticatedLimiter keep their
// counts when several servers share one database, so that N nodes behind a
// balancer allow what one node would, not N times as many guesses. Each
// record is a few numbers under (kind, key); the limiters say what they
// mean. store::PgSharedLimits keeps them in PostgreSQL; one server on SQLite
// needs none (the limiters then count in memory).
//
// Threading: any method from any thread. Failures: kUnavailable when the
// database cannot be reached (the limiters then count in memory meanwhile).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "common/status.h"

namespace conflux::engine {

struct LimitRecord {
  int64_t count = 0;  // LoginThrottle: wrong passwords so far
  double level = 0;   // UnauthenticatedLimiter: tokens left in the bucket
  int64_t at = 0;     // Unix time of the last change
  int64_t until = 0;  // LoginThrottle: no check before this time
};

class SharedLimits {
 public:
  using Change = std::function<std::optional<LimitRecord>(std::optional<LimitRecord>)>;

  virtual ~SharedLimits() = default;

  // The record of `key` in `kind`; nullopt when there is none.
  virtual Result<std::optional<LimitRecord>> read(const std::string& kind, const std::string& key) = 0;
  // Replaces the record by what `change` makes of it (it gets nullopt when
  // there is none and returns nullopt to remove it), atomically against
  // every other server. `change` may run more than once (retries).
  virtual Status update(const std::string& kind, const std::string& key, const Change& change) = 0;
  // Removes records unchanged since `before` whose wait is over by then.
  virtual Result<int> expire(int64_t before) = 0;
};

}  // namespace conflux::engine
