// Push (RFC 8620 §7.3): the EventSource endpoint's streams. Each stream
// belongs to one user's CAF token; a thread looks at the states of every
// subscribed user's accounts (CafInterface::current_anchor through
// JmapApi::states) once a second and sends a StateChange event for what
// moved, whoever moved it — a device's sync, the portal, or a Back End
// Monitor bringing in another program's change. The CAF has no change
// notification of its own for writes that pass through it, so the anchors
// are the one signal that covers all three.
//
// A stream ends when the token expires (the page logs in again), with
// closeafter=state after its first change, when the client goes, or at
// stop().
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "caf/token_service.h"
#include "portal/jmap_api.h"
#include "server/http_server.h"

namespace conflux::portal {

struct EventSourceOptions {
  std::set<std::string> types;  // empty: every type
  bool close_after_state = false;
  int ping_seconds = 0;  // 0: no pings
};

class PushHub {
 public:
  class Stream;

  // api, tokens and clock must outlive the hub.
  PushHub(JmapApi& api, const caf::TokenService& tokens, const Clock& clock);
  ~PushHub();
  PushHub(const PushHub&) = delete;
  PushHub& operator=(const PushHub&) = delete;

  // A new stream for `token`'s user; its first event is the current state.
  std::shared_ptr<server::ResponseStream> subscribe(const caf::Token& token, EventSourceOptions options);

  // Ends every stream and the thread; before the HTTP server stops.
  void stop();

 private:
  void run(const std::stop_token& stop);
  void look_once();

  JmapApi& api_;
  const caf::TokenService& tokens_;
  const Clock& clock_;
  std::mutex mutex_;
  std::vector<std::shared_ptr<Stream>> streams_;  // guarded by mutex_
  std::condition_variable_any wake_;
  std::jthread thread_;  // last: stopped first
};

}  // namespace conflux::portal
