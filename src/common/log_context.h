// The sync a log line belongs to, and the machine-readable log format.
//
// LogContext: session, user, device and datastore of the work the current
// thread does. The engine sets them as it learns them (a LogScope around each
// message puts the previous values back afterwards, so a worker thread never
// carries one session's context into the next), and every line logged
// meanwhile — the engine's, the CAF's, an adapter's — carries them: as JSON
// fields under `[log] format = "json"`. The text format prints lines as
// written (the engine's sync lines name their session, user and datastore in
// the text).
//
// Threads: the context is per thread; set_log_format from one thread at a
// time (start, reload).
#pragma once

#include <spdlog/formatter.h>
#include <spdlog/logger.h>

#include <memory>
#include <string>

namespace conflux {

struct LogContext {
  std::string session;
  std::string user;
  std::string device;
  std::string datastore;
};

// The current thread's context, to read or to fill in.
LogContext& log_context();

// Saves the current thread's context and puts it back when it goes.
class LogScope {
 public:
  LogScope() : saved_(log_context()) {}
  ~LogScope() { log_context() = std::move(saved_); }
  LogScope(const LogScope&) = delete;
  LogScope& operator=(const LogScope&) = delete;

 private:
  LogContext saved_;
};

enum class LogFormat { kText, kJson };

// Switches every logger, now and later. "text" or "json"; false for another
// name (the format stays).
bool set_log_format(const std::string& name);
LogFormat log_format();
// Gives one logger the current format (log.cc, for each new logger).
void apply_log_format(spdlog::logger& logger);

// One JSON object per line: time (UTC, ms), level, logger, message, and
// session, user, device, datastore from the thread's LogContext when set.
// Invalid UTF-8 in a message is replaced, never breaks the line.
class JsonLogFormatter : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override;
};

}  // namespace conflux
