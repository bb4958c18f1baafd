// conflux — the SyncML server and its administration commands. Each command
// group lives in its own file (cli/command.h lists them).
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/command.h"
#include "common/log.h"
#include "common/log_context.h"

int main(int argc, char** argv) {
  using namespace conflux;
  CLI::App app{"Conflux — a SyncML / OMA DS synchronization server"};
  app.require_subcommand(0, 1);
  app.set_version_flag("--version", std::string("conflux ") + CONFLUX_VERSION + " (" + CONFLUX_GIT_COMMIT + ")");
  app.fallthrough();  // the global options work after the subcommand too: `conflux serve --config FILE`
  app::Context ctx;
  app.add_option("-c,--config", ctx.config_path, "TOML configuration file (default: built-in defaults)")
      ->envname("CONFLUX_CONFIG");
  app.add_option("-d,--data-dir", ctx.data_dir, "data directory (overrides storage.data_dir)")
      ->envname("CONFLUX_DATA_DIR");
  app.add_option("--log-level", ctx.log_level, "trace, debug, info, warn, error or off (overrides log.level)");

  app::register_server_commands(app, ctx);
  app::register_user_commands(app, ctx);
  app::register_store_commands(app, ctx);
  app::register_conflict_commands(app, ctx);
  app::register_session_commands(app, ctx);
  app::register_cache_commands(app, ctx);
  app::register_notify_command(app, ctx);
  app::register_conformance_command(app, ctx);
  app::register_webhook_commands(app, ctx);
  app::register_held_commands(app, ctx);
  app::register_history_commands(app, ctx);
  app::register_token_commands(app, ctx);
  app::register_device_commands(app, ctx);
  app::register_export_command(app, ctx);
  app::register_import_command(app, ctx);
  app::register_doctor_command(app, ctx);

  CLI11_PARSE(app, argc, argv);

  if (!ctx.action) {
    // No command chosen (`conflux`, `conflux user`): the help of the deepest
    // one named, which lists what can follow.
    const CLI::App* named = &app;
    while (!named->get_subcommands().empty()) named = named->get_subcommands().front();
    std::cout << named->help();
    return 1;
  }
  auto cfg = ctx.read_config();
  if (!cfg) return app::fail(cfg.error().message());
  set_log_level(cfg->log.level);
  set_log_format(cfg->log.format);
  return ctx.action(*cfg);
}
