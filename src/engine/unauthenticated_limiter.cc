#include "engine/unauthenticated_limiter.h"

#include <algorithm>
#include <cmath>

#include "common/log.h"

namespace conflux::engine {

namespace {
constexpr const char* kKind = "unauthenticated";
}  // namespace

UnauthenticatedLimiter::UnauthenticatedLimiter(const Clock& clock, int burst, int per_minute, SharedLimits* shared)
    : clock_(clock), burst_(std::max(1, burst)), per_second_(std::max(1, per_minute) / 60.0), shared_(shared) {}

int64_t UnauthenticatedLimiter::wait_for(const Bucket& bucket) const {
  if (bucket.tokens >= 1) return 0;
  return std::max<int64_t>(1, static_cast<int64_t>(std::ceil((1 - bucket.tokens) / per_second_)));
}

void UnauthenticatedLimiter::refill(Bucket& bucket, int64_t now) const {
  if (now > bucket.updated) {
    bucket.tokens = std::min(burst_, bucket.tokens + static_cast<double>(now - bucket.updated) * per_second_);
    bucket.updated = now;
  }
}

int64_t UnauthenticatedLimiter::wait_seconds(const std::string& address) {
  const int64_t now = clock_.now_seconds();
  if (shared_ != nullptr) {
    auto record = shared_->read(kKind, address);
    if (record) {
      if (!*record) return 0;
      Bucket bucket{(*record)->level, (*record)->at};
      refill(bucket, now);
      return wait_for(bucket);
    }
    logger("engine")->warn("unauthenticated limit: shared buckets unreadable, counting here: {}",
                           record.error().to_string());
  }
  std::lock_guard lock(mutex_);
  auto it = buckets_.find(address);
  if (it == buckets_.end()) return 0;
  refill(it->second, now);
  return wait_for(it->second);
}

void UnauthenticatedLimiter::charge(const std::string& address) {
  const int64_t now = clock_.now_seconds();
  if (shared_ != nullptr) {
    Status st = shared_->update(kKind, address, [&](std::optional<LimitRecord> record) {
      Bucket bucket = record ? Bucket{record->level, record->at} : Bucket{burst_, now};
      refill(bucket, now);
      bucket.tokens = std::max(0.0, bucket.tokens - 1);
      return std::optional<LimitRecord>(LimitRecord{0, bucket.tokens, bucket.updated, 0});
    });
    if (st.is_ok()) return;
    logger("engine")->warn("unauthenticated limit: shared bucket not written, counting here: {}", st.to_string());
  }
  std::lock_guard lock(mutex_);
  if (buckets_.size() >= kMaxTracked && !buckets_.count(address)) {
    for (auto& [key, bucket] : buckets_) refill(bucket, now);
    std::erase_if(buckets_, [&](const auto& entry) { return entry.second.tokens >= burst_; });
    if (buckets_.size() >= kMaxTracked) buckets_.clear();
  }
  auto [it, fresh] = buckets_.try_emplace(address, Bucket{burst_, now});
  refill(it->second, now);
  it->second.tokens = std::max(0.0, it->second.tokens - 1);
}

}  // namespace conflux::engine
