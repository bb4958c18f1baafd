#include "notify/webhooks.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <optional>

#include "common/base64.h"
#include "common/log.h"
#include "notify/http_post.h"
#include "notify/webhook_signature.h"

namespace conflux::notify {
namespace {

// Messages claimed per round; the lease covers sending all of them.
constexpr int kClaimBatch = 8;

std::string iso8601(int64_t unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

bool covers(const config::WebhookConfig& hook, const caf::ChangeEvent& event) {
  return (hook.user.empty() || hook.user == event.user.str()) && (hook.store.empty() || hook.store == event.database);
}

}  // namespace

int64_t retry_delay(const std::vector<int64_t>& schedule, size_t failures, std::optional<int64_t> retry_after) {
  if (schedule.empty()) return 0;
  const int64_t scheduled = schedule[std::min(failures, schedule.size() - 1)];
  if (!retry_after) return scheduled;
  const int64_t longest = *std::max_element(schedule.begin(), schedule.end());
  return std::max(scheduled, std::min(*retry_after, longest));
}

std::string webhook_event_body(const caf::ChangeEvent& event, int64_t at) {
  nlohmann::json changes = nlohmann::json::array();
  for (size_t i = 0; i < event.items.size() && i < WebhookNotifier::kMaxListedItems; ++i) {
    changes.push_back({{"action", caf::action_name(event.items[i].action)}, {"id", event.items[i].guid.str()}});
  }
  nlohmann::json data = {{"user", event.user.str()},
                         {"datastore", event.database},
                         {"source", caf::change_source_name(event.source)},
                         {"count", event.items.size()},
                         {"truncated", event.items.size() > WebhookNotifier::kMaxListedItems},
                         {"changes", std::move(changes)}};
  if (event.source == caf::ChangeSource::kDevice) data["device"] = event.device.str();
  return nlohmann::json{{"type", "datastore.changed"}, {"timestamp", iso8601(at)}, {"data", std::move(data)}}.dump();
}

WebhookNotifier::WebhookNotifier(Outbox& outbox, const Clock& clock, std::string node, const config::Config& config,
                                 SubscriptionStore* subscriptions, Poster poster)
    : outbox_(outbox),
      clock_(clock),
      node_(std::move(node)),
      subscriptions_(subscriptions),
      poster_(std::move(poster)),
      jitter_(std::random_device{}()) {
  set_config(config);
}

WebhookNotifier::~WebhookNotifier() {
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
}

void WebhookNotifier::set_config(const config::Config& config) {
  std::lock_guard lock(config_mutex_);
  webhooks_ = config.webhooks;
  settings_ = config.notify;
  gone_.clear();
  // Checked when the configuration was read: the networks parse.
  auto allowed = IpNetworks::parse(config.notify.subscription_allowed_networks);
  guard_ = std::make_shared<const AddressGuard>(allowed ? std::move(*allowed) : IpNetworks());
}

Status WebhookNotifier::check_subscription_url(const std::string& url) const {
  std::shared_ptr<const AddressGuard> guard;
  {
    std::lock_guard lock(config_mutex_);
    guard = guard_;
  }
  return guard->check_url(url);
}

void WebhookNotifier::on_change(const caf::ChangeEvent& event) {
  std::vector<OutboxMessage> messages;
  const int64_t now = clock_.now_seconds();
  {
    std::lock_guard lock(config_mutex_);
    for (const auto& hook : webhooks_) {
      if (!covers(hook, event) || gone_.contains(hook.name)) continue;
      OutboxMessage m;
      m.id = "msg_" + random_hex(16);
      m.target = hook.name;
      m.created_at = now;
      messages.push_back(std::move(m));
    }
  }
  if (subscriptions_) {
    auto own = subscriptions_->of_user(event.user.str());
    if (!own) {
      logger("notify")->error("the webhook subscriptions of user '{}' could not be read; datastore '{}' changed: {}",
                              event.user.str(), event.database, own.error().to_string());
    } else {
      for (const auto& subscription : *own) {
        if (!subscription.covers(event.user.str(), event.database)) continue;
        OutboxMessage m;
        m.id = "msg_" + random_hex(16);
        m.target = kSubscriptionTargetPrefix + subscription.id;
        m.created_at = now;
        messages.push_back(std::move(m));
      }
    }
  }
  if (messages.empty()) return;
  const std::string body = webhook_event_body(event, now);  // one event, the same to every subscriber
  for (auto& m : messages) m.body = body;
  if (auto st = outbox_.enqueue(messages); !st.is_ok()) {
    // The change itself is done; only its notification is lost.
    logger("notify")->error("{} webhook event(s) for user '{}' datastore '{}' could not be queued: {}", messages.size(),
                            event.user.str(), event.database, st.to_string());
    return;
  }
  counters_.enqueued += static_cast<int64_t>(messages.size());
  {
    std::lock_guard lock(wake_mutex_);
    woken_ = true;
  }
  wake_.notify_all();
}

Result<int> WebhookNotifier::deliver_once() {
  int timeout = 0;
  {
    std::lock_guard lock(config_mutex_);
    timeout = settings_.webhook_timeout_seconds;
  }
  const int64_t now = clock_.now_seconds();
  auto claimed = outbox_.claim_due(node_, now, int64_t{kClaimBatch} * timeout + 30, kClaimBatch);
  if (!claimed) return claimed.error();
  int delivered = 0;
  for (const auto& message : *claimed) delivered += deliver(message, clock_.now_seconds()) ? 1 : 0;
  return delivered;
}

void WebhookNotifier::drop(const OutboxMessage& message, const std::string& why) {
  if (auto st = outbox_.delivered(message, node_); !st.is_ok()) {
    logger("notify")->warn("webhook {}: could not be removed from the outbox: {}", message.id, st.to_string());
    return;
  }
  logger("notify")->info("webhook {} dropped: {}", message.id, why);
}

bool WebhookNotifier::deliver(const OutboxMessage& message, int64_t now) {
  auto log = logger("notify");
  std::optional<Target> hook;
  bool gone = false;
  std::vector<int64_t> schedule;
  PostOptions post;
  std::shared_ptr<const AddressGuard> guard;
  {
    std::lock_guard lock(config_mutex_);
    for (const auto& h : webhooks_) {
      if (h.name == message.target) hook = Target{h.name, h.url, h.secret, std::nullopt};
    }
    gone = gone_.contains(message.target);
    schedule = settings_.webhook_retry_seconds;
    post.timeout_seconds = settings_.webhook_timeout_seconds;
    guard = guard_;
  }
  if (message.target.starts_with(kSubscriptionTargetPrefix) && subscriptions_) {
    const std::string id = message.target.substr(std::string_view(kSubscriptionTargetPrefix).size());
    auto found = subscriptions_->find(id);
    if (!found) {
      // Not known whether it still exists: try again later, as for a failed POST.
      log->warn("webhook {}: subscription {} could not be read: {}", message.id, id, found.error().to_string());
      if (auto st = outbox_.failed(message, node_, now + retry_delay(schedule, 0, std::nullopt), false,
                                   found.error().message());
          !st.is_ok()) {
        log->warn("webhook {}: recording the failed attempt failed: {}", message.id, st.to_string());
      }
      return false;
    }
    if (!*found) {
      drop(message, "subscription " + id + " was deleted");
      return false;
    }
    hook = Target{id, (*found)->url, (*found)->secret, **found};
    // Checked again on the address connected to (a name may resolve elsewhere now).
    post.refuse_address = [guard](const std::string& address) { return guard->refusal(address); };
  }
  std::string error;
  std::optional<int64_t> retry_after;
  if (!hook) {
    error = "webhook '" + message.target + "' is no longer configured";
  } else if (gone) {
    error = "webhook '" + message.target + "' is disabled: its receiver answered 410 Gone";
  } else {
    auto signature = sign_webhook(hook->secret, message.id, now, message.body);
    if (!signature) {
      error = signature.error().message();
    } else {
      auto response = poster_(hook->url,
                              {"Content-Type: application/json", "webhook-id: " + message.id,
                               "webhook-timestamp: " + std::to_string(now), "webhook-signature: " + *signature},
                              message.body, post);
      if (response && response->status >= 200 && response->status < 300) {
        ++counters_.delivered;
        if (auto st = outbox_.delivered(message, node_); !st.is_ok()) {
          // Sent but still in the outbox: it goes again; receivers dedupe on webhook-id.
          log->warn("webhook {} to '{}' delivered but not removed from the outbox: {}", message.id, hook->name,
                    st.to_string());
        }
        log->info("webhook {} delivered to '{}' ({})", message.id, hook->name, response->status);
        return true;
      }
      if (!response) {
        error = response.error().message();
      } else {
        error = "HTTP " + std::to_string(response->status);
        if (response->status == 429 || response->status == 503) {
          retry_after = retry_after_seconds(response->retry_after, now);
          if (retry_after) error += " (Retry-After: " + response->retry_after + ")";
        } else if (response->status == 410 && hook->subscription) {
          const UserSubscription& subscription = *hook->subscription;
          auto removed = subscriptions_->remove(subscription.user, subscription.id);
          log->warn("webhook subscription {} of user '{}': the receiver answered 410 Gone; {}", subscription.id,
                    subscription.user,
                    removed ? "the subscription is deleted" : "deleting it failed: " + removed.error().to_string());
          drop(message, "its receiver is gone");
          return false;
        } else if (response->status == 410) {
          // Logged once: the subscription's later messages are not sent.
          gone = true;
          std::lock_guard lock(config_mutex_);
          gone_.insert(hook->name);
          log->error(
              "webhook '{}': the receiver {} answered 410 Gone; the subscription is disabled until the "
              "configuration is reloaded, and its messages are kept as dead letters (`conflux webhooks failed`)",
              hook->name, hook->url);
        }
      }
    }
  }
  ++counters_.failed;
  // attempts counts earlier failures: this one is number attempts + 1, and
  // schedule[attempts] is the wait before the next.
  const size_t failures = static_cast<size_t>(message.attempts);
  const bool dead = !hook || gone || failures >= schedule.size();
  int64_t next = now;
  if (!dead) {
    const int64_t delay = retry_delay(schedule, failures, retry_after);
    std::lock_guard lock(config_mutex_);
    next = now + delay + static_cast<int64_t>(jitter_() % static_cast<uint64_t>(schedule[failures] / 10 + 1));
  }
  if (auto st = outbox_.failed(message, node_, next, dead, error); !st.is_ok()) {
    log->warn("webhook {}: recording the failed attempt failed: {}", message.id, st.to_string());
  }
  if (dead) {
    ++counters_.dead;
    log->error("webhook {} to '{}' given up after {} attempts ({}); `conflux webhooks retry {}` sends it again",
               message.id, message.target, failures + 1, error, message.id);
  } else {
    log->warn("webhook {} to '{}' failed ({}); retry {} of {} in {} s", message.id, message.target, error, failures + 1,
              schedule.size(), next - now);
  }
  return false;
}

void WebhookNotifier::start() {
  if (thread_.joinable()) return;
  thread_ = std::jthread([this](const std::stop_token& stop) {
    while (!stop.stop_requested()) {
      if (auto done = deliver_once(); !done) {
        logger("notify")->warn("webhook outbox: {}", done.error().to_string());
      }
      std::unique_lock lock(wake_mutex_);
      wake_.wait_for(lock, stop, std::chrono::seconds(1), [this] { return woken_; });
      woken_ = false;
    }
  });
}

}  // namespace conflux::notify
