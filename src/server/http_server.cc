#include "server/http_server.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/log.h"
#include "server/tls_context.h"

namespace conflux::server {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

// Request line plus headers. Beast's default is 8 KB; SyncML clients send
// small headers, but proxies add some, so allow twice that.
constexpr uint32_t kHeaderLimit = 16 * 1024;
// After an error answer (400, 413, 431, 503) the peer may still be sending.
// Closing a socket with unread input makes the kernel send RST, and an RST can
// destroy the answer before the peer has read it (RFC 9112 §9.6). So we
// half-close and discard input for a while first, bounded by time and bytes.
constexpr auto kLingerTime = std::chrono::seconds(2);
constexpr size_t kLingerBytes = 16 * 1024 * 1024;
// At least this many refused connections may linger at once (max_connections
// if larger); beyond that a refused connection gets its 503 in one
// non-blocking write and is closed at once, so a flood cannot pin an
// unbounded number of sockets yet still gets an answer.
constexpr size_t kMinRefusing = 64;
constexpr int kRetryAfterSeconds = 5;
// stop(): how long in-flight requests get before their sockets are closed.
constexpr auto kStopGrace = std::chrono::seconds(5);
// stop(): after force-closing, how long closing completions get to run.
constexpr auto kCloseGrace = std::chrono::seconds(1);
// accept() failed (EMFILE, ENFILE, ENOBUFS): wait instead of spinning.
constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(100);

constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

std::string to_std(beast::string_view sv) { return std::string(sv.data(), sv.size()); }

std::string endpoint_text(const net::ip::address& address, uint16_t port) {
  if (address.is_v6()) return "[" + address.to_string() + "]:" + std::to_string(port);
  return address.to_string() + ":" + std::to_string(port);
}

// The target without its query: a query may carry a session id, which is a
// bearer secret for that session and so stays out of the log.
std::string loggable_target(const std::string& target) {
  auto query = target.find('?');
  if (query == std::string::npos) return target;
  return target.substr(0, query) + "?…";
}

bool safe_header_value(const std::string& value) { return value.find_first_of("\r\n") == std::string::npos; }

// Nanoseconds: connections often go idle within the same millisecond.
int64_t steady_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// RFC 9112 §6.1, §6.3: what to answer a request that carries
// Transfer-Encoding, or 0 when it is plain chunked (which Beast decodes).
// Any other transfer coding leaves the body's end unknown to us, so the
// request is refused and the connection closed: reading on would take the
// rest of its body for the next request (request smuggling).
int transfer_coding_refusal(const http::request<http::string_body>& req) {
  std::string codings;
  const auto fields = req.equal_range(http::field::transfer_encoding);
  for (auto field = fields.first; field != fields.second; ++field) {
    codings += (codings.empty() ? "" : ",") + to_std(field->value());
  }
  std::vector<std::string> tokens;
  size_t pos = 0;
  while (pos <= codings.size()) {
    size_t comma = codings.find(',', pos);
    if (comma == std::string::npos) comma = codings.size();
    std::string token = codings.substr(pos, comma - pos);
    token.erase(0, token.find_first_not_of(" \t"));
    token.erase(token.find_last_not_of(" \t") + 1);
    std::transform(token.begin(), token.end(), token.begin(), [](unsigned char c) { return std::tolower(c); });
    if (!token.empty()) tokens.push_back(token);
    pos = comma + 1;
  }
  if (tokens.empty()) return req.find(http::field::transfer_encoding) == req.end() ? 0 : 400;
  // HTTP/1.0 has no transfer codings; chunked must be last (§6.3 item 4);
  // with Content-Length too the framing is ambiguous (§6.1).
  if (req.version() < 11 || tokens.back() != "chunked" || req.find(http::field::content_length) != req.end()) {
    return 400;
  }
  return tokens.size() == 1 ? 0 : 501;  // e.g. "gzip, chunked": a coding we do not decode
}

// The bytes a plain-HTTP request to the TLS port gets, written in the clear
// so the client reads a reason instead of a broken handshake.
const std::string kPlainHttpToTlsPort = [] {
  const std::string body = "this port speaks HTTPS: use an https:// URL\n";
  return "HTTP/1.1 400 Bad Request\r\nServer: conflux\r\nContent-Type: text/plain\r\nConnection: close\r\n"
         "Content-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}();

// A connection's byte stream: plain TCP, or TLS over it. Either way an
// Asio AsyncReadStream/AsyncWriteStream, so Beast's HTTP reads and writes
// take it; deadlines, shutdown and close act on the TCP layer, transport(), whose
// deadline also bounds the TLS records (and the handshake) read through it.
class ConnectionStream {
 public:
  using executor_type = beast::tcp_stream::executor_type;

  // `tls` null: plain TCP.
  ConnectionStream(tcp::socket&& socket, std::shared_ptr<net::ssl::context> tls) : tls_context_(std::move(tls)) {
    if (tls_context_) {
      tls_.emplace(std::move(socket), *tls_context_);
    } else {
      plain_.emplace(std::move(socket));
    }
  }

  bool is_tls() const { return tls_.has_value(); }
  // The TCP layer.
  beast::tcp_stream& transport() { return tls_ ? tls_->next_layer() : *plain_; }
  executor_type get_executor() { return transport().get_executor(); }

  template <typename Buffers, typename Handler>
  void async_read_some(const Buffers& buffers, Handler&& handler) {
    if (tls_) return tls_->async_read_some(buffers, std::forward<Handler>(handler));
    plain_->async_read_some(buffers, std::forward<Handler>(handler));
  }

  template <typename Buffers, typename Handler>
  void async_write_some(const Buffers& buffers, Handler&& handler) {
    if (tls_) return tls_->async_write_some(buffers, std::forward<Handler>(handler));
    plain_->async_write_some(buffers, std::forward<Handler>(handler));
  }

  // Only when is_tls().
  template <typename Handler>
  void async_handshake(Handler&& handler) {
    tls_->async_handshake(net::ssl::stream_base::server, std::forward<Handler>(handler));
  }
  template <typename Handler>
  void async_shutdown(Handler&& handler) {
    tls_->async_shutdown(std::forward<Handler>(handler));
  }

 private:
  const std::shared_ptr<net::ssl::context> tls_context_;  // outlives tls_, which refers to it
  std::optional<beast::tcp_stream> plain_;                // one of the two
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_;
};

// Did the TLS handshake fail because the client spoke plain HTTP?
bool plain_http_on_tls(error_code ec) {
  return ec.category() == net::error::get_ssl_category() &&
         (ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == SSL_R_HTTP_REQUEST);
}

// What the log line and the answer need to know about the request at hand.
struct Exchange {
  std::string method = "-";
  std::string target = "-";
  unsigned version = 11;
  bool keep_alive = false;
  size_t body_bytes = 0;
};

}  // namespace

class HttpServer::Impl {
 public:
  class Connection;

