// The portal's HTTP side, on the server's port beside the SyncML endpoint:
//
//   GET  /.well-known/jmap     the JMAP session resource (JmapApi::session)
//   POST /jmap/api             JMAP method calls (JmapApi::api)
//   GET  /jmap/eventsource     push: StateChange events (PushHub), query
//                              types=*|A,B  closeafter=state|no  ping=SECONDS
//   POST /portal/login         {"username","password"} → session cookie + CSRF token
//   POST /portal/logout        clears the cookie
//   anything else              the next handler (the SyncML endpoint)
//
// Who calls: a program with HTTP Basic (the user's Conflux password),
// "Authorization: Bearer cfx_..." (an API token of `conflux token create`,
// checked by the CAF against the account directory on every call, so a
// revoked one is refused at once) or "Authorization: Bearer <token>" (the
// session token /portal/login returns); the
// page with the session cookie, which is HttpOnly, SameSite=Strict, Secure
// when server.public_url is https, and whose POSTs must carry the CSRF token
// in X-CSRF-Token. Every credential becomes a CAF token
// (CafInterface::authenticate, or the TokenService's check of an issued
// one), so the CAF scopes every call to the user. Password logins are
// throttled per (user, client address) like SyncML logins (LoginThrottle,
// the same [auth] settings); no password or token is logged.
#pragma once

#include <memory>
#include <string>

#include "caf/caf_interface.h"
#include "caf/token_service.h"
#include "common/ip_networks.h"
#include "engine/login_throttle.h"
#include "portal/jmap_api.h"
#include "portal/push.h"
#include "server/http_server.h"

namespace conflux::portal {

struct PortalOptions {
  std::string public_url;  // "https://..." makes the cookie Secure; also the session's URLs
  IpNetworks trusted_proxies;
  int login_free_failures = 5;
  int64_t login_first_delay_seconds = 1;
  int64_t login_max_delay_seconds = 60;
  // Password logins refused are counted here; null: not counted. Must
  // outlive the handler.
  Metrics* metrics = nullptr;
  // Several servers sharing one database count wrong passwords there
  // (engine/shared_limits.h); null: in this process. Must outlive the handler.
  engine::SharedLimits* shared_limits = nullptr;
};

class PortalHandler {
 public:
  // caf, tokens, api and clock must outlive the handler; `next` answers
  // every request that is not the portal's.
  PortalHandler(caf::CafInterface& caf, const caf::TokenService& tokens, JmapApi& api, PushHub& push,
                const Clock& clock, PortalOptions options, server::HttpHandler next);

  server::HttpResponse operator()(const server::HttpRequest& request);

  // Whether `path` is the portal's (so the caller can route).
  static bool owns(const std::string& path);

 private:
  // The caller's CAF token, or the HTTP answer refusing them.
  struct Caller {
    std::optional<caf::Token> token;
    server::HttpResponse refusal;
  };
  Caller authenticate(const server::HttpRequest& request, bool state_changing);
  Result<caf::Token> password_login(const std::string& user, const std::string& password, const std::string& address,
                                    int64_t& wait_r);
  Result<caf::Token> api_token_login(const std::string& api_token, const std::string& address, int64_t& wait_r);
  server::HttpResponse login(const server::HttpRequest& request);
  server::HttpResponse event_source(const server::HttpRequest& request, const caf::Token& token);
  // Did the client reach us over HTTPS (our TLS, or a trusted TLS proxy)?
  bool https(const server::HttpRequest& request) const;
  std::string base_url(const server::HttpRequest& request) const;
  std::string client(const server::HttpRequest& request) const;

  caf::CafInterface& caf_;
  const caf::TokenService& tokens_;
  JmapApi& api_;
  PushHub& push_;
  const PortalOptions options_;
  const server::HttpHandler next_;
  engine::LoginThrottle throttle_;
};

// The CSRF token that goes with a session token: whoever can read it could
// read the cookie itself, and a cross-site page can read neither.
std::string csrf_token_for(const std::string& session_token);

}  // namespace conflux::portal
