#include "portal/portal_handler.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "common/digest.h"
#include "common/log.h"
#include "portal/web_assets.h"
#include "server/client_address.h"

namespace conflux::portal {

using nlohmann::json;
using server::HttpRequest;
using server::HttpResponse;

namespace {

constexpr const char* kCookieName = "conflux_session";
// What every API token starts with (store/passwords.h); a session token
// ("v2.") never does.
constexpr const char* kApiTokenPrefix = "cfx_";

HttpResponse json_response(int status, const json& body) {
  return HttpResponse{status, "application/json", body.dump(), ""};
}

HttpResponse error_response(int status, const std::string& message) {
  return json_response(status, {{"error", message}});
}

// The value of cookie `name` in a Cookie header ("a=1; b=2").
std::string cookie_value(const std::string& header, const std::string& name) {
  size_t at = 0;
  while (at < header.size()) {
    while (at < header.size() && (header[at] == ' ' || header[at] == ';')) ++at;
    const size_t end = header.find(';', at);
    const std::string pair = header.substr(at, end == std::string::npos ? std::string::npos : end - at);
    const size_t eq = pair.find('=');
    if (eq != std::string::npos && pair.substr(0, eq) == name) return pair.substr(eq + 1);
    if (end == std::string::npos) break;
    at = end + 1;
  }
  return "";
}

bool starts_with_ci(const std::string& s, const std::string& prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != std::tolower(static_cast<unsigned char>(prefix[i]))) {
      return false;
    }
  }
  return true;
}

std::string path_of(const std::string& target) { return target.substr(0, target.find('?')); }

// The query parameters of a target, %-decoding values ("%2C" in types).
std::map<std::string, std::string> query_of(const std::string& target) {
  std::map<std::string, std::string> out;
  const size_t q = target.find('?');
  if (q == std::string::npos) return out;
  std::string query = target.substr(q + 1);
  size_t at = 0;
  while (at <= query.size()) {
    size_t end = query.find('&', at);
    if (end == std::string::npos) end = query.size();
    const std::string pair = query.substr(at, end - at);
    const size_t eq = pair.find('=');
    std::string value, raw = eq == std::string::npos ? "" : pair.substr(eq + 1);
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '%' && i + 2 < raw.size() && std::isxdigit(static_cast<unsigned char>(raw[i + 1])) &&
          std::isxdigit(static_cast<unsigned char>(raw[i + 2]))) {
        value += static_cast<char>(std::stoi(raw.substr(i + 1, 2), nullptr, 16));
        i += 2;
      } else {
        value += raw[i] == '+' ? ' ' : raw[i];
      }
    }
    out[pair.substr(0, eq)] = value;
    at = end + 1;
  }
  return out;
}

}  // namespace

std::string csrf_token_for(const std::string& session_token) { return sha256_hex("csrf\n" + session_token); }

PortalHandler::PortalHandler(caf::CafInterface& caf, const caf::TokenService& tokens, JmapApi& api, PushHub& push,
                             const Clock& clock, PortalOptions options, server::HttpHandler next)
    : caf_(caf),
      tokens_(tokens),
      api_(api),
      push_(push),
      options_(std::move(options)),
      next_(std::move(next)),
      throttle_(clock, options_.login_free_failures, options_.login_first_delay_seconds,
                options_.login_max_delay_seconds, options_.shared_limits, "portal-login") {}

bool PortalHandler::owns(const std::string& path) {
  return path == "/.well-known/jmap" || path.rfind("/jmap/", 0) == 0 || path == "/portal" ||
         path.rfind("/portal/", 0) == 0;
}

std::string PortalHandler::client(const HttpRequest& request) const {
  return server::client_address(request.remote_address, request.forwarded_for, request.forwarded,
                                options_.trusted_proxies);
}

bool PortalHandler::https(const HttpRequest& request) const {
  return server::reached_over_https(request.tls, request.remote_address, request.forwarded_proto, request.forwarded,
                                    options_.trusted_proxies);
}

std::string PortalHandler::base_url(const HttpRequest& request) const {
  if (!options_.public_url.empty()) {
    std::string url = options_.public_url;
    // public_url names the SyncML endpoint; the portal lives at its root.
    const size_t scheme = url.find("://");
    const size_t path = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
    return path == std::string::npos ? url : url.substr(0, path);
  }
  return (https(request) ? "https://" : "http://") + (request.host.empty() ? std::string("localhost") : request.host);
}

Result<caf::Token> PortalHandler::password_login(const std::string& user, const std::string& password,
                                                 const std::string& address, int64_t& wait_r) {
  wait_r = throttle_.wait_seconds(user, address);
  if (wait_r > 0) {
    if (options_.metrics) options_.metrics->login_throttled("portal", "wrong_passwords");
    return Status::resource_exhausted("too many failed logins; wait");
  }
  auto token = caf_.authenticate(caf::Credentials::with_password(UserId(user), password), caf::TokenKind::kReadWrite);
  if (token) {
    throttle_.record_success(user, address);
  } else if (token.error().code() == StatusCode::kUnauthenticated) {
    throttle_.record_failure(user, address);
    if (options_.metrics) options_.metrics->login_failed("portal");
    logger("portal")->info("portal login of '{}' from {} refused", user, address);
  }
  return token;
}

