// Server Alerted Sync pushed to devices (issue #19 part 2): a consumer of the
// CAF's change events. For each change to a user's datastore, every device
// of that user with a [[push]] channel that has synced that datastore (and
// did not make the change itself) is due a DS 1.2 Server Alerted
// Notification (protocol/san.h: two-way sync alerted by the server, 206, for
// each changed datastore with its content type and name). Debounced: a
// device is alerted push_debounce_seconds after the last change of a burst,
// once for the whole burst. The pending alert waits in the persistent Outbox
// (queue_alert: one per device and datastore, all of a device's moved to the
// burst's end), so a server killed inside the window loses none, and with
// several servers the one whose claim takes it sends it. Delivered over the
// device's channel:
//   url       HTTP POST, Content-Type application/vnd.syncml.ds.notification
//   wap_push  WAP Push over UDP (WDP, port 2948 by default): a connectionless
//             WSP Push PDU (transaction id, PDU type 0x06, headers length,
//             content type 0xCE = well-known 0x4E
//             application/vnd.syncml.ds.notification, then the SAN)
// SANs are a nudge, not data: one that fails is logged and counted, not
// retried (the device still syncs on its own schedule).
//
// Threading: on_change() from any thread; the sender runs on its own thread
// from start() until destruction.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <stop_token>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "caf/change_events.h"
#include "common/clock.h"
#include "config/config.h"
#include "notify/outbox.h"

namespace conflux::notify {

struct SanCounters {
  std::atomic<int64_t> sent{0};
  std::atomic<int64_t> failed{0};
};

class SanNotifier {
 public:
  // Has this device synced this datastore (is there a profile to alert)?
  using HasSynced = std::function<bool(const UserId&, const DeviceId&, const std::string& database)>;
  // The digest's credential for the user: B64(MD5(user ":" password)).
  using Credential = std::function<Result<std::string>(const UserId&)>;

  // `outbox` holds the pending alerts; `node` names this server in its leases.
  SanNotifier(Outbox& outbox, const Clock& clock, std::string node, const config::Config& config, HasSynced has_synced,
              Credential credential);
  ~SanNotifier();
  SanNotifier(const SanNotifier&) = delete;
  SanNotifier& operator=(const SanNotifier&) = delete;

  void set_config(const config::Config& config);
  void on_change(const caf::ChangeEvent& event);
  // Sends every alert whose burst is over at `now`. Returns how many were sent.
  int send_due(int64_t now);
  // Runs send_due every second until the notifier is destroyed. Again:
  // nothing (it runs already).
  void start();

  const SanCounters& counters() const { return counters_; }

 private:
  Status send(const config::PushConfig& push, const std::set<std::string>& databases);

  Outbox& outbox_;
  const Clock& clock_;
  const std::string node_;
  const HasSynced has_synced_;
  const Credential credential_;

  std::mutex mutex_;
  config::Config config_;      // guarded by mutex_ (push, notify, stores)
  uint16_t next_session_ = 1;  // guarded by mutex_
  std::condition_variable_any wake_;

  SanCounters counters_;
  std::jthread thread_;  // last: stopped and joined before the rest goes
};

// The outbox target of device `device` of `user`'s alerts, and back.
std::string alert_target(const std::string& user, const std::string& device);
std::optional<std::pair<std::string, std::string>> alert_device(const std::string& target);

// The WSP connectionless Push PDU carrying `san` (WAP-230-WSP §8.2.4.1).
std::string wsp_push_pdu(uint8_t transaction_id, const std::string& san);

}  // namespace conflux::notify
