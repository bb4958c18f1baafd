#include "portal/jscontact.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <set>

namespace conflux::portal {
namespace {

using nlohmann::json;

// N's components in vCard order and their JSContact kinds (RFC 9555 §2.2.2).
constexpr const char* kNameKinds[] = {"surname", "given", "given2", "title", "credential"};
// ADR's components in vCard order (RFC 9555 §2.3.1); the extended address is
// an apartment, the street address the street's name.
constexpr const char* kAddressKinds[] = {"postOfficeBox", "apartment", "name",   "locality",
                                         "region",        "postcode",  "country"};

// vCard TYPE values and where RFC 9555 puts them: contexts (§2.4.1 CONTEXT)
// or, for TEL, features (§2.3.3).
struct TypeMapping {
  const char* vcard;
  const char* jscontact;
};
constexpr TypeMapping kContexts[] = {{"HOME", "private"}, {"WORK", "work"}};
constexpr TypeMapping kPhoneFeatures[] = {{"CELL", "mobile"}, {"VOICE", "voice"}, {"FAX", "fax"},
                                          {"PAGER", "pager"}, {"TEXT", "text"},   {"VIDEO", "video"}};

// The properties the subset owns: to_vcard replaces exactly these.
const std::set<std::string> kOwned = {"FN", "N", "TEL", "EMAIL", "ADR", "ORG", "TITLE", "NOTE", "BDAY", "UID"};

const std::set<std::string> kCardKeys = {
    "@type",         "version", "uid",           "name", "phones",  "emails",  "addresses", "notes",
    "organizations", "titles",  "anniversaries", "kind", "updated", "created", "id",        "addressBookIds"};

std::string component(const data::VCardProperty& p, size_t i) { return i < p.values.size() ? p.values[i] : ""; }

json contexts_of(const data::VCardProperty& p) {
  json contexts = json::object();
  for (const auto& m : kContexts) {
    if (p.has_type(m.vcard)) contexts[m.jscontact] = true;
  }
  return contexts;
}

void add_contexts_and_pref(const data::VCardProperty& p, json& out) {
  if (json c = contexts_of(p); !c.empty()) out["contexts"] = std::move(c);
  if (p.has_type("PREF")) out["pref"] = 1;
}

// "1980-05-03", "19800503", "--0503", "--05-03" (optionally followed by a
// time) as a PartialDate; nullopt for anything else.
std::optional<json> partial_date(std::string text) {
  if (auto t = text.find('T'); t != std::string::npos) text.resize(t);
  std::string digits;
  const bool no_year = text.rfind("--", 0) == 0;
  for (char c : text) {
    if (std::isdigit(static_cast<unsigned char>(c))) digits += c;
  }
  json date = {{"@type", "PartialDate"}};
  if (no_year && digits.size() == 4) {
    date["month"] = std::stoi(digits.substr(0, 2));
    date["day"] = std::stoi(digits.substr(2, 2));
  } else if (!no_year && digits.size() == 8) {
    date["year"] = std::stoi(digits.substr(0, 4));
    date["month"] = std::stoi(digits.substr(4, 2));
    date["day"] = std::stoi(digits.substr(6, 2));
  } else {
    return std::nullopt;
  }
  return date;
}

data::VCardProperty make_property(const std::string& name, std::vector<std::string> values,
                                  std::vector<std::string> types = {}) {
  data::VCardProperty p;
  p.name = name;
  p.kind = data::value_kind_for(name);
  p.values = std::move(values);
  if (!types.empty()) p.params.push_back({"TYPE", std::move(types)});
  p.raw = p.joined();
  return p;
}

// Reads a Card's properties, collecting what is wrong under their paths.
class CardReader {
 public:
  explicit CardReader(std::vector<InvalidProperty>& invalid) : invalid_(invalid) {}

  void bad(const std::string& path, const std::string& why) { invalid_.push_back({path, why}); }

  // The string at obj[key] ("" when absent); a non-string is invalid.
  std::string text(const json& obj, const std::string& key, const std::string& path, bool required = false) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) {
      if (required) bad(path + "/" + key, "is required");
      return "";
    }
    if (!it->is_string()) {
      bad(path + "/" + key, "must be a string");
      return "";
    }
    return it->get<std::string>();
  }

