// The server sync engine: one call per client message. It reads the session
// from the SyncStateStore, runs the message's commands against the CAF, writes
// the session back and returns the answer. It never sees XML or HTTP.
//
// Packages (SyncProt §"Two-way sync"): pkg 1 alerts → pkg 2 our alerts;
// pkg 3 client changes → pkg 4 our changes (maybe over several messages, each
// within the client's MaxMsgSize); pkg 5 statuses and Map → pkg 6. Anchors are
// stored only when the session completes, so a sync that fails half-way makes
// the next one start from the old anchors.
//
// Thread safety: handle() may be called from several threads for different
// sessions; messages of one session are serialised by a lock on its key.
#pragma once

#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "caf/backend_registry.h"
#include "caf/caf_interface.h"
#include "common/clock.h"
#include "engine/device_quirks.h"
#include "engine/login_throttle.h"
#include "engine/session_state.h"
#include "engine/sync_state_store.h"
#include "protocol/codec.h"
#include "protocol/message.h"

namespace conflux::engine {

struct EngineOptions {
  uint64_t max_msg_size = 1024 * 1024;   // what we accept; announced in our SyncHdr Meta
  int64_t session_timeout_seconds = 1800;
  int max_auth_failures = 3;             // then the session ends
  // Challenge with syncml:auth-md5 (a nonce per device) rather than basic.
  // Both are accepted either way; md5 keeps the password off the wire.
  bool md5_auth = true;
  // Failed logins per user name or client address within the window, after
  // which further attempts are refused unchecked until the window passes.
  int max_login_failures = 10;
  int64_t login_failure_window_seconds = 300;
  // Largest item accepted, whole or in chunks; announced as MaxObjSize.
  uint64_t max_object_size = 16 * 1024 * 1024;
  // Per-device workarounds, looked up from each device's DevInf; null: none.
  // The book may be reloaded while the engine runs.
  std::shared_ptr<const DeviceQuirkBook> quirks;
};

// Where the message came in, as the HTTP layer saw it.
struct Inbound {
  SessionKey session;     // from RespURI's query; empty for a session's first message
  std::string base_url;   // absolute URL of the sync endpoint, for RespURI
  std::string remote_address;  // the client's IP address, for login throttling
  protocol::Encoding encoding = protocol::Encoding::kXml;  // the reply's, for MaxMsgSize budgets
};

// An answer, or why there can be none.
struct Outbound {
  protocol::Message reply;
  std::string encoded;  // `reply` in Inbound::encoding, as it goes on the wire
  bool session_ended = false;
};

class SyncEngine {
 public:
  // All references must outlive the engine.
  SyncEngine(caf::CafInterface& caf, SyncStateStore& state, std::vector<caf::StoreSettings> stores,
             EngineOptions options, const Clock& clock);

  // kNotFound: the message names a session we do not know (expired, or
  // another device's); no SyncML answer is possible. A message naming a
  // session that completed is answered (engine/late_message.h). Any other error means
  // the state store failed; the message was not processed.
  Result<Outbound> handle(const protocol::Message& in, const Inbound& where);

  // Encoded size budget for a message to a client that allows `client_max` bytes.
  static uint64_t message_budget(uint64_t client_max);

  // System preferences: the datastores' conflict_policy as reloaded; the
  // next conflict follows it. Stores the engine does not serve are ignored.
  void set_conflict_policies(const std::vector<caf::StoreSettings>& stores);

 private:
  class MessageRun;
  friend class MessageRun;

  std::mutex& lock_for(const SessionKey& key);
  // A message after `session` ended (engine/late_message.h); the session
  // lock is held.
  Result<Outbound> answer_after_end(SessionState& session, const protocol::Message& in, const Inbound& where);

  caf::CafInterface& caf_;
  SyncStateStore& state_;
  const std::vector<caf::StoreSettings> stores_;
  const EngineOptions options_;
  const Clock& clock_;
  std::array<std::mutex, 64> session_locks_;
  LoginThrottle throttle_;
  mutable std::mutex policies_mutex_;
  std::map<std::string, std::string> conflict_policies_;  // by datastore; guarded by policies_mutex_
};

}  // namespace conflux::engine
