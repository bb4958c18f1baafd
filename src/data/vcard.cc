// vCard parser: splitting a stream into cards, unfolding, content lines and
// value decoding. The rules are listed in vcard.h.
#include "data/vcard.h"

#include <algorithm>
#include <optional>

#include "common/base64.h"
#include "data/text_codec.h"

namespace conflux::data {
namespace {

struct PhysLine {
  std::string_view text;  // without the line end
  size_t number;          // 1-based, in the whole input
};

enum class FoldMode { kPlain, kQuotedPrintable, kBase64 };

struct LogicalLine {
  std::string text;
  size_t number = 0;
  FoldMode mode = FoldMode::kPlain;
  bool verbatim = false;  // nested AGENT vCard: value kept as is
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool starts_with_i(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

bool is_name_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// RFC 6350 §3.3 param-value: SAFE-CHAR / QSAFE-CHAR exclude the controls
// (tab aside); one would make the card unwritable in 2.1, where TYPE values
// stand bare.
bool has_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return (static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f; });
}

// For messages: at most 40 characters, non-printables as '?'.
std::string printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 40)) {
    out.push_back(static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f ? c : '?');
  }
  if (s.size() > 40) out += "...";
  return out;
}

Status line_error(size_t line, std::string_view what) {
  return Status::invalid_argument("vCard line " + std::to_string(line) + ": " + std::string(what));
}

// Position of the first `sep` outside double quotes, or npos.
size_t find_unquoted(std::string_view s, char sep, size_t from = 0) {
  bool quoted = false;
  for (size_t i = from; i < s.size(); ++i) {
    if (s[i] == '"')
      quoted = !quoted;
    else if (s[i] == sep && !quoted)
      return i;
  }
  return std::string_view::npos;
}

std::vector<std::string_view> split_unquoted(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (;;) {
    size_t pos = find_unquoted(s, sep, start);
    if (pos == std::string_view::npos) {
      parts.push_back(s.substr(start));
      return parts;
    }
    parts.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

std::string unquote(std::string_view s) {
  s = trim(s);
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  return std::string(s);
}

bool is_encoding_word(std::string_view up) {
  return up == "QUOTED-PRINTABLE" || up == "BASE64" || up == "8BIT" || up == "7BIT";
}

// The fold mode a content line's parameters ask for (checked on its first
// physical line, before the whole line is known).
FoldMode fold_mode_of(std::string_view first_line) {
  size_t colon = find_unquoted(first_line, ':');
  if (colon == std::string_view::npos) return FoldMode::kPlain;
  auto tokens = split_unquoted(first_line.substr(0, colon), ';');
  for (size_t i = 1; i < tokens.size(); ++i) {
    std::string up = ascii_upper(trim(tokens[i]));
    if (up == "QUOTED-PRINTABLE" || up == "ENCODING=QUOTED-PRINTABLE") return FoldMode::kQuotedPrintable;
    if (up == "BASE64" || up == "ENCODING=BASE64" || up == "ENCODING=B") return FoldMode::kBase64;
  }
  return FoldMode::kPlain;
}

bool looks_like_base64(std::string_view line) {
  bool any = false;
  for (char c : line) {
    if (c == ' ' || c == '\t') continue;
    bool ok =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=';
    if (!ok) return false;
    any = true;
  }
  return any;
}

// "AGENT:" alone (a nested card may follow) or "AGENT:BEGIN:VCARD".
bool is_agent_start(std::string_view line) {
  if (!starts_with_i(line, "AGENT")) return false;
  size_t colon = find_unquoted(line, ':');
  if (colon == std::string_view::npos) return false;
  std::string_view value = trim(line.substr(colon + 1));
  return value.empty() || iequals(value, "BEGIN:VCARD");
}

// "AGENT:BEGIN:VCARD": a nested card that opens on the AGENT line itself.
bool is_agent_inline_begin(std::string_view line) {
  return is_agent_start(line) && !iequals(trim(line.substr(find_unquoted(line, ':') + 1)), "");
}

// Decodes \\ \n \N \; \, \: ; other backslashes stay.
std::string unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out.push_back(s[i]);
      continue;
    }
    char n = s[i + 1];
    if (n == 'n' || n == 'N') {
      out.push_back('\n');
      ++i;
    } else if (n == '\\' || n == ';' || n == ',' || n == ':') {
      out.push_back(n);
      ++i;
    } else {
      out.push_back('\\');
    }
  }
  return out;
}

