// `conflux history USER STORE [--item ID]` and `conflux restore USER STORE
// (--to TIME | --before-session ID) [--item ID] [--dry-run]`: the item
// history (caf/item_history.h) and putting a store back as it was.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "config/config.h"

namespace conflux::app {

// The two subcommands and what their options are parsed into.
struct HistoryCommands {
  CLI::App* history = nullptr;
  CLI::App* restore = nullptr;
  std::string user;
  std::string store;
  std::string item;            // --item: one item's GUID
  std::string to;              // restore --to: "2026-12-07 02:30:00" (UTC), ISO 8601 with Z, or Unix seconds
  std::string before_session;  // restore --before-session
  bool dry_run = false;
};

// Adds `history` and `restore` to `app`; `commands` must outlive the parse.
void add_history_commands(CLI::App& app, HistoryCommands& commands);

// True when one of them was given on the command line.
bool history_parsed(const HistoryCommands& commands);

// Runs the parsed subcommand; the process's exit status.
//  history: without --item one line per session that changed the store
//           (session, when, who, what); with --item every version of it.
//  restore: each item changed since the moment goes back to its state then,
//           written as ordinary changes (every device gets them at its next
//           sync) in a session of its own, which a later restore
//           --before-session undoes. --dry-run prints the changes only. A
//           moment older than the store's history_days is refused.
int run_history(const HistoryCommands& commands, const config::Config& cfg);

}  // namespace conflux::app
