#include "cli/serve.h"

#include <csignal>
#include <pthread.h>

#include "cli/services.h"
#include "common/log.h"
#include "engine/sync_engine.h"
#include "server/http_server.h"
#include "server/sync_handler.h"

namespace conflux::app {

int serve(const config::Config& config) {
  auto log = logger("server");
  // Block the stop signals in every thread; the main thread waits for them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto services = Services::open_all(config);
  if (!services) {
    log->error("cannot start: {}", services.error().message());
    return 1;
  }
  auto& s = **services;
  if (s.cache_monitors) s.cache_monitors->start();  // replication runs in the server only

  engine::EngineOptions engine_options;
  engine_options.max_msg_size = config.server.max_msg_size;
  engine_options.session_timeout_seconds = config.server.session_timeout_seconds;
  engine_options.md5_auth = config.auth.md5;
  // Kept here so that a reload can re-read the file: quirk_book->reload().
  std::shared_ptr<engine::DeviceQuirkBook> quirk_book;
  if (!config.server.quirks_file.empty()) {
    auto loaded = engine::DeviceQuirkBook::load(config.server.quirks_file);
    if (!loaded) {
      log->error("cannot start: {}", loaded.error().message());
      return 1;
    }
    quirk_book = std::move(*loaded);
    engine_options.quirks = quirk_book;
  }
  engine::SyncEngine engine(*s.content, *s.state, config.stores, engine_options, s.clock);

  server::SyncHandlerOptions handler_options;
  handler_options.sync_path = config.server.sync_path;
  handler_options.public_url = config.server.public_url;
  handler_options.limits.max_bytes = config.server.max_body_bytes;
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
  log->info("Conflux listening on http://{}:{}{} — data in {} — datastores: {}", config.server.listen,
            server.port(), config.server.sync_path, config.data_dir, stores);

  int signal = 0;
  sigwait(&stop_signals, &signal);
  log->info("received {}, stopping", signal == SIGTERM ? "SIGTERM" : "SIGINT");
  server.stop();
  log->info("stopped");
  return 0;
}

}  // namespace conflux::app
