#include "cli/command.h"

#include <termios.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <iostream>

#include "common/log.h"

namespace conflux::app {

Result<config::Config> Context::read_config() const {
  auto loaded =
      config_path.empty() ? Result<config::Config>(config::default_config()) : config::load_config_file(config_path);
  if (!loaded) return loaded.error();
  config::Config cfg = std::move(*loaded);
  if (!data_dir.empty()) cfg.data_dir = std::filesystem::absolute(data_dir);
  if (!log_level.empty()) {
    cfg.log.level = log_level;
  } else if (!server_log) {
    cfg.log.level = "warn";
  }
  if (adjust) adjust(cfg);
  const bool known_level = spdlog::level::from_str(cfg.log.level) != spdlog::level::off || cfg.log.level == "off";
  if (!known_level) {
    return Status::invalid_argument("unknown log level '" + cfg.log.level +
                                    "' (one of trace, debug, info, warn, error, critical, off)");
  }
  return cfg;
}

void set_action(CLI::App* command, Context& ctx, std::function<int(const config::Config&)> action) {
  command->callback([&ctx, action = std::move(action)] { ctx.action = action; });
}

std::string read_password(const std::string& prompt) {
  const bool tty = isatty(STDIN_FILENO);
  termios saved{};
  if (tty) {
    std::cerr << prompt << std::flush;
    tcgetattr(STDIN_FILENO, &saved);
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::string password;
  std::getline(std::cin, password);
  if (tty) {
    tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    std::cerr << "\n";
  }
  if (!password.empty() && password.back() == '\r') password.pop_back();
  return password;
}

int fail(const std::string& message) {
  std::cerr << "conflux: " << message << "\n";
  return 1;
}

std::string when(int64_t unix_seconds) {
  std::time_t t = unix_seconds;
  std::tm utc{};
  gmtime_r(&t, &utc);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &utc);
  return buf;
}

}  // namespace conflux::app
