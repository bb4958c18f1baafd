// `conflux webhooks failed|retry`: the webhook outbox's dead letters, and the
// notification figures of GET /metrics.
#pragma once

#include <string>

#include "notify/outbox.h"
#include "notify/san_push.h"
#include "notify/webhooks.h"

namespace conflux::app {

// Prometheus text: deliveries by outcome since start, and the outbox's
// backlog (waiting, oldest age, dead letters) shared by every server.
std::string webhook_metrics(notify::Outbox& outbox, const notify::WebhookCounters& counters, int64_t now);
// Prometheus text: Server Alerted Notifications pushed to devices, by outcome.
std::string san_metrics(const notify::SanCounters& counters);

}  // namespace conflux::app
