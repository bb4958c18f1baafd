// Device quirks: every per-device workaround in one place, as data. A rules
// file (config/quirks.toml, `version = 1`) lists rules matched against what a
// device says about itself in its DevInf (Man, Mod, SwV, FwV, OEM, DevTyp) and
// its device id (for clients that send no DevInf); each rule sets named
// quirks. The engine asks a DeviceQuirks value for them and never tests a
// device's name itself.
//
// The rules in config/quirks.toml are built into the binary (CMake embeds the
// file, see src/engine/CMakeLists.txt) and apply when [server] quirks_file is
// not set; a quirks_file replaces them whole (DeviceQuirkBook::for_config).
//
// Rule file format:
//   version = 1
//   [[rule]]
//   name = "what and why"          # for the log
//   man = "Nokia*"                 # fnmatch(3) patterns, case-insensitive;
//   mod = "66[03]0"                # every pattern given must match, an
//                                  # absent field matches nothing
//   [rule.set]
//   max_msg_size = 10000
//   denied_write_status = 500
// Rules apply in file order; a later matching rule overrides an earlier one's
// value, so put general rules first.
//
// Thread safety: DeviceQuirkBook::lookup and reload may be called from any
// thread at any time. A reload builds a whole new immutable rule set and
// swaps it in; a lookup in progress keeps using the set it started with.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "protocol/status_code.h"

namespace conflux::engine {

// What identifies a device to the rules.
struct DeviceIdentity {
  std::string man, mod, sw_v, fw_v, oem, dev_typ;  // from its DevInf
  std::string device_id;                           // SyncHdr Source LocURI
};

// The workarounds the engine consults. Defaults are the protocol's rules.
struct DeviceQuirks {
  // Largest message the device really takes, when smaller than the
  // MaxMsgSize it announces (some phones announce more than they can parse).
  std::optional<uint64_t> max_msg_size;
  // NumberOfChanges in our Sync: optional in SyncML 1.1/1.2, and some older
  // clients reject a Sync that carries it.
  bool send_number_of_changes = true;
  // The device leaves out some statuses for our changes at the end of a
  // session although it applied them: a change still without a status when
  // the session completes counts as acknowledged instead of being sent again.
  bool missing_status_means_ok = false;
  // The status for a client's item write (Add, Replace, Delete, Copy) that
  // the session's token does not allow: a read-only token, or an
  // unrestricted-read write whose credentials the back end refused again.
  // DS 1.2 has 425 "Permission denied" for it; libsynthesis-based clients
  // (SyncEvolution) abort the whole session on 425, so the shipped rules
  // give them 500. Only that item fails either way; the rest of the session
  // goes on. Applied by MessageRun::item_write_status.
  protocol::StatusCode denied_write_status = protocol::StatusCode::kPermissionDenied;
  // Names of the rules that matched, in order, for the log.
  std::vector<std::string> matched_rules;
};

// One parsed rules file; immutable.
class QuirkRules {
 public:
  // kInvalidArgument naming `source`, the line and the key for a syntax
  // error, a missing or unsupported `version`, an unknown key or quirk, or a
  // bad value.
  static Result<QuirkRules> parse(const std::string& toml_text, const std::string& source);

  DeviceQuirks match(const DeviceIdentity& device) const;
  size_t size() const { return rules_.size(); }

 private:
  struct Rule {
    std::string name;
    // Field patterns: man, mod, sw_v, fw_v, oem, dev_typ, device_id; empty = not constrained.
    std::vector<std::pair<std::string DeviceIdentity::*, std::string>> patterns;
    std::optional<uint64_t> max_msg_size;
    std::optional<bool> send_number_of_changes;
    std::optional<bool> missing_status_means_ok;
    std::optional<protocol::StatusCode> denied_write_status;
  };
  std::vector<Rule> rules_;
};

// The rules file behind a shared, reloadable rule set.
class DeviceQuirkBook {
 public:
  // No rules: every device gets the defaults.
  DeviceQuirkBook();
  // Reads `path`; the errors of QuirkRules::parse, kNotFound when it is missing.
  static Result<std::shared_ptr<DeviceQuirkBook>> load(const std::string& path);
  // A book over rules given as text (tests, tools).
  static Result<std::shared_ptr<DeviceQuirkBook>> from_text(const std::string& toml_text);
  // A book over the rules built into the binary (config/quirks.toml as it was
  // at build time). It cannot reload. An error means the shipped file is
  // broken: the build's unit tests catch that.
  static Result<std::shared_ptr<DeviceQuirkBook>> builtin();
  // The book [server] quirks_file asks for: the built-in rules when it is
  // empty, else load(quirks_file) (which replaces them whole, reloadable).
  static Result<std::shared_ptr<DeviceQuirkBook>> for_config(const std::string& quirks_file);

  DeviceQuirks lookup(const DeviceIdentity& device) const;

  // Reads the file again and swaps the new rules in. On any error the
  // current rules stay and the error is returned. A book without a file
  // (default-constructed, from_text or builtin) answers kFailedPrecondition.
  Status reload();
  // True when reload() can re-read a file.
  bool reloadable() const { return !path_.empty(); }
  // Number of rules in force.
  size_t size() const { return rules()->size(); }

 private:
  std::shared_ptr<const QuirkRules> rules() const;

  const std::string path_;  // empty: not from a file
  mutable std::mutex mu_;
  std::shared_ptr<const QuirkRules> rules_;  // guarded by mu_; never null

  explicit DeviceQuirkBook(std::string path, QuirkRules rules);
};

}  // namespace conflux::engine
