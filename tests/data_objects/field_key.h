// Field equality for vCard tests: two cards are equal field by field when
// they hold the same multiset of (group, property name, normalised values,
// type set). Parameter spelling, order of properties and wire encoding do not
// count.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "data/text_codec.h"
#include "data/vcard.h"

namespace conflux::data::testing {

inline std::string field_key(const VCardProperty& p) {
  std::string key = ascii_lower(p.group) + "." + p.name + " [";
  auto types = p.types();
  std::sort(types.begin(), types.end());
  for (const auto& t : types) key += t + ",";
  key += "] ";
  for (const auto& v : p.values) {
    key += p.kind == ValueKind::kBinary
               ? "<" + std::to_string(v.size()) + " bytes " + std::to_string(std::hash<std::string>{}(v)) + ">"
               : v;
    key += '|';
  }
  return key;
}

inline std::vector<std::string> field_keys(const VCard& card) {
  std::vector<std::string> keys;
  for (const auto& p : card.properties) keys.push_back(field_key(p));
  std::sort(keys.begin(), keys.end());
  return keys;
}

// Keys in `a` but not in `b` (as multisets), for failure messages.
inline std::vector<std::string> missing_keys(std::vector<std::string> a, std::vector<std::string> b) {
  std::vector<std::string> out;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

}  // namespace conflux::data::testing
