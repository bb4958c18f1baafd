// Webhooks (MISSION §6, issue #19): a consumer of the CAF's change events.
// For every batch of changes (a device's sync, the portal, the Back End
// Monitor) and every subscription that covers its user and datastore — the
// administrator's [[webhooks]], and the users' own (subscriptions.h, made
// through the portal API) — one JSON event goes into the persistent Outbox; a
// delivery
// thread POSTs due messages signed per Standard Webhooks (webhook-id,
// webhook-timestamp, webhook-signature), removes each on a 2xx answer and
// otherwise retries on [notify] webhook_retry_seconds (plus up to 10 %
// jitter), then keeps it as a dead letter (`conflux webhooks failed|retry`).
// The receiver's answer is honoured: a Retry-After on 429 or 503 puts the
// next attempt off that long (at most the schedule's longest wait); 410 Gone
// disables the subscription until the configuration is reloaded (its
// messages become dead letters, logged once); a user's subscription answered
// 410 is removed, with its messages. A user's subscription is only sent to
// addresses the AddressGuard lets through ([notify]
// subscription_allowed_networks), checked on the address connected to.
//
// The event body ("thin": at most kMaxListedItems ids):
//   {"type":"datastore.changed","timestamp":"2026-12-07T05:00:00Z",
//    "data":{"user":"alice","datastore":"contacts","source":"backend",
//            "device":"<only for source device>","count":2,"truncated":false,
//            "changes":[{"action":"create","id":"<cuid>"}, ...]}}
//
// Threading: on_change() from any thread (it writes the outbox and returns);
// deliver_once() from one thread at a time (start() runs it on its own);
// set_config() from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "caf/change_events.h"
#include "common/clock.h"
#include "config/config.h"
#include "notify/address_guard.h"
#include "notify/http_post.h"
#include "notify/outbox.h"
#include "notify/subscriptions.h"

namespace conflux::notify {

struct WebhookCounters {
  std::atomic<int64_t> enqueued{0};
  std::atomic<int64_t> delivered{0};
  std::atomic<int64_t> failed{0};  // attempts that failed (each retry counts)
  std::atomic<int64_t> dead{0};    // messages given up after the last retry
};

class WebhookNotifier {
 public:
  static constexpr size_t kMaxListedItems = 100;

  // Sends one request; http_post in production, a stand-in in unit tests.
  using Poster = std::function<Result<PostResponse>(const std::string& url, const std::vector<std::string>& headers,
                                                    const std::string& body, const PostOptions& options)>;

  // `node` names this server in the outbox's leases; `subscriptions` (may be
  // null: none) are the users' own and must outlive the notifier.
  WebhookNotifier(Outbox& outbox, const Clock& clock, std::string node, const config::Config& config,
                  SubscriptionStore* subscriptions = nullptr, Poster poster = &http_post);
  ~WebhookNotifier();
  WebhookNotifier(const WebhookNotifier&) = delete;
  WebhookNotifier& operator=(const WebhookNotifier&) = delete;

  // The subscriptions and retry schedule from a (re)loaded configuration;
  // re-enables the subscriptions a 410 Gone disabled.
  void set_config(const config::Config& config);

  // The CAF listener: one outbox message per matching subscription.
  void on_change(const caf::ChangeEvent& event);

  // Whether a user's subscription may send to `url` (AddressGuard::check_url
  // with the configured allowances).
  Status check_subscription_url(const std::string& url) const;

  // Claims the due messages and sends each once. Returns how many were
  // delivered; an error only when the outbox could not be read.
  Result<int> deliver_once();

  // Runs deliver_once every second, and at once after on_change, until the
  // notifier is destroyed. Again: nothing (it runs already).
  void start();

  const WebhookCounters& counters() const { return counters_; }

 private:
  // Where a message goes: a configured webhook or a user's subscription.
  struct Target {
    std::string name;  // for the log: the webhook's name or the subscription's id
    std::string url;
    std::string secret;
    std::optional<UserSubscription> subscription;  // a user's one
  };
  // Delivery of one claimed message; updates the outbox.
  bool deliver(const OutboxMessage& message, int64_t now);
  // A message whose user subscription is gone: removed from the outbox.
  void drop(const OutboxMessage& message, const std::string& why);

  Outbox& outbox_;
  const Clock& clock_;
  const std::string node_;
  SubscriptionStore* const subscriptions_;
  const Poster poster_;

  mutable std::mutex config_mutex_;
  std::vector<config::WebhookConfig> webhooks_;  // guarded by config_mutex_
  std::set<std::string> gone_;                   // guarded by config_mutex_: names answered 410 Gone
  std::shared_ptr<const AddressGuard> guard_;    // guarded by config_mutex_
  config::NotifyConfig settings_;                // guarded by config_mutex_
  std::mt19937_64 jitter_;                       // guarded by config_mutex_

  WebhookCounters counters_;
  std::mutex wake_mutex_;
  std::condition_variable_any wake_;
  bool woken_ = false;   // guarded by wake_mutex_
  std::jthread thread_;  // last: stopped and joined before the rest goes
};

// Seconds before the next attempt after `failures` earlier failures (0: the
// first attempt failed): the schedule's wait, or the receiver's Retry-After
// when that is longer, but never beyond the schedule's longest wait.
int64_t retry_delay(const std::vector<int64_t>& schedule, size_t failures, std::optional<int64_t> retry_after);

// The event's JSON body (see the header comment); `at` is Unix seconds.
std::string webhook_event_body(const caf::ChangeEvent& event, int64_t at);

}  // namespace conflux::notify
