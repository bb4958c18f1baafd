#include "notify/san_push.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>

#include "common/log.h"
#include "notify/http_post.h"
#include "protocol/san.h"

namespace conflux::notify {
namespace {

constexpr const char* kSanContentType = "application/vnd.syncml.ds.notification";
constexpr uint8_t kWspPush = 0x06;
constexpr uint8_t kWspSanContentType = 0x80 | 0x4E;  // well-known short integer
constexpr const char* kWdpPort = "2948";             // WAP Push connectionless (wap-push-ota)
constexpr const char* kAlertTargetPrefix = "san:";
// Alerts claimed per round, and how long the claim holds them.
constexpr int kClaimBatch = 64;
constexpr int64_t kClaimLeaseSeconds = 300;

// One UDP datagram to "host:port" (port 2948 when left out).
Status send_udp(const std::string& where, const std::string& datagram) {
  std::string host = where;
  std::string port = kWdpPort;
  if (auto colon = where.rfind(':'); colon != std::string::npos) {
    host = where.substr(0, colon);
    port = where.substr(colon + 1);
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* found = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return Status::invalid_argument("wap_push " + where + ": " + gai_strerror(rc));
  }
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> guard(found, &freeaddrinfo);
  const int fd = ::socket(found->ai_family, found->ai_socktype | SOCK_CLOEXEC, found->ai_protocol);
  if (fd < 0) return Status::unavailable("wap_push " + where + ": socket: " + std::strerror(errno));
  const ssize_t sent = ::sendto(fd, datagram.data(), datagram.size(), 0, found->ai_addr, found->ai_addrlen);
  const int saved = errno;
  ::close(fd);
  if (sent != static_cast<ssize_t>(datagram.size())) {
    return Status::unavailable("wap_push " + where + ": " + std::strerror(saved));
  }
  return Status::ok();
}

}  // namespace

std::string alert_target(const std::string& user, const std::string& device) {
  return kAlertTargetPrefix + user + "\n" + device;
}

std::optional<std::pair<std::string, std::string>> alert_device(const std::string& target) {
  if (!target.starts_with(kAlertTargetPrefix)) return std::nullopt;
  const std::string rest = target.substr(std::string_view(kAlertTargetPrefix).size());
  const size_t newline = rest.find('\n');
  if (newline == std::string::npos) return std::nullopt;
  return std::make_pair(rest.substr(0, newline), rest.substr(newline + 1));
}

std::string wsp_push_pdu(uint8_t transaction_id, const std::string& san) {
  // Headers: the content type alone, one byte, so the uintvar length is 1.
  std::string pdu;
  pdu += static_cast<char>(transaction_id);
  pdu += static_cast<char>(kWspPush);
  pdu += static_cast<char>(1);
  pdu += static_cast<char>(kWspSanContentType);
  return pdu + san;
}

SanNotifier::SanNotifier(Outbox& outbox, const Clock& clock, std::string node, const config::Config& config,
                         HasSynced has_synced, Credential credential)
    : outbox_(outbox),
      clock_(clock),
      node_(std::move(node)),
      has_synced_(std::move(has_synced)),
      credential_(std::move(credential)),
      config_(config) {}

SanNotifier::~SanNotifier() {
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
}

void SanNotifier::set_config(const config::Config& config) {
  std::lock_guard lock(mutex_);
  config_ = config;
}

void SanNotifier::on_change(const caf::ChangeEvent& event) {
  std::vector<config::PushConfig> candidates;
  int64_t debounce = 0;
  {
    std::lock_guard lock(mutex_);
    for (const auto& push : config_.push) {
      if (push.user != event.user.str()) continue;
      if (event.source == caf::ChangeSource::kDevice && push.device == event.device.str()) continue;  // its own
      candidates.push_back(push);
    }
    debounce = config_.notify.push_debounce_seconds;
  }
  if (candidates.empty()) return;
  const int64_t now = clock_.now_seconds();
  for (const auto& push : candidates) {
    // Outside the lock: state database reads and writes.
    if (!has_synced_(event.user, DeviceId(push.device), event.database)) continue;
    if (Status st = outbox_.queue_alert(alert_target(push.user, push.device), event.database, now + debounce, now);
        !st.is_ok()) {
      ++counters_.failed;
      logger("notify")->warn("server alerted sync of {} for device '{}' of user '{}' not queued: {}", event.database,
                             push.device, push.user, st.to_string());
      continue;
    }
    logger("notify")->debug("server alerted sync of {} for device '{}' of user '{}' queued, due in {} s",
                            event.database, push.device, push.user, debounce);
  }
}

int SanNotifier::send_due(int64_t now) {
  auto claimed = outbox_.claim_due_alerts(node_, now, kClaimLeaseSeconds, kClaimBatch);
  if (!claimed) {
    logger("notify")->warn("pending server alerted syncs could not be read: {}", claimed.error().to_string());
    return 0;
  }
  // One alert per device, for every datastore claimed for it.
  std::map<std::string, std::vector<const OutboxMessage*>> by_target;
  for (const auto& message : *claimed) by_target[message.target].push_back(&message);
  int sent = 0;
  for (const auto& [target, messages] : by_target) {
    std::optional<config::PushConfig> push;
    const auto device = alert_device(target);
    {
      std::lock_guard lock(mutex_);
      for (const auto& p : config_.push) {
        if (device && p.user == device->first && p.device == device->second) push = p;
      }
    }
    if (push) {
      std::set<std::string> databases;
      for (const OutboxMessage* m : messages) databases.insert(m->body);
      if (Status st = send(*push, databases); !st.is_ok()) {
        ++counters_.failed;
        logger("notify")->warn("server alerted sync for device '{}' of user '{}' not delivered: {}", push->device,
                               push->user, st.to_string());
      } else {
        ++counters_.sent;
        ++sent;
      }
    }
    // Sent or not, the alert is done (not retried), also one whose [[push]]
    // was removed. Removed after sending: a crash in between sends it again.
    for (const OutboxMessage* m : messages) {
      if (Status st = outbox_.delivered(*m, node_); !st.is_ok()) {
        logger("notify")->warn("server alerted sync {}: could not be removed from the outbox: {}", m->id,
                               st.to_string());
      }
    }
  }
  return sent;
}

Status SanNotifier::send(const config::PushConfig& push, const std::set<std::string>& databases) {
  protocol::ServerAlertedNotification san;
  san.ui_mode = protocol::SanUiMode::kBackground;
  san.initiator = protocol::SanInitiator::kServer;
  san.server_id = push.server_id.empty() ? push.user : push.server_id;
  int timeout = 15;
  {
    std::lock_guard lock(mutex_);
    san.session_id = next_session_++;
    for (const auto& name : databases) {
      for (const auto& store : config_.stores) {
        if (store.name == name) {
          san.syncs.push_back(
              {protocol::SyncType::kTwoWay, protocol::san_content_type(store.content_type), store.name});
        }
      }
    }
    timeout = config_.notify.webhook_timeout_seconds;
  }
  if (san.syncs.empty()) return Status::ok();  // every datastore left the configuration
  // The digest's credential is the user's syncml:auth-md5 secret; the device's
  // notification nonce is not known here: empty, as `conflux notify` does.
  auto credential = credential_(UserId(push.user));
  if (!credential) return credential.error();
  auto bytes = protocol::encode_san(san, *credential, "");
  if (!bytes) return bytes.error();
  std::string what;
  for (const auto& s : san.syncs) what += (what.empty() ? "" : ", ") + s.server_uri;
  if (!push.url.empty()) {
    PostOptions options;
    options.timeout_seconds = timeout;
    auto response = http_post(push.url, {std::string("Content-Type: ") + kSanContentType}, *bytes, options);
    if (!response) return response.error();
    if (response->status < 200 || response->status >= 300) {
      return Status::unavailable("POST " + push.url + ": HTTP " + std::to_string(response->status));
    }
    logger("notify")->info("server alerted sync of {} sent to device '{}' of user '{}' ({})", what, push.device,
                           push.user, push.url);
    return Status::ok();
  }
  CFX_RETURN_IF_ERROR(send_udp(push.wap_push, wsp_push_pdu(static_cast<uint8_t>(san.session_id), *bytes)));
  logger("notify")->info("server alerted sync of {} sent to device '{}' of user '{}' (WAP Push to {})", what,
                         push.device, push.user, push.wap_push);
  return Status::ok();
}

void SanNotifier::start() {
  if (thread_.joinable()) return;
  thread_ = std::jthread([this](const std::stop_token& stop) {
    while (!stop.stop_requested()) {
      send_due(clock_.now_seconds());
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, stop, std::chrono::seconds(1), [] { return false; });
    }
  });
}

}  // namespace conflux::notify