Result<caf::Token> PortalHandler::api_token_login(const std::string& api_token, const std::string& address,
                                                  int64_t& wait_r) {
  // Guesses are throttled per client address, as one "user".
  static const std::string kGuesser = " api token";
  wait_r = throttle_.wait_seconds(kGuesser, address);
  if (wait_r > 0) return Status::resource_exhausted("too many failed logins; wait");
  auto token = caf_.authenticate(caf::Credentials::with_api_token(api_token), caf::TokenKind::kReadWrite);
  if (token) {
    throttle_.record_success(kGuesser, address);
  } else if (token.error().code() == StatusCode::kUnauthenticated) {
    throttle_.record_failure(kGuesser, address);
    logger("portal")->info("API token from {} refused", address);
  }
  return token;
}

PortalHandler::Caller PortalHandler::authenticate(const HttpRequest& request, bool state_changing) {
  Caller caller;
  const std::string& auth = request.authorization;
  if (starts_with_ci(auth, "Basic ")) {
    auto decoded = base64_decode(auth.substr(6));
    const size_t colon = decoded ? decoded->find(':') : std::string::npos;
    if (colon == std::string::npos) {
      caller.refusal = error_response(401, "malformed Basic credentials");
      caller.refusal.headers.push_back({"WWW-Authenticate", "Basic realm=\"Conflux\", charset=\"UTF-8\""});
      return caller;
    }
    int64_t wait = 0;
    auto token = password_login(decoded->substr(0, colon), decoded->substr(colon + 1), client(request), wait);
    if (wait > 0) {
      caller.refusal = error_response(429, "too many failed logins; try again later");
      caller.refusal.retry_after_seconds = static_cast<int>(wait);
      return caller;
    }
    if (!token) {
      if (token.error().is_unavailable()) {
        caller.refusal = error_response(503, "the account directory is unavailable");
        caller.refusal.retry_after_seconds = 30;
        return caller;
      }
      caller.refusal = error_response(401, "wrong user name or password");
      caller.refusal.headers.push_back({"WWW-Authenticate", "Basic realm=\"Conflux\", charset=\"UTF-8\""});
      return caller;
    }
    caller.token = std::move(*token);
    return caller;
  }
  std::string session;
  bool from_cookie = false;
  if (starts_with_ci(auth, "Bearer ") && auth.compare(7, 4, kApiTokenPrefix) == 0) {
    // A program's token (`conflux token create`): looked up on every call,
    // so a revoked one is refused at once.
    int64_t wait = 0;
    auto token = api_token_login(auth.substr(7), client(request), wait);
    if (wait > 0) {
      caller.refusal = error_response(429, "too many failed logins; try again later");
      caller.refusal.retry_after_seconds = static_cast<int>(wait);
      return caller;
    }
    if (!token) {
      if (token.error().is_unavailable()) {
        caller.refusal = error_response(503, "the account directory is unavailable");
        caller.refusal.retry_after_seconds = 30;
        return caller;
      }
      caller.refusal = error_response(401, "unknown or revoked API token");
      caller.refusal.headers.push_back({"WWW-Authenticate", "Bearer realm=\"Conflux\", error=\"invalid_token\""});
      return caller;
    }
    caller.token = std::move(*token);
    return caller;
  }
  if (starts_with_ci(auth, "Bearer ")) {
    session = auth.substr(7);
  } else if (std::string cookie = cookie_value(request.cookie, kCookieName); !cookie.empty()) {
    session = cookie;
    from_cookie = true;
  }
  if (session.empty()) {
    caller.refusal = error_response(401, "log in: HTTP Basic, a Bearer token or the portal's session cookie");
    caller.refusal.headers.push_back({"WWW-Authenticate", "Basic realm=\"Conflux\", charset=\"UTF-8\""});
    return caller;
  }
  auto token = tokens_.verify(session);
  if (!token) {
    caller.refusal = error_response(401, "the session has expired; log in again");
    return caller;
  }
  // A cookie comes along with any request the browser makes, a cross-site
  // one too: changes need the CSRF token only our page can know.
  if (from_cookie && state_changing && request.csrf_token != csrf_token_for(session)) {
    caller.refusal = error_response(403, "missing or wrong X-CSRF-Token");
    return caller;
  }
  caller.token = std::move(*token);
  return caller;
}

