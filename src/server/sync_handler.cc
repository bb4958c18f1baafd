#include "server/sync_handler.h"

#include <algorithm>
#include <cctype>
#include <chrono>

#include <sys/statvfs.h>

#include "common/log.h"
#include "server/client_address.h"

namespace conflux::server {
namespace {

// Retry-After of a 503 (the engine could not process the message, or the
// disk is short of space) and of a 429 (too many unauthenticated messages).
constexpr int kRetryAfterSeconds = 5;

HttpResponse text(int status, std::string body) {
  return HttpResponse{status, "text/plain; charset=utf-8", std::move(body) + "\n", ""};
}

// "application/vnd.syncml+xml; charset=UTF-8" → "application/vnd.syncml+xml"
std::string media_type(const std::string& content_type) {
  std::string type = content_type.substr(0, content_type.find(';'));
  type.erase(std::remove_if(type.begin(), type.end(), [](unsigned char c) { return std::isspace(c); }), type.end());
  std::transform(type.begin(), type.end(), type.begin(), [](unsigned char c) { return std::tolower(c); });
  return type;
}

std::string query_param(const std::string& query, const std::string& name) {
  size_t pos = 0;
  while (pos < query.size()) {
    size_t amp = query.find('&', pos);
    std::string pair = query.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
    if (pair.rfind(name + "=", 0) == 0) return pair.substr(name.size() + 1);
    if (amp == std::string::npos) break;
    pos = amp + 1;
  }
  return "";
}

std::string strip_query(const std::string& url) { return url.substr(0, url.find('?')); }

constexpr int64_t kSpaceWarningEverySeconds = 60;

int64_t steady_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

std::optional<uint64_t> SyncHandler::short_of_space() {
  if (options_.data_dir.empty() || options_.min_free_bytes == 0) return std::nullopt;
  struct statvfs fs {};
  if (::statvfs(options_.data_dir.c_str(), &fs) != 0) return std::nullopt;  // unknown: do not refuse on a guess
  const uint64_t free = static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
  if (free >= options_.min_free_bytes) return std::nullopt;
  const int64_t now = steady_seconds();
  int64_t last = space_warned_at_.load();
  if (now - last >= kSpaceWarningEverySeconds && space_warned_at_.compare_exchange_strong(last, now)) {
    logger("http")->error(
        "data directory {} has {} MB free; new sessions need at least {} MB (storage.min_free_bytes): free {} MB "
        "there, then sessions start again",
        options_.data_dir, free >> 20, options_.min_free_bytes >> 20,
        (options_.min_free_bytes - free + (1 << 20) - 1) >> 20);
  }
  return free;
}

SyncHandler::SyncHandler(engine::SyncEngine& engine, SyncHandlerOptions options)
    : engine_(engine), options_(std::move(options)) {}

HttpResponse SyncHandler::operator()(const HttpRequest& request) {
  const size_t q = request.target.find('?');
  const std::string path = request.target.substr(0, q);
  const std::string query = q == std::string::npos ? "" : request.target.substr(q + 1);

  if (path == "/health") {
    if (request.method != "GET" && request.method != "HEAD") return {405, "text/plain", "GET only\n", "GET, HEAD"};
    return text(200, "ok");
  }
  if (path == "/metrics" && options_.metrics) {
    if (request.method != "GET" && request.method != "HEAD") return {405, "text/plain", "GET only\n", "GET, HEAD"};
    return HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", options_.metrics(), ""};
  }
  if (path != options_.sync_path) return text(404, "not found; SyncML clients post to " + options_.sync_path);
  if (request.method != "POST") {
    HttpResponse r = text(405, "SyncML messages are sent with POST");
    r.allow = "POST";
    return r;
  }
  return handle_sync(request, query);
}

HttpResponse SyncHandler::handle_sync(const HttpRequest& request, const std::string& query) {
  auto log = logger("http");
  const std::string type = media_type(request.content_type);
  protocol::Encoding encoding;
  if (type == protocol::kSyncMLXmlType) {
    encoding = protocol::Encoding::kXml;
  } else if (type == protocol::kSyncMLWbxmlType) {
    encoding = protocol::Encoding::kWbxml;
  } else {
    return text(415, std::string("unsupported content type '") + request.content_type + "'; expected " +
                         protocol::kSyncMLXmlType + " or " + protocol::kSyncMLWbxmlType);
  }

  auto message = protocol::decode(request.body, encoding, options_.limits);
  if (!message) {
    log->info("{}: rejected a message that is not SyncML: {}", request.remote_address, message.error().message());
    const int status = message.error().code() == StatusCode::kResourceExhausted ? 413 : 400;
    return text(status, "not a valid SyncML message: " + message.error().message());
  }

  engine::Inbound where;
  where.session = SessionKey(query_param(query, "sid"));
  where.encoding = encoding;
  where.remote_address =
      client_address(request.remote_address, request.forwarded_for, request.forwarded, options_.trusted_proxies);
  if (where.session.empty()) {
    // Sessions under way may finish; a new one waits for room.
    if (short_of_space()) {
      HttpResponse busy = text(503, "the server is short of disk space; retry later");
      busy.retry_after_seconds = kRetryAfterSeconds;
      return busy;
    }
  }
  where.base_url =
      options_.public_url.empty() ? strip_query(message->hdr.target.loc_uri) : options_.public_url + options_.sync_path;
  auto out = engine_.handle(*message, where);
  if (!out) {
    if (out.error().is_not_found()) return text(404, "unknown or expired SyncML session; start a new sync");
    if (out.error().code() == StatusCode::kResourceExhausted) {
      log->info("{}: {}", where.remote_address, out.error().message());
      HttpResponse slow_down = text(429, "too many unauthenticated requests; retry later");
      slow_down.retry_after_seconds = kRetryAfterSeconds;
      return slow_down;
    }
    log->error("{}: message not processed: {}", request.remote_address, out.error().to_string());
    HttpResponse busy = text(503, "the server cannot process the message now; retry later");
    // RFC 9110 §10.2.3: when to try again; a database that went away (the
    // shared PostgreSQL restarting) is usually back within seconds.
    busy.retry_after_seconds = kRetryAfterSeconds;
    return busy;
  }
  // The answer goes in the encoding the client used (SyncML HTTP binding).
  return HttpResponse{200, protocol::media_type(encoding), std::move(out->encoded), ""};
}

}  // namespace conflux::server