// Splits on `sep` not preceded by an escaping backslash; escapes are kept.
std::vector<std::string> split_escaped(std::string_view s, char sep) {
  std::vector<std::string> parts(1);
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      parts.back().push_back(s[i]);
      parts.back().push_back(s[++i]);
    } else if (s[i] == sep) {
      parts.emplace_back();
    } else {
      parts.back().push_back(s[i]);
    }
  }
  return parts;
}

std::string_view base_name(std::string_view name) {
  if (starts_with_i(name, "X-VCARD4-") || starts_with_i(name, "X-VCARD3-")) return name.substr(9);
  return name;
}

void add_param_values(std::vector<VCardParam>& params, std::string name, std::vector<std::string> values) {
  auto it = std::find_if(params.begin(), params.end(), [&](const VCardParam& p) { return p.name == name; });
  if (it == params.end()) {
    params.push_back({std::move(name), {}});
    it = params.end() - 1;
  }
  for (auto& v : values) {
    if (std::find(it->values.begin(), it->values.end(), v) == it->values.end()) it->values.push_back(std::move(v));
  }
}

std::optional<std::string> take_param(std::vector<VCardParam>& params, std::string_view name) {
  auto it = std::find_if(params.begin(), params.end(), [&](const VCardParam& p) { return p.name == name; });
  if (it == params.end()) return std::nullopt;
  std::string value = it->values.empty() ? std::string() : it->values.front();
  params.erase(it);
  return value;
}

// Bytes of a text value to UTF-8: the declared CHARSET, else UTF-8, with the
// windows-1252 / ISO-8859-1 fallback documented in vcard.h.
Result<std::string> decode_charset(std::string_view bytes, const std::optional<std::string>& charset) {
  if (charset && !charset->empty()) {
    auto converted = to_utf8(bytes, *charset);
    if (converted) return converted;
    std::string up = ascii_upper(*charset);
    if (up != "UTF-8" && up != "UTF8") return converted.error();
  }
  return undeclared_to_utf8(bytes);
}

// GEO: "lat,lon" (2.1), "lat;lon" (3.0), "geo:lat,lon" (4.0) -> two
// components; anything else stays raw.
bool parse_geo(std::string_view text, VCardProperty& p) {
  std::string_view s = text;
  if (starts_with_i(s, "geo:")) s.remove_prefix(4);
  size_t sep = s.find_first_of(";,");
  if (sep == std::string_view::npos) return false;
  std::string lat(trim(s.substr(0, sep)));
  std::string lon(trim(s.substr(sep + 1)));
  auto numeric = [](const std::string& v) {
    return !v.empty() && v.find_first_not_of("+-.0123456789") == std::string::npos;
  };
  if (!numeric(lat) || !numeric(lon)) return false;
  p.kind = ValueKind::kStructured;
  p.values = {lat, lon};
  return true;
}

