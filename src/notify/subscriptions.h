// Webhook subscriptions that users make through the portal API
// (WebhookSubscription/set, docs/API.md), kept in the state database beside
// the outbox (module "notify": conflux.db, or the PostgreSQL database several
// servers share). Each is one user's, for some of that user's datastores;
// its secret is made by the server, shown to the user once, and kept so the
// server can sign. The WebhookNotifier queues their events in the same
// outbox as the configured [[webhooks]], under target kTargetPrefix + id.
//
// Threading: any method from any thread. Failures: kUnavailable when the
// database cannot be reached, kInternal otherwise.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/pg_db.h"
#include "common/sqlite_db.h"
#include "common/status.h"

namespace conflux::notify {

struct UserSubscription {
  std::string id;                       // "ws_" + 32 hex digits
  std::string user;                     // whose changes it gets
  std::vector<std::string> datastores;  // which of the user's datastores (at least one)
  std::string url;                      // http:// or https://
  std::string secret;                   // whsec_ + base64 of 32 random bytes
  int64_t created_at = 0;

  bool covers(const std::string& event_user, const std::string& datastore) const;
};

// The outbox's target of a user subscription's messages ("subscription:ws_…");
// a configured [[webhooks]] name may not start so.
inline constexpr const char* kSubscriptionTargetPrefix = "subscription:";

class SubscriptionStore {
 public:
  virtual ~SubscriptionStore() = default;

  virtual Status add(const UserSubscription& subscription) = 0;
  // A user's subscriptions, oldest first.
  virtual Result<std::vector<UserSubscription>> of_user(const std::string& user) = 0;
  // nullopt: no subscription `id`.
  virtual Result<std::optional<UserSubscription>> find(const std::string& id) = 0;
  // Removes `user`'s subscription `id`; false when the user has none so.
  virtual Result<bool> remove(const std::string& user, const std::string& id) = 0;
};

// A new subscription's id and secret (random, from OpenSSL).
std::string new_subscription_id();
std::string new_subscription_secret();

// Module "notify"'s tables in the state database the configuration chose:
// `pg` when it is set, else `sqlite`.
Result<std::unique_ptr<SubscriptionStore>> open_subscriptions(const std::shared_ptr<SqliteDb>& sqlite,
                                                              const std::shared_ptr<PgDb>& pg);

}  // namespace conflux::notify
