// The SyncML endpoint: HTTP in, SyncML engine, HTTP out. Decides the HTTP
// status when no SyncML answer is possible (SyncML HTTP binding): 405 for a
// method other than POST, 415 for a content type that is not SyncML, 400 for
// a body that is not a SyncML message, 404 for an unknown session. Also
// answers GET /health ("ok") and GET /metrics (when configured).
#pragma once

#include <functional>
#include <string>

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
};

class SyncHandler {
 public:
  SyncHandler(engine::SyncEngine& engine, SyncHandlerOptions options);

  HttpResponse operator()(const HttpRequest& request);

 private:
  HttpResponse handle_sync(const HttpRequest& request, const std::string& query);

  engine::SyncEngine& engine_;
  const SyncHandlerOptions options_;
};

}  // namespace conflux::server
