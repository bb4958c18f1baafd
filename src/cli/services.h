// Everything a Conflux process needs, built once from a Config in the order
// the parts depend on each other: data directory → state database (users,
// sessions, maps, anchors) → Back End Registry with the configured datastores
// → tokens → Content Manager. The CLI's admin commands use the same parts.
#pragma once

#include <memory>

#include "cache/monitor_thread.h"
#include "caf/backend_registry.h"
#include "caf/change_events.h"
#include "caf/content_manager.h"
#include "caf/token_service.h"
#include "common/clock.h"
#include "common/metrics.h"
#include "common/pg_db.h"
#include "common/sqlite_db.h"
#include "config/config.h"
#include "notify/outbox.h"
#include "notify/san_push.h"
#include "notify/subscriptions.h"
#include "notify/webhooks.h"
#include "store/state_store.h"
#include "store/user_accounts.h"

namespace conflux::app {

struct Services {
  config::Config config;
  SystemClock clock;
  // The server's counters for /metrics; before the registry, whose metered
  // adapters count into it.
  Metrics metrics;
  // The state database: conflux.db (state_db), or PostgreSQL (pg_db) when
  // [storage] database names one; the other stays null.
  std::shared_ptr<SqliteDb> state_db;
  std::shared_ptr<PgDb> pg_db;
  std::unique_ptr<store::StateStore> state;
  std::unique_ptr<store::UserAccounts> users;
  caf::BackendRegistry registry;
  // The CAF's change events: the Content Manager and the Back End Monitors
  // publish, consumers (notifications) subscribe before serving starts.
  caf::ChangeEvents change_events;
  std::unique_ptr<caf::TokenService> tokens;
  // Every version of every item (caf/item_history.h), in the state database
  // (SQLite or PostgreSQL); the Content Manager records through `history`.
  std::unique_ptr<caf::HistoryStore> history_store;
  std::unique_ptr<caf::HistoryRecorder> history;
  std::unique_ptr<caf::ContentManager> content;
  // The persistent cache (<data_dir>/cache.db, or PostgreSQL with
  // `[storage] database`) when a store has `cache = true`.
  std::shared_ptr<cache::CacheStore> cache_store;
  // The engine's device anchors, for the cache's tombstone purge.
  std::unique_ptr<cache::DeviceProgress> device_progress;
  // Notifications (src/notify/), made by `serve` only; declared before the
  // monitors, which publish the change events they hear.
  std::unique_ptr<notify::Outbox> outbox;
  std::unique_ptr<notify::SubscriptionStore> subscriptions;  // users' own webhooks
  std::unique_ptr<notify::WebhookNotifier> webhooks;
  std::unique_ptr<notify::SanNotifier> san;
  // Cache and Back End Monitors of the stores with `cache = true`, started by
  // `serve` only; declared after the registry and the progress, so it stops
  // (joins) before they go.
  std::unique_ptr<cache::MonitorThread> cache_monitors;

  // Opens the state database only (user administration).
  static Result<std::unique_ptr<Services>> open_accounts(const config::Config& config);
  // Opens everything, adapters included (serving).
  static Result<std::unique_ptr<Services>> open_all(const config::Config& config);
};

// A StoreRef for an administrator acting for `user` on `store` (export,
// import): a token of `kind` for that user, so the CAF scopes every call to
// them as it does a device's. A store whose back end logs in per user needs
// the user's own password: it is read from stdin. kNotFound for a store that
// is not configured or a user Conflux does not know.
Result<caf::StoreRef> act_for_user(Services& services, const UserId& user, const std::string& store,
                                   caf::TokenKind kind, std::string origin);

// This server's name in the leases of shared queues (the cache's replication
// queue, the notification outbox): [storage] node_id, else the host name.
std::string node_id(const config::Config& config);

}  // namespace conflux::app
