// How `conflux` is put together: main() owns the CLI::App and one Context;
// each command group adds its subcommands in a register_*_commands() function
// of its own file, and a chosen subcommand names what to run with
// set_action(). main() parses the command line, reads the configuration, then
// runs that action; with no action chosen it prints the help.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <string>

#include "config/config.h"

namespace conflux::app {

struct Context {
  // The global options; they go before or after the subcommand.
  std::string config_path;  // -c/--config, or CONFLUX_CONFIG
  std::string data_dir;     // -d/--data-dir, or CONFLUX_DATA_DIR
  std::string log_level;    // --log-level
  // `serve` logs at the configured level; an admin command prints its result,
  // not the server's chatter, so it logs warnings only unless --log-level says.
  bool server_log = false;
  // The chosen subcommand's own overrides (serve's --listen and --port),
  // applied by read_config() after the global options.
  std::function<void(config::Config&)> adjust;
  // What the chosen subcommand does, given the configuration; set by
  // set_action() when the command line names that subcommand.
  std::function<int(const config::Config&)> action;

  // The file (or the defaults) with the global options applied; `serve`
  // reads it again the same way on reload.
  Result<config::Config> read_config() const;
};

// Makes `command` the one to run when the command line names it.
void set_action(CLI::App* command, Context& ctx, std::function<int(const config::Config&)> action);

// Reads a password from stdin: one line, without echo when stdin is a
// terminal (then `prompt` is shown on stderr).
std::string read_password(const std::string& prompt);

// Prints "conflux: <message>" to stderr; returns the exit code 1.
int fail(const std::string& message);

// "YYYY-MM-DD HH:MM:SS" in UTC, for the admin commands' lists.
std::string when(int64_t unix_seconds);

// One function per command group, each in the file of that group.
void register_server_commands(CLI::App& app, Context& ctx);      // serve, check-config, reload (serve.cc)
void register_user_commands(CLI::App& app, Context& ctx);        // user ... (users.cc)
void register_store_commands(CLI::App& app, Context& ctx);       // store ... (stores.cc)
void register_conflict_commands(CLI::App& app, Context& ctx);    // conflicts ... (conflicts.cc)
void register_session_commands(CLI::App& app, Context& ctx);     // sessions ... (sessions.cc)
void register_cache_commands(CLI::App& app, Context& ctx);       // cache ... (cache_admin.cc)
void register_notify_command(CLI::App& app, Context& ctx);       // notify (notify.cc)
void register_conformance_command(CLI::App& app, Context& ctx);  // conformance (conformance.cc)
void register_webhook_commands(CLI::App& app, Context& ctx);     // webhooks ... (webhooks.cc)
void register_held_commands(CLI::App& app, Context& ctx);        // held ... (held.cc)
void register_history_commands(CLI::App& app, Context& ctx);     // history, restore (history.cc)
void register_token_commands(CLI::App& app, Context& ctx);       // token ... (tokens.cc)
void register_device_commands(CLI::App& app, Context& ctx);      // devices ... (devices.cc)
void register_export_command(CLI::App& app, Context& ctx);       // export (export.cc)
void register_import_command(CLI::App& app, Context& ctx);       // import (import.cc)
void register_doctor_command(CLI::App& app, Context& ctx);       // doctor (doctor.cc)

}  // namespace conflux::app
