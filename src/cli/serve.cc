#include "cli/serve.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "cli/background_jobs.h"
#include "cli/cache_admin.h"
#include "cli/command.h"
#include "cli/held.h"
#include "cli/services.h"
#include "cli/webhooks.h"
#include "common/ip_networks.h"
#include "common/log.h"
#include "common/log_context.h"
#include "config/preferences.h"
#include "engine/sync_engine.h"
#include "portal/jmap_api.h"
#include "portal/portal_handler.h"
#include "portal/push.h"
#include "server/http_server.h"
#include "server/sync_handler.h"
#include "server/tls_context.h"
#include "store/pg_shared_limits.h"

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
    for (const auto& store : c.stores) CFX_RETURN_IF_ERROR(config::locate(c, s.registry.validate_store(store)));
    return Status::ok();
  });
  prefs.on_change({"log", {"log.level", "log.format"}, nullptr, [](const config::Config& c) {
                     set_log_level(c.log.level);
                     set_log_format(c.log.format);
                   }});
  prefs.on_change({"engine", {"stores.*.conflict_policy"}, nullptr, [&engine](const config::Config& c) {
                     engine.set_conflict_policies(c.stores);
                   }});
  prefs.on_change(
      {"caf", {"stores.*.access"}, nullptr, [&s](const config::Config& c) { s.content->set_store_access(c.stores); }});
  if (s.cache_monitors) {
    prefs.on_change({"cache",
                     {"stores.*.cache_trigger", "stores.*.cache_amount", "stores.*.cache_interval_seconds",
                      "stores.*.backend_poll_seconds"},
                     nullptr,
                     [&s](const config::Config& c) { s.cache_monitors->retune(c.stores); }});
  }
  // Webhook subscriptions, push channels and their settings: every accepted
  // reload hands them over.
  prefs.on_change({"notify", {}, nullptr, [&s](const config::Config& c) {
                     s.webhooks->set_config(c);
                     s.san->set_config(c);
                     if (!c.push.empty()) s.san->start();
                   }});
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

// TLS files: re-read on every accepted reload (a renewed certificate keeps
// its path); a reload naming files that do not load is refused. Switching
// TLS on or off needs a restart: the listener was made for one of the two.
void subscribe_tls(config::Preferences& prefs, const std::shared_ptr<server::TlsContext>& tls) {
  auto check = [](const config::Config& c) {
    if (c.server.tls_certificate.empty()) return Status::ok();
    auto loaded = server::TlsContext::load(c.server.tls_certificate, c.server.tls_key);
    return loaded ? Status::ok() : config::locate(c, loaded.error().with_context("server.tls_certificate"));
  };
  auto apply = [tls](const config::Config& c) {
    auto log = logger("config");
    if ((tls != nullptr) == c.server.tls_certificate.empty()) {
      log->warn("server.tls_certificate: switching TLS {} takes effect at the next restart", tls ? "off" : "on");
      return;
    }
    if (!tls) return;
    if (Status st = tls->reload(c.server.tls_certificate, c.server.tls_key); !st.is_ok()) {
      log->error("TLS files not reloaded, the old certificate stays: {}", st.message());
      return;
    }
    log->info("TLS certificate {} loaded; new connections use it", c.server.tls_certificate);
  };
  // The keys are followed here so that a new path is not logged as needing
  // a restart; the subscriber without keys below does the reading.
  prefs.on_change({"tls", {"server.tls_certificate", "server.tls_key"}, nullptr, [](const config::Config&) {}});
  prefs.on_change({"tls files", {}, check, apply});
}

}  // namespace