  Impl(HttpServerOptions&& options, HttpHandler&& handler)
      : options_(std::move(options)),
        handler_(std::move(handler)),
        log_(logger("http")),
        ioc_(std::max(1, options_.io_threads)),
        acceptor_(net::make_strand(ioc_)),
        accept_retry_(acceptor_.get_executor()) {}

  ~Impl() { stop(); }

  Status start();
  void stop();
  uint16_t port() const { return port_.load(std::memory_order_acquire); }
  std::vector<std::thread::id> io_thread_ids() const;

  // --- Used by connections, from their strands or from worker threads. ---

  const HttpServerOptions& options() const { return options_; }
  // The TLS context for a new connection; null: plain HTTP.
  std::shared_ptr<net::ssl::context> tls_context() const { return options_.tls ? options_.tls->current() : nullptr; }
  spdlog::logger& log() const { return *log_; }
  // stop() has begun: answer in-flight requests with "Connection: close",
  // read no further request.
  bool stopping() const { return stopping_.load(std::memory_order_acquire); }
  // stop()'s grace period is over: start no new handler.
  bool dropping() const { return dropping_.load(std::memory_order_acquire); }

  // Runs the handler on the worker pool and hands its answer to `done`,
  // still on the worker thread. Never throws; a throwing handler becomes 500.
  template <typename Done>
  void run_handler(HttpRequest&& request, Done&& done) {
    net::post(*workers_, [this, request = std::move(request), done = std::forward<Done>(done)]() mutable {
      done(call_handler(request));
    });
  }

  void unregister_connection(uint64_t id, const std::string& address);
  void refused_connection_done() { refusing_.fetch_sub(1, std::memory_order_acq_rel); }

 private:
  void run_io();
  void do_accept();
  void on_accept(error_code ec, tcp::socket socket);
  void admit(tcp::socket&& socket);
  // Over a limit: a 503 with Retry-After, never a bare close or reset.
  void refuse(tcp::socket&& socket, std::string&& address, const char* why);
  // At max_connections: closes the keep-alive connection idle the longest,
  // if any, to make room. Needs registry_mu_.
  bool close_oldest_idle();
  HttpResponse call_handler(const HttpRequest& request);
  // Snapshot of live connections; the caller must drop it before waiting.
  std::vector<std::shared_ptr<Connection>> live_connections();
  // Waits until no connection is registered or `timeout` passed.
  bool wait_for_no_connections(std::chrono::milliseconds timeout);

  // Constant after construction.
  const HttpServerOptions options_;
  const HttpHandler handler_;
  const std::shared_ptr<spdlog::logger> log_;

  // start()/stop() sequencing; protects state_, io_threads_, workers_, work_.
  mutable std::mutex lifecycle_mu_;
  enum class State { kIdle, kRunning, kStopped } state_ = State::kIdle;

  std::atomic<uint16_t> port_{0};
  std::atomic<bool> stopping_{false};
  std::atomic<bool> dropping_{false};
  std::atomic<size_t> refusing_{0};  // refused connections still lingering

  // Live connections. Declared before ioc_: a connection whose last
  // reference dies with the io_context still unregisters here.
  std::mutex registry_mu_;
  std::condition_variable registry_cv_;                                  // signalled when one unregisters
  uint64_t next_id_ = 1;                                                 // guarded by registry_mu_
  std::unordered_map<uint64_t, std::weak_ptr<Connection>> connections_;  // guarded by registry_mu_
  std::unordered_map<std::string, size_t> per_address_;  // live connections by peer address; guarded by registry_mu_
  // connections_.size(), readable without the lock by the accept path.
  std::atomic<size_t> live_{0};

