#include "common/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <sstream>

namespace conflux {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildHistogram;

// Request latency buckets, seconds: a /health answer takes well under a
// millisecond, a SyncML message with a slow back end seconds.
const prometheus::Histogram::BucketBoundaries kLatencyBuckets = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                                 0.25,  0.5,   1,    2.5,   5,    10};

}  // namespace

Metrics::Metrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      sessions_started_(BuildCounter()
                            .Name("conflux_sessions_started_total")
                            .Help("SyncML sessions that authenticated")
                            .Register(*registry_)),
      sessions_completed_(BuildCounter()
                              .Name("conflux_sessions_completed_total")
                              .Help("SyncML sessions that ended with every datastore committed")
                              .Register(*registry_)),
      sessions_failed_(
          BuildCounter()
              .Name("conflux_sessions_failed_total")
              .Help("SyncML sessions that ended before completing, by the SyncML status that ended them, or "
                    "expired: left unfinished by the client")
              .Register(*registry_)),
      items_(
          BuildCounter()
              .Name("conflux_sync_items_total")
              .Help("Items synced, by datastore, direction and outcome, counted as each message applies or sends them")
              .Register(*registry_)),
      conflicts_(BuildCounter()
                     .Name("conflux_sync_conflicts_total")
                     .Help("Conflicts settled in completed syncs, by datastore")
                     .Register(*registry_)),
      login_failures_(BuildCounter()
                          .Name("conflux_login_failures_total")
                          .Help("Passwords checked and found wrong, by endpoint")
                          .Register(*registry_)),
      login_throttled_(BuildCounter()
                           .Name("conflux_login_throttled_total")
                           .Help("Logins refused unchecked, by endpoint and reason")
                           .Register(*registry_)),
      http_responses_(BuildCounter()
                          .Name("conflux_http_responses_total")
                          .Help("HTTP answers, by status code")
                          .Register(*registry_)),
      http_duration_(BuildHistogram()
                         .Name("conflux_http_request_duration_seconds")
                         .Help("Time from a request's header to its answer")
                         .Register(*registry_)),
      backend_errors_(BuildCounter()
                          .Name("conflux_backend_errors_total")
                          .Help("Failed calls to a datastore's back end, by datastore and error code")
                          .Register(*registry_)) {
  // Present from the start, so a scrape before the first event reads 0.
  sessions_started_.Add({});
  sessions_completed_.Add({});
  http_duration_.Add({}, kLatencyBuckets);
}

Metrics::~Metrics() = default;

void Metrics::session_started() { sessions_started_.Add({}).Increment(); }

void Metrics::session_completed() { sessions_completed_.Add({}).Increment(); }

void Metrics::session_failed(int status) { sessions_failed_.Add({{"status", std::to_string(status)}}).Increment(); }

void Metrics::session_expired() { sessions_failed_.Add({{"status", "expired"}}).Increment(); }

void Metrics::items(const std::string& datastore, std::string_view direction, std::string_view outcome,
                    uint64_t count) {
  items_.Add({{"datastore", datastore}, {"direction", std::string(direction)}, {"outcome", std::string(outcome)}})
      .Increment(static_cast<double>(count));
}

void Metrics::conflicts(const std::string& datastore, uint64_t count) {
  conflicts_.Add({{"datastore", datastore}}).Increment(static_cast<double>(count));
}

void Metrics::login_failed(std::string_view endpoint) {
  login_failures_.Add({{"endpoint", std::string(endpoint)}}).Increment();
}

void Metrics::login_throttled(std::string_view endpoint, std::string_view reason) {
  login_throttled_.Add({{"endpoint", std::string(endpoint)}, {"reason", std::string(reason)}}).Increment();
}

void Metrics::http_response(int status, double seconds) {
  http_responses_.Add({{"code", std::to_string(status)}}).Increment();
  http_duration_.Add({}, kLatencyBuckets).Observe(seconds);
}

void Metrics::backend_error(const std::string& store, std::string_view code) {
  backend_errors_.Add({{"datastore", store}, {"code", std::string(code)}}).Increment();
}

std::string Metrics::text() const {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, registry_->Collect());
  return out.str();
}

}  // namespace conflux
