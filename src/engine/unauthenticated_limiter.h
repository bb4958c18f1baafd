// Rate limit for messages that do not authenticate (a session's first
// message, wrong or missing credentials), per client address (issue #11).
// A token bucket: `burst` at once, refilled at `per_minute`. A message that
// authenticates costs nothing, so a NAT full of real devices is not slowed.
//
// In memory and bounded (kMaxTracked addresses): when full, addresses whose
// bucket has refilled are forgotten; if a flood from that many addresses
// leaves none, all are forgotten — the limiter then fails open, never shut.
// Given SharedLimits, the buckets are in the database every node shares
// (kind "unauthenticated"), in memory only while it cannot be reached.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "common/clock.h"
#include "engine/shared_limits.h"

namespace conflux::engine {

class UnauthenticatedLimiter {
 public:
  static constexpr size_t kMaxTracked = 100000;

  // `clock` must outlive the limiter.
  // `shared` may be null; it must outlive the limiter.
  UnauthenticatedLimiter(const Clock& clock, int burst, int per_minute, SharedLimits* shared = nullptr);

  // Seconds until `address` may send another such message; 0: now.
  int64_t wait_seconds(const std::string& address);
  // One such message from `address` was answered.
  void charge(const std::string& address);

 private:
  struct Bucket {
    double tokens = 0;
    int64_t updated = 0;  // Unix time of the last refill
  };
  void refill(Bucket& bucket, int64_t now) const;
  int64_t wait_for(const Bucket& bucket) const;  // bucket refilled to now

  const Clock& clock_;
  const double burst_;
  const double per_second_;
  SharedLimits* const shared_;
  std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;  // guarded by mutex_
};

}  // namespace conflux::engine