  // Handlers run here. Queue length is bounded by max_connections: a
  // connection has at most one request in flight (pipelined requests wait in
  // its read buffer until the previous answer is written).
  std::optional<net::thread_pool> workers_;

  net::io_context ioc_;
  // The acceptor and its retry timer live on one strand.
  tcp::acceptor acceptor_;
  net::steady_timer accept_retry_;
  bool limit_warned_ = false;  // on the acceptor strand: one warning per overload episode
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work_;
  std::vector<std::thread> io_threads_;
};

// One TCP connection. Its state is touched only on its strand: the public
// calls below just post there, and the handler's answer comes back by
// net::post from the worker thread.
class HttpServer::Impl::Connection : public std::enable_shared_from_this<Connection> {
 public:
  enum class Mode {
    kServe,   // registered, reads requests until closed
    kRefuse,  // over max_connections: one 503, then close
  };

  Connection(Impl& server, tcp::socket&& socket, std::string&& remote_address, Mode mode)
      : server_(server),
        mode_(mode),
        remote_address_(std::move(remote_address)),
        stream_(std::move(socket), server.tls_context()),
        strand_(stream_.get_executor()) {}

  ~Connection() {
    if (mode_ == Mode::kRefuse) {
      server_.refused_connection_done();
    } else if (id_ != 0) {
      server_.unregister_connection(id_, remote_address_);
    }
  }

  const std::string& remote_address() const { return remote_address_; }
  // Since when (steady ns) this keep-alive connection waits for its next
  // request with nothing received; 0 when it is not idle.
  int64_t idle_since() const { return idle_since_ns_.load(std::memory_order_acquire); }
  // Claims this idle connection for closing (so two accepts do not pick
  // it); false when it stopped being idle meanwhile.
  bool claim_idle(int64_t seen) { return idle_since_ns_.compare_exchange_strong(seen, 0); }

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Set once by the registry before serve().
  void set_id(uint64_t id) { id_ = id; }

  void serve() {
    net::dispatch(strand_, [self = shared_from_this()] { self->handshake_then([self] { self->read_request(); }); });
  }

  void refuse(std::string why) {
    net::dispatch(strand_, [self = shared_from_this(), why = std::move(why)]() mutable {
      self->handshake_then([self, why = std::move(why)] {
        HttpResponse busy{503, "text/plain", why + "\n", ""};
        busy.retry_after_seconds = kRetryAfterSeconds;
        self->prepare(std::move(busy), /*keep_alive=*/false);
        self->write(After::kLingerClose);
      });
    });
  }

  // stop(): a connection waiting for its next request is closed; one with a
  // request under way finishes it.
  void post_close_if_idle() {
    net::post(strand_, [self = shared_from_this()] {
      // No parser yet: serve() has not run, and read_request() will see
      // stopping() anyway.
      // A streamed response has no end of its own: it ends here.
      if (self->phase_ == Phase::kStreaming ||
          (self->phase_ == Phase::kReadingHeader &&
           (!self->parser_ || (!self->parser_->got_some() && self->buffer_.size() == 0)))) {
        self->close();
      }
    });
  }

  void post_force_close() {
    net::post(strand_, [self = shared_from_this()] { self->close(); });
  }

 private:
  enum class Phase { kReadingHeader, kReadingBody, kHandling, kWriting, kStreaming, kLingering, kClosed };
  enum class After { kReadNext, kClose, kLingerClose };

  // Under TLS: the handshake first, bounded by the header timeout like the
  // header it precedes (a client that stalls in it holds a socket no longer
  // than one that stalls in its header). Plain TCP: `next` at once.
  template <typename Next>
  void handshake_then(Next&& next) {
    if (!stream_.is_tls()) return next();
    stream_.transport().expires_after(server_.options().header_timeout);
    stream_.async_handshake([self = shared_from_this(), next = std::forward<Next>(next)](error_code ec) mutable {
      if (!ec) return next();
      if (plain_http_on_tls(ec)) return self->answer_plain_http();
      self->server_.log().debug("{}: TLS handshake failed: {}", self->remote_address_,
                                ec == beast::error::timeout ? "not complete in time" : ec.message());
      self->close();
    });
  }

  // A plain-HTTP request reached the TLS port: a 400 in the clear, then
  // close. OpenSSL read the request's first bytes and sent nothing back.
  void answer_plain_http() {
    server_.log().info("{}: plain HTTP on the TLS port, answered 400", remote_address_);
    request_started_ = std::chrono::steady_clock::now();
    count_answer(400);
    phase_ = Phase::kWriting;
    stream_.transport().expires_after(server_.options().idle_timeout);
    net::async_write(stream_.transport(), net::buffer(kPlainHttpToTlsPort),
                     [self = shared_from_this()](error_code ec, size_t) {
                       if (ec) return self->close();
                       self->linger_close();
                     });
  }

