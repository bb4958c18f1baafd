// The server's own counters for GET /metrics (Prometheus text format),
// kept in a prometheus-cpp registry. Components count through the named
// calls below, so every figure is declared once, here, with its labels.
// Figures that are read from elsewhere when scraped (cache queue, outbox,
// held deletions) are not here: `text()` is joined with theirs.
//
// Threads: every call from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace prometheus {
class Registry;
class Counter;
class Histogram;
template <typename T>
class Family;
}  // namespace prometheus

namespace conflux {

class Metrics {
 public:
  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // --- SyncML sessions (engine) ---
  // An authenticated session began.
  void session_started();
  // A session reached its end with every datastore committed.
  void session_completed();
  // A session ended before that; `status` is the SyncML status that ended it
  // (e.g. 401 for credentials refused inside a session).
  void session_failed(int status);
  // A session the client left unfinished expired (status "expired").
  void session_expired();
  // Items a sync applied or sent, counted as they are: `direction`
  // "from_device" or "to_device", `outcome` "added", "updated", "deleted" or
  // "failed".
  void items(const std::string& datastore, std::string_view direction, std::string_view outcome, uint64_t count);
  void conflicts(const std::string& datastore, uint64_t count);

  // --- Logins (engine, portal; `endpoint` "syncml" or "portal") ---
  // A password checked and found wrong.
  void login_failed(std::string_view endpoint);
  // A login refused unchecked: `reason` "wrong_passwords" (the pair waits)
  // or "unauthenticated_rate" (too many unauthenticated messages, HTTP 429).
  void login_throttled(std::string_view endpoint, std::string_view reason);

  // --- HTTP (server) ---
  // One answer: its status and the seconds from the request's header to the
  // answer handed to the socket.
  void http_response(int status, double seconds);

  // --- Back ends (caf) ---
  // A call to a datastore's adapter failed; `code` is the Status code's name.
  void backend_error(const std::string& store, std::string_view code);

  // Every figure above, Prometheus text format 0.0.4.
  std::string text() const;

 private:
  const std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& sessions_started_;
  prometheus::Family<prometheus::Counter>& sessions_completed_;
  prometheus::Family<prometheus::Counter>& sessions_failed_;
  prometheus::Family<prometheus::Counter>& items_;
  prometheus::Family<prometheus::Counter>& conflicts_;
  prometheus::Family<prometheus::Counter>& login_failures_;
  prometheus::Family<prometheus::Counter>& login_throttled_;
  prometheus::Family<prometheus::Counter>& http_responses_;
  prometheus::Family<prometheus::Histogram>& http_duration_;
  prometheus::Family<prometheus::Counter>& backend_errors_;
};

}  // namespace conflux
