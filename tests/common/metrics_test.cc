#include "common/metrics.h"

#include <gtest/gtest.h>

namespace conflux {
namespace {

TEST(MetricsTest, CountsShowInThePrometheusText) {
  Metrics metrics;
  EXPECT_NE(metrics.text().find("conflux_sessions_started_total 0"), std::string::npos) << metrics.text();
  metrics.session_started();
  metrics.session_failed(401);
  metrics.items("contacts", "from_device", "added", 3);
  metrics.login_throttled("syncml", "wrong_passwords");
  metrics.http_response(200, 0.02);
  metrics.backend_error("contacts", "unavailable");
  const std::string text = metrics.text();
  EXPECT_NE(text.find("# TYPE conflux_sessions_started_total counter"), std::string::npos) << text;
  EXPECT_NE(text.find("conflux_sessions_started_total 1"), std::string::npos) << text;
  EXPECT_NE(text.find("conflux_sessions_failed_total{status=\"401\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("conflux_sync_items_total{datastore=\"contacts\",direction=\"from_device\",outcome=\"added\"} 3"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("conflux_login_throttled_total{endpoint=\"syncml\",reason=\"wrong_passwords\"} 1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("conflux_http_responses_total{code=\"200\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("conflux_http_request_duration_seconds_bucket{le=\"0.025\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("conflux_http_request_duration_seconds_bucket{le=\"0.01\"} 0"), std::string::npos) << text;
  EXPECT_NE(text.find("conflux_backend_errors_total{code=\"unavailable\",datastore=\"contacts\"} 1"), std::string::npos)
      << text;
}

}  // namespace
}  // namespace conflux
