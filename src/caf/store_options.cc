#include "caf/store_options.h"

#include "caf/store_settings.h"

namespace conflux::caf {
namespace {

OptionSpec spec_of(std::string key, OptionKind kind, std::string meaning) {
  OptionSpec spec;
  spec.key = std::move(key);
  spec.kind = kind;
  spec.meaning = std::move(meaning);
  return spec;
}

std::string joined(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : ", ") + w;
  return out;
}

// "file, accounts_file, field_<name>": the keys in a message.
std::string key_list(const std::vector<OptionSpec>& specs) {
  std::string out;
  for (const auto& spec : specs) {
    if (!out.empty()) out += ", ";
    out += spec.key;
    if (spec.prefix) out += "<name>";
  }
  return out.empty() ? "none" : out;
}

const OptionSpec* spec_for(const std::vector<OptionSpec>& specs, const std::string& key) {
  for (const auto& spec : specs) {
    if (spec.prefix ? key.starts_with(spec.key) && key.size() > spec.key.size() : key == spec.key) return &spec;
  }
  return nullptr;
}

// What is wrong with `value` for `spec`; empty when nothing is.
std::string fault(const OptionSpec& spec, const OptionValue& value) {
  const auto* text = std::get_if<std::string>(&value);
  switch (spec.kind) {
    case OptionKind::kText: return text ? "" : "must be a string (in quotes)";
    case OptionKind::kNonEmptyText: return text && !text->empty() ? "" : "must be a non-empty string";
    case OptionKind::kInteger: {
      const auto* n = std::get_if<int64_t>(&value);
      if (n && *n >= spec.min && *n <= spec.max) return "";
      return "must be an integer from " + std::to_string(spec.min) + " to " + std::to_string(spec.max);
    }
    case OptionKind::kBoolean: return std::holds_alternative<bool>(value) ? "" : "must be true or false";
    case OptionKind::kChoice:
      for (const auto& choice : spec.choices) {
        if (text && *text == choice) return "";
      }
      return "must be one of " + joined(spec.choices);
    case OptionKind::kScalar: return "";
  }
  return "";
}

}  // namespace

std::string option_text(const OptionValue& value) {
  if (const auto* text = std::get_if<std::string>(&value)) return *text;
  if (const auto* n = std::get_if<int64_t>(&value)) return std::to_string(*n);
  return std::get<bool>(value) ? "true" : "false";
}

OptionSpec OptionSpec::needed() const {
  OptionSpec copy = *this;
  copy.required = true;
  return copy;
}

OptionSpec OptionSpec::or_default(const OptionValue& value) const {
  OptionSpec copy = *this;
  copy.fallback = value;
  return copy;
}

OptionSpec text_option(std::string key, std::string meaning) {
  return spec_of(std::move(key), OptionKind::kText, std::move(meaning));
}

OptionSpec non_empty_option(std::string key, std::string meaning) {
  return spec_of(std::move(key), OptionKind::kNonEmptyText, std::move(meaning));
}

OptionSpec integer_option(std::string key, int64_t min, int64_t max, std::string meaning) {
  OptionSpec spec = spec_of(std::move(key), OptionKind::kInteger, std::move(meaning));
  spec.min = min;
  spec.max = max;
  return spec;
}

OptionSpec boolean_option(std::string key, std::string meaning) {
  return spec_of(std::move(key), OptionKind::kBoolean, std::move(meaning));
}

OptionSpec choice_option(std::string key, std::vector<std::string> choices, std::string meaning) {
  OptionSpec spec = spec_of(std::move(key), OptionKind::kChoice, std::move(meaning));
  spec.choices = std::move(choices);
  return spec;
}

OptionSpec scalar_option(std::string key, std::string meaning) {
  return spec_of(std::move(key), OptionKind::kScalar, std::move(meaning));
}

OptionSpec prefix_option(std::string prefix, std::string meaning) {
  OptionSpec spec = spec_of(std::move(prefix), OptionKind::kNonEmptyText, std::move(meaning));
  spec.prefix = true;
  return spec;
}

std::string CheckedOptions::text(const std::string& key) const {
  auto it = values_.find(key);
  if (it == values_.end()) return "";
  const auto* string = std::get_if<std::string>(&it->second);
  return string ? *string : "";
}

int64_t CheckedOptions::integer(const std::string& key) const {
  auto it = values_.find(key);
  const auto* n = it == values_.end() ? nullptr : std::get_if<int64_t>(&it->second);
  return n ? *n : 0;
}

bool CheckedOptions::boolean(const std::string& key) const {
  auto it = values_.find(key);
  const auto* b = it == values_.end() ? nullptr : std::get_if<bool>(&it->second);
  return b ? *b : false;
}

std::map<std::string, std::string> CheckedOptions::with_prefix(const std::string& prefix) const {
  std::map<std::string, std::string> out;
  for (const auto& key : given_) {
    if (key.starts_with(prefix)) out[key.substr(prefix.size())] = option_text(values_.at(key));
  }
  return out;
}

std::map<std::string, std::string> CheckedOptions::given_text(const std::set<std::string>& except) const {
  std::map<std::string, std::string> out;
  for (const auto& key : given_) {
    if (!except.contains(key)) out[key] = option_text(values_.at(key));
  }
  return out;
}

Result<CheckedOptions> check_store_options(const StoreSettings& settings, const OptionKeys& keys) {
  const std::string path = "stores." + settings.name + ".";
  CheckedOptions checked;
  for (const auto& [key, value] : settings.options) {
    const OptionSpec* spec = spec_for(keys.specs, key);
    if (spec == nullptr) {
      std::string message = path + key;
      message += ": unknown key for " + keys.owner;
      message += " (its keys: " + key_list(keys.specs) + ")";
      return Status::invalid_argument(std::move(message));
    }
    if (std::string why = fault(*spec, value); !why.empty()) {
      return Status::invalid_argument(path + key + ": " + std::move(why));
    }
    // A plugin's keys reach it as text whatever their TOML type.
    checked.values_[key] = spec->kind == OptionKind::kScalar ? OptionValue(option_text(value)) : value;
    checked.given_.insert(key);
  }
  for (const auto& spec : keys.specs) {
    if (spec.prefix || checked.given_.contains(spec.key)) continue;
    if (spec.required) {
      return Status::invalid_argument(path + spec.key + ": missing (" + keys.owner + " needs " + spec.meaning + ")");
    }
    if (spec.fallback) checked.values_[spec.key] = *spec.fallback;
  }
  return checked;
}

}  // namespace conflux::caf
