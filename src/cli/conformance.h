// `conflux conformance`: the adapter conformance suite
// (adapters/conformance/conformance.h) run on a plugin, for its author.
#pragma once

#include <string>
#include <vector>

namespace conflux::app {

struct ConformanceRequest {
  std::string plugin;                // path of the plugin's .so
  std::vector<std::string> options;  // the plugin's own config keys, "key=value"
  std::string content_type = "text/vcard";
  std::string down_command;       // shell command that takes the plugin's back end down ...
  std::string up_command;         // ... and one that brings it back
  std::vector<std::string> only;  // case names to run; empty: all
  std::string login;              // a user the back end's own accounts know ...
  std::string password_file;      // ... and a file holding their password (never on the command line)
};

// Runs the suite and prints one line per case, each failure with its name and
// why. Exit status 0 when no case failed, 1 when one did, 2 when the plugin
// cannot be loaded or opened at all.
int conformance(const ConformanceRequest& request);

}  // namespace conflux::app
