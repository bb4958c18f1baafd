#include "server/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <future>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/log.h"

namespace conflux::server {
namespace {

namespace http = boost::beast::http;
using Response = http::response<http::string_body>;

// Debug level so the per-request log line is formatted in every test.
[[maybe_unused]] const bool kDebugLogs = set_log_level("debug");

std::string header(const Response& response, http::field field) {
  auto value = response[field];
  return std::string(value.data(), value.size());
}

std::string request_text(std::string_view method, std::string_view target, std::string_view body = "",
                         std::string_view content_type = "text/plain", std::string_view extra_headers = "",
                         std::string_view version = "HTTP/1.1") {
  std::string text;
  text.append(method).append(" ").append(target).append(" ").append(version).append("\r\n");
  text.append("Host: 127.0.0.1\r\n");
  if (!body.empty() || method == "POST") {
    text.append("Content-Type: ").append(content_type).append("\r\n");
    text.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  }
  text.append(extra_headers);
  text.append("\r\n");
  text.append(body);
  return text;
}

// A blocking client on a plain socket; responses are parsed with Beast's
// parser. The 30 s socket timeouts only keep a broken server from hanging the
// test; nothing is asserted about time.
class Client {
 public:
  explicit Client(uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    timeval timeout{30, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    ::inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  }
  ~Client() { close(); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return connected_; }
  int fd_for_test() const { return fd_; }

  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  bool send_raw(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  std::optional<Response> read_response() {
    http::response_parser<http::string_body> parser;
    parser.eager(true);
    parser.body_limit(64 * 1024 * 1024);
    for (;;) {
      if (!pending_.empty()) {
        boost::beast::error_code ec;
        size_t used = parser.put(boost::asio::buffer(pending_), ec);
        pending_.erase(0, used);
        if (ec && ec != http::error::need_more) return std::nullopt;
        if (parser.is_done()) return parser.release();
        if (used > 0 && !pending_.empty()) continue;
      }
      char chunk[8192];
      ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n == 0) {
        boost::beast::error_code ec;
        parser.put_eof(ec);
        if (!ec && parser.is_done()) return parser.release();
        return std::nullopt;
      }
      if (n < 0) return std::nullopt;
      pending_.append(chunk, static_cast<size_t>(n));
    }
  }

  std::optional<Response> exchange(std::string_view request) {
    if (!send_raw(request)) return std::nullopt;
    return read_response();
  }

  std::optional<Response> post(std::string_view target, std::string_view body,
                               std::string_view content_type = "text/plain") {
    return exchange(request_text("POST", target, body, content_type));
  }

  // True when the server has closed its side: end of stream or reset, with
  // no unread response bytes before it.
  bool closed_by_server() {
    if (!pending_.empty()) return false;
    char byte;
    ssize_t n = ::recv(fd_, &byte, 1, 0);
    return n == 0 || (n < 0 && errno == ECONNRESET);
  }

 private:
  int fd_;
  bool connected_ = false;
  std::string pending_;
};

HttpServerOptions local_options() {
  HttpServerOptions options;
  options.address = "127.0.0.1";
  options.port = 0;
  // Every test client comes from 127.0.0.1; the per-address cap has its own
  // test (ConnectionsPerAddressAreCapped).
  options.max_connections_per_address = 0;
  return options;
}

HttpResponse echo(const HttpRequest& request) {
  return HttpResponse{200, "text/plain", request.method + " " + request.target + " " + request.body, ""};
}

TEST(HttpServerTest, HandlerSeesRequestAndBodyIsEchoed) {
  std::mutex mu;
  std::optional<HttpRequest> seen;
  HttpServer server(local_options(), [&](const HttpRequest& request) {
    std::lock_guard lock(mu);
    seen = request;
    return HttpResponse{200, "application/vnd.syncml+xml", "echo:" + request.body, ""};
  });
  Status started = server.start();
  ASSERT_TRUE(started.is_ok()) << started.to_string();
  ASSERT_NE(server.port(), 0);

  Client client(server.port());
  ASSERT_TRUE(client.connected());
  auto response = client.post("/sync?sid=abc", "<SyncML/>", "application/vnd.syncml+xml; charset=UTF-8");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->result_int(), 200);
  EXPECT_EQ(response->body(), "echo:<SyncML/>");
  EXPECT_EQ(header(*response, http::field::content_type), "application/vnd.syncml+xml");
  EXPECT_EQ(header(*response, http::field::content_length), "14");
  EXPECT_EQ(header(*response, http::field::server), "conflux");
  EXPECT_TRUE(header(*response, http::field::allow).empty());