  // The entries of a map property ({"p1": {...}}), each an object.
  std::vector<std::pair<std::string, const json*>> entries(const json& card, const std::string& key) {
    std::vector<std::pair<std::string, const json*>> out;
    auto it = card.find(key);
    if (it == card.end() || it->is_null()) return out;
    if (!it->is_object()) {
      bad(key, "must be an object of id to object");
      return out;
    }
    for (const auto& [id, value] : it->items()) {
      if (!value.is_object()) {
        bad(key + "/" + id, "must be an object");
        continue;
      }
      out.emplace_back(key + "/" + id, &value);
    }
    return out;
  }

  // TYPE values from contexts (and features, for phones) and pref.
  std::vector<std::string> types(const json& entry, const std::string& path, bool phone) {
    std::vector<std::string> out;
    auto flags = [&](const char* key, const auto& table) {
      auto it = entry.find(key);
      if (it == entry.end() || it->is_null()) return;
      if (!it->is_object()) return bad(path + "/" + key, "must be an object of name to true");
      for (const auto& [name, on] : it->items()) {
        if (!on.is_boolean()) {
          bad(path + "/" + key + "/" + name, "must be true");
          continue;
        }
        for (const auto& m : table) {
          if (name == m.jscontact) out.push_back(m.vcard);
        }
      }
    };
    flags("contexts", kContexts);
    if (phone) flags("features", kPhoneFeatures);
    if (auto it = entry.find("pref"); it != entry.end() && !it->is_null()) {
      if (!it->is_number_integer() || *it < 1 || *it > 100) {
        bad(path + "/pref", "must be an integer from 1 to 100");
      } else if (*it == 1) {
        out.push_back("PREF");
      }
    }
    return out;
  }

 private:
  std::vector<InvalidProperty>& invalid_;
};

}  // namespace

json card_from_vcard(const data::VCard& card) {
  json out = {{"@type", "Card"}, {"version", "1.0"}};
  json phones = json::object(), emails = json::object(), addresses = json::object(), orgs = json::object(),
       titles = json::object(), notes = json::object(), anniversaries = json::object();
  json name = json::object();
  for (const auto& p : card.properties) {
    if (p.name == "UID") {
      out["uid"] = component(p, 0);
    } else if (p.name == "FN" && !p.empty()) {
      name["full"] = component(p, 0);
    } else if (p.name == "N" && !p.empty()) {
      json components = json::array();
      for (size_t i = 0; i < std::size(kNameKinds); ++i) {
        if (std::string v = component(p, i); !v.empty()) components.push_back({{"kind", kNameKinds[i]}, {"value", v}});
      }
      name["components"] = std::move(components);
    } else if (p.name == "TEL" && !p.empty()) {
      json phone = {{"number", component(p, 0)}};
      add_contexts_and_pref(p, phone);
      json features = json::object();
      for (const auto& m : kPhoneFeatures) {
        if (p.has_type(m.vcard)) features[m.jscontact] = true;
      }
      if (!features.empty()) phone["features"] = std::move(features);
      phones["p" + std::to_string(phones.size() + 1)] = std::move(phone);
    } else if (p.name == "EMAIL" && !p.empty()) {
      json email = {{"address", component(p, 0)}};
      add_contexts_and_pref(p, email);
      emails["e" + std::to_string(emails.size() + 1)] = std::move(email);
    } else if (p.name == "ADR" && !p.empty()) {
      json components = json::array();
      for (size_t i = 0; i < std::size(kAddressKinds); ++i) {
        if (std::string v = component(p, i); !v.empty()) {
          components.push_back({{"kind", kAddressKinds[i]}, {"value", v}});
        }
      }
      json address = {{"components", std::move(components)}};
      add_contexts_and_pref(p, address);
      addresses["a" + std::to_string(addresses.size() + 1)] = std::move(address);
    } else if (p.name == "ORG" && !p.empty()) {
      json org = {{"name", component(p, 0)}};
      json units = json::array();
      for (size_t i = 1; i < p.values.size(); ++i) {
        if (!p.values[i].empty()) units.push_back({{"name", p.values[i]}});
      }
      if (!units.empty()) org["units"] = std::move(units);
      orgs["o" + std::to_string(orgs.size() + 1)] = std::move(org);
    } else if (p.name == "TITLE" && !p.empty()) {
      titles["t" + std::to_string(titles.size() + 1)] = {{"name", component(p, 0)}, {"kind", "title"}};
    } else if (p.name == "NOTE" && !p.empty()) {
      notes["n" + std::to_string(notes.size() + 1)] = {{"note", component(p, 0)}};
    } else if (p.name == "BDAY" && !p.empty()) {
      if (auto date = partial_date(component(p, 0))) {
        anniversaries["k" + std::to_string(anniversaries.size() + 1)] = {{"kind", "birth"}, {"date", *date}};
      }
    }
  }
  if (!name.empty()) out["name"] = std::move(name);
  auto put = [&out](const char* key, json& value) {
    if (!value.empty()) out[key] = std::move(value);
  };
  put("phones", phones);
  put("emails", emails);
  put("addresses", addresses);
  put("organizations", orgs);
  put("titles", titles);
  put("notes", notes);
  put("anniversaries", anniversaries);
  return out;
}

