// `conflux cache status|stuck|retry|drop|dropped`, and the cache's part of the
// server's /metrics: what the Persistent Store's replication queue holds, per
// cached datastore (queue length, replication lag = age of the oldest queued
// change, stuck entries, tombstones), and settling entries the Cache Monitor
// gave up on.
#pragma once

#include <cstdint>
#include <string>

#include "cli/services.h"

namespace conflux::app {

int cache_status(Services& services);
int cache_stuck(Services& services);
// Makes a stuck entry due again; the running server's Cache Monitor tries it
// at its next tick.
int cache_retry(Services& services, int64_t seq);
// Takes an entry out of the queue; its content stays in the cache's dropped
// table (`conflux cache dropped`).
int cache_drop(Services& services, int64_t seq);
int cache_dropped(Services& services);

// Prometheus text exposition of the same figures; empty without a cache.
std::string cache_metrics(Services& services);

}  // namespace conflux::app