  void read_request() {
    if (server_.stopping()) return shutdown_and_close();
    phase_ = Phase::kReadingHeader;
    exchange_ = Exchange{};
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(static_cast<std::uint64_t>(server_.options().max_body_bytes));
    if (requests_served_ > 0 && buffer_.size() == 0) return wait_for_next_request();
    read_header();
  }

  // Keep-alive: the idle timeout runs until the next request's first byte,
  // then the (shorter) header timeout.
  void wait_for_next_request() {
    idle_since_ns_.store(steady_now_ns(), std::memory_order_release);
    stream_.transport().expires_after(server_.options().idle_timeout);
    stream_.async_read_some(buffer_.prepare(kHeaderLimit), [self = shared_from_this()](error_code ec, size_t n) {
      self->idle_since_ns_.store(0, std::memory_order_release);
      if (ec) {
        if (ec == beast::error::timeout)
          self->server_.log().debug("{} closed after idle timeout", self->remote_address_);
        return self->close();
      }
      self->buffer_.commit(n);
      self->read_header();
    });
  }

  void read_header() {
    stream_.transport().expires_after(server_.options().header_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = shared_from_this()](error_code ec, size_t) { self->on_header(ec); });
  }

  void on_header(error_code ec) {
    request_started_ = std::chrono::steady_clock::now();
    if (ec) return on_read_error(ec);
    ++requests_served_;
    const auto& req = parser_->get();
    exchange_.method = to_std(req.method_string());
    exchange_.target = to_std(req.target());
    exchange_.version = req.version();
    exchange_.keep_alive = req.keep_alive();
    if (int refusal = transfer_coding_refusal(req); refusal != 0) {
      return answer_error(refusal, refusal == 501 ? "transfer coding '" + to_std(req[http::field::transfer_encoding]) +
                                                        "' is not supported; send chunked or Content-Length"
                                                  : "ambiguous message framing (Transfer-Encoding)");
    }
    // Beast already refuses a Content-Length over body_limit while parsing
    // the header; this keeps the rule visible and independent of that.
    if (auto length = parser_->content_length(); length && *length > server_.options().max_body_bytes) {
      return answer_body_too_large();
    }
    if (parser_->is_done()) return dispatch_request();
    // RFC 9110 §10.1.1: a client that sent "Expect: 100-continue" waits for
    // this before sending the body (curl does so for large POSTs).
    if (req.version() >= 11 && beast::iequals(req[http::field::expect], "100-continue")) {
      phase_ = Phase::kWriting;
      stream_.transport().expires_after(server_.options().idle_timeout);
      net::async_write(stream_, net::buffer(kContinue.data(), kContinue.size()),
                       [self = shared_from_this()](error_code write_ec, size_t) {
                         if (write_ec) return self->close();
                         self->read_body();
                       });
      return;
    }
    read_body();
  }

