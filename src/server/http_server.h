// The HTTP/1.1 front door (Boost.Beast over Asio). It owns sockets, limits and
// keep-alive; what a request means is the handler's business.
//
// Threads: `io_threads` run the sockets; each request's handler runs on a
// bounded worker pool (`worker_threads`), never on an I/O thread, because
// handlers block on SQLite or a back end. The answer is posted back to the
// connection's strand.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/ip_networks.h"
#include "common/metrics.h"
#include "common/status.h"

namespace conflux::server {

class TlsContext;

struct HttpRequest {
  std::string method;        // "POST"
  std::string target;        // path plus query, as sent: "/sync?sid=abc"
  std::string content_type;  // header value as sent, may carry parameters
  std::string body;
  std::string remote_address;  // the peer of the TCP connection
  bool tls = false;            // the connection is TLS (HttpServerOptions::tls)
  // As sent (empty when absent); the handler decides whether to believe
  // them (only from a trusted proxy).
  std::string forwarded_for;    // X-Forwarded-For
  std::string forwarded;        // Forwarded (RFC 7239)
  std::string forwarded_proto;  // X-Forwarded-Proto ("https" from a TLS-terminating proxy)
  // For handlers that authenticate by HTTP header or cookie (the portal).
  std::string authorization;  // Authorization, as sent; never logged
  std::string cookie;         // Cookie, as sent; never logged
  std::string csrf_token;     // X-CSRF-Token
  std::string host;           // Host
  std::string accept;         // Accept
};

// A response body produced over time (Server-Sent Events, the portal's
// push). The server writes the head (status, Content-Type and headers of the
// HttpResponse, "Connection: close", no length), then asks for the body
// piece by piece until a piece is empty or the client goes away.
class ResponseStream {
 public:
  virtual ~ResponseStream() = default;
  // Hands the next bytes to `deliver` exactly once, now or later, from any
  // thread; an empty string ends the response. Not called again before
  // `deliver` ran.
  virtual void next(std::function<void(std::string)> deliver) = 0;
  // The client went away or the server stops: no further next(); a
  // `deliver` still held may be called, it is ignored.
  virtual void cancel() = 0;
};

struct HttpResponse {
  int status = 200;
  std::string content_type;  // empty: no Content-Type header
  std::string body;
  std::string allow;            // for 405: the Allow header
  int retry_after_seconds = 0;  // > 0: a Retry-After header (429, 503)
  // Further headers (Set-Cookie, WWW-Authenticate, Cache-Control ...); a
  // name or value holding CR or LF turns the answer into a 500.
  std::vector<std::pair<std::string, std::string>> headers = {};
  // Set: `body` is ignored and the body is streamed (see ResponseStream).
  std::shared_ptr<ResponseStream> stream = nullptr;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

struct HttpServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 8080;                     // 0 = any free port (see HttpServer::port)
  size_t max_body_bytes = 8 * 1024 * 1024;  // larger bodies get 413 before they are read
  // Live connections served at once. A connection beyond the limit is
  // answered "503 too many connections" with Retry-After and closed; it costs
  // one small write and at most ~2 s of socket while its request is drained.
  size_t max_connections = 256;
  int io_threads = 1;
  int worker_threads = 2;
  // A keep-alive connection with no request is closed after this; it also
  // bounds the read of a request's body and each write of a response.
  std::chrono::seconds idle_timeout{60};
  // A request's header must be complete this long after its first byte (on
  // a new connection: after accept). Short, so that connections sending
  // half a header (slowloris) are gone in seconds; a partial header then
  // gets 408.
  std::chrono::seconds header_timeout{10};
  // Connections one client address may hold at once; more get 503 with
  // Retry-After. 0: no cap. Addresses in `uncapped` (reverse proxies, which
  // carry many clients) are exempt.
  size_t max_connections_per_address = 32;
  IpNetworks uncapped;
  // Set: every connection speaks TLS, with the context in force when it is
  // accepted (TlsContext::reload swaps it for later ones). The handshake
  // counts against header_timeout. A plain-HTTP request gets a 400 in the
  // clear and is closed.
  std::shared_ptr<TlsContext> tls;
  // Each answer's status and latency are counted here; null: not counted.
  // Must outlive the server.
  Metrics* metrics = nullptr;
};

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, HttpHandler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts serving on background threads. kUnavailable with the OS
  // error when the address cannot be bound (e.g. port in use);
  // kInvalidArgument when `address` is not an IP address; kFailedPrecondition
  // on a second call (a stopped server does not start again).
  Status start();
  // The bound port (useful after binding port 0).
  uint16_t port() const;
  // Stops accepting, closes idle keep-alive connections, lets in-flight
  // requests finish (answered with "Connection: close") for up to ~5 s, then
  // closes what is left and joins the threads. A handler still running then
  // is waited for: it cannot be interrupted. Safe to call twice, or without a
  // successful start(); the destructor calls it. Not from a handler.
  void stop();

  // The ids of the I/O threads while running, so a test can check that
  // handlers never run on one.
  std::vector<std::thread::id> io_thread_ids_for_test() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace conflux::server
