// conflux — the SyncML server and its administration commands.
#include <termios.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <iostream>
#include <optional>

#include "cli/cache_admin.h"
#include "cli/conflicts.h"
#include "cli/held.h"
#include "cli/history.h"
#include "cli/notify.h"
#include "cli/serve.h"
#include "cli/sessions.h"
#include "cli/services.h"
#include "common/log.h"
#include "config/config.h"

namespace {

using namespace conflux;

int fail(const std::string& message) {
  std::cerr << "conflux: " << message << "\n";
  return 1;
}

// Reads a password from stdin: one line, without echo when stdin is a terminal.
std::string read_password(const std::string& prompt) {
  const bool tty = isatty(STDIN_FILENO);
  termios saved{};
  if (tty) {
    std::cerr << prompt << std::flush;
    tcgetattr(STDIN_FILENO, &saved);
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::string password;
  std::getline(std::cin, password);
  if (tty) {
    tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    std::cerr << "\n";
  }
  if (!password.empty() && password.back() == '\r') password.pop_back();
  return password;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Conflux — a SyncML / OMA DS synchronization server"};
  app.require_subcommand(1);
  std::string config_path, data_dir, log_level;
  app.add_option("-c,--config", config_path, "TOML configuration file (default: built-in defaults)");
  app.add_option("-d,--data-dir", data_dir, "data directory (overrides storage.data_dir)");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off (overrides log.level)");

  auto* serve = app.add_subcommand("serve", "run the SyncML server until SIGTERM/SIGINT");
  std::string listen;
  int port = -1;
  serve->add_option("--listen", listen, "address to listen on (overrides server.listen)");
  serve->add_option("--port", port, "TCP port, 0 for any free one (overrides server.port)")->check(CLI::Range(0, 65535));

  auto* check = app.add_subcommand("check-config", "validate the configuration and exit");
  auto* reload = app.add_subcommand("reload", "make the running server re-read its configuration (SIGHUP)");

  auto* user = app.add_subcommand("user", "manage user accounts");
  user->require_subcommand(1);
  std::string user_name;
  std::vector<std::string> user_access;
  const char* access_help = "STORE=KIND (read-write, read-only, unrestricted-read, or default to follow the "
                            "store's access); repeatable";
  auto* user_add = user->add_subcommand("add", "add a user; the password is read from stdin");
  user_add->add_option("name", user_name, "user name")->required();
  user_add->add_option("--access", user_access, access_help);
  auto* user_set = user->add_subcommand("set", "change a user's settings");
  user_set->add_option("name", user_name, "user name")->required();
  user_set->add_option("--access", user_access, access_help)->required();
  auto* user_list = user->add_subcommand("list", "list user names");
  auto* user_passwd = user->add_subcommand("passwd", "set a user's password, read from stdin");
  user_passwd->add_option("name", user_name, "user name")->required();
  auto* user_remove = user->add_subcommand("remove", "remove a user (their items stay in the stores)");
  user_remove->add_option("name", user_name, "user name")->required();

  auto* store = app.add_subcommand("store", "inspect datastores");
  store->require_subcommand(1);
  auto* store_list = store->add_subcommand("list", "list the configured datastores");

  auto* conflicts = app.add_subcommand("conflicts", "see and settle sync conflicts");
  conflicts->require_subcommand(1);
  std::string conflict_user;
  bool conflict_all = false;
  int64_t conflict_id = 0;
  std::string keep_side;
  auto* conflicts_list = conflicts->add_subcommand("list", "list open conflicts, newest first");
  conflicts_list->add_option("--user", conflict_user, "only this user's");
  conflicts_list->add_flag("--all", conflict_all, "resolved ones too");
  auto* conflicts_show = conflicts->add_subcommand("show", "show both versions of a conflict");
  conflicts_show->add_option("id", conflict_id, "conflict id")->required();
  auto* conflicts_resolve = conflicts->add_subcommand("resolve", "keep one version; every device gets it");
  conflicts_resolve->add_option("id", conflict_id, "conflict id")->required();
  conflicts_resolve->add_option("--keep", keep_side, "server or device")
      ->required()
      ->check(CLI::IsMember({"server", "device"}));

  auto* sessions = app.add_subcommand("sessions", "reports of completed sync sessions");
  sessions->require_subcommand(1);
  std::string session_user, session_key;
  int session_limit = 50;
  auto* sessions_list = sessions->add_subcommand("list", "one line per datastore of each session, newest first");
  sessions_list->add_option("--user", session_user, "only this user's");
  sessions_list->add_option("--limit", session_limit, "at most this many lines")->check(CLI::Range(1, 100000));
  auto* sessions_show = sessions->add_subcommand("show", "the report of one session");
  sessions_show->add_option("session", session_key, "session id (as listed)")->required();

  auto* cache = app.add_subcommand("cache", "the persistent cache's replication queue");
  cache->require_subcommand(1);
  int64_t queue_entry = 0;
  auto* cache_status = cache->add_subcommand("status", "per cached datastore: queued, lag, stuck, tombstones");
  auto* cache_stuck = cache->add_subcommand("stuck", "queue entries the Cache Monitor gave up on");
  auto* cache_retry = cache->add_subcommand("retry", "try a stuck queue entry again");
  cache_retry->add_option("id", queue_entry, "queue entry id (as listed)")->required();
  auto* cache_drop = cache->add_subcommand("drop", "take an entry out of the queue, keeping its content on record");
  cache_drop->add_option("id", queue_entry, "queue entry id (as listed)")->required();
  auto* cache_dropped = cache->add_subcommand("dropped", "entries dropped so far, with their content");

  auto* notify = app.add_subcommand("notify", "write a Server Alerted Notification asking a device to sync");
  app::NotifyRequest notify_request;
  notify->add_option("--user", notify_request.user, "the device's user")->required();
  notify->add_option("--device", notify_request.device, "device id (as it syncs)")->required();
  notify->add_option("--store", notify_request.store, "datastore to sync")->required();
  notify->add_option("--type", notify_request.type, "sync type")
      ->check(CLI::IsMember({"two-way", "one-way-from-client", "refresh-from-client", "one-way-from-server",
                             "refresh-from-server"}));
  notify->add_option("--out", notify_request.out, "file to write the notification to")->required();
  notify->add_option("--server-id", notify_request.server_id, "server id in the device's profile (default: user)");
  notify->add_option("--nonce", notify_request.nonce, "the device's notification nonce (default: empty)");
  notify->add_option("--session", notify_request.session_id, "SessionID the device should use")
      ->check(CLI::Range(0, 65535));

  app::HeldCommand held;
  app::add_held_command(app, held);
  app::HistoryCommands history;
  app::add_history_commands(app, history);

  CLI11_PARSE(app, argc, argv);

  // The file (or the defaults) with the command line's overrides; the server
  // reads it again the same way on reload.
  auto read_config = [&]() -> Result<config::Config> {
    auto loaded = config_path.empty() ? Result<config::Config>(config::default_config())
                                      : config::load_config_file(config_path);
    if (!loaded) return loaded.error();
    config::Config cfg = std::move(*loaded);
    if (!data_dir.empty()) cfg.data_dir = std::filesystem::absolute(data_dir);
    if (!log_level.empty()) {
      cfg.log.level = log_level;
    } else if (!serve->parsed()) {
      cfg.log.level = "warn";  // admin commands print their result, not the server's chatter
    }
    if (!listen.empty()) cfg.server.listen = listen;
    if (port >= 0) cfg.server.port = static_cast<uint16_t>(port);
    const bool known_level = spdlog::level::from_str(cfg.log.level) != spdlog::level::off || cfg.log.level == "off";
    if (!known_level) return Status::invalid_argument("unknown log level '" + cfg.log.level + "'");
    return cfg;
  };
  auto loaded = read_config();
  if (!loaded) return fail(loaded.error().message());
  config::Config cfg = std::move(*loaded);
  set_log_level(cfg.log.level);

  if (serve->parsed()) return app::serve(cfg, read_config);

  if (reload->parsed()) {
    if (auto st = app::signal_reload(cfg.data_dir); !st.is_ok()) return fail(st.message());
    std::cout << "asked the server to reload its configuration; its log says what changed\n";
    return 0;
  }

  if (notify->parsed()) {
    auto services = app::Services::open_accounts(cfg);
    if (!services) return fail(services.error().message());
    return app::notify(**services, notify_request);
  }

  if (sessions->parsed()) {
    auto services = app::Services::open_accounts(cfg);
    if (!services) return fail(services.error().message());
    if (sessions_list->parsed()) return app::sessions_list(**services, session_user, session_limit);
    return app::sessions_show(**services, session_key);
  }

  if (cache->parsed()) {
    auto services = app::Services::open_all(cfg);
    if (!services) return fail(services.error().message());
    if (cache_status->parsed()) return app::cache_status(**services);
    if (cache_stuck->parsed()) return app::cache_stuck(**services);
    if (cache_retry->parsed()) return app::cache_retry(**services, queue_entry);
    if (cache_drop->parsed()) return app::cache_drop(**services, queue_entry);
    if (cache_dropped->parsed()) return app::cache_dropped(**services);
  }

  if (held.held->parsed()) return app::run_held(held, cfg);
  if (app::history_parsed(history)) return app::run_history(history, cfg);

  if (conflicts->parsed()) {
    auto services = app::Services::open_all(cfg);
    if (!services) return fail(services.error().message());
    if (conflicts_list->parsed()) return app::conflicts_list(**services, conflict_user, conflict_all);
    if (conflicts_show->parsed()) return app::conflicts_show(**services, conflict_id);
    return app::conflicts_resolve(**services, conflict_id,
                                  keep_side == "server" ? app::Keep::kServer : app::Keep::kClient);
  }

  if (check->parsed() || store_list->parsed()) {
    auto services = app::Services::open_all(cfg);
    if (!services) return fail(services.error().message());
    if (check->parsed()) {
      std::cout << "configuration is valid; data directory " << cfg.data_dir << "\n";
      return 0;
    }
    for (const auto& s : (*services)->registry.stores()) {
      std::cout << s.name << "\tadapter=" << s.adapter << "\tformat=" << s.content_type
                << (s.content_version.empty() ? "" : " " + s.content_version)
                << "\taccess=" << caf::token_kind_name(s.access) << "\tlogin=" << caf::backend_login_name(s.login)
                << "\n";
    }
    return 0;
  }

  auto services = app::Services::open_accounts(cfg);
  if (!services) return fail(services.error().message());
  auto& users = *(*services)->users;
  const UserId name(user_name);
  // --access STORE=KIND, checked before anything is written.
  std::vector<std::pair<std::string, std::optional<caf::TokenKind>>> access;
  for (const auto& entry : user_access) {
    auto eq = entry.find('=');
    std::string store_name = entry.substr(0, eq);
    std::string kind_name = eq == std::string::npos ? "" : entry.substr(eq + 1);
    auto kind = caf::parse_token_kind(kind_name);
    if (store_name.empty() || (!kind && kind_name != "default")) {
      return fail("--access " + entry + ": expected STORE=read-write|read-only|unrestricted-read|default");
    }
    bool configured = std::any_of(cfg.stores.begin(), cfg.stores.end(),
                                  [&](const caf::StoreSettings& st) { return st.name == store_name; });
    if (!configured) return fail("--access " + entry + ": no datastore '" + store_name + "' is configured");
    access.emplace_back(store_name, kind);
  }
  auto set_access = [&]() -> int {
    for (const auto& [store_name, kind] : access) {
      if (auto st = users.set_access(name, store_name, kind); !st.is_ok()) return fail(st.message());
      std::cout << user_name << ": " << store_name << " " << (kind ? caf::token_kind_name(*kind) : "as configured")
                << "\n";
    }
    return 0;
  };
  if (user_add->parsed()) {
    std::string password = read_password("password for " + user_name + ": ");
    if (auto st = users.add(name, password); !st.is_ok()) return fail(st.message());
    std::cout << "added user " << user_name << "\n";
    return set_access();
  } else if (user_set->parsed()) {
    return set_access();
  } else if (user_passwd->parsed()) {
    std::string password = read_password("new password for " + user_name + ": ");
    if (auto st = users.set_password(name, password); !st.is_ok()) return fail(st.message());
    std::cout << "password changed for " << user_name << "\n";
  } else if (user_remove->parsed()) {
    if (auto st = users.remove(name); !st.is_ok()) return fail(st.message());
    std::cout << "removed user " << user_name << "\n";
  } else if (user_list->parsed()) {
    auto names = users.list();
    if (!names) return fail(names.error().message());
    for (const auto& n : *names) std::cout << n << "\n";
  }
  return 0;
}