  void read_body() {
    phase_ = Phase::kReadingBody;
    stream_.transport().expires_after(server_.options().idle_timeout);
    http::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](error_code ec, size_t) {
      if (ec) return self->on_read_error(ec);
      self->dispatch_request();
    });
  }

  void on_read_error(error_code ec) {
    // Socket errors, timeouts and a peer that hung up (between requests or
    // in the middle of one) get no answer; only bad HTTP does.
    const bool bad_http = ec.category() == http::make_error_code(http::error::bad_method).category() &&
                          ec != http::error::end_of_stream && ec != http::error::partial_message;
    if (!bad_http) {
      // tcp_stream has closed the socket on a timeout: no answer is possible.
      if (ec == beast::error::timeout) {
        server_.log().debug("{} closed: request not complete in time", remote_address_);
      }
      return close();
    }
    // What is known of a half-parsed request, for the log line.
    const auto& req = parser_->get();
    if (!req.method_string().empty()) exchange_.method = to_std(req.method_string());
    if (!req.target().empty()) exchange_.target = to_std(req.target());
    exchange_.version = req.version() == 10 ? 10 : 11;
    exchange_.keep_alive = false;
    if (ec == http::error::body_limit) return answer_body_too_large();
    if (ec == http::error::header_limit) {
      return answer_error(431, "request header exceeds " + std::to_string(kHeaderLimit) + " bytes");
    }
    answer_error(400, "malformed HTTP request: " + ec.message());
  }

  void answer_body_too_large() {
    answer_error(413, "request body exceeds " + std::to_string(server_.options().max_body_bytes) + " bytes");
  }

  // Answers a request we will not read further, then closes.
  void answer_error(int status, const std::string& reason) {
    exchange_.keep_alive = false;
    prepare(HttpResponse{status, "text/plain", reason + "\n", ""}, /*keep_alive=*/false);
    write(After::kLingerClose);
  }

  void dispatch_request() {
    if (server_.dropping()) return close();
    phase_ = Phase::kHandling;
    auto message = parser_->release();
    HttpRequest request;
    request.method = exchange_.method;
    request.target = exchange_.target;
    request.content_type = to_std(message[http::field::content_type]);
    request.body = std::move(message.body());
    request.remote_address = remote_address_;
    request.tls = stream_.is_tls();
    request.forwarded_proto = to_std(message["X-Forwarded-Proto"]);
    request.forwarded_for = to_std(message["X-Forwarded-For"]);
    request.forwarded = to_std(message[http::field::forwarded]);
    request.authorization = to_std(message[http::field::authorization]);
    request.cookie = to_std(message[http::field::cookie]);
    request.csrf_token = to_std(message["X-CSRF-Token"]);
    request.host = to_std(message[http::field::host]);
    request.accept = to_std(message[http::field::accept]);
    exchange_.body_bytes = request.body.size();
    server_.run_handler(std::move(request), [self = shared_from_this()](HttpResponse&& response) {
      // On a worker thread: back to the strand for the write.
      net::post(self->strand_,
                [self, response = std::move(response)]() mutable { self->on_handled(std::move(response)); });
    });
  }

  void on_handled(HttpResponse&& response) {
    if (phase_ == Phase::kClosed) {  // force-closed by stop() meanwhile
      if (response.stream) response.stream->cancel();
      return;
    }
    if (response.stream) return start_stream(std::move(response));
    prepare(std::move(response), exchange_.keep_alive && !server_.stopping());
    // After an error answer (the handler's, or the 500 prepare() made of a
    // bad one) the connection is closed: whatever the client sends next on
    // it was written without knowing the request failed.
    const bool keep_alive = response_.keep_alive() && response_.result_int() < 400;
    response_.keep_alive(keep_alive);
    write(keep_alive ? After::kReadNext : After::kClose);
  }

  void prepare(HttpResponse&& answer, bool keep_alive) {
    if (answer.status < 200 || answer.status > 599) {
      server_.log().error("handler answered {} {} with invalid status {}; sending 500", exchange_.method,
                          loggable_target(exchange_.target), answer.status);
      answer = HttpResponse{500, "text/plain", "internal server error\n", ""};
    }
    bool extra_headers_safe = true;
    for (const auto& [name, value] : answer.headers) {
      extra_headers_safe = extra_headers_safe && safe_header_value(name) && safe_header_value(value);
    }
    if (!safe_header_value(answer.content_type) || !safe_header_value(answer.allow) || !extra_headers_safe) {
      server_.log().error("handler answered {} {} with CR/LF in a header; sending 500", exchange_.method,
                          loggable_target(exchange_.target));
      answer = HttpResponse{500, "text/plain", "internal server error\n", ""};
    }
    response_ = {};
    response_.version(exchange_.version == 10 ? 10 : 11);
    response_.result(static_cast<unsigned>(answer.status));
    response_.set(http::field::server, "conflux");
    if (!answer.content_type.empty()) response_.set(http::field::content_type, answer.content_type);
    if (!answer.allow.empty()) response_.set(http::field::allow, answer.allow);
    if (answer.retry_after_seconds > 0) {
      response_.set(http::field::retry_after, std::to_string(answer.retry_after_seconds));
    }
    for (const auto& [name, value] : answer.headers) response_.insert(name, value);
    // RFC 9110 §15.3.5, §15.4.5: 204 and 304 carry no content.
    if (answer.status == 204 || answer.status == 304) answer.body.clear();
    const size_t length = answer.body.size();
    response_.body() = std::move(answer.body);
    response_.keep_alive(keep_alive);
    response_.prepare_payload();
    // RFC 9110 §9.3.2: HEAD gets the headers GET would get, without content.
    if (exchange_.method == "HEAD" && answer.status != 204 && answer.status != 304) {
      response_.body().clear();
      response_.content_length(length);
    }
  }

  // For /metrics: the answer's status and the time since its request's
  // header was read (since the refusal, for a connection refused at once).
  void count_answer(int status) {
    if (Metrics* metrics = server_.options().metrics) {
      metrics->http_response(
          status, std::chrono::duration<double>(std::chrono::steady_clock::now() - request_started_).count());
    }
  }

  void write(After after) {
    phase_ = Phase::kWriting;
    count_answer(response_.result_int());
    server_.log().debug("{} {} {} -> {} ({} bytes in, {} bytes out)", remote_address_, exchange_.method,
                        loggable_target(exchange_.target), response_.result_int(), exchange_.body_bytes,
                        response_.body().size());
    stream_.transport().expires_after(server_.options().idle_timeout);
    http::async_write(stream_, response_, [self = shared_from_this(), after](error_code ec, size_t) {
      if (ec) return self->close();
      switch (after) {
        case After::kReadNext: return self->read_request();
        case After::kClose: return self->shutdown_and_close();
        case After::kLingerClose: return self->linger_close();
      }
    });
  }

  // A streamed response (ResponseStream): the head, then each piece as the
  // stream hands it over. A pending read notices the client hanging up; it
  // also keeps the connection alive between pieces (the stream holds only a
  // weak reference, so a stopping server is never kept waiting by it).
  void start_stream(HttpResponse&& answer) {
    if (!safe_header_value(answer.content_type)) return answer.stream->cancel(), close();
    std::string head = "HTTP/1.1 " + std::to_string(answer.status) + " " +
                       std::string(http::obsolete_reason(static_cast<http::status>(answer.status))) +
                       "\r\nServer: conflux\r\nContent-Type: " + answer.content_type +
                       "\r\nCache-Control: no-cache\r\nConnection: close\r\n";
    for (const auto& [name, value] : answer.headers) {
      if (!safe_header_value(name) || !safe_header_value(value)) return answer.stream->cancel(), close();
      head += name + ": " + value + "\r\n";
    }
    head += "\r\n";
    server_.log().debug("{} {} {} -> {} (stream)", remote_address_, exchange_.method, loggable_target(exchange_.target),
                        answer.status);
    count_answer(answer.status);
    phase_ = Phase::kStreaming;
    // The pieces go to the socket itself: a stream has no deadline (it ends
    // when the client goes or the server stops).
    stream_.transport().expires_never();
    body_stream_ = std::move(answer.stream);
    buffer_.consume(buffer_.size());
    stream_.async_read_some(buffer_.prepare(512), [self = shared_from_this()](error_code, size_t) {
      self->end_stream();  // the client sent something or hung up: either way, done
    });
    write_stream_piece(std::move(head));
  }

  void write_stream_piece(std::string&& piece) {
    stream_piece_ = std::move(piece);
    net::async_write(stream_, net::buffer(stream_piece_), [self = shared_from_this()](error_code ec, size_t) {
      if (ec || self->phase_ != Phase::kStreaming) return self->end_stream();
      self->pull_stream_piece();
    });
  }

  void pull_stream_piece() {
    std::weak_ptr<Connection> weak = shared_from_this();
    body_stream_->next([weak](std::string piece) {
      auto self = weak.lock();
      if (!self) return;
      net::post(self->strand_, [self, piece = std::move(piece)]() mutable {
        if (self->phase_ != Phase::kStreaming) return;
        if (piece.empty()) return self->end_stream();
        self->write_stream_piece(std::move(piece));
      });
    });
  }

  void end_stream() {
    if (body_stream_) std::exchange(body_stream_, nullptr)->cancel();
    // Under TLS a read is still pending here, and a TLS shutdown must not
    // run beside it: the stream ends with the connection.
    if (stream_.is_tls()) return close();
    shutdown_and_close();
  }

  // Nothing more is expected from the peer: send FIN and close. Under TLS
  // first a close_notify (RFC 8446 §6.1), so the client can tell our end
  // from a cut connection; its answer is awaited no longer than a linger.
  void shutdown_and_close() {
    if (stream_.is_tls() && phase_ != Phase::kClosed) {
      phase_ = Phase::kLingering;
      stream_.transport().expires_after(kLingerTime);
      return stream_.async_shutdown([self = shared_from_this()](error_code) { self->close(); });
    }
    error_code ignored;
    stream_.transport().socket().shutdown(tcp::socket::shutdown_send, ignored);
    close();
  }

  void linger_close() {
    phase_ = Phase::kLingering;
    error_code ec;
    stream_.transport().socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return close();
    // One deadline for the whole drain: tcp_stream keeps it until changed.
    stream_.transport().expires_after(kLingerTime);
    linger_read();
  }

  void linger_read() {
    buffer_.consume(buffer_.size());
    // What is left is discarded, so under TLS too it is read as it comes.
    stream_.transport().async_read_some(buffer_.prepare(8192), [self = shared_from_this()](error_code ec, size_t n) {
      self->lingered_ += n;
      if (ec || self->lingered_ >= kLingerBytes) return self->close();
      self->linger_read();
    });
  }

  void close() {
    if (phase_ == Phase::kClosed) return;
    phase_ = Phase::kClosed;
    if (body_stream_) std::exchange(body_stream_, nullptr)->cancel();
    stream_.transport().close();  // cancels the pending operation and the timer
  }

  Impl& server_;
  const Mode mode_;
  const std::string remote_address_;
  ConnectionStream stream_;
  const net::any_io_executor strand_;  // stream_'s executor, copied for worker threads
  uint64_t id_ = 0;
  std::atomic<int64_t> idle_since_ns_{0};  // read by the acceptor (close_oldest_idle)

  // Touched only on the strand.
  Phase phase_ = Phase::kReadingHeader;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;  // alive until written
  Exchange exchange_;
  size_t lingered_ = 0;
  uint64_t requests_served_ = 0;
  // When the request at hand was read; set on refusal too.
  std::chrono::steady_clock::time_point request_started_ = std::chrono::steady_clock::now();
  std::shared_ptr<ResponseStream> body_stream_;  // while Phase::kStreaming
  std::string stream_piece_;                     // alive until written
};

