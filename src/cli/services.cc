#include "cli/services.h"

#include <filesystem>

#include "adapters/builtin_adapters.h"

namespace conflux::app {

Result<std::unique_ptr<Services>> Services::open_accounts(const config::Config& config) {
  auto s = std::make_unique<Services>();
  s->config = config;
  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  if (ec) return Status::unavailable("cannot create data directory " + config.data_dir + ": " + ec.message());
  std::filesystem::permissions(config.data_dir, std::filesystem::perms::owner_all, ec);  // holds password hashes

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
  for (const auto& store : config.stores) CFX_RETURN_IF_ERROR(s->registry.add_store(store, env));

  auto secret = s->state->server_secret();
  if (!secret) return secret.error().with_context("token key");
  s->tokens = std::make_unique<caf::TokenService>(*secret, s->clock);
  s->content = std::make_unique<caf::ContentManager>(s->registry, *s->users, *s->tokens);
  return std::move(s);
}

}  // namespace conflux::app
