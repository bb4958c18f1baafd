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

#include "caf/caf_interface.h"
#include "caf/store_settings.h"
#include "common/clock.h"
#include "common/metrics.h"
#include "engine/auth_nonces.h"
#include "engine/device_quirks.h"
#include "engine/duplicate_matcher.h"
#include "engine/login_throttle.h"
#include "engine/session_ids.h"
#include "engine/session_state.h"
#include "engine/sync_state_store.h"
#include "engine/unauthenticated_limiter.h"
#include "protocol/codec.h"
#include "protocol/message.h"

namespace conflux::engine {

struct EngineOptions {
  uint64_t max_msg_size = 1024 * 1024;  // what we accept; announced in our SyncHdr Meta
  int64_t session_timeout_seconds = 1800;
  int max_auth_failures = 3;  // then the session ends
  // Challenge with syncml:auth-md5 (a nonce per device) rather than basic.
  // Both are accepted either way; md5 keeps the password off the wire.
  bool md5_auth = true;
  // The server's secret (SqliteStateStore::server_secret), from which
  // session ids and challenge nonces are derived; every node sharing the
  // state store must have the same. Empty: a random one for this process.
  std::string server_secret;
  // Wrong passwords per (user, address) that cost nothing; then each one
  // doubles the wait before that pair is checked again (LoginThrottle).
  int login_free_failures = 5;
  int64_t login_first_delay_seconds = 1;
  int64_t login_max_delay_seconds = 900;
  // Messages that do not authenticate, per client address: a burst, then a
  // rate (UnauthenticatedLimiter). Beyond it: kResourceExhausted.
  int unauthenticated_burst = 60;
  int unauthenticated_per_minute = 120;
  // Largest item accepted, whole or in chunks; announced as MaxObjSize.
  uint64_t max_object_size = 16 * 1024 * 1024;
  // Per-device workarounds, looked up from each device's DevInf; null: none.
  // The book may be reloaded while the engine runs.
  std::shared_ptr<const DeviceQuirkBook> quirks;
  // Sessions, items and logins are counted here for /metrics; null: not
  // counted (tests). Must outlive the engine.
  Metrics* metrics = nullptr;
  // Where the login throttle and the unauthenticated-message limit count
  // when several servers share the store (engine/shared_limits.h); null:
  // in this process. Must outlive the engine.
  SharedLimits* shared_limits = nullptr;
};

// Where the message came in, as the HTTP layer saw it.
struct Inbound {
  // The session id from RespURI's query, as sent (SessionIds: key plus
  // tag); empty for a session's first message.
  SessionKey session;
  std::string base_url;  // absolute URL of the sync endpoint, for RespURI
  // The client's IP address (behind a trusted proxy: the one it forwarded),
  // for login throttling and the limit on unauthenticated messages.
  std::string remote_address;
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
             const EngineOptions& options, const Clock& clock);

  // kNotFound: the message names a session we do not know (expired, or
  // another device's, or an id we did not issue); no SyncML answer is
  // possible. A message naming a session that completed is answered
  // (engine/late_message.h). kResourceExhausted: too many unauthenticated
  // messages from the client's address; the message was not read. Any other error means
  // the state store failed; the message was not processed.
  //
  // Nothing is stored for a message that does not authenticate: its
  // session is not saved (its answer has no RespURI, so the client sends
  // its credentials as a new session's first message) and its challenge
  // nonce is derived, not kept (ChallengeNonces).
  Result<Outbound> handle(const protocol::Message& in, const Inbound& where);

  // Removes sessions idle longer than the session timeout and nonces of
  // devices not seen for kNonceMaxAgeSeconds. The server calls it on a timer.
  Status purge_expired();
  static constexpr int64_t kNonceMaxAgeSeconds = 30 * 86400;

  // Encoded size budget for a message to a client that allows `client_max` bytes.
  static uint64_t message_budget(uint64_t client_max);

  // System preferences: the datastores' conflict_policy as reloaded; the
  // next conflict follows it. Stores the engine does not serve are ignored.
  void set_conflict_policies(const std::vector<caf::StoreSettings>& stores);

 private:
  class MessageRun;
  friend class MessageRun;

  std::mutex& lock_for(const SessionKey& key);
  // handle()'s steps. A message without a session starts one (nothing
  // stored yet); kResourceExhausted when its address is over the limit.
  Status start_session(const protocol::Message& in, const Inbound& where, SessionState& session);
  // Loads the message's session into `session`, holding its lock and, for
  // servers sharing the store, its hold. kNotFound for an unknown or expired
  // session or one of another device.
  Status resume_session(const protocol::Message& in, const Inbound& where, SessionState& session,
                        std::unique_lock<std::mutex>& lock, std::unique_ptr<SyncStateStore::SessionHold>& hold);
  // After the message ran: saves the session, deletes one that failed, or
  // (not authenticated) keeps nothing and charges the client's address.
  Status keep_session(SessionState& session, const Outbound& out, const Inbound& where);
  // A message after `session` ended (engine/late_message.h); the session
  // lock is held.
  Result<Outbound> answer_after_end(SessionState& session, const protocol::Message& in, const Inbound& where);
  // Our last MsgID before answering a new session whose first message the
  // client numbered `client_msg_id` (one less; 0 when it is not a number).
  static uint32_t continued_msg_id(const std::string& client_msg_id);
  // A device that authenticated as `user` before (its DevInf is on file):
  // its password is checked even while wrong guesses are being slowed.
  bool known_device(const std::string& user, const DeviceId& device);

  caf::CafInterface& caf_;
  SyncStateStore& state_;
  const std::vector<caf::StoreSettings> stores_;
  const EngineOptions options_;
  const Clock& clock_;
  std::array<std::mutex, 64> session_locks_;
  LoginThrottle throttle_;
  UnauthenticatedLimiter unauthenticated_;
  const SessionIds session_ids_;
  ChallengeNonces nonces_;
  mutable std::mutex policies_mutex_;
  std::map<std::string, caf::ConflictPolicy> conflict_policies_;  // by datastore; guarded by policies_mutex_
  // Slow syncs' item indexes between messages (engine/duplicate_matcher.h):
  // a few sessions at once, each index about the size of its store.
  ItemIndexCache match_indexes_{4};
};

}  // namespace conflux::engine
