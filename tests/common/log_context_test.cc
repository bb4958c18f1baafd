#include "common/log_context.h"

#include <gtest/gtest.h>
#include <spdlog/details/log_msg.h>

#include <nlohmann/json.hpp>
#include <thread>

namespace conflux {
namespace {

nlohmann::json format_line(spdlog::level::level_enum level, std::string_view text) {
  spdlog::details::log_msg msg(spdlog::source_loc{}, "engine", level, text);
  spdlog::memory_buf_t out;
  JsonLogFormatter().format(msg, out);
  std::string line(out.data(), out.size());
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "one line per object";
  return nlohmann::json::parse(line);
}

TEST(JsonLogFormatterTest, LineCarriesTheSyncOfTheThread) {
  LogScope scope;
  log_context() = LogContext{"s1", "alice", "phone-1", "contacts"};
  auto line = format_line(spdlog::level::warn, "item 7 refused");
  EXPECT_EQ(line["level"], "warning");
  EXPECT_EQ(line["logger"], "engine");
  EXPECT_EQ(line["message"], "item 7 refused");
  EXPECT_EQ(line["session"], "s1");
  EXPECT_EQ(line["user"], "alice");
  EXPECT_EQ(line["device"], "phone-1");
  EXPECT_EQ(line["datastore"], "contacts");
  // "2026-12-07T12:00:00.123Z"
  const std::string time = line["time"];
  ASSERT_EQ(time.size(), 24u) << time;
  EXPECT_EQ(time[10], 'T');
  EXPECT_EQ(time.back(), 'Z');
}

TEST(JsonLogFormatterTest, FieldsNotKnownAreLeftOut) {
  LogScope scope;
  log_context() = LogContext{"s2", "", "phone-2", ""};
  auto line = format_line(spdlog::level::info, "login refused");
  EXPECT_EQ(line["session"], "s2");
  EXPECT_FALSE(line.contains("user"));
  EXPECT_FALSE(line.contains("datastore"));
}

TEST(JsonLogFormatterTest, QuotesNewlinesAndBadUtf8StayInOneValidLine) {
  auto line = format_line(spdlog::level::err, "a \"quoted\"\nsecond line \xff end");
  const std::string message = line["message"];
  EXPECT_NE(message.find("\"quoted\"\nsecond line"), std::string::npos);
  EXPECT_NE(message.find("end"), std::string::npos);
}

TEST(LogScopeTest, PutsThePreviousContextBack) {
  log_context() = LogContext{"outer", "bob", "", ""};
  {
    LogScope scope;
    log_context().datastore = "calendar";
    log_context().session = "inner";
    EXPECT_EQ(log_context().user, "bob");  // inherited until changed
  }
  EXPECT_EQ(log_context().session, "outer");
  EXPECT_EQ(log_context().datastore, "");
  log_context() = LogContext{};
}

TEST(LogScopeTest, ContextIsPerThread) {
  LogScope scope;
  log_context().session = "main";
  std::string seen = "unset";
  std::thread([&seen] { seen = log_context().session; }).join();
  EXPECT_EQ(seen, "");
}

TEST(LogFormatTest, OnlyTextAndJson) {
  EXPECT_FALSE(set_log_format("xml"));
  EXPECT_EQ(log_format(), LogFormat::kText);
  EXPECT_TRUE(set_log_format("json"));
  EXPECT_EQ(log_format(), LogFormat::kJson);
  EXPECT_TRUE(set_log_format("text"));
}

}  // namespace
}  // namespace conflux