Status decode_value(const LogicalLine& line, std::string_view value, VCardProperty& p) {
  auto where = [&](std::string_view what) {
    return line_error(line.number, "property " + p.name + ": " + std::string(what));
  };
  std::optional<std::string> encoding = take_param(p.params, "ENCODING");
  std::optional<std::string> charset = take_param(p.params, "CHARSET");
  std::string enc = encoding ? ascii_upper(*encoding) : std::string();
  std::string_view base = base_name(p.name);

  if (enc == "BASE64" || enc == "B") {
    auto bytes = base64_decode(value);
    if (!bytes) return where("invalid BASE64 data");
    p.kind = ValueKind::kBinary;
    p.values = {std::move(*bytes)};
    if (const VCardParam* v = p.param("VALUE"); v && v->values.size() == 1 && iequals(v->values[0], "binary")) {
      take_param(p.params, "VALUE");  // implied by the encoding; 4.0 has no such value type
    }
    if (const VCardParam* type = p.param("TYPE")) {
      std::vector<std::string> types;
      for (const auto& t : type->values) types.push_back(ascii_upper(t.substr(t.find('/') + 1)));
      take_param(p.params, "TYPE");
      add_param_values(p.params, "TYPE", std::move(types));
    }
    return Status::ok();
  }
  std::string bytes;
  if (enc == "QUOTED-PRINTABLE") {
    bytes = qp_decode(value);
  } else if (enc.empty() || enc == "8BIT" || enc == "7BIT") {
    bytes = std::string(value);
  } else {
    return where("unsupported ENCODING " + printable(*encoding));
  }

  // 4.0 inline binary: data:<mediatype>;base64,<data> (RFC 2397).
  if (is_vcard_media_property(p.name) && starts_with_i(bytes, "data:")) {
    size_t comma = bytes.find(',');
    std::string meta = comma == std::string::npos ? std::string() : ascii_lower(bytes.substr(5, comma - 5));
    if (comma != std::string::npos && meta.size() >= 7 && meta.compare(meta.size() - 7, 7, ";base64") == 0) {
      auto data = base64_decode(std::string_view(bytes).substr(comma + 1));
      if (!data) return where("invalid base64 in data: URI");
      std::string type = meta.substr(0, meta.size() - 7);
      type = type.substr(0, type.find(';'));
      if (!type.empty()) add_param_values(p.params, "TYPE", {ascii_upper(type.substr(type.find('/') + 1))});
      p.kind = ValueKind::kBinary;
      p.values = {std::move(*data)};
      return Status::ok();
    }
  }

  auto text = decode_charset(bytes, charset);
  if (!text) return where(text.error().message());

  if (line.verbatim) {
    p.kind = ValueKind::kText;
    p.values = {normalise_newlines(*text)};
    return Status::ok();
  }
  p.kind = value_kind_for(p.name);
  if (const VCardParam* v = p.param("VALUE")) {
    std::string kind = v->values.empty() ? std::string() : ascii_upper(v->values.front());
    if (kind == "URI" || kind == "URL") {
      if (base == "TEL" && starts_with_i(*text, "tel:")) {
        // 4.0 TEL;VALUE=uri:tel:+1... is the same number as 3.0 TEL:+1...
        take_param(p.params, "VALUE");
        p.kind = ValueKind::kText;
        p.values = {text->substr(4)};
        return Status::ok();
      }
      p.kind = ValueKind::kRaw;
    }
  }
  if (base == "GEO") {
    if (parse_geo(*text, p)) return Status::ok();
    p.kind = ValueKind::kRaw;
  }
  switch (p.kind) {
    case ValueKind::kRaw: p.values = {*text}; break;
    case ValueKind::kStructured:
    case ValueKind::kList:
      p.values.clear();
      for (const auto& part : split_escaped(*text, p.kind == ValueKind::kStructured ? ';' : ',')) {
        p.values.push_back(normalise_newlines(unescape(part)));
      }
      break;
    default: p.values = {normalise_newlines(unescape(*text))}; break;
  }
  return Status::ok();
}

