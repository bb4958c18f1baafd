#include "cache/triggers.h"

#include <algorithm>

namespace conflux::cache {

Trigger Trigger::from_settings(const caf::CacheSettings& settings) {
  const auto n = static_cast<size_t>(std::max<int64_t>(settings.amount, 1));
  switch (settings.trigger) {
    case caf::CacheSettings::Trigger::kInterval: return interval(settings.interval_seconds);
    case caf::CacheSettings::Trigger::kCombined: return combined(n, settings.interval_seconds);
    case caf::CacheSettings::Trigger::kAmount:
    default: return amount(n);
  }
}

bool Trigger::due(size_t queue_length, int64_t now, int64_t last_propagation) const {
  if (queue_length == 0) return false;
  const bool amount_due = queue_length >= std::max<size_t>(amount_, 1);
  const bool interval_due = now - last_propagation >= seconds_;
  switch (kind_) {
    case Kind::kAmount: return amount_due;
    case Kind::kInterval: return interval_due;
    case Kind::kCombined:
    default: return amount_due || interval_due;
  }
}

std::string Trigger::describe() const {
  switch (kind_) {
    case Kind::kAmount: return "amount(" + std::to_string(amount_) + ")";
    case Kind::kInterval: return "interval(" + std::to_string(seconds_) + "s)";
    case Kind::kCombined:
    default: return "combined(" + std::to_string(amount_) + ", " + std::to_string(seconds_) + "s)";
  }
}

}  // namespace conflux::cache
