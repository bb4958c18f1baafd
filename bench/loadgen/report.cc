#include "report.h"

#include <cstdio>

namespace conflux::loadgen {
namespace {

std::string format(const char* fmt, auto... args) {
  char buf[512];
  std::snprintf(buf, sizeof buf, fmt, args...);
  return buf;
}

double mib(uint64_t kb) { return static_cast<double>(kb) / 1024.0; }

nlohmann::json to_json(const Percentiles& p) {
  return {{"count", p.count}, {"p50_ms", p.p50_ms}, {"p90_ms", p.p90_ms}, {"p99_ms", p.p99_ms}, {"max_ms", p.max_ms}};
}

std::string latencies(const Percentiles& p) {
  return format("%.1f/%.1f/%.1f/%.1f", p.p50_ms, p.p90_ms, p.p99_ms, p.max_ms);
}

}  // namespace

std::string format_table(const std::vector<PhaseResult>& phases, bool with_server) {
  std::string out = format("%-5s %4s %6s %5s %8s %9s %-30s %-26s", "phase", "devs", "sess", "fail", "sess/s", "items/s",
                           "session ms p50/p90/p99/max", "message ms p50/p90/p99/max");
  if (with_server) out += format(" %8s %9s %9s", "srv CPU", "peak MiB", "after MiB");
  out += format(" %8s\n", "gen CPU");
  for (const auto& p : phases) {
    const double items = static_cast<double>(p.items_sent + p.items_received);
    out += format("%-5s %4zu %6zu %5zu %8.2f %9.0f %-30s %-26s", p.name.c_str(), p.devices, p.sessions, p.failures,
                  p.wall_seconds > 0 ? static_cast<double>(p.sessions) / p.wall_seconds : 0.0,
                  p.wall_seconds > 0 ? items / p.wall_seconds : 0.0, latencies(p.session_latency).c_str(),
                  latencies(p.message_latency).c_str());
    if (with_server) {
      out += format(" %8.2f %9.1f %9.1f", p.server.cpu_seconds, mib(p.server.peak_rss_kb), mib(p.server.rss_after_kb));
    }
    out += format(" %8.2f\n", p.loadgen_cpu_seconds);
  }
  for (const auto& p : phases) out += format("%-5s %s\n", p.name.c_str(), p.description.c_str());
  for (const auto& p : phases) {
    for (const auto& e : p.errors) out += format("FAILED %s: %s\n", p.name.c_str(), e.c_str());
  }
  return out;
}

nlohmann::json to_json(const PhaseResult& p) {
  return {
      {"phase", p.name},
      {"description", p.description},
      {"devices", p.devices},
      {"sessions", p.sessions},
      {"failures", p.failures},
      {"errors", p.errors},
      {"wall_s", p.wall_seconds},
      {"sessions_per_s", p.wall_seconds > 0 ? static_cast<double>(p.sessions) / p.wall_seconds : 0.0},
      {"items_sent", p.items_sent},
      {"items_received", p.items_received},
      {"messages", p.messages},
      {"bytes_sent", p.bytes_sent},
      {"bytes_received", p.bytes_received},
      {"session_latency", to_json(p.session_latency)},
      {"message_latency", to_json(p.message_latency)},
      {"server",
       {{"cpu_s", p.server.cpu_seconds},
        {"rss_before_kb", p.server.rss_before_kb},
        {"peak_rss_kb", p.server.peak_rss_kb},
        {"rss_after_kb", p.server.rss_after_kb}}},
      {"loadgen_cpu_s", p.loadgen_cpu_seconds},
  };
}

}  // namespace conflux::loadgen
