#include "data/contact.h"

#include <algorithm>
#include <optional>
#include <set>

#include "data/sif.h"
#include "data/text_codec.h"
#include "data/text_merge.h"

namespace conflux::data {
namespace {

bool in_list(std::string_view name, std::initializer_list<std::string_view> list) {
  return std::find(list.begin(), list.end(), name) != list.end();
}

bool is_multi_valued(std::string_view name) {
  return in_list(name, {"TEL", "EMAIL", "ADR", "URL", "IMPP", "LABEL", "CATEGORIES", "X-ABDATE", "X-ABRELATEDNAMES",
                        "X-AIM", "X-ICQ", "X-JABBER", "X-MSN", "X-YAHOO", "X-SKYPE", "X-SIP", "X-GROUPWISE"});
}

// Texts a person writes, where two versions both keep their words.
bool is_free_text(std::string_view name) { return in_list(name, {"NOTE"}); }

std::string digits_of(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c >= '0' && c <= '9') out.push_back(c);
  }
  return out;
}

std::string normalised_value(const VCardProperty& p) {
  if (p.kind == ValueKind::kBinary) return p.values.empty() ? "" : p.values[0];
  if (p.name == "TEL") {
    std::string d = digits_of(p.joined());
    if (!d.empty()) return d;
  }
  if (p.kind == ValueKind::kStructured || p.kind == ValueKind::kList) {
    std::string out;
    for (const auto& v : p.values) out += collapse_lower(v) + '\x1f';
    return out;
  }
  return collapse_lower(p.joined());
}

// Index of the property of `props` with q's name and normalised value.
std::optional<size_t> find_same_value(const std::vector<VCardProperty>& props, const VCardProperty& q) {
  std::string want = normalised_value(q);
  for (size_t i = 0; i < props.size(); ++i) {
    if (props[i].name == q.name && normalised_value(props[i]) == want) return i;
  }
  return std::nullopt;
}

void unite_types(VCardProperty& into, const VCardProperty& from) {
  for (const auto& t : from.types()) {
    if (into.has_type(t)) continue;
    auto it =
        std::find_if(into.params.begin(), into.params.end(), [](const VCardParam& p) { return p.name == "TYPE"; });
    if (it == into.params.end()) {
      into.params.push_back({"TYPE", {}});
      it = into.params.end() - 1;
    }
    it->values.push_back(t);
  }
}

// True when `q` would add something to `props`.
bool is_new(const std::vector<VCardProperty>& props, const VCardProperty& q) {
  if (is_multi_valued(q.name)) {
    return !find_same_value(props, q).has_value();
  }
  return std::none_of(props.begin(), props.end(), [&](const VCardProperty& p) { return p.name == q.name; });
}

// Adds one ungrouped property of theirs to `props` by the rules in contact.h.
void merge_property(std::vector<VCardProperty>& props, const VCardProperty& q) {
  if (is_multi_valued(q.name)) {
    if (auto same = find_same_value(props, q)) {
      unite_types(props[*same], q);
    } else {
      props.push_back(q);
    }
    return;
  }
  std::vector<VCardProperty*> ours;
  for (auto& p : props) {
    if (p.name == q.name) ours.push_back(&p);
  }
  if (ours.empty()) {
    props.push_back(q);
    return;
  }
  bool all_empty = std::all_of(ours.begin(), ours.end(), [](const VCardProperty* p) { return p->empty(); });
  if (is_free_text(q.name) && !all_empty) {
    VCardProperty& kept = *ours.front();
    kept.values = {merge_free_text(kept.joined(), q.joined())};
    return;
  }
  if (all_empty && !q.empty()) {
    std::string group = ours.front()->group;
    *ours.front() = q;
    ours.front()->group = group;
  }
}

std::string fresh_group(const std::set<std::string>& used) {
  for (int n = 1;; ++n) {
    std::string name = "item" + std::to_string(n);
    if (!used.count(name)) return name;
  }
}

}  // namespace

Result<std::unique_ptr<Contact>> Contact::parse(std::string_view bytes) {
  auto card = parse_vcard(bytes);
  if (!card) return card.error();
  return std::make_unique<Contact>(std::move(*card));
}

Format Contact::source_format() const {
  if (other_source_) return *other_source_;
  switch (card_.version) {
    case VCardVersion::k21: return Format::vcard21();
    case VCardVersion::k30: return Format::vcard30();
    case VCardVersion::k40: return Format::vcard40();
  }
  return Format::vcard30();
}

std::vector<Format> Contact::supported_formats() const {
  return {Format::vcard30(), Format::vcard21(), Format::vcard40(), sif_contact_format()};
}

