// `conflux store list`: the configured datastores as the server opens them.
#include <iostream>

#include "cli/command.h"
#include "cli/services.h"

namespace conflux::app {

void register_store_commands(CLI::App& app, Context& ctx) {
  auto* store = app.add_subcommand("store", "inspect datastores");
  store->require_subcommand(0, 1);
  auto* list = store->add_subcommand("list", "list the configured datastores");
  set_action(list, ctx, [](const config::Config& cfg) {
    auto services = Services::open_all(cfg);
    if (!services) return fail(services.error().message());
    std::cout << "datastore\tadapter\tformat\taccess\tlogin\n";
    for (const auto& s : (*services)->registry.stores()) {
      std::cout << s.name << "\tadapter=" << s.adapter << "\tformat=" << s.content_type
                << (s.content_version.empty() ? "" : " " + s.content_version)
                << "\taccess=" << caf::token_kind_name(s.access) << "\tlogin=" << caf::backend_login_name(s.login)
                << "\n";
    }
    return 0;
  });
}

}  // namespace conflux::app