Result<VCardProperty> parse_content_line(const LogicalLine& line) {
  std::string_view text = line.text;
  size_t colon = find_unquoted(text, ':');
  if (colon == std::string_view::npos) {
    return line_error(line.number, "no ':' in content line '" + printable(text) + "'");
  }
  VCardProperty p;
  auto tokens = split_unquoted(text.substr(0, colon), ';');
  std::string_view full_name = trim(tokens[0]);
  size_t dot = full_name.find('.');
  if (dot != std::string_view::npos) {
    p.group = std::string(full_name.substr(0, dot));
    full_name = full_name.substr(dot + 1);
    if (!is_vcard_name(p.group)) return line_error(line.number, "invalid group '" + printable(p.group) + "'");
  }
  if (!is_vcard_name(full_name)) {
    return line_error(line.number, "invalid property name '" + printable(full_name) + "'");
  }
  p.name = ascii_upper(full_name);
  for (size_t i = 1; i < tokens.size(); ++i) {
    std::string_view token = trim(tokens[i]);
    if (token.empty()) continue;
    size_t eq = find_unquoted(token, '=');
    if (eq == std::string_view::npos) {
      // 2.1 bare parameter: TEL;HOME;VOICE, N;QUOTED-PRINTABLE.
      std::string up = ascii_upper(unquote(token));
      if (!is_vcard_name(up))
        return line_error(line.number, "property " + p.name + ": invalid parameter '" + printable(token) + "'");
      add_param_values(p.params, is_encoding_word(up) ? "ENCODING" : "TYPE", {up});
      continue;
    }
    std::string name = ascii_upper(trim(token.substr(0, eq)));
    if (!is_vcard_name(name)) {
      return line_error(line.number, "property " + p.name + ": invalid parameter name '" + printable(name) + "'");
    }
    std::vector<std::string> values;
    for (auto v : split_unquoted(token.substr(eq + 1), ',')) {
      std::string value = unquote(v);
      if (has_control(value)) {
        return line_error(line.number, "property " + p.name + ": control character in parameter " + name);
      }
      if (name != "TYPE") {
        values.push_back(std::move(value));
        continue;
      }
      // TYPE="work,voice" (4.0 allows the quoted list) is two types.
      for (auto t : split_unquoted(value, ',')) {
        if (!trim(t).empty()) values.push_back(ascii_upper(trim(t)));
      }
    }
    add_param_values(p.params, std::move(name), std::move(values));
  }
  std::string_view value = text.substr(colon + 1);
  p.raw = std::string(value);
  CFX_RETURN_IF_ERROR(decode_value(line, value, p));
  return p;
}

Result<VCardVersion> find_version(const std::vector<PhysLine>& lines) {
  int depth = 0;
  for (const auto& l : lines) {
    std::string_view t = trim(l.text);
    if (iequals(t, "BEGIN:VCARD") || is_agent_inline_begin(t)) ++depth;
    if (iequals(t, "END:VCARD")) --depth;
    if (depth != 0 || !starts_with_i(l.text, "VERSION")) continue;
    size_t colon = l.text.find(':');
    if (colon == std::string_view::npos || !trim(l.text.substr(7, colon - 7)).empty()) continue;
    std::string_view v = trim(l.text.substr(colon + 1));
    if (v == "2.1") return VCardVersion::k21;
    if (v == "3.0") return VCardVersion::k30;
    if (v == "4.0") return VCardVersion::k40;
    return line_error(l.number, "unsupported VERSION '" + printable(v) + "'");
  }
  return VCardVersion::k21;  // no VERSION: read with the most tolerant rules
}