Status HttpServer::Impl::start() {
  std::lock_guard lock(lifecycle_mu_);
  if (state_ != State::kIdle) return Status::failed_precondition("http server already started");

  error_code ec;
  const auto address = net::ip::make_address(options_.address, ec);
  if (ec) return Status::invalid_argument("http listen address '" + options_.address + "': " + ec.message());
  const tcp::endpoint endpoint(address, options_.port);

  acceptor_.open(endpoint.protocol(), ec);
  // Lets a restarted server bind while old connections sit in TIME_WAIT; on
  // Linux it does not let two sockets listen on one port.
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    error_code ignored;
    acceptor_.close(ignored);
    return Status::unavailable("cannot listen on " + endpoint_text(address, options_.port) + ": " + ec.message());
  }
  const auto bound = acceptor_.local_endpoint(ec);
  port_.store(ec ? options_.port : bound.port(), std::memory_order_release);

  workers_.emplace(static_cast<size_t>(std::max(1, options_.worker_threads)));
  work_.emplace(net::make_work_guard(ioc_));
  do_accept();  // no I/O thread runs yet, so touching the acceptor here is safe
  for (int i = 0; i < std::max(1, options_.io_threads); ++i) io_threads_.emplace_back([this] { run_io(); });
  state_ = State::kRunning;
  log_->info("listening on {}{} ({} I/O threads, {} workers, max {} connections, {} per address, header timeout {} s)",
             endpoint_text(address, port()),
             options_.tls ? " with TLS, certificate " + options_.tls->certificate_file() : "", io_threads_.size(),
             std::max(1, options_.worker_threads), options_.max_connections, options_.max_connections_per_address,
             options_.header_timeout.count());
  return Status::ok();
}

