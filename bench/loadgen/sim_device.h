// One simulated SyncML device: runs complete client sessions (SyncML DS 1.2,
// SyncProt §"Synchronization packages" 1-6) over real HTTP and checks every
// answer the server gives. Messages are built and parsed with Conflux's own
// protocol library (protocol::Message and its XML/WBXML codecs).
//
// Call order: construct, then run_session() as often as wanted, one at a
// time (a device is one thread's; it is not thread-safe). The device keeps
// what a real one keeps between sessions: its anchors and the MD5 nonce the
// server gave it last.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "http_client.h"
#include "protocol/codec.h"

namespace conflux::loadgen {

enum class AuthScheme : uint8_t { kBasic, kMd5 };

struct DeviceConfig {
  std::string server_url;  // where each session starts
  std::string device_id;
  std::string user;
  std::string password;
  AuthScheme auth = AuthScheme::kMd5;
  protocol::Encoding encoding = protocol::Encoding::kXml;
  std::string datastore = "contacts";  // the server's datastore name
  uint64_t max_msg_size = 150000;      // announced to the server; SyncEvolution's default
  std::chrono::seconds http_timeout{300};
};

// What one session sends and what the server must answer.
struct SessionPlan {
  int alert = 200;                  // the sync type we ask for
  int expected_alert_status = 200;  // the Alert's Status: 508 when the server must refuse a two-way
  int expected_server_alert = 200;  // the sync type the server must answer with
  std::vector<std::pair<std::string, std::string>> adds;      // (LUID, vCard)
  std::vector<std::pair<std::string, std::string>> replaces;  // (LUID, vCard)
  std::vector<std::string> deletes;                           // LUIDs
  std::optional<size_t> expected_from_server;                 // items the server must send, if known
};

struct SessionOutcome {
  bool ok = false;
  std::string error;  // the first check that failed; empty when ok
  std::chrono::nanoseconds duration{};
  std::vector<std::chrono::nanoseconds> message_latencies;  // one per HTTP request
  size_t items_sent = 0;
  size_t items_received = 0;
  size_t bytes_sent = 0;
  size_t bytes_received = 0;
};

class SimDevice {
 public:
  // Talks HTTP to config.server_url.
  explicit SimDevice(DeviceConfig config);
  // Talks through `transport` (the unit tests' scripted server).
  SimDevice(DeviceConfig config, std::unique_ptr<Transport> transport);

  // Runs one whole session. Never throws: a transport error, an HTTP or
  // SyncML error, a reply that cannot be decoded or an answer other than
  // the plan expects ends the session with ok = false and the reason. The
  // anchors advance only when the session succeeded.
  SessionOutcome run_session(const SessionPlan& plan);

  const DeviceConfig& config() const { return config_; }

 private:
  friend class SessionRun;

  const DeviceConfig config_;
  const std::unique_ptr<Transport> transport_;
  std::optional<std::string> last_anchor_;  // our Next of the last good session
  uint64_t sessions_started_ = 0;
  std::string nonce_;  // base64, as the server sent it; empty before the first
  bool devinf_sent_ = false;
};

}  // namespace conflux::loadgen
