// vCard writers for 2.1, 3.0 and 4.0, and the conversion between them.
//
// Conversion rules (the model is version-neutral, see vcard.h; these are the
// spellings that differ):
//  - Parameters: 2.1 writes TYPE values bare (TEL;HOME;VOICE), 3.0 writes
//    TYPE=HOME,VOICE, 4.0 TYPE=home,voice. PREF: 2.1/3.0 TYPE=PREF <-> 4.0
//    PREF=1 (a 4.0 PREF rank other than 1 becomes plain PREF going down).
//    VALUE=URL (2.1) <-> VALUE=uri (3.0/4.0).
//  - Text: 2.1 writes non-ASCII or multi-line values as CHARSET=UTF-8;
//    ENCODING=QUOTED-PRINTABLE; 3.0/4.0 escape \ , ; and newlines.
//  - Binary (PHOTO, LOGO, SOUND, KEY): 2.1 ENCODING=BASE64;TYPE=JPEG with
//    indented lines and a closing blank line; 3.0 ENCODING=b;TYPE=JPEG;
//    4.0 data:image/jpeg;base64,... (audio/ for SOUND, application/ for KEY).
//  - TEL: 4.0 writes VALUE=uri:tel:<number> when the number is a valid tel
//    URI body; otherwise text, as 3.0.
//  - GEO: 2.1 "lat,lon", 3.0 "lat;lon", 4.0 "geo:lat,lon".
//  - Properties only 4.0 has (KIND, GENDER, ANNIVERSARY, LANG, MEMBER,
//    RELATED, XML, CLIENTPIDMAP) are written as X-VCARD4-<NAME> in 2.1/3.0;
//    properties 4.0 dropped (NAME, MAILER, LABEL, CLASS, SORT-STRING, AGENT,
//    PROFILE) as X-VCARD3-<NAME> in 4.0. Each prefix is removed again when
//    writing the version that knows the property, so nothing is lost on a
//    round trip through another version.
//  - Everything else (unknown and X- properties, groups, other parameters)
//    is written as is.
#include <algorithm>

#include "common/base64.h"
#include "data/text_codec.h"
#include "data/vcard.h"