void HttpServer::Impl::stop() {
  std::lock_guard lock(lifecycle_mu_);
  if (state_ != State::kRunning) return;
  state_ = State::kStopped;

  {
    // Under the registry lock: admit() checks the flag under it, so no
    // connection registers after the snapshot below.
    std::lock_guard registry_lock(registry_mu_);
    stopping_.store(true, std::memory_order_release);
  }
  net::post(acceptor_.get_executor(), [this] {
    error_code ignored;
    acceptor_.close(ignored);
    accept_retry_.cancel();
  });
  auto open = live_connections();
  for (auto& connection : open) connection->post_close_if_idle();
  open.clear();  // our references must not keep them alive

  if (!wait_for_no_connections(kStopGrace)) {
    dropping_.store(true, std::memory_order_release);
    open = live_connections();
    log_->warn("stopping: {} connections still busy after {} s; closing them", open.size(),
               std::chrono::duration_cast<std::chrono::seconds>(kStopGrace).count());
    for (auto& connection : open) connection->post_force_close();
    open.clear();
  }
  // A handler still running cannot be interrupted; this waits for it.
  workers_->join();
  (void)wait_for_no_connections(kCloseGrace);

  work_.reset();
  ioc_.stop();
  for (auto& thread : io_threads_) thread.join();
  io_threads_.clear();
  // Anything still queued (a lingering refusal, a late post) is destroyed
  // with ioc_; connections unregister from members that outlive it.
  workers_.reset();
  log_->info("stopped");
}

std::vector<std::thread::id> HttpServer::Impl::io_thread_ids() const {
  std::lock_guard lock(lifecycle_mu_);
  std::vector<std::thread::id> ids;
  for (const auto& thread : io_threads_) ids.push_back(thread.get_id());
  return ids;
}

void HttpServer::Impl::run_io() {
  // A handler that throws out of ioc_.run() must not end this I/O thread.
  for (;;) {
    try {
      ioc_.run();
      return;
    } catch (const std::exception& e) {
      log_->error("I/O thread caught an exception: {}", e.what());
    } catch (...) {
      log_->error("I/O thread caught an unknown exception");
    }
  }
}

void HttpServer::Impl::do_accept() {
  // Each accepted socket gets its own strand.
  acceptor_.async_accept(net::make_strand(ioc_),
                         [this](error_code ec, tcp::socket socket) { on_accept(ec, std::move(socket)); });
}

void HttpServer::Impl::on_accept(error_code ec, tcp::socket socket) {
  if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
  if (ec) {
    log_->warn("accept failed: {}; retrying", ec.message());
    accept_retry_.expires_after(kAcceptRetryDelay);
    accept_retry_.async_wait([this](error_code wait_ec) {
      if (!wait_ec && acceptor_.is_open()) do_accept();
    });
    return;
  }
  admit(std::move(socket));
  do_accept();
}

// Runs on the acceptor strand, so checking the counts and registering cannot
// race another accept; a connection ending meanwhile only lowers them.
void HttpServer::Impl::admit(tcp::socket&& socket) {
  // Answers go out in one write; without this, a second answer written
  // before the first is ACKed waits out the peer's delayed ACK (~40 ms).
  error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  std::string address;
  if (auto remote = socket.remote_endpoint(ignored); !ignored) address = remote.address().to_string();

  // Over a limit we still accept and answer 503 with Retry-After rather
  // than close at once or leave the connection in the backlog. A bare close
  // reaches the client as "empty reply" or "connection reset", which HTTP
  // clients treat as a network fault: some retry at once (making the
  // overload worse), others report a broken server. 503 is the answer the
  // protocol has for "up but busy" (RFC 9110 §15.6.4), says when to come
  // back, and shows in the client's log as what it is.
  const char* refusal = nullptr;
  std::shared_ptr<Connection> connection;
  {
    std::lock_guard lock(registry_mu_);
    if (stopping_.load(std::memory_order_acquire)) return;  // the socket closes as it goes out of scope
    const size_t cap = options_.max_connections_per_address;
    if (cap > 0 && per_address_[address] >= cap && !options_.uncapped.contains(address)) {
      refusal = "too many connections from your address";
    } else if (connections_.size() >= options_.max_connections && !close_oldest_idle()) {
      refusal = "too many connections";
    } else {
      connection =
          std::make_shared<Connection>(*this, std::move(socket), std::string(address), Connection::Mode::kServe);
      const uint64_t id = next_id_++;
      connection->set_id(id);
      connections_.emplace(id, connection);
      ++per_address_[address];
      live_.store(connections_.size(), std::memory_order_release);
    }
    if (per_address_[address] == 0) per_address_.erase(address);
  }
  if (refusal == nullptr) {
    limit_warned_ = false;
    connection->serve();
    return;
  }
  if (!limit_warned_) {
    log_->warn("{} ({}): refusing new connections with 503", refusal, address);
    limit_warned_ = true;
  }
  // Moved from only when a connection was made, and then we returned above.
  refuse(std::move(socket), std::move(address), refusal);  // NOLINT(bugprone-use-after-move)
}

