// A blocking HTTP/1.1 client for one simulated device (Boost.Beast): POSTs
// SyncML to whatever URL the server names (RespURI), keeping the connection
// open between requests as a phone's HTTP stack does. One thread per client;
// not thread-safe.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "common/status.h"

namespace conflux::loadgen {

// The parts of an http:// URL the client needs; https is not supported.
struct HttpUrl {
  std::string host;
  std::string port;
  std::string target;  // path and query, "/" at least
};

// kInvalidArgument for anything but http://host[:port][/path][?query].
Result<HttpUrl> parse_http_url(const std::string& url);

struct HttpReply {
  int status = 0;
  std::string content_type;
  std::string body;
};

// How a simulated device reaches a server: HttpClient, or a scripted
// server in the unit tests.
class Transport {
 public:
  virtual ~Transport() = default;
  // One request and its reply. kUnavailable when the server cannot be
  // reached or does not answer in time; any HTTP status is a value.
  virtual Result<HttpReply> post(const std::string& url, const std::string& content_type, const std::string& body) = 0;
};

class HttpClient : public Transport {
 public:
  explicit HttpClient(std::chrono::milliseconds timeout);
  ~HttpClient() override;
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // A connection the server closed in between is reopened once.
  Result<HttpReply> post(const std::string& url, const std::string& content_type, const std::string& body) override;

 private:
  struct Connection;
  Result<HttpReply> exchange(const HttpUrl& url, const std::string& content_type, const std::string& body);

  const std::chrono::milliseconds timeout_;
  std::unique_ptr<Connection> connection_;  // null until the first request
};

}  // namespace conflux::loadgen