std::optional<data::VCard> vcard_from_card(const json& card, const data::VCard& base,
                                           std::vector<InvalidProperty>& invalid_r) {
  const size_t problems_before = invalid_r.size();
  CardReader in(invalid_r);
  if (!card.is_object()) {
    in.bad("", "a ContactCard must be a JSON object");
    return std::nullopt;
  }
  for (const auto& [key, value] : card.items()) {
    // Vendor properties carry a ':' (RFC 9553 §1.6.2) and are not ours to judge.
    if (!kCardKeys.count(key) && key.find(':') == std::string::npos) in.bad(key, "is not a ContactCard property");
  }
  if (auto it = card.find("@type"); it != card.end() && *it != "Card") in.bad("@type", "must be \"Card\"");

  data::VCard out;
  out.version = base.version;
  for (const auto& p : base.properties) {
    if (!kOwned.count(p.name)) out.properties.push_back(p);
  }
  std::string uid = in.text(card, "uid", "");
  if (uid.empty()) {
    if (const auto* old = base.first("UID")) uid = component(*old, 0);
  }
  if (!uid.empty()) out.properties.push_back(make_property("UID", {uid}));

  // name: FN from name/full, else from the components; N from the components.
  std::string full;
  std::vector<std::string> n(std::size(kNameKinds));
  if (auto it = card.find("name"); it != card.end() && !it->is_null()) {
    if (!it->is_object()) {
      in.bad("name", "must be an object");
    } else {
      full = in.text(*it, "full", "name");
      if (auto comps = it->find("components"); comps != it->end() && !comps->is_null()) {
        if (!comps->is_array()) in.bad("name/components", "must be an array");
        for (size_t i = 0; comps->is_array() && i < comps->size(); ++i) {
          const json& c = (*comps)[i];
          const std::string path = "name/components/" + std::to_string(i);
          if (!c.is_object()) {
            in.bad(path, "must be an object");
            continue;
          }
          const std::string kind = in.text(c, "kind", path, true);
          const std::string value = in.text(c, "value", path, true);
          auto k = std::find(std::begin(kNameKinds), std::end(kNameKinds), kind);
          if (k == std::end(kNameKinds)) {
            if (!kind.empty()) in.bad(path + "/kind", "unknown kind '" + kind + "'");
            continue;
          }
          std::string& slot = n[k - std::begin(kNameKinds)];
          slot += (slot.empty() ? "" : " ") + value;
        }
      }
    }
  }
  if (full.empty()) {
    for (size_t i : {3, 1, 2, 0, 4}) {  // title given given2 surname credential
      if (!n[i].empty()) full += (full.empty() ? "" : " ") + n[i];
    }
  }
  if (!full.empty()) out.properties.push_back(make_property("FN", {full}));
  if (std::any_of(n.begin(), n.end(), [](const std::string& s) { return !s.empty(); })) {
    out.properties.push_back(make_property("N", n));
  }

  for (const auto& [path, phone] : in.entries(card, "phones")) {
    std::string number = in.text(*phone, "number", path, true);
    auto types = in.types(*phone, path, true);
    if (!number.empty()) out.properties.push_back(make_property("TEL", {number}, std::move(types)));
  }
  for (const auto& [path, email] : in.entries(card, "emails")) {
    std::string address = in.text(*email, "address", path, true);
    auto types = in.types(*email, path, false);
    if (!address.empty()) out.properties.push_back(make_property("EMAIL", {address}, std::move(types)));
  }
  for (const auto& [path, address] : in.entries(card, "addresses")) {
    std::vector<std::string> adr(std::size(kAddressKinds));
    auto comps = address->find("components");
    if (comps != address->end() && !comps->is_array()) in.bad(path + "/components", "must be an array");
    for (size_t i = 0; comps != address->end() && comps->is_array() && i < comps->size(); ++i) {
      const json& c = (*comps)[i];
      const std::string cpath = path + "/components/" + std::to_string(i);
      if (!c.is_object()) {
        in.bad(cpath, "must be an object");
        continue;
      }
      const std::string kind = in.text(c, "kind", cpath, true);
      const std::string value = in.text(c, "value", cpath, true);
      auto k = std::find(std::begin(kAddressKinds), std::end(kAddressKinds), kind);
      // Kinds vCard 3.0 has no component for (number, building ...) go with the street.
      std::string& slot = k == std::end(kAddressKinds) ? adr[2] : adr[k - std::begin(kAddressKinds)];
      slot += (slot.empty() ? "" : " ") + value;
    }
    auto types = in.types(*address, path, false);
    out.properties.push_back(make_property("ADR", adr, std::move(types)));
  }
  for (const auto& [path, org] : in.entries(card, "organizations")) {
    std::vector<std::string> values = {in.text(*org, "name", path)};
    if (auto units = org->find("units"); units != org->end() && !units->is_null()) {
      if (!units->is_array()) in.bad(path + "/units", "must be an array");
      for (size_t i = 0; units->is_array() && i < units->size(); ++i) {
        const std::string upath = path + "/units/" + std::to_string(i);
        if ((*units)[i].is_object())
          values.push_back(in.text((*units)[i], "name", upath, true));
        else
          in.bad(upath, "must be an object");
      }
    }
    out.properties.push_back(make_property("ORG", values));
  }
  for (const auto& [path, title] : in.entries(card, "titles")) {
    std::string name = in.text(*title, "name", path, true);
    if (!name.empty()) out.properties.push_back(make_property("TITLE", {name}));
  }
  for (const auto& [path, note] : in.entries(card, "notes")) {
    std::string text = in.text(*note, "note", path, true);
    if (!text.empty()) out.properties.push_back(make_property("NOTE", {text}));
  }
  for (const auto& [entry_path, anniversary] : in.entries(card, "anniversaries")) {
    const std::string& path = entry_path;  // a lambda below needs it (clang 14 cannot capture a binding)
    if (in.text(*anniversary, "kind", path, true) != "birth") continue;  // only BDAY has a vCard 3.0 home
    auto date = anniversary->find("date");
    if (date == anniversary->end() || !date->is_object()) {
      in.bad(path + "/date", "must be a PartialDate object");
      continue;
    }
    auto number = [&](const char* key, int lo, int hi) -> std::optional<int> {
      auto it = date->find(key);
      if (it == date->end() || it->is_null()) return std::nullopt;
      if (!it->is_number_integer() || *it < lo || *it > hi) {
        in.bad(path + "/date/" + key, "must be an integer from " + std::to_string(lo) + " to " + std::to_string(hi));
        return std::nullopt;
      }
      return it->get<int>();
    };
    auto year = number("year", 1, 9999);
    auto month = number("month", 1, 12);
    auto day = number("day", 1, 31);
    if (!month || !day) {
      in.bad(path + "/date", "a birthday needs a month and a day");
      continue;
    }
    char text[16];
    if (year)
      std::snprintf(text, sizeof text, "%04d-%02d-%02d", *year, *month, *day);
    else
      std::snprintf(text, sizeof text, "--%02d%02d", *month, *day);
    out.properties.push_back(make_property("BDAY", {text}));
  }
  if (invalid_r.size() != problems_before) return std::nullopt;
  if (!out.first("FN")) {
    // vCard 3.0 requires FN (RFC 2426 §5); a card without any name gets an empty one.
    out.properties.push_back(make_property("FN", {""}));
  }
  return out;
}

}  // namespace conflux::portal