  std::lock_guard lock(mu);
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->method, "POST");
  EXPECT_EQ(seen->target, "/sync?sid=abc");
  EXPECT_EQ(seen->content_type, "application/vnd.syncml+xml; charset=UTF-8");
  EXPECT_EQ(seen->body, "<SyncML/>");
  EXPECT_EQ(seen->remote_address, "127.0.0.1");
}

TEST(HttpServerTest, AllowHeaderAndEmptyContentType) {
  HttpServer server(local_options(), [](const HttpRequest& request) {
    if (request.method != "POST") return HttpResponse{405, "", "", "POST"};
    return HttpResponse{204, "", "", ""};
  });
  ASSERT_TRUE(server.start().is_ok());
  Client client(server.port());

  auto refused = client.exchange(request_text("GET", "/sync"));
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->result_int(), 405);
  EXPECT_EQ(header(*refused, http::field::allow), "POST");
  EXPECT_EQ(refused->count(http::field::content_type), 0u);
  EXPECT_EQ(header(*refused, http::field::content_length), "0");
  // An error answer closes the connection (issue #11): what the client sent
  // after the failed request was written without knowing it failed.
  EXPECT_TRUE(client.closed_by_server());

  Client again(server.port());
  auto empty = again.post("/sync", "x");
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->result_int(), 204);
  EXPECT_TRUE(empty->body().empty());
}

TEST(HttpServerTest, KeepAliveServesTwoRequestsOnOneConnection) {
  std::atomic<int> calls{0};
  HttpServer server(local_options(), [&](const HttpRequest& request) {
    ++calls;
    return echo(request);
  });
  ASSERT_TRUE(server.start().is_ok());

  Client client(server.port());
  auto first = client.post("/one", "a");
  ASSERT_TRUE(first);
  EXPECT_EQ(first->body(), "POST /one a");
  EXPECT_TRUE(first->keep_alive());
  auto second = client.post("/two", "b");
  ASSERT_TRUE(second);
  EXPECT_EQ(second->body(), "POST /two b");
  EXPECT_EQ(calls.load(), 2);

  // Two requests in one write (pipelining) are answered in order.
  ASSERT_TRUE(client.send_raw(request_text("POST", "/p1", "x") + request_text("POST", "/p2", "y")));
  auto p1 = client.read_response();
  auto p2 = client.read_response();
  ASSERT_TRUE(p1 && p2);
  EXPECT_EQ(p1->body(), "POST /p1 x");
  EXPECT_EQ(p2->body(), "POST /p2 y");

  // "Connection: close" is honoured.
  auto last = client.exchange(request_text("POST", "/last", "z", "text/plain", "Connection: close\r\n"));
  ASSERT_TRUE(last);
  EXPECT_FALSE(last->keep_alive());
  EXPECT_TRUE(client.closed_by_server());
}

