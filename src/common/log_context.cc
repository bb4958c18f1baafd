#include "common/log_context.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

namespace conflux {
namespace {

std::atomic<LogFormat> g_format{LogFormat::kText};
// %z: the zone, so lines compare across machines.
constexpr const char* kTextLogPattern = "%Y-%m-%dT%H:%M:%S.%e%z %^%-5l%$ [%n] %v";

// "2026-12-07T12:00:00.123Z"
std::string utc_time(spdlog::log_clock::time_point when) {
  const auto since_epoch = when.time_since_epoch();
  const std::time_t seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch).count();
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch).count() % 1000;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[32];
  const size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
  char rest[8];
  std::snprintf(rest, sizeof rest, ".%03dZ", static_cast<int>(millis));
  return std::string(text, n) + rest;
}

}  // namespace

LogContext& log_context() {
  thread_local LogContext context;
  return context;
}

void JsonLogFormatter::format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
  nlohmann::ordered_json line;
  line["time"] = utc_time(msg.time);
  const auto level = spdlog::level::to_string_view(msg.level);
  line["level"] = std::string(level.data(), level.size());
  line["logger"] = std::string(msg.logger_name.data(), msg.logger_name.size());
  const LogContext& context = log_context();
  if (!context.session.empty()) line["session"] = context.session;
  if (!context.user.empty()) line["user"] = context.user;
  if (!context.device.empty()) line["device"] = context.device;
  if (!context.datastore.empty()) line["datastore"] = context.datastore;
  line["message"] = std::string(msg.payload.data(), msg.payload.size());
  const std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  dest.append(text.data(), text.data() + text.size());
}

std::unique_ptr<spdlog::formatter> JsonLogFormatter::clone() const { return std::make_unique<JsonLogFormatter>(); }

bool set_log_format(const std::string& name) {
  if (name != "text" && name != "json") return false;
  g_format.store(name == "json" ? LogFormat::kJson : LogFormat::kText);
  spdlog::apply_all([](const std::shared_ptr<spdlog::logger>& existing) { apply_log_format(*existing); });
  return true;
}

LogFormat log_format() { return g_format.load(); }

void apply_log_format(spdlog::logger& logger) {
  if (g_format.load() == LogFormat::kJson) {
    logger.set_formatter(std::make_unique<JsonLogFormatter>());
  } else {
    logger.set_pattern(kTextLogPattern);
  }
}

}  // namespace conflux
