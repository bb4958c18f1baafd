#include "engine/device_quirks.h"

#include <fnmatch.h>

#include <algorithm>

#include <fstream>
#include <sstream>

#include <toml++/toml.h>

#include "engine/builtin_quirks.h"

namespace conflux::engine {
namespace {

constexpr int64_t kRulesVersion = 1;

Status bad(const std::string& source, const toml::node& node, const std::string& key, const std::string& what) {
  return Status::invalid_argument(source + ":" + std::to_string(node.source().begin.line) + ": " + key + ": " + what);
}

// The DevInf fields a rule may match on, by their key in the file.
const std::pair<const char*, std::string DeviceIdentity::*> kMatchFields[] = {
    {"man", &DeviceIdentity::man},
    {"mod", &DeviceIdentity::mod},
    {"sw_v", &DeviceIdentity::sw_v},
    {"fw_v", &DeviceIdentity::fw_v},
    {"oem", &DeviceIdentity::oem},
    {"dev_typ", &DeviceIdentity::dev_typ},
    {"device_id", &DeviceIdentity::device_id},
};

}  // namespace

Result<QuirkRules> QuirkRules::parse(const std::string& toml_text, const std::string& source) {
  toml::table root;
  // Debian's toml++ is built with exceptions: catch at this edge.
  try {
    root = toml::parse(toml_text, source);
  } catch (const toml::parse_error& err) {
    return Status::invalid_argument(source + ":" + std::to_string(err.source().begin.line) + ": " +
                                    std::string(err.description()));
  }
  const toml::node* version = root.get("version");
  if (!version) return Status::invalid_argument(source + ": version: missing (this server reads version = 1)");
  if (!version->is_integer() || *version->value<int64_t>() != kRulesVersion) {
    return bad(source, *version, "version", "unsupported (this server reads version = 1)");
  }
  QuirkRules rules;
  for (const auto& [key, node] : root) {
    if (key == "version") continue;
    if (key != "rule" || !node.is_array_of_tables()) return bad(source, node, std::string(key.str()), "unknown key");
  }
  const toml::array* list = root["rule"].as_array();
  if (!list) return rules;
  for (size_t i = 0; i < list->size(); ++i) {
    const toml::table& t = *list->get(i)->as_table();
    const std::string at = "rule[" + std::to_string(i) + "].";
    Rule rule;
    bool constrained = false;
    for (const auto& [key, node] : t) {
      const std::string k(key.str());
      if (k == "set") continue;
      if (!node.is_string()) return bad(source, node, at + k, "must be a string");
      const std::string value = *node.value<std::string>();
      if (k == "name") {
        rule.name = value;
        continue;
      }
      auto field =
          std::find_if(std::begin(kMatchFields), std::end(kMatchFields), [&](const auto& f) { return k == f.first; });
      if (field == std::end(kMatchFields)) return bad(source, node, at + k, "unknown key");
      rule.patterns.emplace_back(field->second, value);
      constrained = true;
    }
    if (rule.name.empty()) return bad(source, t, at + "name", "missing");
    // A rule without a pattern would apply to every device: a mistake, not a quirk.
    if (!constrained) return bad(source, t, at + "man", "a rule needs at least one pattern");
    const toml::table* set = t["set"].as_table();
    if (!set) return bad(source, t, at + "set", "missing: a rule sets at least one quirk");
    for (const auto& [key, node] : *set) {
      const std::string k(key.str());
      if (k == "max_msg_size") {
        if (!node.is_integer() || *node.value<int64_t>() < 1024) {
          return bad(source, node, at + "set." + k, "must be an integer of at least 1024");
        }
        rule.max_msg_size = static_cast<uint64_t>(*node.value<int64_t>());
      } else if (k == "denied_write_status") {
        // Only a failure makes sense: a 2xx would tell the device its
        // change was stored.
        if (!node.is_integer() || *node.value<int64_t>() < 400 || *node.value<int64_t>() > 599) {
          return bad(source, node, at + "set." + k, "must be an error status, 400 to 599");
        }
        rule.denied_write_status = static_cast<protocol::StatusCode>(*node.value<int64_t>());
      } else if (k == "send_number_of_changes" || k == "missing_status_means_ok") {
        if (!node.is_boolean()) return bad(source, node, at + "set." + k, "must be true or false");
        (k == "send_number_of_changes" ? rule.send_number_of_changes : rule.missing_status_means_ok) =
            *node.value<bool>();
      } else {
        return bad(source, node, at + "set." + k, "unknown quirk");
      }
    }
    rules.rules_.push_back(std::move(rule));
  }
  return rules;
}

DeviceQuirks QuirkRules::match(const DeviceIdentity& device) const {
  DeviceQuirks quirks;
  for (const Rule& rule : rules_) {
    bool matches = true;
    for (const auto& [field, pattern] : rule.patterns) {
      const std::string& value = device.*field;
      if (value.empty() || fnmatch(pattern.c_str(), value.c_str(), FNM_CASEFOLD) != 0) {
        matches = false;
        break;
      }
    }
    if (!matches) continue;
    if (rule.max_msg_size) quirks.max_msg_size = rule.max_msg_size;
    if (rule.send_number_of_changes) quirks.send_number_of_changes = *rule.send_number_of_changes;
    if (rule.missing_status_means_ok) quirks.missing_status_means_ok = *rule.missing_status_means_ok;
    if (rule.denied_write_status) quirks.denied_write_status = *rule.denied_write_status;
    quirks.matched_rules.push_back(rule.name);
  }
  return quirks;
}

DeviceQuirkBook::DeviceQuirkBook() : rules_(std::make_shared<const QuirkRules>()) {}

DeviceQuirkBook::DeviceQuirkBook(std::string path, QuirkRules rules)
    : path_(std::move(path)), rules_(std::make_shared<const QuirkRules>(std::move(rules))) {}

namespace {

Result<std::string> read_rules_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::not_found("quirks file " + path + " cannot be read");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

Result<std::shared_ptr<DeviceQuirkBook>> DeviceQuirkBook::load(const std::string& path) {
  auto text = read_rules_file(path);
  if (!text) return text.error();
  auto rules = QuirkRules::parse(*text, path);
  if (!rules) return rules.error();
  return std::shared_ptr<DeviceQuirkBook>(new DeviceQuirkBook(path, std::move(*rules)));
}

Result<std::shared_ptr<DeviceQuirkBook>> DeviceQuirkBook::from_text(const std::string& toml_text) {
  auto rules = QuirkRules::parse(toml_text, "quirks");
  if (!rules) return rules.error();
  return std::shared_ptr<DeviceQuirkBook>(new DeviceQuirkBook("", std::move(*rules)));
}

Result<std::shared_ptr<DeviceQuirkBook>> DeviceQuirkBook::builtin() {
  auto rules = QuirkRules::parse(std::string(builtin_quirks_toml()), "built-in config/quirks.toml");
  if (!rules) return rules.error();
  return std::shared_ptr<DeviceQuirkBook>(new DeviceQuirkBook("", std::move(*rules)));
}

Result<std::shared_ptr<DeviceQuirkBook>> DeviceQuirkBook::for_config(const std::string& quirks_file) {
  return quirks_file.empty() ? builtin() : load(quirks_file);
}

std::shared_ptr<const QuirkRules> DeviceQuirkBook::rules() const {
  std::lock_guard lock(mu_);
  return rules_;
}

DeviceQuirks DeviceQuirkBook::lookup(const DeviceIdentity& device) const { return rules()->match(device); }

Status DeviceQuirkBook::reload() {
  if (path_.empty()) return Status::failed_precondition("these device quirks were not read from a file");
  auto text = read_rules_file(path_);
  if (!text) return text.error();
  auto parsed = QuirkRules::parse(*text, path_);
  if (!parsed) return parsed.error();
  auto fresh = std::make_shared<const QuirkRules>(std::move(*parsed));
  std::lock_guard lock(mu_);
  rules_ = std::move(fresh);
  return Status::ok();
}

}  // namespace conflux::engine