bool server_running(const std::string& data_dir) {
  int fd = ::open(pid_file_path(data_dir).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool locked = ::flock(fd, LOCK_SH | LOCK_NB) != 0;  // getting the lock means nobody holds it
  ::close(fd);
  return locked;
}

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

  // The data directory is one server's: its lock is taken before anything in
  // it is opened, so a second server on it stops here, before it touches the
  // state database or a cache.
  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);  // its permissions: Services::open_accounts
  if (ec) {
    log->error("cannot start: cannot create data directory {}: {}", config.data_dir, ec.message());
    return 1;
  }
  auto pid_file = PidFile::create(pid_file_path(config.data_dir));
  if (!pid_file) {
    log->error("cannot start: {}", pid_file.error().message());
    return 1;
  }

  auto services = Services::open_all(config);
  if (!services) {
    log->error("cannot start: {}", services.error().message());
    return 1;
  }
  auto& s = **services;
  {
    auto outbox = notify::open_outbox(s.state_db, s.pg_db);
    if (!outbox) {
      log->error("cannot start: notification outbox: {}", outbox.error().message());
      return 1;
    }
    s.outbox = std::move(*outbox);
    auto subscriptions = notify::open_subscriptions(s.state_db, s.pg_db);
    if (!subscriptions) {
      log->error("cannot start: webhook subscriptions: {}", subscriptions.error().message());
      return 1;
    }
    s.subscriptions = std::move(*subscriptions);
  }
  s.webhooks =
      std::make_unique<notify::WebhookNotifier>(*s.outbox, s.clock, node_id(config), config, s.subscriptions.get());
  s.change_events.subscribe([&s](const caf::ChangeEvent& event) { s.webhooks->on_change(event); });
  s.san = std::make_unique<notify::SanNotifier>(
      *s.outbox, s.clock, node_id(config), config,
      [&s](const UserId& user, const DeviceId& device, const std::string& database) {
        auto anchors = s.state->anchors(engine::DeviceStore{user, device, database});
        return anchors && anchors->has_value();
      },
      [&s](const UserId& user) { return s.users->md5_secret(user); });
  s.change_events.subscribe([&s](const caf::ChangeEvent& event) { s.san->on_change(event); });
  // Users may subscribe at any time (portal API): webhooks always run. SANs
  // idle without [[push]]: a reload that adds the first one starts them
  // (alerts queued before a restart are sent once it runs).
  s.webhooks->start();
  if (!config.push.empty()) s.san->start();
  if (s.cache_monitors) s.cache_monitors->start();  // replication runs in the server only
  engine::EngineOptions engine_options;
  engine_options.max_msg_size = config.server.max_msg_size;
  engine_options.session_timeout_seconds = config.server.session_timeout_seconds;
  engine_options.md5_auth = config.auth.md5;
  engine_options.login_free_failures = config.auth.login_free_failures;
  engine_options.login_first_delay_seconds = config.auth.login_first_delay_seconds;
  engine_options.login_max_delay_seconds = config.auth.login_max_delay_seconds;
  engine_options.unauthenticated_burst = config.auth.unauthenticated_burst;
  engine_options.unauthenticated_per_minute = config.auth.unauthenticated_per_minute;
  engine_options.metrics = &s.metrics;
  // Behind a balancer every node counts logins in the shared database.
  std::unique_ptr<store::PgSharedLimits> shared_limits;
  if (s.pg_db) {
    auto opened = store::PgSharedLimits::open(s.pg_db);
    if (!opened) {
      log->error("cannot start: login counts: {}", opened.error().message());
      return 1;
    }
    shared_limits = std::move(*opened);
    engine_options.shared_limits = shared_limits.get();
  }
  {
    auto secret = s.state->server_secret();
    if (!secret) {
      log->error("cannot start: server secret: {}", secret.error().message());
      return 1;
    }
    engine_options.server_secret = std::move(*secret);
  }
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
  // Expired sessions and old nonces go on a timer, not on a client's
  // request (issue #11: a stranger's message must not cause a database
  // write), every fifth of the session timeout (at most a minute), so a
  // session expires within a fifth of its timeout after it is due; the item
  // history's retention hourly.
  std::vector<BackgroundJobs::Job> jobs;
  const auto purge_interval =
      std::chrono::seconds(std::clamp<int64_t>(config.server.session_timeout_seconds / 5, 1, 60));
  jobs.push_back({"expired-sessions", purge_interval, [&engine, &shared_limits, &s, &config] {
                    if (auto st = engine.purge_expired(); !st.is_ok()) {
                      logger("server")->warn("purging expired sessions failed: {}", st.to_string());
                    }
                    // A count idle for the longest wait has nothing left to slow down.
                    if (!shared_limits) return;
                    const int64_t before = s.clock.now_seconds() - config.auth.login_max_delay_seconds - 3600;
                    if (auto expired = shared_limits->expire(before); !expired) {
                      logger("server")->warn("purging old login counts failed: {}", expired.error().to_string());
                    }
                  }});
  if (s.history) {
    jobs.push_back({"item-history", std::chrono::seconds(3600), [&s] {
                      auto dropped = s.history->purge_expired();
                      if (!dropped) {
                        logger("caf")->warn("item history: purge failed, retried later: {}",
                                            dropped.error().to_string());
                      } else if (*dropped > 0) {
                        logger("caf")->info("item history: purged {} versions older than the retention", *dropped);
                      }
                    }});
  }
  BackgroundJobs background_jobs(s.pg_db, std::move(jobs));

  // Validated with the configuration: parsing again cannot fail.
  auto parsed_proxies = IpNetworks::parse(config.auth.trusted_proxies);
  const IpNetworks trusted_proxies = parsed_proxies ? *parsed_proxies : IpNetworks{};
  server::SyncHandlerOptions handler_options;
  handler_options.sync_path = config.server.sync_path;
  handler_options.public_url = config.server.public_url;
  handler_options.limits.max_bytes = config.server.max_body_bytes;
  handler_options.metrics = [&s] {
    return s.metrics.text() + cache_metrics(s) +
           webhook_metrics(*s.outbox, s.webhooks->counters(), s.clock.now_seconds()) + san_metrics(s.san->counters()) +
           held_metrics(s);
  };
  handler_options.trusted_proxies = trusted_proxies;
  handler_options.data_dir = config.data_dir;
  handler_options.min_free_bytes = config.min_free_bytes;
  server::SyncHandler handler(engine, handler_options);

  server::HttpServerOptions http;
  if (!config.server.tls_certificate.empty()) {
    auto tls = server::TlsContext::load(config.server.tls_certificate, config.server.tls_key);
    if (!tls) {
      log->error("cannot start: {}",
                 config::locate(config, tls.error().with_context("server.tls_certificate")).message());
      return 1;
    }
    http.tls = std::move(*tls);
  }
  subscribe_tls(prefs, http.tls);
  http.address = config.server.listen;
  http.port = config.server.port;
  http.max_body_bytes = config.server.max_body_bytes;
  http.max_connections = config.server.max_connections;
  http.max_connections_per_address = config.server.max_connections_per_address;
  http.header_timeout = std::chrono::seconds(config.server.header_timeout_seconds);
  http.idle_timeout = std::chrono::seconds(config.server.idle_timeout_seconds);
  http.uncapped = trusted_proxies;
  http.io_threads = config.server.io_threads;
  http.worker_threads = config.server.worker_threads;
  http.metrics = &s.metrics;
  // The portal (MISSION §6) answers its own paths on the same port and hands
  // every other request to the SyncML endpoint.
  std::vector<portal::PortalStore> portal_stores;
  for (const auto& store : config.stores) {
    portal_stores.push_back({store.name, store.content_type, store.content_version});
  }
  portal::JmapLimits jmap_limits;
  jmap_limits.max_size_request = config.server.max_body_bytes;
  portal::JmapWebhooks jmap_webhooks{s.subscriptions.get(),
                                     [&s](const std::string& url) { return s.webhooks->check_subscription_url(url); },
                                     &s.clock};
  portal::JmapApi jmap(*s.content, *s.state, std::move(portal_stores), jmap_limits, std::move(jmap_webhooks));
  portal::PortalOptions portal_options;
  portal_options.public_url = config.server.public_url;
  portal_options.trusted_proxies = trusted_proxies;
  portal_options.login_free_failures = config.auth.login_free_failures;
  portal_options.login_first_delay_seconds = config.auth.login_first_delay_seconds;
  portal_options.login_max_delay_seconds = config.auth.login_max_delay_seconds;
  portal_options.metrics = &s.metrics;
  portal_options.shared_limits = shared_limits.get();
  portal::PushHub push(jmap, *s.tokens, s.clock);
  portal::PortalHandler portal_handler(*s.content, *s.tokens, jmap, push, s.clock, portal_options,
                                       [&handler](const server::HttpRequest& r) { return handler(r); });
  server::HttpServer server(http, [&portal_handler](const server::HttpRequest& r) { return portal_handler(r); });
  if (auto st = server.start(); !st.is_ok()) {
    log->error("cannot start: {}", st.message());
    return 1;
  }
  std::string stores;
  for (const auto& st : config.stores) stores += (stores.empty() ? "" : ", ") + st.name + " (" + st.adapter + ")";
  log->info("Conflux listening on {}://{}:{}{} — data in {} — datastores: {}", http.tls ? "https" : "http",
            config.server.listen, server.port(), config.server.sync_path, config.data_dir, stores);
  log->info("stop with Ctrl-C or SIGTERM; `conflux reload` (or SIGHUP) re-reads the configuration");
  if (auto users = s.users->list(); users && users->empty()) {
    log->warn(
        "no users yet: every sync is refused until one exists; add one with `conflux user add NAME` "
        "and the same --config/--data-dir as this server (data directory {})",
        config.data_dir);
  }

  int signal = 0;
  for (;;) {
    sigwait(&signals, &signal);
    if (signal != SIGHUP) break;
    log->info("received SIGHUP, reloading the configuration");
    prefs.reload(reread());
  }
  log->info("received {}, stopping", signal == SIGTERM ? "SIGTERM" : "SIGINT");
  push.stop();  // ends the event streams, which have no end of their own
  server.stop();
  log->info("stopped");
  return 0;
}