// Joins physical lines into content lines (unfolding, QP soft breaks, 2.1
// BASE64 continuation, nested AGENT cards).
std::vector<LogicalLine> unfold(const std::vector<PhysLine>& lines, VCardVersion version) {
  std::vector<LogicalLine> out;
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string_view line = lines[i].text;
    LogicalLine* prev = out.empty() ? nullptr : &out.back();
    bool soft_break =
        prev && prev->mode == FoldMode::kQuotedPrintable && !prev->text.empty() && prev->text.back() == '=';
    if (soft_break) {
      prev->text.pop_back();
      prev->text += line;
      continue;
    }
    if (line.empty()) {
      if (prev && prev->mode == FoldMode::kBase64) prev->mode = FoldMode::kPlain;  // data ended
      continue;
    }
    if (prev && (line[0] == ' ' || line[0] == '\t')) {
      prev->text += version == VCardVersion::k21 ? line : line.substr(1);
      continue;
    }
    if (prev && prev->mode == FoldMode::kBase64 && looks_like_base64(line)) {
      prev->text += line;
      continue;
    }
    LogicalLine next;
    next.text = std::string(line);
    next.number = lines[i].number;
    next.mode = fold_mode_of(line);
    if (is_agent_start(line)) {
      // 2.1 nested vCard: take every line up to its END:VCARD.
      size_t colon = find_unquoted(line, ':');
      std::string nested(trim(line.substr(colon + 1)));
      size_t j = i + 1;
      int depth = nested.empty() ? 0 : 1;
      for (; j < lines.size(); ++j) {
        std::string_view t = trim(lines[j].text);
        if (depth == 0 && t.empty()) continue;
        if (depth == 0 && !iequals(t, "BEGIN:VCARD")) break;
        if (iequals(t, "BEGIN:VCARD")) ++depth;
        if (!nested.empty()) nested += '\n';
        nested += lines[j].text;
        if (iequals(t, "END:VCARD") && --depth == 0) break;
      }
      if (depth == 0 && !nested.empty() && j < lines.size()) {
        next.text = std::string(line.substr(0, colon + 1)) + nested;
        next.verbatim = true;
        i = j;
      }
    }
    out.push_back(std::move(next));
  }
  return out;
}

Result<VCard> parse_card(const std::vector<PhysLine>& lines) {
  VCard card;
  auto version = find_version(lines);
  if (!version) return version.error();
  card.version = *version;
  bool seen_version = false;
  for (const auto& logical : unfold(lines, card.version)) {
    auto property = parse_content_line(logical);
    if (!property) return property.error();
    // A nested card lives inside an AGENT value; a BEGIN or END of its own
    // (a 2.1 continuation line that looked like one to the card splitter)
    // would end the card early when written again.
    if (property->name == "BEGIN" || property->name == "END") {
      return line_error(logical.number, property->name + ":" + printable(property->raw) + " inside a card");
    }
    if (property->name == "VERSION" && property->group.empty() && !seen_version) {
      seen_version = true;
      continue;
    }
    card.properties.push_back(std::move(*property));
  }
  return card;
}

}  // namespace

bool is_vcard_media_property(std::string_view name) {
  const std::string_view base = base_name(name);
  return base == "PHOTO" || base == "LOGO" || base == "SOUND" || base == "KEY";
}

bool is_vcard_name(std::string_view s) { return !s.empty() && std::all_of(s.begin(), s.end(), is_name_char); }

const char* vcard_version_name(VCardVersion v) {
  switch (v) {
    case VCardVersion::k21: return "2.1";
    case VCardVersion::k30: return "3.0";
    case VCardVersion::k40: return "4.0";
  }
  return "?";
}

ValueKind value_kind_for(std::string_view name) {
  std::string up = ascii_upper(base_name(name));
  if (up == "N" || up == "ADR" || up == "ORG" || up == "GENDER" || up == "CLIENTPIDMAP" || up == "GEO") {
    return ValueKind::kStructured;
  }
  if (up == "CATEGORIES" || up == "NICKNAME") return ValueKind::kList;
  if (up == "URL" || up == "SOURCE" || up == "FBURL" || up == "CALURI" || up == "CALADRURI" || up == "CAPURI" ||
      up == "IMPP" || up == "MEMBER" || up == "RELATED" || up == "PHOTO" || up == "LOGO" || up == "SOUND" ||
      up == "KEY") {
    return ValueKind::kRaw;
  }
  return ValueKind::kText;
}