TEST(HttpServerTest, Http10ClosesUnlessKeepAliveAsked) {
  HttpServer server(local_options(), echo);
  ASSERT_TRUE(server.start().is_ok());

  Client plain(server.port());
  auto response = plain.exchange(request_text("GET", "/old", "", "", "", "HTTP/1.0"));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->version(), 10u);
  EXPECT_EQ(response->body(), "GET /old ");
  EXPECT_FALSE(response->keep_alive());
  EXPECT_TRUE(plain.closed_by_server());

  Client keep(server.port());
  auto first = keep.exchange(request_text("GET", "/a", "", "", "Connection: keep-alive\r\n", "HTTP/1.0"));
  ASSERT_TRUE(first);
  EXPECT_TRUE(first->keep_alive());
  auto second = keep.exchange(request_text("GET", "/b", "", "", "Connection: keep-alive\r\n", "HTTP/1.0"));
  ASSERT_TRUE(second);
  EXPECT_EQ(second->body(), "GET /b ");
}

TEST(HttpServerTest, BodyOverLimitGets413AndServerGoesOn) {
  auto options = local_options();
  options.max_body_bytes = 1024;
  std::atomic<int> calls{0};
  HttpServer server(options, [&](const HttpRequest& request) {
    ++calls;
    return echo(request);
  });
  ASSERT_TRUE(server.start().is_ok());

  {  // Content-Length over the limit, body sent anyway.
    Client client(server.port());
    auto response = client.post("/sync", std::string(4096, 'x'));
    ASSERT_TRUE(response);
    EXPECT_EQ(response->result_int(), 413);
    EXPECT_EQ(header(*response, http::field::content_type), "text/plain");
    EXPECT_FALSE(response->body().empty());
    EXPECT_EQ(std::count(response->body().begin(), response->body().end(), '\n'), 1);
    EXPECT_EQ(response->body().back(), '\n');
    EXPECT_FALSE(response->keep_alive());
    EXPECT_TRUE(client.closed_by_server());
  }
  {  // Chunked body that grows over the limit.
    Client client(server.port());
    std::string chunk(800, 'y');
    std::string request =
        "POST /sync HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        "320\r\n" +
        chunk + "\r\n320\r\n" + chunk + "\r\n0\r\n\r\n";
    auto response = client.exchange(request);
    ASSERT_TRUE(response);
    EXPECT_EQ(response->result_int(), 413);
    EXPECT_TRUE(client.closed_by_server());
  }
  {  // Expect: 100-continue with a body too large: refused before it is sent.
    Client client(server.port());
    auto response = client.exchange(
        "POST /sync HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 4096\r\nExpect: 100-continue\r\n\r\n");
    ASSERT_TRUE(response);
    EXPECT_EQ(response->result_int(), 413);
  }
  EXPECT_EQ(calls.load(), 0);

  {  // Expect: 100-continue with an acceptable body.
    Client client(server.port());
    auto interim =
        client.exchange("POST /ok HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
    ASSERT_TRUE(interim);
    EXPECT_EQ(interim->result_int(), 100);
    auto final_response = client.exchange("hello");
    ASSERT_TRUE(final_response);
    EXPECT_EQ(final_response->result_int(), 200);
    EXPECT_EQ(final_response->body(), "POST /ok hello");
  }
  {  // A body exactly at the limit is fine, and the server still serves.
    Client client(server.port());
    auto response = client.post("/sync", std::string(1024, 'z'));
    ASSERT_TRUE(response);
    EXPECT_EQ(response->result_int(), 200);
  }
}

TEST(HttpServerTest, MalformedRequestGets400) {
  std::atomic<int> calls{0};
  HttpServer server(local_options(), [&](const HttpRequest& request) {
    ++calls;
    return echo(request);
  });
  ASSERT_TRUE(server.start().is_ok());

  const char kTlsHello[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n";  // TLS to a plain port
  const std::vector<std::string> garbage_requests = {
      "NOT A REQUEST\r\n\r\n",
      "GET /x HTTP/1.1\r\nBad Header\r\n\r\n",
      std::string(kTlsHello, sizeof kTlsHello - 1),
  };
  for (const auto& garbage : garbage_requests) {
    Client client(server.port());
    auto response = client.exchange(garbage);
    ASSERT_TRUE(response);
    EXPECT_EQ(response->result_int(), 400);
    EXPECT_EQ(header(*response, http::field::content_type), "text/plain");
    EXPECT_FALSE(response->keep_alive());
    EXPECT_TRUE(client.closed_by_server());
  }
  {  // A header block over the 16 KB limit.
    Client client(server.port());
    auto response = client.exchange(request_text("GET", "/x", "", "", "X-Big: " + std::string(20000, 'a') + "\r\n"));
    ASSERT_TRUE(response);
    EXPECT_EQ(response->result_int(), 431);
  }
  EXPECT_EQ(calls.load(), 0);

  Client client(server.port());
  auto response = client.post("/fine", "ok");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->result_int(), 200);
}

TEST(HttpServerTest, ConnectionOverLimitGets503WhileOthersWork) {
  auto options = local_options();
  options.max_connections = 2;
  HttpServer server(options, echo);
  ASSERT_TRUE(server.start().is_ok());

  // Two connections in the middle of a request: busy, not idle.
  auto first = std::make_unique<Client>(server.port());
  Client second(server.port());
  ASSERT_TRUE(first->send_raw("POST /1 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\na"));
  ASSERT_TRUE(second.send_raw("POST /2 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\na"));

  // Try until both are counted (accepting is asynchronous).
  std::optional<Response> refused;
  for (int attempt = 0; attempt < 1000; ++attempt) {
    Client third(server.port());
    refused = third.post("/3", "c");
    if (refused && refused->result_int() == 503) {
      EXPECT_TRUE(third.closed_by_server());
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->result_int(), 503);
  EXPECT_EQ(refused->body(), "too many connections\n");
  EXPECT_EQ(header(*refused, http::field::retry_after), "5");
  EXPECT_FALSE(refused->keep_alive());

  // The busy ones finish their requests.
  ASSERT_TRUE(first->send_raw("gain"));
  ASSERT_TRUE(second.send_raw("gain"));
  auto again_first = first->read_response();
  auto again_second = second.read_response();
  ASSERT_TRUE(again_first && again_second);
  EXPECT_EQ(again_first->body(), "POST /1 again");
  EXPECT_EQ(again_second->body(), "POST /2 again");
}

// At the limit, the keep-alive connection idle the longest makes room.
TEST(HttpServerTest, OldestIdleConnectionMakesRoomAtTheLimit) {
  auto options = local_options();
  options.max_connections = 2;
  HttpServer server(options, echo);
  ASSERT_TRUE(server.start().is_ok());
  Client first(server.port());
  ASSERT_TRUE(first.post("/1", "a"));
  Client second(server.port());
  ASSERT_TRUE(second.post("/2", "b"));
  Client third(server.port());
  auto served = third.post("/3", "c");
  ASSERT_TRUE(served);
  EXPECT_EQ(served->result_int(), 200);
  EXPECT_TRUE(first.closed_by_server());
  auto still = second.post("/2", "again");
  ASSERT_TRUE(still);
  EXPECT_EQ(still->result_int(), 200);
}

TEST(HttpServerTest, ConnectionsPerAddressAreCapped) {
  auto options = local_options();
  options.max_connections_per_address = 2;
  HttpServer server(options, echo);
  ASSERT_TRUE(server.start().is_ok());
  Client first(server.port());
  ASSERT_TRUE(first.post("/1", "a"));
  Client second(server.port());
  ASSERT_TRUE(second.post("/2", "b"));
  Client third(server.port());
  auto refused = third.post("/3", "c");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->result_int(), 503);
  EXPECT_EQ(refused->body(), "too many connections from your address\n");
  EXPECT_EQ(header(*refused, http::field::retry_after), "5");
}

TEST(HttpServerTest, UnsupportedTransferCodingIsRefusedAndTheConnectionClosed) {
  HttpServer server(local_options(), echo);
  ASSERT_TRUE(server.start().is_ok());
  Client client(server.port());
  auto refused = client.exchange(
      "POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->result_int(), 400);
  EXPECT_TRUE(client.closed_by_server());
}

TEST(HttpServerTest, HalfSentHeaderIsDroppedAfterTheHeaderTimeout) {
  auto options = local_options();
  options.header_timeout = std::chrono::seconds(1);
  HttpServer server(options, echo);
  ASSERT_TRUE(server.start().is_ok());
  Client client(server.port());
  ASSERT_TRUE(client.send_raw("POST /x HTTP/1.1\r\nHo"));
  EXPECT_TRUE(client.closed_by_server());  // blocks until the server gives up
}

TEST(HttpServerTest, ThrowingHandlerGets500AndServerGoesOn) {
  HttpServer server(local_options(), [](const HttpRequest& request) -> HttpResponse {
    if (request.target == "/throw") throw std::runtime_error("boom");
    if (request.target == "/throw-int") throw 42;
    if (request.target == "/bad-status") return HttpResponse{42, "", "", ""};
    if (request.target == "/bad-header") return HttpResponse{200, "text/plain\r\nX-Evil: 1", "", ""};
    return echo(request);
  });
  ASSERT_TRUE(server.start().is_ok());

  for (const char* target : {"/throw", "/throw-int", "/bad-status", "/bad-header"}) {
    Client client(server.port());
    auto response = client.post(target, "x");
    ASSERT_TRUE(response) << target;
    EXPECT_EQ(response->result_int(), 500) << target;
    EXPECT_EQ(response->count("X-Evil"), 0u);
    EXPECT_FALSE(response->keep_alive());  // error answers close the connection
  }
  Client client(server.port());
  auto fine = client.post("/ok", "y");
  ASSERT_TRUE(fine);
  EXPECT_EQ(fine->result_int(), 200);
  EXPECT_EQ(fine->body(), "POST /ok y");
}

TEST(HttpServerTest, ManyConcurrentClientsAreAllAnswered) {
  auto options = local_options();
  options.io_threads = 2;
  options.worker_threads = 4;
  std::atomic<int> calls{0};
  HttpServer server(options, [&](const HttpRequest& request) {
    ++calls;
    return echo(request);
  });
  ASSERT_TRUE(server.start().is_ok());

  constexpr int kThreads = 32;
  constexpr int kRequests = 20;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Odd threads keep one connection; even ones connect per request.
      std::optional<Client> kept;
      if (t % 2 == 1) kept.emplace(server.port());
      for (int r = 0; r < kRequests; ++r) {
        std::optional<Client> fresh;
        if (!kept) fresh.emplace(server.port());
        Client& client = kept ? *kept : *fresh;
        const std::string body = "t" + std::to_string(t) + "r" + std::to_string(r) + std::string(r * 97, '.');
        const std::string target = "/sync?t=" + std::to_string(t);
        auto response = client.post(target, body);
        if (!response || response->result_int() != 200 || response->body() != "POST " + target + " " + body) {
          ++failures;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(calls.load(), kThreads * kRequests);
}

TEST(HttpServerTest, HandlerNeverRunsOnAnIoThread) {
  auto options = local_options();
  options.io_threads = 2;
  options.worker_threads = 2;
  std::mutex mu;
  std::set<std::thread::id> handler_threads;
  HttpServer server(options, [&](const HttpRequest& request) {
    std::lock_guard lock(mu);
    handler_threads.insert(std::this_thread::get_id());
    return echo(request);
  });
  ASSERT_TRUE(server.start().is_ok());

  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      Client client(server.port());
      for (int r = 0; r < 10; ++r) client.post("/x", "y");
    });
  }
  for (auto& thread : threads) thread.join();

  const auto io_threads = server.io_thread_ids_for_test();
  ASSERT_EQ(io_threads.size(), 2u);
  std::lock_guard lock(mu);
  ASSERT_FALSE(handler_threads.empty());
  for (const auto& id : handler_threads) {
    EXPECT_EQ(std::count(io_threads.begin(), io_threads.end(), id), 0);
    EXPECT_NE(id, std::this_thread::get_id());
  }
}

TEST(HttpServerTest, StartOnBusyPortIsUnavailable) {
  int blocker = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(blocker, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = 0;
  ::inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  ASSERT_EQ(::bind(blocker, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(blocker, 1), 0);
  socklen_t length = sizeof address;
  ASSERT_EQ(::getsockname(blocker, reinterpret_cast<sockaddr*>(&address), &length), 0);
  const uint16_t busy_port = ntohs(address.sin_port);

  auto options = local_options();
  options.port = busy_port;
  HttpServer server(options, echo);
  Status started = server.start();
  EXPECT_EQ(started.code(), StatusCode::kUnavailable);
  EXPECT_NE(started.message().find("cannot listen on 127.0.0.1:" + std::to_string(busy_port) + ": "), std::string::npos)
      << started.message();
  server.stop();
  ::close(blocker);
}

TEST(HttpServerTest, BadAddressAndSecondStart) {
  auto options = local_options();
  options.address = "not-an-address";
  HttpServer bad(options, echo);
  EXPECT_EQ(bad.start().code(), StatusCode::kInvalidArgument);

  HttpServer server(local_options(), echo);
  ASSERT_TRUE(server.start().is_ok());
  EXPECT_EQ(server.start().code(), StatusCode::kFailedPrecondition);
}

TEST(HttpServerTest, StopLetsInFlightHandlerFinish) {
  std::promise<void> entered;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> finished{false};
  HttpServer server(local_options(), [&](const HttpRequest&) {
    entered.set_value();
    released.wait();
    finished = true;
    return HttpResponse{200, "text/plain", "done", ""};
  });
  ASSERT_TRUE(server.start().is_ok());
  const uint16_t port = server.port();

  std::optional<Response> response;
  bool closed = false;
  std::thread client_thread([&] {
    Client client(port);
    response = client.post("/slow", "x");
    closed = client.closed_by_server();
  });
  entered.get_future().wait();
  std::atomic<bool> stopped{false};
  std::thread stopper([&] {
    server.stop();
    stopped = true;
  });
  // stop() has begun once the listener is closed; it must then wait for
  // the handler, however long that takes.
  while (Client(port).connected()) std::this_thread::yield();
  EXPECT_FALSE(stopped.load());
  release.set_value();
  stopper.join();
  EXPECT_TRUE(finished.load());
  client_thread.join();

  ASSERT_TRUE(response);
  EXPECT_EQ(response->result_int(), 200);
  EXPECT_EQ(response->body(), "done");
  EXPECT_FALSE(response->keep_alive());  // the server is going away
  EXPECT_TRUE(closed);

  server.stop();  // twice is fine
  Client late(port);
  EXPECT_FALSE(late.connected());
}

TEST(HttpServerTest, StopClosesIdleKeepAliveConnections) {
  HttpServer server(local_options(), echo);
  ASSERT_TRUE(server.start().is_ok());
  Client client(server.port());
  auto response = client.post("/x", "y");
  ASSERT_TRUE(response);
  EXPECT_TRUE(response->keep_alive());
  server.stop();
  EXPECT_TRUE(client.closed_by_server());
}

TEST(HttpServerTest, IdleConnectionIsClosedAfterTimeout) {
  auto options = local_options();
  options.idle_timeout = std::chrono::seconds(1);
  HttpServer server(options, echo);
  ASSERT_TRUE(server.start().is_ok());
  Client client(server.port());
  ASSERT_TRUE(client.post("/x", "y"));
  EXPECT_TRUE(client.closed_by_server());  // blocks until the server gives up
}

TEST(HttpServerTest, StopWithoutStartIsHarmless) {
  HttpServer server(local_options(), echo);
  EXPECT_EQ(server.port(), 0);
  server.stop();
  server.stop();
}

// A ResponseStream handing out fixed pieces, the last one empty (the end);
// with `hold_after_first` it keeps the second request for `deliver` until
// cancel(), like a push stream with nothing to say.
class PieceStream final : public ResponseStream {
 public:
  PieceStream(std::vector<std::string> pieces, bool hold_after_first)
      : pieces_(std::move(pieces)), hold_after_first_(hold_after_first) {}

  void next(std::function<void(std::string)> deliver) override {
    std::unique_lock lock(mu_);
    if (hold_after_first_ && handed_ == 1) {
      held_ = std::move(deliver);
      return;
    }
    std::string piece = handed_ < pieces_.size() ? pieces_[handed_] : "";
    ++handed_;
    lock.unlock();
    deliver(std::move(piece));
  }
  void cancel() override {
    std::lock_guard lock(mu_);
    cancelled_ = true;
    held_ = nullptr;
  }
  bool cancelled() {
    std::lock_guard lock(mu_);
    return cancelled_;
  }

 private:
  const std::vector<std::string> pieces_;
  const bool hold_after_first_;
  std::mutex mu_;
  size_t handed_ = 0;
  std::function<void(std::string)> held_;
  bool cancelled_ = false;
};

TEST(HttpServerTest, StreamedResponseSendsEachPieceUntilAnEmptyOne) {
  auto stream = std::make_shared<PieceStream>(std::vector<std::string>{"event: a\n\n", "event: b\n\n", ""}, false);
  HttpServer server(local_options(), [&](const HttpRequest&) {
    HttpResponse r{200, "text/event-stream", "ignored", ""};
    r.headers.push_back({"X-Stream", "yes"});
    r.stream = stream;
    return r;
  });
  ASSERT_TRUE(server.start().is_ok());
  Client client(server.port());
  auto response = client.exchange(request_text("GET", "/events"));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->result_int(), 200);
  EXPECT_EQ(header(*response, http::field::content_type), "text/event-stream");
  EXPECT_EQ(header(*response, http::field::connection), "close");
  EXPECT_EQ(response->count(http::field::content_length), 0u);
  EXPECT_EQ(response->at("X-Stream"), "yes");
  EXPECT_EQ(response->body(), "event: a\n\nevent: b\n\n");
  EXPECT_TRUE(client.closed_by_server());
  EXPECT_TRUE(stream->cancelled());  // told it is over, so it can let go
}

TEST(HttpServerTest, StopEndsAStreamThatHasNothingToSay) {
  auto stream = std::make_shared<PieceStream>(std::vector<std::string>{"event: first\n\n"}, true);
  HttpServer server(local_options(), [&](const HttpRequest&) {
    HttpResponse r{200, "text/event-stream", "", ""};
    r.stream = stream;
    return r;
  });
  ASSERT_TRUE(server.start().is_ok());
  Client client(server.port());
  ASSERT_TRUE(client.send_raw(request_text("GET", "/events")));
  // The head and the first piece arrive; then the stream holds its deliver.
  std::string got;
  while (got.find("event: first") == std::string::npos) {
    char chunk[512];
    ssize_t n = ::recv(client.fd_for_test(), chunk, sizeof chunk, 0);
    ASSERT_GT(n, 0);
    got.append(chunk, static_cast<size_t>(n));
  }
  server.stop();  // returns although the stream never ends by itself
  EXPECT_TRUE(stream->cancelled());
  EXPECT_TRUE(client.closed_by_server());
}

TEST(HttpServerTest, ExtraHeaderWithLineBreakBecomes500) {
  HttpServer server(local_options(), [](const HttpRequest&) {
    HttpResponse r{200, "text/plain", "x", ""};
    r.headers.push_back({"Set-Cookie", "a=b\r\nX-Injected: 1"});
    return r;
  });
  ASSERT_TRUE(server.start().is_ok());
  Client client(server.port());
  auto response = client.exchange(request_text("GET", "/"));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->result_int(), 500);
  EXPECT_EQ(response->count("X-Injected"), 0u);
}

}  // namespace
}  // namespace conflux::server
