// `conflux held list|confirm|discard`: deletions the mass-deletion guard held
// (engine/deletion_guard.h) until the user decides.
#pragma once

#include <cstdint>
#include <string>

#include <CLI/CLI.hpp>

#include "config/config.h"

namespace conflux::app {

// The `held` subcommand and what its options are parsed into.
struct HeldCommand {
  CLI::App* held = nullptr;
  CLI::App* list = nullptr;
  CLI::App* confirm = nullptr;
  CLI::App* discard = nullptr;
  std::string user;  // list --user
  int64_t id = 0;    // confirm / discard
};

// Adds `held` to `app`; `command` must outlive the parse.
void add_held_command(CLI::App& app, HeldCommand& command);

// Runs the parsed subcommand; the process's exit status.
//  list:    one line per held batch: id, when, user, datastore, device, count, reason;
//  confirm: deletes the items through the CAF, as ordinary deletions, so every
//           device gets them at its next sync;
//  discard: forgets the batch; the device that deleted the items gets them
//           back at its next sync.
int run_held(const HeldCommand& command, const config::Config& cfg);

}  // namespace conflux::app
