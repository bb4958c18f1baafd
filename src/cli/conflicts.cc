#include "cli/conflicts.h"

#include <iostream>

#include "cli/command.h"
#include "engine/conflict_settle.h"

namespace conflux::app {

int conflicts_list(Services& s, const std::string& user, bool include_resolved) {
  auto records = s.state->conflicts(UserId(user), include_resolved);
  if (!records) return fail(records.error().message());
  if (!records->empty()) std::cout << "id\twhen (UTC)\tuser\tdatastore\tdevice\tpolicy\tstate\toutcome\n";
  for (const auto& r : *records) {
    std::cout << r.id << "\t" << when(r.created_at) << "\t" << r.where.user.str() << "\t" << r.where.database << "\t"
              << r.where.device.str() << "\t" << r.policy << (r.resolved ? "\tresolved" : "\topen") << "\t" << r.outcome
              << "\n";
  }
  return 0;
}

int conflicts_show(Services& s, int64_t id) {
  auto record = s.state->conflict(id);
  if (!record) return fail(record.error().message());
  if (!record->has_value()) return fail("no conflict " + std::to_string(id));
  const auto& r = **record;
  std::cout << "conflict " << r.id << " (" << (r.resolved ? "resolved" : "open") << ")\n"
            << "when:      " << when(r.created_at) << " UTC\n"
            << "user:      " << r.where.user.str() << "\n"
            << "datastore: " << r.where.database << "\n"
            << "device:    " << r.where.device.str() << " (item " << r.luid.str() << ")\n"
            << "item:      " << r.guid.str() << "\n"
            << "policy:    " << r.policy << "\n"
            << "outcome:   " << r.outcome << "\n"
            << "--- server version (" << (r.server_data.empty() ? "deleted" : r.server_type) << ")\n"
            << r.server_data << (r.server_data.empty() || r.server_data.back() == '\n' ? "" : "\n")
            << "--- device version (" << (r.client_data.empty() ? "deleted" : r.client_type) << ")\n"
            << r.client_data << (r.client_data.empty() || r.client_data.back() == '\n' ? "" : "\n");
  return 0;
}

int conflicts_resolve(Services& s, int64_t id, Keep keep, bool force) {
  auto record = s.state->conflict(id);
  if (!record) return fail(record.error().message());
  if (!record->has_value()) return fail("no conflict " + std::to_string(id));
  const auto& r = **record;
  // An administrator acts for the user: the CAF still scopes every call to them.
  const caf::Token token = s.tokens->issue(r.where.user, caf::TokenKind::kReadWrite);
  if (auto st =
          engine::settle_conflict(*s.state, *s.content, token, r,
                                  keep == Keep::kServer ? engine::KeptVersion::kServer : engine::KeptVersion::kDevice,
                                  force, "conflux conflicts resolve");
      !st.is_ok()) {
    return fail(st.message());
  }
  std::cout << "conflict " << id << " resolved: " << (keep == Keep::kServer ? "server" : "device")
            << " version kept; devices receive it at their next sync\n";
  return 0;
}

void register_conflict_commands(CLI::App& app, Context& ctx) {
  struct ConflictOptions {
    std::string user;
    bool all = false;
    bool force = false;
    int64_t id = 0;
    std::string keep;
  };
  auto opts = std::make_shared<ConflictOptions>();
  auto* conflicts = app.add_subcommand("conflicts", "see and settle sync conflicts");
  conflicts->require_subcommand(0, 1);

  auto* list = conflicts->add_subcommand("list", "list open conflicts, newest first");
  list->add_option("--user", opts->user, "only this user's");
  list->add_flag("--all", opts->all, "resolved ones too");
  set_action(list, ctx, [opts](const config::Config& cfg) {
    auto services = Services::open_all(cfg);
    if (!services) return fail(services.error().message());
    return conflicts_list(**services, opts->user, opts->all);
  });

  auto* show = conflicts->add_subcommand("show", "show both versions of a conflict");
  show->add_option("id", opts->id, "conflict id")->required();
  set_action(show, ctx, [opts](const config::Config& cfg) {
    auto services = Services::open_all(cfg);
    if (!services) return fail(services.error().message());
    return conflicts_show(**services, opts->id);
  });

  auto* resolve = conflicts->add_subcommand("resolve", "keep one version; every device gets it");
  resolve->add_option("id", opts->id, "conflict id")->required();
  resolve->add_option("--keep", opts->keep, "server or device")->required()->check(CLI::IsMember({"server", "device"}));
  resolve->add_flag("--force", opts->force, "settle a resolved conflict again, unless the item changed since");
  set_action(resolve, ctx, [opts](const config::Config& cfg) {
    auto services = Services::open_all(cfg);
    if (!services) return fail(services.error().message());
    return conflicts_resolve(**services, opts->id, opts->keep == "server" ? Keep::kServer : Keep::kClient, opts->force);
  });
}

}  // namespace conflux::app