Result<std::string> Contact::write(const Format& format) const {
  std::string type = ascii_lower(format.mime_type);
  if (type == "text/x-vcard" && (format.version.empty() || format.version == "2.1")) {
    return write_vcard(card_, VCardVersion::k21);
  }
  if (type == "text/vcard" || type == "text/directory" || type == "text/x-vcard") {
    if (format.version.empty() || format.version == "3.0") return write_vcard(card_, VCardVersion::k30);
    if (format.version == "4.0" && type == "text/vcard") return write_vcard(card_, VCardVersion::k40);
    if (format.version == "2.1") return write_vcard(card_, VCardVersion::k21);
  }
  if (type == sif_contact_format().mime_type) return write_sif_contact(card_);
  return Status::invalid_argument("a contact cannot be written as " + format.to_string());
}

namespace {

// The name part of a contact's identity: FN, else the N parts, normalised.
std::string identity_name(const VCard& card) {
  if (const VCardProperty* fn = card.first("FN"); fn && !fn->empty()) return collapse_lower(fn->joined());
  const VCardProperty* n = card.first("N");
  if (n == nullptr) return "";
  std::string joined;
  for (const auto& part : n->values) joined += part + " ";
  return collapse_lower(joined);
}

}  // namespace

std::vector<std::string> Contact::identity_keys() const {
  const std::string name = identity_name(card_);
  std::vector<std::string> keys;
  for (const auto& p : card_.properties) {
    if (p.name == "TEL" && !digits_of(p.joined()).empty()) keys.push_back(name + "|tel:" + digits_of(p.joined()));
    if (p.name == "EMAIL" && !p.empty()) keys.push_back(name + "|email:" + collapse_lower(p.joined()));
  }
  if (keys.empty() && !name.empty()) keys.push_back(name + "|");
  return keys;
}

std::string Contact::identity_key() const {
  const std::string name = identity_name(card_);
  std::string reach;
  for (const auto& p : card_.properties) {
    if (p.name == "TEL" && !digits_of(p.joined()).empty()) {
      reach = digits_of(p.joined());
      break;
    }
  }
  if (reach.empty()) {
    for (const auto& p : card_.properties) {
      if (p.name == "EMAIL" && !p.empty()) {
        reach = collapse_lower(p.joined());
        break;
      }
    }
  }
  if (name.empty() && reach.empty()) return "";
  return name + "|" + reach;
}

Result<std::unique_ptr<DataObject>> Contact::merged_with(const DataObject& theirs) const {
  if (theirs.kind() != DataKind::kContact) {
    return Status::invalid_argument(std::string("cannot merge a contact with a ") + data_kind_name(theirs.kind()));
  }
  const VCard& other = static_cast<const Contact&>(theirs).card();
  VCard result = card_;
  std::set<std::string> used_groups;
  for (const auto& p : result.properties) {
    if (!p.group.empty()) used_groups.insert(ascii_lower(p.group));
  }
  std::vector<std::string> their_groups;  // in order of first appearance
  for (const auto& q : other.properties) {
    if (q.group.empty()) {
      merge_property(result.properties, q);
    } else if (std::find(their_groups.begin(), their_groups.end(), q.group) == their_groups.end()) {
      their_groups.push_back(q.group);
    }
  }
  for (const auto& group : their_groups) {
    std::vector<const VCardProperty*> members;
    for (const auto& q : other.properties) {
      if (q.group == group) members.push_back(&q);
    }
    bool any_new = std::any_of(members.begin(), members.end(), [&](const VCardProperty* q) {
      return !iequals(q->name, "X-ABLABEL") && is_new(result.properties, *q);
    });
    if (!any_new) {
      for (const VCardProperty* q : members) {
        if (!is_multi_valued(q->name)) continue;
        if (auto same = find_same_value(result.properties, *q)) unite_types(result.properties[*same], *q);
      }
      continue;
    }
    std::string fresh = fresh_group(used_groups);
    used_groups.insert(fresh);
    for (const VCardProperty* q : members) {
      VCardProperty copy = *q;
      copy.group = fresh;
      result.properties.push_back(std::move(copy));
    }
  }
  return std::unique_ptr<DataObject>(std::make_unique<Contact>(std::move(result)));
}

std::vector<std::string> Contact::fields_left_out_of(const Contact& theirs) const {
  std::vector<std::string> names;
  for (const auto& q : theirs.card().properties) {
    if (is_multi_valued(q.name) || is_free_text(q.name) || in_list(q.name, {"REV", "PRODID", "UID"})) continue;
    if (q.empty() || find_same_value(card_.properties, q)) continue;
    if (std::find(names.begin(), names.end(), q.name) == names.end()) names.push_back(q.name);
  }
  return names;
}

}  // namespace conflux::data
