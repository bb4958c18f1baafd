#include "adapters/postgresql/contact_row.h"

#include <algorithm>
#include <set>

namespace conflux::adapters {

namespace {

// Components of N (vCard order) and of ADR that have a field.
constexpr const char* kNameParts[] = {"family", "given", "middle", "prefix", "suffix"};
constexpr const char* kOrgParts[] = {"org", "department"};
// ADR: post office box, extended address, street, locality, region, postal code, country.
constexpr const char* kAdrParts[] = {nullptr, nullptr, "street", "city", "region", "postcode", "country"};

bool is_mapped(const std::vector<std::string>& mapped, const char* field) {
  return field != nullptr && std::find(mapped.begin(), mapped.end(), field) != mapped.end();
}

// TYPE values sorted; for EMAIL without INTERNET, the default (a typed
// e-mail column writes it back: TYPE=INTERNET,WORK).
std::vector<std::string> sorted_types(const data::VCardProperty& p, bool drop_internet) {
  std::vector<std::string> out;
  for (const std::string& t : p.types()) {
    if (!(drop_internet && t == "INTERNET")) out.push_back(t);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ",") + p;
  return out;
}

std::vector<std::string> split_types(const std::string& joined) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= joined.size()) {
    size_t comma = joined.find(',', start);
    if (comma == std::string::npos) comma = joined.size();
    if (comma > start) out.push_back(joined.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

bool only_type_params(const data::VCardProperty& p) {
  return std::all_of(p.params.begin(), p.params.end(),
                     [](const data::VCardParam& param) { return param.name == "TYPE" || param.name == "PREF"; });
}

// "1980-05-17", "19800517" or either with a time after 'T' -> "1980-05-17";
// nullopt for anything a date column cannot hold (no year, a bad date).
std::optional<std::string> date_of(const std::string& value) {
  std::string digits;
  for (char c : value.substr(0, value.find('T'))) {
    if (c >= '0' && c <= '9') {
      digits += c;
    } else if (c != '-') {
      return std::nullopt;
    }
  }
  if (digits.size() != 8 || value.rfind("--", 0) == 0) return std::nullopt;
  int month = std::stoi(digits.substr(4, 2));
  int day = std::stoi(digits.substr(6, 2));
  if (month < 1 || month > 12 || day < 1 || day > 31) return std::nullopt;
  return digits.substr(0, 4) + "-" + digits.substr(4, 2) + "-" + digits.substr(6, 2);
}

data::VCardProperty make_property(const std::string& name, std::vector<std::string> values) {
  data::VCardProperty p;
  p.name = name;
  p.kind = data::value_kind_for(name);
  p.values = std::move(values);
  return p;
}

// Beside a kept FN: the name columns it went with. While they hold the same,
// the device's FN is given back; once another program changed the name,
// FN is made from the columns again.
constexpr const char* kFnKey = "X-CONFLUX-FN-OF";

std::string name_key(const std::map<std::string, std::string>& fields) {
  std::string key;
  for (const char* part : {"prefix", "given", "middle", "family", "suffix", "org"}) {
    auto it = fields.find(part);
    key += (it == fields.end() ? "" : it->second) + "|";
  }
  return key;
}

// The image type of photo bytes, for PHOTO's TYPE parameter.
std::string image_type(const std::string& bytes) {
  if (bytes.rfind("\x89PNG", 0) == 0) return "PNG";
  if (bytes.rfind("GIF8", 0) == 0) return "GIF";
  return "JPEG";
}

}  // namespace

const std::vector<MappedField>& contact_fields() {
  static const std::vector<MappedField> fields = {
      {"family", ColumnKind::kText},     {"given", ColumnKind::kText},      {"middle", ColumnKind::kText},
      {"prefix", ColumnKind::kText},     {"suffix", ColumnKind::kText},     {"formatted", ColumnKind::kText},
      {"org", ColumnKind::kText},        {"department", ColumnKind::kText}, {"title", ColumnKind::kText},
      {"tel", ColumnKind::kText},        {"tel_home", ColumnKind::kText},   {"tel_work", ColumnKind::kText},
      {"tel_cell", ColumnKind::kText},   {"email", ColumnKind::kText},      {"email_home", ColumnKind::kText},
      {"email_work", ColumnKind::kText}, {"street", ColumnKind::kText},     {"city", ColumnKind::kText},
      {"region", ColumnKind::kText},     {"postcode", ColumnKind::kText},   {"country", ColumnKind::kText},
      {"birthday", ColumnKind::kDate},   {"note", ColumnKind::kText},       {"url", ColumnKind::kText},
      {"photo", ColumnKind::kBytes},
  };
  return fields;
}

std::optional<ColumnKind> contact_field_kind(const std::string& field) {
  for (const auto& f : contact_fields()) {
    if (field == f.name) return f.kind;
  }
  return std::nullopt;
}

Result<MappedRow> contact_to_row(std::string_view vcard_bytes, const std::vector<std::string>& mapped,
                                 bool has_children) {
  auto card = data::parse_vcard(vcard_bytes);
  if (!card) return card.error();
  MappedRow row;
  data::VCard leftovers;
  leftovers.version = card->version;
  auto take = [&](const char* field, const std::string& value) {
    if (!is_mapped(mapped, field) || row.fields.count(field)) return false;
    row.fields[field] = value;
    return true;
  };
  // N, ORG, ADR: mapped parts to their columns; the property is kept whole
  // among the leftovers when a part or a parameter has no column.
  auto structured = [&](const data::VCardProperty& p, const char* const* parts, size_t count) {
    bool any_mapped = false;
    for (size_t i = 0; i < count; ++i) any_mapped |= is_mapped(mapped, parts[i]);
    if (!any_mapped) return false;
    bool whole = p.params.empty();
    for (size_t i = 0; i < p.values.size(); ++i) {
      const char* field = i < count ? parts[i] : nullptr;
      if (is_mapped(mapped, field)) {
        if (!p.values[i].empty()) row.fields[field] = p.values[i];
      } else if (!p.values[i].empty()) {
        whole = false;
      }
    }
    if (!whole) leftovers.properties.push_back(p);
    return true;
  };
  bool seen_n = false, seen_org = false, seen_adr = false;
  for (const data::VCardProperty& p : card->properties) {
    bool held = false;
    if (!p.group.empty()) {
      held = false;  // grouped properties (item1.TEL + X-ABLabel) travel together among the leftovers
    } else if (p.name == "N" && !seen_n) {
      seen_n = held = structured(p, kNameParts, std::size(kNameParts));
    } else if (p.name == "ORG" && !seen_org) {
      seen_org = held = structured(p, kOrgParts, std::size(kOrgParts));
    } else if (p.name == "ADR" && !seen_adr) {
      seen_adr = held = structured(p, kAdrParts, std::size(kAdrParts));
    } else if ((p.name == "TEL" || p.name == "EMAIL") && only_type_params(p) && p.kind != data::ValueKind::kRaw) {
      // A column takes a phone or e-mail only when reading it back gives the
      // same types: the plain one none, a typed one exactly its own.
      const std::string base = p.name == "TEL" ? "tel" : "email";
      const std::string value = p.values.empty() ? "" : p.values[0];
      const std::vector<std::string> types = sorted_types(p, base == "email");
      if (p.types().empty()) {
        held = take(base.c_str(), value);
      } else if (types.size() == 1 && types[0] != "PREF") {
        std::string lower = types[0];
        std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
        const std::string typed = base + "_" + lower;
        held = contact_field_kind(typed) && take(typed.c_str(), value);
      }
      if (!held && has_children) {
        row.children.push_back(ChildValue{base, join(sorted_types(p, false)), value});
        held = true;
      }
    } else if (p.name == "BDAY" && p.params.empty()) {
      auto date = date_of(p.values.empty() ? "" : p.values[0]);
      held = date && take("birthday", *date);
    } else if (p.name == "PHOTO" && p.kind == data::ValueKind::kBinary && !p.values.empty()) {
      held = take("photo", p.values[0]);
    } else if (p.params.empty() && !p.values.empty() &&
               (p.name == "FN" || p.name == "TITLE" || p.name == "NOTE" || p.name == "URL")) {
      static const std::map<std::string, const char*> text_fields = {
          {"FN", "formatted"}, {"TITLE", "title"}, {"NOTE", "note"}, {"URL", "url"}};
      held = take(text_fields.at(p.name), p.values[0]);
    }
    if (!held) leftovers.properties.push_back(p);
  }
  if (leftovers.first("FN")) leftovers.properties.push_back(make_property(kFnKey, {name_key(row.fields)}));
  if (!leftovers.properties.empty()) row.extra = data::write_vcard(leftovers, data::VCardVersion::k30);
  return row;
}

std::string row_to_contact(const MappedRow& row, const std::vector<std::string>& mapped, data::VCardVersion version) {
  data::VCard extra;
  if (!row.extra.empty()) {
    // Written by contact_to_row, so it parses; a hand-edited broken one is dropped.
    if (auto parsed = data::parse_vcard(row.extra)) extra = std::move(*parsed);
  }
  auto field = [&](const char* name) -> const std::string* {
    auto it = row.fields.find(name);
    return it == row.fields.end() ? nullptr : &it->second;
  };
  data::VCard card;
  // N, ORG, ADR: the kept property (with the parts no column holds), the
  // columns' parts written over it.
  auto structured = [&](const std::string& name, const char* const* parts, size_t count, size_t width) {
    data::VCardProperty p = make_property(name, std::vector<std::string>(width));
    bool any = false;
    for (auto it = extra.properties.begin(); it != extra.properties.end(); ++it) {
      if (it->name == name && it->group.empty()) {
        p = *it;
        p.values.resize(std::max(p.values.size(), width));
        extra.properties.erase(it);
        any = true;
        break;
      }
    }
    for (size_t i = 0; i < count; ++i) {
      if (!is_mapped(mapped, parts[i])) continue;  // a part only the kept property holds
      const std::string* value = field(parts[i]);
      if (value) any = true;
      p.values[i] = value ? *value : "";
    }
    if (any) card.properties.push_back(std::move(p));
  };
  structured("N", kNameParts, std::size(kNameParts), 5);
  const data::VCardProperty* kept_for = extra.first(kFnKey);
  const bool kept_fn_holds =
      kept_for && !kept_for->values.empty() && kept_for->values[0] == name_key(row.fields) && extra.first("FN");
  std::erase_if(extra.properties,
                [&](const data::VCardProperty& p) { return p.name == kFnKey || (p.name == "FN" && !kept_fn_holds); });
  if (const std::string* fn = field("formatted")) {
    card.properties.push_back(make_property("FN", {*fn}));
  } else if (!kept_fn_holds) {
    // vCard 3.0 requires FN: made from the name (or the organisation) the row holds.
    std::string made;
    for (const char* part : {"prefix", "given", "middle", "family", "suffix"}) {
      if (const std::string* v = field(part); v && !v->empty()) made += (made.empty() ? "" : " ") + *v;
    }
    if (made.empty() && field("org")) made = *field("org");
    card.properties.push_back(make_property("FN", {made}));
  }
  structured("ORG", kOrgParts, std::size(kOrgParts), 2);
  if (const std::string* v = field("title")) card.properties.push_back(make_property("TITLE", {*v}));
  for (const char* base : {"tel", "email"}) {
    const std::string name = std::string(base) == "tel" ? "TEL" : "EMAIL";
    for (const char* suffix : {"", "_cell", "_work", "_home"}) {
      const std::string* v = field((std::string(base) + suffix).c_str());
      if (!v) continue;
      data::VCardProperty p = make_property(name, {*v});
      if (*suffix) {
        std::string type = suffix + 1;
        std::transform(type.begin(), type.end(), type.begin(), [](unsigned char c) { return std::toupper(c); });
        p.params.push_back(data::VCardParam{
            "TYPE", name == "EMAIL" ? std::vector<std::string>{"INTERNET", type} : std::vector<std::string>{type}});
      }
      card.properties.push_back(std::move(p));
    }
    for (const ChildValue& child : row.children) {
      if (child.kind != base) continue;
      data::VCardProperty p = make_property(name, {child.value});
      if (!child.types.empty()) p.params.push_back(data::VCardParam{"TYPE", split_types(child.types)});
      card.properties.push_back(std::move(p));
    }
  }
  structured("ADR", kAdrParts, std::size(kAdrParts), 7);
  if (const std::string* v = field("birthday")) card.properties.push_back(make_property("BDAY", {*v}));
  if (const std::string* v = field("note")) card.properties.push_back(make_property("NOTE", {*v}));
  if (const std::string* v = field("url")) card.properties.push_back(make_property("URL", {*v}));
  if (const std::string* v = field("photo")) {
    data::VCardProperty p = make_property("PHOTO", {*v});
    p.kind = data::ValueKind::kBinary;
    p.params.push_back(data::VCardParam{"TYPE", {image_type(*v)}});
    card.properties.push_back(std::move(p));
  }
  for (auto& p : extra.properties) card.properties.push_back(std::move(p));
  return data::write_vcard(card, version);
}

}  // namespace conflux::adapters
