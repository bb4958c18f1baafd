// The adapter-specific keys of a "[stores.<name>]" section: each value in the
// TOML type the config file gave it, a typed description of the keys one
// adapter kind accepts, and the reader that checks a section against that
// description once, so that factories get typed values and keep only their
// rules that join several keys (caf/typed_adapter_factory.h).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "common/status.h"

namespace conflux::caf {

struct StoreSettings;

// One key's value, as TOML typed it: `file = "x.db"`, `multiget_batch = 10`,
// `install_triggers = true`.
using OptionValue = std::variant<std::string, int64_t, bool>;
using StoreOptions = std::map<std::string, OptionValue>;

// The value as TOML writes it, strings unquoted: "x.db", "10", "true". What
// logs, the store identity and plugins (whose SDK passes text) see.
std::string option_text(const OptionValue& value);

// What one key must hold.
enum class OptionKind : uint8_t {
  kText,          // a string, empty included
  kNonEmptyText,  // a string that is not empty
  kInteger,       // an integer from `min` to `max`
  kBoolean,       // true or false
  kChoice,        // a string among `choices`
  kScalar,        // a string, integer or boolean, read as its text (plugin keys: the SDK has no types)
};

// One key of an adapter kind. Build with the functions below, e.g.
//   integer_option("multiget_batch", 1, 1000, "items per multiget").or_default(int64_t{100})
struct OptionSpec {
  std::string key;  // "multiget_batch"; for a prefix key, the prefix: "field_"
  OptionKind kind = OptionKind::kText;
  std::string meaning;  // what the key names, as a noun phrase: "a directory", "items per multiget"
  bool required = false;
  bool prefix = false;  // matches every key `key` + <name>, e.g. field_email
  int64_t min = 0;      // kInteger
  int64_t max = 0;
  std::vector<std::string> choices;     // kChoice
  std::optional<OptionValue> fallback;  // the value of an absent key

  OptionSpec needed() const;                              // required: a section without it is refused
  OptionSpec or_default(const OptionValue& value) const;  // the value when the key is absent
};

OptionSpec text_option(std::string key, std::string meaning);
OptionSpec non_empty_option(std::string key, std::string meaning);
OptionSpec integer_option(std::string key, int64_t min, int64_t max, std::string meaning);
OptionSpec boolean_option(std::string key, std::string meaning);
OptionSpec choice_option(std::string key, std::vector<std::string> choices, std::string meaning);
OptionSpec scalar_option(std::string key, std::string meaning);
// Every key `prefix` + <name> (postgresql's field_<name>); non-empty text.
OptionSpec prefix_option(std::string prefix, std::string meaning);

// The keys of one adapter kind, and who they belong to in messages.
struct OptionKeys {
  std::string owner;  // "adapter caldav", "plugin memory"
  std::vector<OptionSpec> specs;
};

// A section checked against its OptionKeys: every value of the type its spec
// names, absent keys at their default. Asking for a key of another kind than
// its spec's is a programming error (the accessor returns the empty value).
class CheckedOptions {
 public:
  // The section set the key (a default does not count). Prefix keys by full name.
  bool has(const std::string& key) const { return given_.contains(key); }
  // kText, kNonEmptyText, kChoice and kScalar keys: the value, the default, or "".
  std::string text(const std::string& key) const;
  // kInteger keys: the value, the default, or 0.
  int64_t integer(const std::string& key) const;
  // kBoolean keys: the value, the default, or false.
  bool boolean(const std::string& key) const;
  // The keys given that start with `prefix`, as <name after the prefix> -> text.
  std::map<std::string, std::string> with_prefix(const std::string& prefix) const;
  // Every key given (not the defaults) but those in `except`, as text: what a plugin is handed.
  std::map<std::string, std::string> given_text(const std::set<std::string>& except) const;

 private:
  friend Result<CheckedOptions> check_store_options(const StoreSettings& settings, const OptionKeys& keys);
  StoreOptions values_;          // given and defaulted keys
  std::set<std::string> given_;  // the keys the section set
};

// Checks `settings.options` once against `keys`. kInvalidArgument naming the
// key: "stores.<name>.<key>: unknown key for adapter <kind> (its keys: ...)",
// "...: must be an integer from 1 to 1000", "...: missing (adapter <kind>
// needs <meaning>)".
Result<CheckedOptions> check_store_options(const StoreSettings& settings, const OptionKeys& keys);

}  // namespace conflux::caf
