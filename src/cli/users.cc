// `conflux user add|set|list|passwd|remove`: the accounts devices log in with.
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <optional>

#include "cli/command.h"
#include "cli/serve.h"
#include "cli/services.h"

namespace conflux::app {
namespace {

// A new password: typed twice on a terminal, where a typo cannot be seen;
// kInvalidArgument when the two differ.
Result<std::string> read_new_password(const std::string& prompt) {
  std::string password = read_password(prompt);
  if (isatty(STDIN_FILENO) && read_password("again: ") != password) {
    return Status::invalid_argument("the two passwords differ; nothing changed");
  }
  return password;
}

using AccessChange = std::pair<std::string, std::optional<caf::TokenKind>>;

// --access STORE=KIND entries, checked against the configured stores before
// anything is written.
Result<std::vector<AccessChange>> parse_access(const config::Config& cfg, const std::vector<std::string>& entries) {
  std::vector<AccessChange> access;
  for (const auto& entry : entries) {
    auto eq = entry.find('=');
    std::string store_name = entry.substr(0, eq);
    std::string kind_name = eq == std::string::npos ? "" : entry.substr(eq + 1);
    auto kind = caf::parse_token_kind(kind_name);
    if (store_name.empty() || (!kind && kind_name != "default")) {
      return Status::invalid_argument("--access " + entry +
                                      ": expected STORE=read-write|read-only|unrestricted-read|default");
    }
    bool configured = std::any_of(cfg.stores.begin(), cfg.stores.end(),
                                  [&](const caf::StoreSettings& st) { return st.name == store_name; });
    if (!configured)
      return Status::invalid_argument("--access " + entry + ": no datastore '" + store_name + "' is configured");
    access.emplace_back(store_name, kind);
  }
  return access;
}

// Accounts live in the data directory: one no server uses is likely the
// wrong one (the devices would get 401), so say which it is.
void warn_without_server(const config::Config& cfg) {
  if (!server_running(cfg.data_dir)) {
    std::cerr << "conflux: note: no server runs with data directory " << cfg.data_dir
              << "; start it with the same --config/--data-dir\n";
  }
}

int set_access(store::UserAccounts& users, const std::string& user_name, const std::vector<AccessChange>& access) {
  for (const auto& [store_name, kind] : access) {
    if (auto st = users.set_access(UserId(user_name), store_name, kind); !st.is_ok()) return fail(st.message());
    std::cout << user_name << ": " << store_name << " " << (kind ? caf::token_kind_name(*kind) : "as configured")
              << "\n";
  }
  return 0;
}

}  // namespace

void register_user_commands(CLI::App& app, Context& ctx) {
  struct UserOptions {
    std::string name;
    std::vector<std::string> access;
  };
  auto opts = std::make_shared<UserOptions>();
  const char* access_help =
      "STORE=KIND (read-write, read-only, unrestricted-read, or default to follow the "
      "store's access); repeatable";

  auto* user = app.add_subcommand("user", "manage user accounts");
  user->require_subcommand(0, 1);

  auto* add = user->add_subcommand("add", "add a user; the password is read from stdin");
  add->add_option("name", opts->name, "user name")->required();
  add->add_option("--access", opts->access, access_help);
  set_action(add, ctx, [opts](const config::Config& cfg) {
    auto access = parse_access(cfg, opts->access);
    if (!access) return fail(access.error().message());
    auto services = Services::open_accounts(cfg);
    if (!services) return fail(services.error().message());
    warn_without_server(cfg);
    auto password = read_new_password("password for " + opts->name + ": ");
    if (!password) return fail(password.error().message());
    if (auto st = (*services)->users->add(UserId(opts->name), *password); !st.is_ok()) return fail(st.message());
    std::cout << "added user " << opts->name << "\n";
    return set_access(*(*services)->users, opts->name, *access);
  });

  auto* set = user->add_subcommand("set", "change a user's settings");
  set->add_option("name", opts->name, "user name")->required();
  set->add_option("--access", opts->access, access_help)->required();
  set_action(set, ctx, [opts](const config::Config& cfg) {
    auto access = parse_access(cfg, opts->access);
    if (!access) return fail(access.error().message());
    auto services = Services::open_accounts(cfg);
    if (!services) return fail(services.error().message());
    warn_without_server(cfg);
    // A store whose back end has the accounts (login = per-user) knows users
    // Conflux has none for; every other store needs a Conflux account.
    auto names = (*services)->users->list();
    if (!names) return fail(names.error().message());
    const bool has_account = std::find(names->begin(), names->end(), opts->name) != names->end();
    for (const auto& granted : *access) {
      // Not a structured binding: clang before 16 cannot capture one in a lambda.
      const std::string& store_name = granted.first;
      auto store = std::find_if(cfg.stores.begin(), cfg.stores.end(),
                                [&](const caf::StoreSettings& st) { return st.name == store_name; });
      if (!has_account && store->login != caf::BackendLogin::kPerUser) {
        return fail("no user '" + opts->name + "' (add it with `conflux user add " + opts->name + "`)");
      }
    }
    return set_access(*(*services)->users, opts->name, *access);
  });

  auto* list = user->add_subcommand("list", "list user names");
  set_action(list, ctx, [](const config::Config& cfg) {
    auto services = Services::open_accounts(cfg);
    if (!services) return fail(services.error().message());
    auto names = (*services)->users->list();
    if (!names) return fail(names.error().message());
    if (!names->empty()) std::cout << "user\n";
    for (const auto& n : *names) std::cout << n << "\n";
    return 0;
  });

  auto* passwd = user->add_subcommand("passwd", "set a user's password, read from stdin");
  passwd->add_option("name", opts->name, "user name")->required();
  set_action(passwd, ctx, [opts](const config::Config& cfg) {
    auto services = Services::open_accounts(cfg);
    if (!services) return fail(services.error().message());
    warn_without_server(cfg);
    auto password = read_new_password("new password for " + opts->name + ": ");
    if (!password) return fail(password.error().message());
    if (auto st = (*services)->users->set_password(UserId(opts->name), *password); !st.is_ok()) {
      return fail(st.message());
    }
    std::cout << "password changed for " << opts->name << "\n";
    return 0;
  });

  auto* remove = user->add_subcommand("remove", "remove a user (their items stay in the stores)");
  remove->add_option("name", opts->name, "user name")->required();
  set_action(remove, ctx, [opts](const config::Config& cfg) {
    auto services = Services::open_accounts(cfg);
    if (!services) return fail(services.error().message());
    warn_without_server(cfg);
    if (auto st = (*services)->users->remove(UserId(opts->name)); !st.is_ok()) return fail(st.message());
    std::cout << "removed user " << opts->name << "\n";
    return 0;
  });
}

}  // namespace conflux::app
