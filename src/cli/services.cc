#include "cli/services.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "adapters/builtin_adapters.h"
#include "cache/cached_adapter.h"
#include "cache/pg_cache_store.h"
#include "cache/sqlite_cache_store.h"
#include "caf/metered_adapter.h"
#include "cli/command.h"
#include "common/log.h"
#include "store/pg_history_store.h"
#include "store/pg_state_store.h"
#include "store/pg_user_store.h"
#include "store/sqlite_history_store.h"
#include "store/sqlite_state_store.h"
#include "store/user_store.h"

namespace conflux::app {

namespace {

// Devices' progress as the sync state store records it.
class StateStoreProgress final : public cache::DeviceProgress {
 public:
  explicit StateStoreProgress(store::StateStore& state) : state_(state) {}
  Result<std::vector<Anchor>> synced_anchors(const UserId& user, const std::string& database) override {
    return state_.server_anchors(user, database);
  }

 private:
  store::StateStore& state_;
};

// The persistent cache beside the state: <data_dir>/cache.db, or the tables
// of module "cache" in the PostgreSQL database the nodes share.
Result<std::shared_ptr<cache::CacheStore>> open_cache_store(const Services& s) {
  if (s.pg_db) {
    auto opened = cache::PgCacheStore::open(s.pg_db);
    if (!opened) return opened.error().with_context("storage.database (cache)");
    return std::shared_ptr<cache::CacheStore>(std::move(*opened));
  }
  auto opened = cache::SqliteCacheStore::open(s.config.data_dir + "/cache.db");
  if (!opened) return opened.error();
  return std::shared_ptr<cache::CacheStore>(std::move(*opened));
}

// Puts the persistent cache (open_cache_store) in front of every store with
// `cache = true` and prepares one MonitorThread for their monitors; the
// server starts it (admin commands share these services but do not replicate).
Status wrap_cached_stores(Services& s) {
  std::shared_ptr<cache::CacheStore>& cache_store = s.cache_store;
  auto monitors = std::make_unique<cache::MonitorThread>(s.clock);
  s.device_progress = std::make_unique<StateStoreProgress>(*s.state);
  const std::string node = node_id(s.config);
  for (const auto& store : s.config.stores) {
    // An unavailable store has no back end to replicate to or watch.
    if (!store.cache.enabled || !s.registry.unavailability(store.name).is_ok()) continue;
    if (!cache_store) {
      auto opened = open_cache_store(s);
      if (!opened) return opened.error();
      cache_store = std::move(*opened);
    }
    const cache::Trigger trigger = cache::Trigger::from_settings(store.cache);
    const bool push = store.cache.backend_monitor == caf::CacheSettings::BackendMonitor::kPush;
    cache::CacheMonitorOptions options;
    options.node_id = node;
    options.stuck_after_attempts = store.cache.stuck_after_attempts;
    options.tombstone_max_age_seconds = store.cache.tombstone_max_age_seconds;
    options.progress = s.device_progress.get();
    CFX_RETURN_IF_ERROR(s.registry.wrap_store(
        store.name,
        [&](const std::shared_ptr<caf::ContentAdapter>& backend) -> Result<std::shared_ptr<caf::ContentAdapter>> {
          if (push && (backend->caps() & caf::kCapChangeNotify) == 0) {
            return Status::invalid_argument("stores." + store.name + ".backend_monitor: adapter " + store.adapter +
                                            " cannot report changes; use \"poll\"");
          }
          auto backend_monitor = std::make_unique<cache::BackendMonitor>(
              cache_store, backend, store.name, store.content_type, store.cache.backend_poll_seconds,
              push ? cache::BackendMonitor::Policy::kPush : cache::BackendMonitor::Policy::kPoll);
          backend_monitor->set_change_events(&s.change_events);
          // Changes by others join the item history (opened after the stores).
          backend_monitor->on_folded([&s](const caf::StoreRef& ref, const std::vector<caf::ObservedChange>& changes) {
            if (s.history) s.history->record_observed(ref, changes);
          });
          monitors->add(std::make_unique<cache::CacheMonitor>(cache_store, backend, store.name, trigger,
                                                              s.clock.now_seconds(), options),
                        std::move(backend_monitor));
          return std::shared_ptr<caf::ContentAdapter>(
              std::make_shared<cache::CachedAdapter>(cache_store, backend, store.content_type, s.clock));
        }));
    logger("cache")->info("store '{}' cached in {} (node '{}'): trigger {}, back end {}polled every {} s", store.name,
                          cache_store->location(), node, trigger.describe(), push ? "watched and " : "",
                          store.cache.backend_poll_seconds);
  }
  if (monitors->size() == 0) return Status::ok();
  s.cache_monitors = std::move(monitors);
  return Status::ok();
}

// The ACL mode of each store against what its back end can do: per-user
// logins and a service account need a back end with accounts of its own.
Status check_backend_logins(const caf::BackendRegistry& registry) {
  for (const auto& store : registry.stores()) {
    if (!registry.unavailability(store.name).is_ok()) continue;  // its capabilities are unknown
    const bool own_accounts = registry.adapter_for(store.name)->caps() & caf::kCapOwnAccounts;
    const std::string key = "stores." + store.name + ".";
    if (store.login == caf::BackendLogin::kPerUser && !own_accounts) {
      return Status::invalid_argument(key +
                                      "login: per-user needs a back end with accounts of its own "
                                      "(accounts_file for sqlite and vdir)");
    }
    if (store.login == caf::BackendLogin::kService && own_accounts && store.service_user.empty()) {
      return Status::invalid_argument(key +
                                      "service_user: the back end has accounts of its own; "
                                      "name the service account CAF logs in with");
    }
    if (!store.service_user.empty() && !own_accounts) {
      return Status::invalid_argument(key + "service_user: the back end has no accounts of its own");
    }
  }
  return Status::ok();
}

}  // namespace

Result<caf::StoreRef> act_for_user(Services& s, const UserId& user, const std::string& store, caf::TokenKind kind,
                                   std::string origin) {
  const caf::StoreSettings* settings = s.registry.settings_for(store);
  if (!settings) return Status::not_found("no datastore '" + store + "' is configured (see `conflux store list`)");
  caf::StoreRef ref{user, store, s.tokens->issue(user, kind), std::nullopt, std::move(origin)};
  if (settings->login == caf::BackendLogin::kPerUser) {
    // The back end's own account of the user: only their password opens it.
    ref.credentials =
        caf::Credentials::with_password(user, read_password(user.str() + "'s password at " + store + ": "));
    return ref;
  }
  auto users = s.users->list();
  if (!users) return users.error();
  if (std::find(users->begin(), users->end(), user.str()) == users->end()) {
    return Status::not_found("no user '" + user.str() + "' (see `conflux user list`)");
  }
  return ref;
}

std::string node_id(const config::Config& config) {
  if (!config.node_id.empty()) return config.node_id;
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') return "localhost";
  return host;
}

Result<std::unique_ptr<Services>> Services::open_accounts(const config::Config& config) {
  auto s = std::make_unique<Services>();
  s->config = config;
  std::error_code ec;
  if (std::filesystem::create_directories(config.data_dir, ec)) {
    // Said, because a mistyped --data-dir otherwise makes a new, empty home
    // silently (and its users are not the server's).
    logger("store")->warn("created data directory {}", config.data_dir);
  }
  if (ec) {
    return config::locate(
        config, Status::unavailable("storage.data_dir: cannot create " + config.data_dir + ": " + ec.message()));
  }
  std::filesystem::permissions(config.data_dir, std::filesystem::perms::owner_all, ec);  // holds password hashes

  if (!config.database.empty()) {
    auto pg = PgDb::open(config.database,
                         PgDb::Options{.statement_timeout = std::chrono::seconds(config.statement_timeout_seconds)});
    if (!pg) return pg.error().with_context("storage.database");
    s->pg_db = std::move(*pg);
    auto state = store::PgStateStore::open(s->pg_db);
    if (!state) return state.error().with_context("storage.database (state)");
    s->state = std::move(*state);
    auto users = store::PgUserStore::open(s->pg_db);
    if (!users) return users.error().with_context("storage.database (users)");
    s->users = std::move(*users);
    logger("store")->info("state and users kept in {}", s->pg_db->display_uri());
    return s;
  }
  auto db = SqliteDb::open(config.data_dir + "/conflux.db");
  if (!db) return db.error().with_context("state database");
  s->state_db = std::move(*db);
  auto state = store::SqliteStateStore::open(s->state_db);
  if (!state) return state.error().with_context("state database");
  s->state = std::move(*state);
  auto users = store::UserStore::open(s->state_db);
  if (!users) return users.error().with_context("user database");
  s->users = std::move(*users);
  return s;
}

Result<std::unique_ptr<Services>> Services::open_all(const config::Config& config) {
  auto opened = open_accounts(config);
  if (!opened) return opened.error();
  auto& s = *opened;
  CFX_RETURN_IF_ERROR(adapters::register_builtin_adapters(s->registry));
  caf::AdapterEnv env{config.data_dir};
  // The adapters check their settings here, after loading: their errors get
  // the file and line of the key they name (config::locate).
  // A store whose adapter cannot be made (a bad value, its database down)
  // answers its devices "unavailable"; the others work meanwhile.
  for (const auto& store : config.stores) {
    const Status added = config::locate(config, s->registry.add_store(store, env));
    if (added.is_ok()) continue;
    if (added.code() == StatusCode::kAlreadyExists) return added;
    logger("caf")->error(
        "{}; datastore '{}' is unavailable (its devices get 503) until this is fixed and the "
        "server restarted",
        added.message(), store.name);
    CFX_RETURN_IF_ERROR(s->registry.add_unavailable_store(store, added));
  }
  // Each back end's failures count for /metrics; under the cache, so that
  // replication's count too.
  for (const auto& store : config.stores) {
    CFX_RETURN_IF_ERROR(s->registry.wrap_store(
        store.name, [&](std::shared_ptr<caf::ContentAdapter> backend) -> Result<std::shared_ptr<caf::ContentAdapter>> {
          return std::shared_ptr<caf::ContentAdapter>(
              std::make_shared<caf::MeteredAdapter>(std::move(backend), store.name, s->metrics));
        }));
  }
  CFX_RETURN_IF_ERROR(config::locate(config, wrap_cached_stores(*s)));
  CFX_RETURN_IF_ERROR(config::locate(config, check_backend_logins(s->registry)));

  auto secret = s->state->server_secret();
  if (!secret) return secret.error().with_context("token key");
  s->tokens = std::make_unique<caf::TokenService>(*secret, s->clock);
  s->content = std::make_unique<caf::ContentManager>(s->registry, *s->users, *s->tokens, s->clock);
  // The item history lives beside the state: conflux.db or PostgreSQL.
  if (s->state_db) {
    auto history = store::SqliteHistoryStore::open(s->state_db);
    if (!history) return history.error().with_context("item history");
    s->history_store = std::move(*history);
  } else {
    auto history = store::PgHistoryStore::open(s->pg_db);
    if (!history) return history.error().with_context("item history");
    s->history_store = std::move(*history);
  }
  s->history = std::make_unique<caf::HistoryRecorder>(*s->history_store, s->clock, s->registry.stores());
  s->content->set_history(s->history.get());
  s->content->set_change_events(&s->change_events);
  return std::move(s);
}

}  // namespace conflux::app
