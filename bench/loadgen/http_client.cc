#include "http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace conflux::loadgen {

namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

Result<HttpUrl> parse_http_url(const std::string& url) {
  constexpr std::string_view kScheme = "http://";
  if (url.rfind(kScheme, 0) != 0) return Status::invalid_argument("not an http:// URL: " + url);
  const std::string rest = url.substr(kScheme.size());
  const size_t path_at = rest.find_first_of("/?");
  const std::string authority = rest.substr(0, path_at);
  HttpUrl out;
  out.target = path_at == std::string::npos ? "/" : rest.substr(path_at);
  if (out.target[0] == '?') out.target.insert(0, "/");
  const size_t colon = authority.rfind(':');
  out.host = authority.substr(0, colon);
  out.port = colon == std::string::npos ? "80" : authority.substr(colon + 1);
  if (out.host.empty() || out.port.empty()) return Status::invalid_argument("no host or port in " + url);
  return out;
}

namespace {

// Runs the queued operations to their end. The operations are asynchronous
// only because tcp_stream's timeout (expires_after) applies to asynchronous
// operations alone; a server that stops answering then ends in
// beast::error::timeout instead of blocking the device forever.
void run_to_completion(boost::asio::io_context& io) {
  io.restart();
  io.run();
}

}  // namespace

struct HttpClient::Connection {
  boost::asio::io_context io;
  beast::tcp_stream stream{io};
  std::string host, port;
  beast::flat_buffer buffer;
};

HttpClient::HttpClient(std::chrono::milliseconds timeout) : timeout_(timeout) {}
HttpClient::~HttpClient() = default;

Result<HttpReply> HttpClient::post(const std::string& url, const std::string& content_type, const std::string& body) {
  auto parsed = parse_http_url(url);
  if (!parsed) return parsed.error();
  const bool reused = connection_ && connection_->host == parsed->host && connection_->port == parsed->port;
  auto reply = exchange(*parsed, content_type, body);
  // A kept-alive connection may have been closed by the server while idle;
  // that is no failure of this request, so it is sent once more.
  if (!reply && reused) reply = exchange(*parsed, content_type, body);
  return reply;
}

Result<HttpReply> HttpClient::exchange(const HttpUrl& url, const std::string& content_type, const std::string& body) {
  beast::error_code ec;
  if (!connection_ || connection_->host != url.host || connection_->port != url.port ||
      !connection_->stream.socket().is_open()) {
    connection_ = std::make_unique<Connection>();
    connection_->host = url.host;
    connection_->port = url.port;
    tcp::resolver resolver(connection_->io);
    auto endpoints = resolver.resolve(url.host, url.port, ec);
    if (ec) return Status::unavailable("resolve " + url.host + ": " + ec.message());
    connection_->stream.expires_after(timeout_);
    connection_->stream.async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
    run_to_completion(connection_->io);
    if (ec) return Status::unavailable("connect " + url.host + ":" + url.port + ": " + ec.message());
  }
  auto& stream = connection_->stream;
  http::request<http::string_body> request{http::verb::post, url.target, 11};
  request.set(http::field::host, url.host + ":" + url.port);
  request.set(http::field::content_type, content_type);
  request.set(http::field::user_agent, "conflux-loadgen");
  request.keep_alive(true);
  request.body() = body;
  request.prepare_payload();

  stream.expires_after(timeout_);
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  http::async_write(stream, request, [&](beast::error_code e, size_t) {
    ec = e;
    if (!ec) http::async_read(stream, connection_->buffer, parser, [&](beast::error_code r, size_t) { ec = r; });
  });
  run_to_completion(connection_->io);
  if (ec) {
    connection_.reset();
    return Status::unavailable("HTTP POST " + url.target + ": " + ec.message());
  }
  auto response = parser.release();
  HttpReply out;
  out.status = static_cast<int>(response.result_int());
  out.content_type = std::string(response[http::field::content_type]);
  out.body = std::move(response.body());
  if (!response.keep_alive()) connection_.reset();
  return out;
}

}  // namespace conflux::loadgen