void HttpServer::Impl::refuse(tcp::socket&& socket, std::string&& address, const char* why) {
  const size_t max_refusing = std::max(kMinRefusing, options_.max_connections);
  if (refusing_.load(std::memory_order_acquire) >= max_refusing && options_.tls) {
    // An answer in the clear would be garbage to a TLS client, and a
    // handshake per refused connection is what a flood must not get.
    error_code ignored;
    socket.close(ignored);
    return;
  }
  if (refusing_.load(std::memory_order_acquire) >= max_refusing) {
    // Too many lingering already: the answer in one non-blocking write, then
    // close. Unread input may turn the close into a reset after the answer.
    const std::string answer =
        std::string("HTTP/1.1 503 Service Unavailable\r\nServer: conflux\r\nRetry-After: ") +
        std::to_string(kRetryAfterSeconds) +
        "\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: " + std::to_string(std::strlen(why) + 1) +
        "\r\n\r\n" + why + "\n";
    error_code ignored;
    socket.non_blocking(true, ignored);
    socket.write_some(net::buffer(answer), ignored);
    socket.shutdown(tcp::socket::shutdown_send, ignored);
    socket.close(ignored);
    return;
  }
  refusing_.fetch_add(1, std::memory_order_acq_rel);
  std::make_shared<Connection>(*this, std::move(socket), std::move(address), Connection::Mode::kRefuse)->refuse(why);
}

bool HttpServer::Impl::close_oldest_idle() {
  std::shared_ptr<Connection> oldest;
  int64_t oldest_since = 0;
  uint64_t oldest_id = 0;
  for (auto& [id, weak] : connections_) {
    auto connection = weak.lock();
    if (!connection) continue;
    const int64_t since = connection->idle_since();
    // Equal times: the connection accepted first (lower id) is the older.
    if (since != 0 && (oldest == nullptr || since < oldest_since || (since == oldest_since && id < oldest_id))) {
      oldest = std::move(connection);
      oldest_since = since;
      oldest_id = id;
    }
  }
  if (oldest == nullptr || !oldest->claim_idle(oldest_since)) return false;
  log_->debug("{} connections: closing the keep-alive connection of {} idle longest", options_.max_connections,
              oldest->remote_address());
  oldest->post_close_if_idle();
  return true;
}

void HttpServer::Impl::unregister_connection(uint64_t id, const std::string& address) {
  {
    std::lock_guard lock(registry_mu_);
    connections_.erase(id);
    if (auto it = per_address_.find(address); it != per_address_.end() && --it->second == 0) per_address_.erase(it);
    live_.store(connections_.size(), std::memory_order_release);
  }
  registry_cv_.notify_all();
}

std::vector<std::shared_ptr<HttpServer::Impl::Connection>> HttpServer::Impl::live_connections() {
  std::vector<std::shared_ptr<Connection>> open;
  std::lock_guard lock(registry_mu_);
  for (auto& [id, weak] : connections_) {
    if (auto connection = weak.lock()) open.push_back(std::move(connection));
  }
  return open;
}

bool HttpServer::Impl::wait_for_no_connections(std::chrono::milliseconds timeout) {
  std::unique_lock lock(registry_mu_);
  return registry_cv_.wait_for(lock, timeout, [this] { return connections_.empty(); });
}

HttpResponse HttpServer::Impl::call_handler(const HttpRequest& request) {
  // Handlers should not throw; if one does, the client gets 500 and the
  // server keeps going.
  try {
    return handler_(request);
  } catch (const std::exception& e) {
    log_->error("handler threw on {} {}: {}", request.method, loggable_target(request.target), e.what());
  } catch (...) {
    log_->error("handler threw a non-exception on {} {}", request.method, loggable_target(request.target));
  }
  return HttpResponse{500, "text/plain", "internal server error\n", ""};
}

HttpServer::HttpServer(HttpServerOptions options, HttpHandler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}

HttpServer::~HttpServer() { stop(); }

Status HttpServer::start() { return impl_->start(); }

uint16_t HttpServer::port() const { return impl_->port(); }

void HttpServer::stop() { impl_->stop(); }

std::vector<std::thread::id> HttpServer::io_thread_ids_for_test() const { return impl_->io_thread_ids(); }

}  // namespace conflux::server