void register_server_commands(CLI::App& app, Context& ctx) {
  struct ServeOptions {
    std::string listen;
    int port = -1;
  };
  auto opts = std::make_shared<ServeOptions>();
  auto* serve_cmd = app.add_subcommand("serve", "run the SyncML server until SIGTERM/SIGINT (Ctrl-C)");
  serve_cmd->add_option("--listen", opts->listen, "IP address to listen on (overrides server.listen)")
      ->check([](const std::string& address) {
        Status st = config::check_listen_address(address);
        return st.is_ok() ? std::string() : st.message();
      });
  serve_cmd->add_option("--port", opts->port, "TCP port, 0 for any free one (overrides server.port)")
      ->check(CLI::Range(0, 65535));
  serve_cmd->callback([&ctx, opts] {
    ctx.server_log = true;
    ctx.adjust = [opts](config::Config& cfg) {
      if (!opts->listen.empty()) cfg.server.listen = opts->listen;
      if (opts->port >= 0) cfg.server.port = static_cast<uint16_t>(opts->port);
    };
    ctx.action = [&ctx](const config::Config& cfg) { return serve(cfg, [&ctx] { return ctx.read_config(); }); };
  });

  auto* check = app.add_subcommand("check-config", "validate the configuration and exit");
  set_action(check, ctx, [](const config::Config& cfg) {
    auto services = Services::open_all(cfg);
    if (!services) return fail(services.error().message());
    std::cout << "configuration is valid; data directory " << cfg.data_dir << "\n";
    return 0;
  });

  auto* reload = app.add_subcommand("reload", "make the running server re-read its configuration (SIGHUP)");
  set_action(reload, ctx, [](const config::Config& cfg) {
    if (auto st = signal_reload(cfg.data_dir); !st.is_ok()) return fail(st.message());
    std::cout << "asked the server to reload its configuration; its log says what changed\n";
    return 0;
  });
}

}  // namespace conflux::app
