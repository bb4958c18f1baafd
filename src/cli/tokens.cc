// `conflux token create|list|revoke`: API tokens for programs, which call the
// portal's API with "Authorization: Bearer <token>". Only a token's hash is
// stored, so `create` is the one time it is shown.
#include <iostream>
#include <optional>

#include "cli/command.h"
#include "cli/services.h"

namespace conflux::app {

void register_token_commands(CLI::App& app, Context& ctx) {
  struct TokenOptions {
    std::string user;
    std::string name = "api";
    bool read_only = false;
    int64_t id = 0;
  };
  auto opts = std::make_shared<TokenOptions>();

  auto* token = app.add_subcommand("token", "manage API tokens for programs using the portal's API");
  token->require_subcommand(0, 1);

  auto* create = token->add_subcommand("create", "make a token for USER; it is printed once, on stdout");
  create->add_option("user", opts->user, "user name")->required();
  create->add_option("--name", opts->name, "what the token is for, shown by `token list` (default: api)");
  create->add_flag("--read-only", opts->read_only, "the token reads only, whatever the user may do");
  set_action(create, ctx, [opts](const config::Config& cfg) {
    auto services = Services::open_accounts(cfg);
    if (!services) return fail(services.error().message());
    auto made = (*services)->users->create_api_token(UserId(opts->user), opts->name, opts->read_only);
    if (!made) return fail(made.error().message());
    // Only the token on stdout, for TOKEN=$(conflux token create ...).
    std::cerr << "token " << made->info.id << " for " << opts->user << " ("
              << (opts->read_only ? "read-only" : "read-write") << "); it is not stored and will not be shown again:\n";
    std::cout << made->token << "\n";
    return 0;
  });

  auto* list = token->add_subcommand("list", "list the tokens (of USER, or everyone's); never the tokens themselves");
  list->add_option("user", opts->user, "user name");
  set_action(list, ctx, [opts](const config::Config& cfg) {
    auto services = Services::open_accounts(cfg);
    if (!services) return fail(services.error().message());
    auto tokens = (*services)->users->api_tokens(opts->user.empty() ? std::nullopt : std::optional(UserId(opts->user)));
    if (!tokens) return fail(tokens.error().message());
    if (tokens->empty()) {
      std::cout << "no API tokens\n";
      return 0;
    }
    std::cout << "id\tuser\taccess\tcreated\tname\n";
    for (const auto& t : *tokens) {
      std::cout << t.id << "\t" << t.user.str() << "\t" << (t.read_only ? "read-only" : "read-write") << "\t"
                << when(t.created_at) << "\t" << t.name << "\n";
    }
    return 0;
  });

  auto* revoke = token->add_subcommand("revoke", "revoke token ID; a running server refuses it from its next call on");
  revoke->add_option("id", opts->id, "the token's id, as `token list` shows it")->required();
  set_action(revoke, ctx, [opts](const config::Config& cfg) {
    auto services = Services::open_accounts(cfg);
    if (!services) return fail(services.error().message());
    if (auto st = (*services)->users->revoke_api_token(opts->id); !st.is_ok()) return fail(st.message());
    std::cout << "revoked token " << opts->id << "\n";
    return 0;
  });
}

}  // namespace conflux::app