namespace conflux::data {
namespace {

constexpr size_t kFoldOctets = 75;

bool in_list(std::string_view name, std::initializer_list<std::string_view> list) {
  return std::find(list.begin(), list.end(), name) != list.end();
}

bool only_in_40(std::string_view name) {
  return in_list(name, {"KIND", "GENDER", "ANNIVERSARY", "LANG", "MEMBER", "RELATED", "XML", "CLIENTPIDMAP"});
}

bool dropped_in_40(std::string_view name) {
  return in_list(name, {"NAME", "MAILER", "LABEL", "CLASS", "SORT-STRING", "AGENT", "PROFILE"});
}

std::string name_for(std::string_view name, VCardVersion v) {
  std::string n(name);
  if (n.rfind("X-VCARD4-", 0) == 0 && v == VCardVersion::k40) return n.substr(9);
  if (n.rfind("X-VCARD3-", 0) == 0 && v != VCardVersion::k40) return n.substr(9);
  if (v != VCardVersion::k40 && only_in_40(n)) return "X-VCARD4-" + n;
  if (v == VCardVersion::k40 && dropped_in_40(n)) return "X-VCARD3-" + n;
  return n;
}

std::string base_name(std::string_view name) {
  std::string n(name);
  if (n.rfind("X-VCARD4-", 0) == 0 || n.rfind("X-VCARD3-", 0) == 0) return n.substr(9);
  return n;
}

VCardParam* find_param(std::vector<VCardParam>& params, std::string_view name) {
  for (auto& p : params) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

void remove_param(std::vector<VCardParam>& params, std::string_view name) {
  params.erase(std::remove_if(params.begin(), params.end(), [&](const VCardParam& p) { return p.name == name; }),
               params.end());
}

void add_type(std::vector<VCardParam>& params, std::string type) {
  VCardParam* t = find_param(params, "TYPE");
  if (!t) {
    params.push_back({"TYPE", {}});
    t = &params.back();
  }
  if (std::find(t->values.begin(), t->values.end(), type) == t->values.end()) t->values.push_back(std::move(type));
}

// PREF and VALUE spellings of the target version.
std::vector<VCardParam> params_for(const VCardProperty& p, VCardVersion v) {
  std::vector<VCardParam> params = p.params;
  if (v != VCardVersion::k40) {
    if (find_param(params, "PREF")) {
      remove_param(params, "PREF");
      add_type(params, "PREF");
    }
  } else if (VCardParam* t = find_param(params, "TYPE")) {
    auto it = std::find(t->values.begin(), t->values.end(), "PREF");
    if (it != t->values.end()) {
      t->values.erase(it);
      if (t->values.empty()) remove_param(params, "TYPE");
      if (!find_param(params, "PREF")) params.push_back({"PREF", {"1"}});
    }
  }
  if (VCardParam* value = find_param(params, "VALUE")) {
    for (auto& x : value->values) {
      if (v == VCardVersion::k21 && iequals(x, "uri")) x = "URL";
      if (v != VCardVersion::k21 && iequals(x, "URL")) x = "uri";
    }
  }
  return params;
}

bool needs_quotes(std::string_view s) { return s.find_first_of(";:,") != std::string_view::npos; }

std::string param_text(const std::vector<VCardParam>& params, VCardVersion v) {
  std::string out;
  for (const auto& p : params) {
    if (v == VCardVersion::k21) {
      for (const auto& value : p.values) {
        // 2.1 has no quoting: a value with a separator or a quote in it
        // would read back as other parameters, or end the property's name
        // early. It is left out (the server's copy keeps it).
        if (value.find_first_of(";:,\"") != std::string::npos) continue;
        // A TYPE value that is not a name ("My Type") would not read back bare.
        const bool bare = p.name == "TYPE" && is_vcard_name(value);
        out += bare ? ";" + value : ";" + p.name + "=" + value;
      }
      if (p.values.empty()) out += ";" + p.name + "=";
      continue;
    }
    out += ";" + p.name + "=";
    for (size_t i = 0; i < p.values.size(); ++i) {
      std::string value = p.name == "TYPE" && v == VCardVersion::k40 ? ascii_lower(p.values[i]) : p.values[i];
      value.erase(std::remove(value.begin(), value.end(), '"'), value.end());
      if (i) out += ",";
      out += needs_quotes(value) ? "\"" + value + "\"" : value;
    }
  }
  return out;
}

// 2.1 has no general escaping: only ';' (a separator to many 2.1 readers),
// the list separator ',' and a backslash the parser would otherwise read as
// an escape are escaped.
// Newlines stay (the caller switches to QUOTED-PRINTABLE).
std::string escape_21(std::string_view s, char sep) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '\\') {
      bool at_end = i + 1 == s.size();
      char n = at_end ? '\0' : s[i + 1];
      bool ambiguous = (at_end && sep != '\0') || n == '\\' || n == 'n' || n == 'N' || n == ';' || n == ',' || n == ':';
      out += ambiguous ? "\\\\" : "\\";
    } else if (c == ';' || (sep != '\0' && c == sep)) {
      out.push_back('\\');
      out.push_back(c);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string encode_values(const VCardProperty& p, VCardVersion v) {
  if (p.kind == ValueKind::kRaw || p.kind == ValueKind::kBinary) return p.values.empty() ? "" : p.values[0];
  char sep = p.kind == ValueKind::kStructured ? ';' : p.kind == ValueKind::kList ? ',' : '\0';
  if (p.kind == ValueKind::kStructured && base_name(p.name) == "GEO" && p.values.size() == 2) {
    if (v == VCardVersion::k21) return p.values[0] + "," + p.values[1];
    if (v == VCardVersion::k40) return "geo:" + p.values[0] + "," + p.values[1];
    return p.values[0] + ";" + p.values[1];
  }
  std::string out;
  for (size_t i = 0; i < p.values.size(); ++i) {
    if (i) out.push_back(sep);
    out += v == VCardVersion::k21 ? escape_21(p.values[i], sep) : escape_text(p.values[i]);
  }
  return out;
}

bool needs_qp(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u >= 0x80 || (u < 0x20 && u != '\t');
  });
}

// 3.0/4.0 folding: at most 75 octets a line, never inside a UTF-8 sequence.
void append_folded(std::string& out, std::string_view line) {
  size_t limit = kFoldOctets;
  while (line.size() > limit) {
    size_t n = utf8_prefix_length(line, limit);
    out.append(line.substr(0, n));
    out += "\r\n ";
    line.remove_prefix(n);
    limit = kFoldOctets - 1;
  }
  out.append(line);
  out += "\r\n";
}

// 2.1 folding: a break may only come before whitespace, which stays part of
// the value. A line without whitespace stays long.
void append_folded_21(std::string& out, std::string_view line, size_t value_start) {
  while (line.size() > kFoldOctets) {
    size_t cut = std::string_view::npos;
    for (size_t i = kFoldOctets; i > value_start; --i) {
      if (line[i] == ' ' || line[i] == '\t') {
        cut = i;
        break;
      }
    }
    if (cut == std::string_view::npos) break;
    out.append(line.substr(0, cut));
    out += "\r\n";
    line.remove_prefix(cut);
    value_start = 1;  // the continuation's leading whitespace is value
  }
  out.append(line);
  out += "\r\n";
}

std::string media_type_for(std::string_view name, const std::vector<VCardParam>& params) {
  const VCardParam* t = nullptr;
  for (const auto& p : params) {
    if (p.name == "TYPE") t = &p;
  }
  if (!t || t->values.empty()) return "";
  std::string base = base_name(name);
  std::string top = base == "SOUND" ? "audio/" : base == "KEY" ? "application/" : "image/";
  return top + ascii_lower(t->values.front());
}

bool is_tel_uri_body(std::string_view s) {
  return !s.empty() && s.find_first_not_of("+0123456789*#()-.") == std::string_view::npos;
}

void write_property(std::string& out, const VCardProperty& p, VCardVersion v) {
  std::string head = p.group.empty() ? std::string() : p.group + ".";
  head += name_for(p.name, v);
  std::vector<VCardParam> params = params_for(p, v);

  if (p.kind == ValueKind::kBinary) {
    std::string data = base64_encode(p.values.empty() ? std::string() : p.values[0]);
    if (v == VCardVersion::k40 && !is_vcard_media_property(p.name)) {
      // 4.0 has no ENCODING parameter, and the reader takes data: URIs as
      // binary only for media properties: the base64 text is the value.
      append_folded(out, head + param_text(params, v) + ":" + data);
      return;
    }
    if (v == VCardVersion::k40) {
      std::string media = media_type_for(p.name, params);
      remove_param(params, "TYPE");
      append_folded(out, head + param_text(params, v) + ":data:" + media + ";base64," + data);
      return;
    }
    params.insert(params.begin(), {"ENCODING", {v == VCardVersion::k21 ? "BASE64" : "b"}});
    if (v == VCardVersion::k30) {
      append_folded(out, head + param_text(params, v) + ":" + data);
      return;
    }
    // 2.1 spells the image format TYPE=JPEG, as phones expect, not bare.
    std::string type;
    if (const VCardParam* t = find_param(params, "TYPE")) {
      for (const auto& x : t->values) type += (type.empty() ? "" : ",") + x;
    }
    remove_param(params, "TYPE");
    std::string line = head + param_text(params, v) + (type.empty() ? "" : ";TYPE=" + type) + ":";
    // 2.1: data on indented lines, ended by a blank line (vCard 2.1 §2.1.3).
    out += line + "\r\n";
    for (size_t i = 0; i < data.size(); i += 72) out += " " + data.substr(i, 72) + "\r\n";
    out += "\r\n";
    return;
  }

  std::string value = encode_values(p, v);
  if (v == VCardVersion::k40 && base_name(p.name) == "TEL" && p.kind == ValueKind::kText && is_tel_uri_body(value) &&
      !find_param(params, "VALUE")) {
    params.push_back({"VALUE", {"uri"}});
    value = "tel:" + value;
  }
  if (v != VCardVersion::k21) {
    append_folded(out, head + param_text(params, v) + ":" + value);
    return;
  }
  if (base_name(p.name) == "AGENT" && value.rfind("BEGIN:VCARD", 0) == 0 && !p.values.empty()) {
    // Nested 2.1 card: its own lines follow the AGENT line.
    out += head + param_text(params, v) + ":\r\n";
    std::string_view nested = p.values[0];
    while (!nested.empty()) {
      size_t nl = nested.find('\n');
      out.append(nested.substr(0, nl));
      out += "\r\n";
      nested = nl == std::string_view::npos ? std::string_view() : nested.substr(nl + 1);
    }
    return;
  }
  if (needs_qp(value)) {
    params.push_back({"CHARSET", {"UTF-8"}});
    params.push_back({"ENCODING", {"QUOTED-PRINTABLE"}});
    std::string line = head + param_text(params, v) + ":";
    size_t room = line.size() < kFoldOctets - 10 ? kFoldOctets - line.size() : 10;
    out += line + qp_encode(value, room) + "\r\n";
    return;
  }
  std::string line = head + param_text(params, v) + ":";
  size_t value_start = line.size();
  append_folded_21(out, line + value, value_start);
}

}  // namespace

std::string write_vcard(const VCard& card, VCardVersion version) {
  std::string out = "BEGIN:VCARD\r\nVERSION:";
  out += vcard_version_name(version);
  out += "\r\n";
  for (const auto& p : card.properties) write_property(out, p, version);
  out += "END:VCARD\r\n";
  return out;
}

}  // namespace conflux::data