const VCardParam* VCardProperty::param(std::string_view param_name) const {
  for (const auto& p : params) {
    if (iequals(p.name, param_name)) return &p;
  }
  return nullptr;
}

std::vector<std::string> VCardProperty::types() const {
  std::vector<std::string> out;
  if (const VCardParam* t = param("TYPE")) {
    for (const auto& v : t->values) out.push_back(ascii_upper(v));
  }
  if (param("PREF") && std::find(out.begin(), out.end(), "PREF") == out.end()) out.push_back("PREF");
  return out;
}

bool VCardProperty::has_type(std::string_view type) const {
  auto t = types();
  return std::find(t.begin(), t.end(), ascii_upper(type)) != t.end();
}

std::string VCardProperty::joined() const {
  std::string out;
  char sep = kind == ValueKind::kList ? ',' : ';';
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out.push_back(sep);
    out += values[i];
  }
  return out;
}

bool VCardProperty::empty() const {
  return std::all_of(values.begin(), values.end(), [](const std::string& v) { return trim(v).empty(); });
}

const VCardProperty* VCard::first(std::string_view name) const {
  for (const auto& p : properties) {
    if (iequals(p.name, name)) return &p;
  }
  return nullptr;
}

Result<std::vector<VCard>> parse_vcards(std::string_view bytes) {
  if (bytes.size() >= 3 && bytes.substr(0, 3) == "\xEF\xBB\xBF") bytes.remove_prefix(3);  // BOM
  std::vector<VCard> cards;
  std::vector<PhysLine> lines;
  int depth = 0;
  size_t begin_line = 0;
  size_t number = 0;
  size_t pos = 0;
  // The previous line ended a quoted-printable value in a soft break ('='):
  // this one continues the value, whatever it looks like ("BEGIN:VCARD" too).
  bool qp_soft_break = false;
  while (pos < bytes.size()) {
    size_t nl = bytes.find('\n', pos);
    std::string_view line = bytes.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? bytes.size() : nl + 1;
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::string_view t = trim(line);
    if (depth == 0) {
      if (t.empty()) continue;
      if (!iequals(t, "BEGIN:VCARD")) {
        if (starts_with_i(t, "END:VCARD")) return line_error(number, "END:VCARD without BEGIN:VCARD");
        return line_error(number, "content outside BEGIN:VCARD/END:VCARD: '" + printable(t) + "'");
      }
      depth = 1;
      begin_line = number;
      lines.clear();
      continue;
    }
    const bool ends_in_equals = !line.empty() && line.back() == '=';
    if (qp_soft_break) {
      lines.push_back({line, number});
      qp_soft_break = ends_in_equals;
      continue;
    }
    // A line that starts with white space continues the one before (a 3.0/4.0
    // fold, a 2.1 continuation), so it never opens or closes a card.
    const bool continuation = !line.empty() && (line[0] == ' ' || line[0] == '\t');
    if (!continuation && (iequals(t, "BEGIN:VCARD") || is_agent_inline_begin(t))) ++depth;
    if (!continuation && iequals(t, "END:VCARD") && --depth == 0) {
      auto card = parse_card(lines);
      if (!card) return card.error();
      cards.push_back(std::move(*card));
      continue;
    }
    lines.push_back({line, number});
    qp_soft_break = ends_in_equals && fold_mode_of(line) == FoldMode::kQuotedPrintable;
  }
  if (depth != 0) return line_error(begin_line, "BEGIN:VCARD without END:VCARD");
  if (cards.empty()) return Status::invalid_argument("no BEGIN:VCARD found");
  return cards;
}

Result<VCard> parse_vcard(std::string_view bytes) {
  auto cards = parse_vcards(bytes);
  if (!cards) return cards.error();
  if (cards->size() != 1) {
    return Status::invalid_argument("expected one vCard, found " + std::to_string(cards->size()));
  }
  return std::move(cards->front());
}

}  // namespace conflux::data