HttpResponse PortalHandler::login(const HttpRequest& request) {
  json body = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object() || !body.contains("username") || !body["username"].is_string() || !body.contains("password") ||
      !body["password"].is_string()) {
    return error_response(400, "send {\"username\": ..., \"password\": ...}");
  }
  int64_t wait = 0;
  auto token = password_login(body["username"], body["password"], client(request), wait);
  if (wait > 0) {
    HttpResponse r = error_response(429, "too many failed logins; try again later");
    r.retry_after_seconds = static_cast<int>(wait);
    return r;
  }
  if (!token) {
    if (token.error().is_unavailable()) return error_response(503, "the account directory is unavailable");
    return error_response(401, "wrong user name or password");
  }
  HttpResponse r = json_response(
      200,
      {{"username", token->user.str()}, {"csrfToken", csrf_token_for(token->value)}, {"accessToken", token->value}});
  const bool secure = options_.public_url.rfind("https://", 0) == 0 || https(request);
  r.headers.push_back({"Set-Cookie", std::string(kCookieName) + "=" + token->value +
                                         "; Path=/; HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "")});
  r.headers.push_back({"Cache-Control", "no-store"});
  return r;
}

HttpResponse PortalHandler::event_source(const HttpRequest& request, const caf::Token& token) {
  auto query = query_of(request.target);
  EventSourceOptions options;
  if (const std::string& types = query["types"]; !types.empty() && types != "*") {
    size_t at = 0;
    while (at <= types.size()) {
      size_t comma = types.find(',', at);
      if (comma == std::string::npos) comma = types.size();
      options.types.insert(types.substr(at, comma - at));
      at = comma + 1;
    }
  }
  const std::string& close_after = query["closeafter"];
  if (close_after != "" && close_after != "no" && close_after != "state") {
    return error_response(400, "closeafter must be \"state\" or \"no\"");
  }
  options.close_after_state = close_after == "state";
  if (const std::string& ping = query["ping"]; !ping.empty()) {
    if (ping.size() > 4 || !std::all_of(ping.begin(), ping.end(), ::isdigit)) {
      return error_response(400, "ping must be a number of seconds");
    }
    // RFC 8620 §7.3: the server may raise a small interval; pings more
    // often than every 5 s would only cost.
    options.ping_seconds = std::stoi(ping) == 0 ? 0 : std::max(5, std::stoi(ping));
  }
  HttpResponse r{200, "text/event-stream", "", ""};
  r.stream = push_.subscribe(token, std::move(options));
  return r;
}

HttpResponse PortalHandler::operator()(const HttpRequest& request) {
  const std::string path = path_of(request.target);
  if (!owns(path)) return next_(request);

  if (path == "/portal/login") {
    if (request.method != "POST") return HttpResponse{405, "text/plain", "POST only\n", "POST"};
    return login(request);
  }
  if (path == "/portal" || path == "/portal/index.html") {
    HttpResponse r{302, "text/plain", "the portal is at /portal/\n", ""};
    r.headers.push_back({"Location", "/portal/"});
    return r;
  }
  if (const WebAsset* asset = web_asset(path)) {
    if (request.method != "GET" && request.method != "HEAD")
      return HttpResponse{405, "text/plain", "GET only\n", "GET, HEAD"};
    HttpResponse r{200, std::string(asset->content_type), std::string(asset->body), ""};
    // Only our own files run in the page: no inline script, no other origin.
    r.headers.push_back(
        {"Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"});
    r.headers.push_back({"X-Content-Type-Options", "nosniff"});
    r.headers.push_back({"Cache-Control", "no-cache"});
    return r;
  }
  if (path == "/portal/session") {
    // The page after a reload: the cookie is still there, the CSRF token in
    // memory is not. Only a same-origin page can read this answer.
    if (request.method != "GET") return HttpResponse{405, "text/plain", "GET only\n", "GET"};
    const std::string cookie = cookie_value(request.cookie, kCookieName);
    auto token = cookie.empty() ? Result<caf::Token>(Status::unauthenticated("no session")) : tokens_.verify(cookie);
    if (!token) return error_response(401, "not logged in");
    HttpResponse r = json_response(200, {{"username", token->user.str()}, {"csrfToken", csrf_token_for(cookie)}});
    r.headers.push_back({"Cache-Control", "no-store"});
    return r;
  }
  if (path == "/portal/logout") {
    if (request.method != "POST") return HttpResponse{405, "text/plain", "POST only\n", "POST"};
    HttpResponse r = json_response(200, json::object());
    r.headers.push_back({"Set-Cookie", std::string(kCookieName) + "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"});
    return r;
  }
  if (path == "/.well-known/jmap") {
    if (request.method != "GET") return HttpResponse{405, "text/plain", "GET only\n", "GET"};
    Caller caller = authenticate(request, false);
    if (!caller.token) return caller.refusal;
    HttpResponse r = json_response(200, api_.session(*caller.token, base_url(request)));
    r.headers.push_back({"Cache-Control", "no-cache, no-store, must-revalidate"});
    return r;
  }
  if (path == "/jmap/api") {
    if (request.method != "POST") return HttpResponse{405, "text/plain", "POST only\n", "POST"};
    Caller caller = authenticate(request, true);
    if (!caller.token) return caller.refusal;
    JmapReply reply = api_.api(*caller.token, request.content_type, request.body);
    return HttpResponse{reply.status, reply.content_type, std::move(reply.body), ""};
  }
  if (path == "/jmap/eventsource") {
    if (request.method != "GET") return HttpResponse{405, "text/plain", "GET only\n", "GET"};
    Caller caller = authenticate(request, false);
    if (!caller.token) return caller.refusal;
    return event_source(request, *caller.token);
  }
  return error_response(404, "no such portal resource");
}

}  // namespace conflux::portal
