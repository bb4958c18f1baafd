// The SyncML endpoint: HTTP in, SyncML engine, HTTP out. Decides the HTTP
// status when no SyncML answer is possible (SyncML HTTP binding): 405 for a
// method other than POST, 415 for a content type that is not SyncML, 400 for
// a body that is not a SyncML message, 404 for an unknown session, 429 for
// too many unauthenticated messages from one address, 503 when the data
// directory is short of space or the state store fails. Also
// answers GET /health ("ok") and GET /metrics (when configured).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "common/ip_networks.h"
#include "engine/sync_engine.h"
#include "protocol/codec.h"
#include "server/http_server.h"

namespace conflux::server {

struct SyncHandlerOptions {
  std::string sync_path = "/sync";
  std::string public_url;  // empty: use the URL the client addressed
  protocol::DecodeLimits limits;
  // GET /metrics answers this (Prometheus text); unset: 404. Called on a
  // worker thread per request.
  std::function<std::string()> metrics;
  // Proxies whose X-Forwarded-For / Forwarded name the client (client_address.h).
  IpNetworks trusted_proxies;
  // A new session is refused (503) while the file system of `data_dir` has
  // less than `min_free_bytes` free; empty data_dir: no check.
  std::string data_dir;
  uint64_t min_free_bytes = 0;
};

class SyncHandler {
 public:
  SyncHandler(engine::SyncEngine& engine, SyncHandlerOptions options);

  HttpResponse operator()(const HttpRequest& request);

 private:
  HttpResponse handle_sync(const HttpRequest& request, const std::string& query);

  // Free space when it is below min_free_bytes, else nullopt.
  std::optional<uint64_t> short_of_space();

  engine::SyncEngine& engine_;
  const SyncHandlerOptions options_;
  std::atomic<int64_t> space_warned_at_{0};  // steady seconds of the last low-space log line
};

}  // namespace conflux::server
