#include "cli/serve.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

#include "cli/cache_admin.h"
#include "cli/history_purge.h"
#include "cli/services.h"
#include "common/log.h"
#include "config/preferences.h"
#include "engine/sync_engine.h"
#include "server/http_server.h"
#include "server/sync_handler.h"

namespace conflux::app {
namespace {

std::string pid_file_path(const std::string& data_dir) { return data_dir + "/conflux.pid"; }

// <data_dir>/conflux.pid, holding our pid and an exclusive flock while the
// server runs: `conflux reload` signals only a pid whose file is locked, so a
// file left by a crashed server is never trusted.
class PidFile {
 public:
  static Result<std::unique_ptr<PidFile>> create(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return Status::unavailable("cannot open " + path + ": " + std::strerror(errno));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd);
      return Status::failed_precondition(path + " is locked: another server uses this data directory");
    }
    const std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
      ::close(fd);
      return Status::unavailable("cannot write " + path + ": " + std::strerror(errno));
    }
    return std::unique_ptr<PidFile>(new PidFile(fd, path));
  }
  PidFile(const PidFile&) = delete;
  PidFile& operator=(const PidFile&) = delete;
  ~PidFile() {
    ::unlink(path_.c_str());
    ::close(fd_);
  }

 private:
  PidFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  const int fd_;
  const std::string path_;
};

// What changes without a restart (config/preferences.h), and who applies it.
void subscribe(config::Preferences& prefs, Services& s, engine::SyncEngine& engine,
               const std::shared_ptr<engine::DeviceQuirkBook>& quirk_book) {
  prefs.add_check("stores", [&s](const config::Config& c) {
    for (const auto& store : c.stores) CFX_RETURN_IF_ERROR(s.registry.validate_store(store));
    return Status::ok();
  });
  prefs.on_change({"log", {"log.level"}, nullptr, [](const config::Config& c) { set_log_level(c.log.level); }});
  prefs.on_change({"engine", {"stores.*.conflict_policy"}, nullptr,
                   [&engine](const config::Config& c) { engine.set_conflict_policies(c.stores); }});
  prefs.on_change({"caf", {"stores.*.access"}, nullptr,
                   [&s](const config::Config& c) { s.content->set_store_access(c.stores); }});
  if (s.cache_monitors) {
    prefs.on_change({"cache",
                     {"stores.*.cache_trigger", "stores.*.cache_amount", "stores.*.cache_interval_seconds",
                      "stores.*.backend_poll_seconds"},
                     nullptr,
                     [&s](const config::Config& c) { s.cache_monitors->retune(c.stores); }});
  }
  if (quirk_book) {
    // The rules live in a file of their own: read again on every accepted
    // reload; a bad file keeps the rules in force.
    prefs.on_change({"quirks", {}, nullptr, [quirk_book](const config::Config&) {
                       if (Status st = quirk_book->reload(); !st.is_ok()) {
                         logger("config")->error("device quirks not reloaded, the old rules stay: {}", st.message());
                       }
                     }});
  }
}

}  // namespace

Status signal_reload(const std::string& data_dir) {
  const std::string path = pid_file_path(data_dir);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::not_found("no server runs with data directory " + data_dir + " (no " + path + ")");
  // Getting the lock means nobody holds it: the file is stale.
  if (::flock(fd, LOCK_SH | LOCK_NB) == 0) {
    ::close(fd);
    return Status::not_found("no server runs with data directory " + data_dir + " (" + path + " is stale)");
  }
  char buf[32] = {};
  ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  ::close(fd);
  const pid_t pid = n > 0 ? static_cast<pid_t>(std::atol(buf)) : 0;
  if (pid <= 0) return Status::internal(path + " holds no process id");
  if (::kill(pid, SIGHUP) != 0) {
    return Status::unavailable("cannot signal process " + std::to_string(pid) + ": " + std::strerror(errno));
  }
  return Status::ok();
}

int serve(const config::Config& config, const ConfigSource& reread) {
  auto log = logger("server");
  // Block the signals in every thread; the main thread waits for them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto services = Services::open_all(config);
  if (!services) {
    log->error("cannot start: {}", services.error().message());
    return 1;
  }
  auto& s = **services;
  if (s.cache_monitors) s.cache_monitors->start();  // replication runs in the server only
  HistoryPurge history_purge(*s.history, 3600);      // the item history's retention, hourly

  engine::EngineOptions engine_options;
  engine_options.max_msg_size = config.server.max_msg_size;
  engine_options.session_timeout_seconds = config.server.session_timeout_seconds;
  engine_options.md5_auth = config.auth.md5;
  // The rules quirks_file names, else the ones built in (config/quirks.toml
  // at build time). Kept here so that a reload can re-read the file
  // (subscribe()); the built-in rules have nothing to re-read.
  std::shared_ptr<engine::DeviceQuirkBook> quirk_book;
  {
    auto loaded = engine::DeviceQuirkBook::for_config(config.server.quirks_file);
    if (!loaded) {
      log->error("cannot start: {}", loaded.error().message());
      return 1;
    }
    engine_options.quirks = *loaded;
    log->info("device quirks: {} rules from {}", (*loaded)->size(),
              config.server.quirks_file.empty() ? "the built-in config/quirks.toml" : config.server.quirks_file);
    if ((*loaded)->reloadable()) quirk_book = std::move(*loaded);
  }
  engine::SyncEngine engine(*s.content, *s.state, config.stores, engine_options, s.clock);
  config::Preferences prefs(config);
  subscribe(prefs, s, engine, quirk_book);

  server::SyncHandlerOptions handler_options;
  handler_options.sync_path = config.server.sync_path;
  handler_options.public_url = config.server.public_url;
  handler_options.limits.max_bytes = config.server.max_body_bytes;
  handler_options.metrics = [&s] { return cache_metrics(s); };
  server::SyncHandler handler(engine, handler_options);

  server::HttpServerOptions http;
  http.address = config.server.listen;
  http.port = config.server.port;
  http.max_body_bytes = config.server.max_body_bytes;
  http.max_connections = config.server.max_connections;
  http.io_threads = config.server.io_threads;
  http.worker_threads = config.server.worker_threads;
  server::HttpServer server(http, [&handler](const server::HttpRequest& r) { return handler(r); });
  if (auto st = server.start(); !st.is_ok()) {
    log->error("cannot start: {}", st.message());
    return 1;
  }
  std::string stores;
  for (const auto& st : config.stores) stores += (stores.empty() ? "" : ", ") + st.name + " (" + st.adapter + ")";
  auto pid_file = PidFile::create(pid_file_path(config.data_dir));
  if (!pid_file) log->warn("`conflux reload` will not find this server: {}", pid_file.error().message());
  log->info("Conflux listening on http://{}:{}{} — data in {} — datastores: {}", config.server.listen,
            server.port(), config.server.sync_path, config.data_dir, stores);

  int signal = 0;
  for (;;) {
    sigwait(&signals, &signal);
    if (signal != SIGHUP) break;
    log->info("received SIGHUP, reloading the configuration");
    prefs.reload(reread());
  }
  log->info("received {}, stopping", signal == SIGTERM ? "SIGTERM" : "SIGINT");
  server.stop();
  log->info("stopped");
  return 0;
}

}  // namespace conflux::app
