#include "csv_contacts.h"

#include <algorithm>
#include <cctype>
#include <map>

namespace csv_plugin {

namespace {

constexpr int kMaxValues = 3;                   // e-mails and phones per contact

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

// Column index by name; -1 when the header lacks it.
int column(const std::vector<std::string>& header, const std::string& name) {
  auto it = std::find(header.begin(), header.end(), name);
  return it == header.end() ? -1 : static_cast<int>(it - header.begin());
}

std::string cell(const std::vector<std::string>& header, const std::vector<std::string>& row, const std::string& name) {
  int i = column(header, name);
  return i >= 0 && static_cast<size_t>(i) < row.size() ? row[i] : std::string();
}

// Google puts several values of one kind in one cell, joined by " ::: ".
std::vector<std::string> split_values(const std::string& cell_text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= cell_text.size()) {
    size_t end = cell_text.find(" ::: ", start);
    std::string part = cell_text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!part.empty()) out.push_back(part);
    if (end == std::string::npos) break;
    start = end + 5;
  }
  return out;
}

// Google's "* Home" marks the primary value.
std::string plain_type(std::string type) {
  if (type.rfind("* ", 0) == 0) type = type.substr(2);
  return type.empty() ? "Other" : type;
}

const char* const kOutlookEmails[kMaxValues] = {"E-mail Address", "E-mail 2 Address", "E-mail 3 Address"};
const std::pair<const char*, const char*> kOutlookPhones[] = {
    {"Mobile Phone", "Mobile"}, {"Home Phone", "Home"}, {"Business Phone", "Work"}, {"Other Phone", "Other"}};

// --- vCard text

std::string unescape(const std::string& v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\\' && i + 1 < v.size()) {
      char n = v[++i];
      out += (n == 'n' || n == 'N') ? '\n' : n;
    } else {
      out += v[i];
    }
  }
  return out;
}

std::string escape(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == ';' || c == ',') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c != '\r') {
      out += c;
    }
  }
  return out;
}

// Splits on `sep` not preceded by a backslash.
std::vector<std::string> split_unescaped(const std::string& v, char sep) {
  std::vector<std::string> parts(1);
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\\' && i + 1 < v.size()) {
      parts.back() += v[i];
      parts.back() += v[++i];
    } else if (v[i] == sep) {
      parts.emplace_back();
    } else {
      parts.back() += v[i];
    }
  }
  return parts;
}

// The TYPE values of a property's parameters, upper case: "TYPE=CELL,VOICE",
// "TYPE=cell;TYPE=pref" and vCard 2.1's bare "CELL" alike.
std::vector<std::string> types_of(const std::vector<std::string>& params) {
  std::vector<std::string> types;
  for (const auto& p : params) {
    std::string value = p;
    auto eq = p.find('=');
    if (eq != std::string::npos) {
      if (upper(p.substr(0, eq)) != "TYPE") continue;
      value = p.substr(eq + 1);
    }
    value.erase(std::remove(value.begin(), value.end(), '"'), value.end());
    for (const auto& t : split_unescaped(value, ',')) types.push_back(upper(t));
  }
  return types;
}

bool has(const std::vector<std::string>& v, const char* what) { return std::find(v.begin(), v.end(), what) != v.end(); }

std::string phone_type(const std::vector<std::string>& types) {
  if (has(types, "CELL")) return "Mobile";
  if (has(types, "WORK")) return "Work";
  if (has(types, "HOME")) return "Home";
  return "Other";
}

std::string email_type(const std::vector<std::string>& types) {
  if (has(types, "WORK")) return "Work";
  if (has(types, "HOME")) return "Home";
  return "Other";
}

std::string vcard_phone_type(const std::string& type) {
  if (type == "Mobile") return "CELL";
  if (type == "Work") return "WORK,VOICE";
  if (type == "Home") return "HOME,VOICE";
  return "VOICE";
}

}  // namespace

std::vector<std::vector<std::string>> parse_csv(const std::string& input) {
  std::string_view text(input);
  if (text.rfind("\xEF\xBB\xBF", 0) == 0) text.remove_prefix(3);
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> record;
  std::string field;
  bool quoted = false, any = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        field += c;
      }
      continue;
    }
    if (c == '"') {
      quoted = true;
      any = true;
    } else if (c == ',') {
      record.push_back(std::move(field));
      field.clear();
      any = true;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      if (any || !field.empty()) {
        record.push_back(std::move(field));
        records.push_back(std::move(record));
      }
      record.clear();
      field.clear();
      any = false;
    } else {
      field += c;
      any = true;
    }
  }
  if (any || !field.empty()) {
    record.push_back(std::move(field));
    records.push_back(std::move(record));
  }
  return records;
}

std::string write_csv_record(const std::vector<std::string>& fields) {
  std::string line;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i) line += ',';
    const std::string& f = fields[i];
    if (f.find_first_of(",\"\r\n") == std::string::npos) {
      line += f;
      continue;
    }
    line += '"';
    for (char c : f) {
      if (c == '"') line += '"';
      line += c;
    }
    line += '"';
  }
  return line + "\r\n";
}

std::vector<std::string> header_of(Layout layout) {
  if (layout == Layout::kOutlook) {
    return {"First Name",     "Middle Name",      "Last Name",        "Title",          "Suffix",
            "Nickname",       "E-mail Address",   "E-mail 2 Address", "E-mail 3 Address", "Mobile Phone",
            "Home Phone",     "Business Phone",   "Other Phone",      "Company",        "Job Title",
            "Birthday",       "Notes",            kIdColumn};
  }
  std::vector<std::string> h = {"Name",        "Given Name", "Additional Name", "Family Name", "Name Prefix",
                                "Name Suffix", "Nickname",   "Birthday",        "Notes"};
  for (int k = 1; k <= kMaxValues; ++k) {
    h.push_back("E-mail " + std::to_string(k) + " - Type");
    h.push_back("E-mail " + std::to_string(k) + " - Value");
  }
  for (int k = 1; k <= kMaxValues; ++k) {
    h.push_back("Phone " + std::to_string(k) + " - Type");
    h.push_back("Phone " + std::to_string(k) + " - Value");
  }
  for (const char* c : {"Organization 1 - Name", "Organization 1 - Title", kIdColumn}) h.push_back(c);
  return h;
}

bool detect_layout(const std::vector<std::string>& header, Layout& layout) {
  if (column(header, "Given Name") >= 0 || column(header, "E-mail 1 - Value") >= 0) {
    layout = Layout::kGoogle;
    return true;
  }
  if (column(header, "First Name") >= 0 || column(header, "E-mail Address") >= 0) {
    layout = Layout::kOutlook;
    return true;
  }
  return false;
}

Contact from_row(Layout layout, const std::vector<std::string>& h, const std::vector<std::string>& row) {
  Contact c;
  if (layout == Layout::kGoogle) {
    c.formatted_name = cell(h, row, "Name");
    c.given = cell(h, row, "Given Name");
    c.additional = cell(h, row, "Additional Name");
    c.family = cell(h, row, "Family Name");
    c.prefix = cell(h, row, "Name Prefix");
    c.suffix = cell(h, row, "Name Suffix");
    c.nickname = cell(h, row, "Nickname");
    c.birthday = cell(h, row, "Birthday");
    c.note = cell(h, row, "Notes");
    c.organization = cell(h, row, "Organization 1 - Name");
    c.title = cell(h, row, "Organization 1 - Title");
    for (int k = 1; k <= 9; ++k) {
      const std::string n = std::to_string(k);
      for (const auto& v : split_values(cell(h, row, "E-mail " + n + " - Value"))) {
        c.emails.emplace_back(plain_type(cell(h, row, "E-mail " + n + " - Type")), v);
      }
      for (const auto& v : split_values(cell(h, row, "Phone " + n + " - Value"))) {
        c.phones.emplace_back(plain_type(cell(h, row, "Phone " + n + " - Type")), v);
      }
    }
  } else {
    c.given = cell(h, row, "First Name");
    c.additional = cell(h, row, "Middle Name");
    c.family = cell(h, row, "Last Name");
    c.prefix = cell(h, row, "Title");
    c.suffix = cell(h, row, "Suffix");
    c.nickname = cell(h, row, "Nickname");
    c.birthday = cell(h, row, "Birthday");
    c.note = cell(h, row, "Notes");
    c.organization = cell(h, row, "Company");
    c.title = cell(h, row, "Job Title");
    for (const char* col : kOutlookEmails) {
      if (auto v = cell(h, row, col); !v.empty()) c.emails.emplace_back("Other", v);
    }
    for (const auto& [col, type] : kOutlookPhones) {
      if (auto v = cell(h, row, col); !v.empty()) c.phones.emplace_back(type, v);
    }
  }
  c.id = cell(h, row, kIdColumn);
  if (c.formatted_name.empty()) {
    for (const std::string* part : {&c.prefix, &c.given, &c.additional, &c.family, &c.suffix}) {
      if (part->empty()) continue;
      if (!c.formatted_name.empty()) c.formatted_name += ' ';
      c.formatted_name += *part;
    }
  }
  return c;
}

std::vector<std::string> to_row(Layout layout, const std::vector<std::string>& h, const Contact& c) {
  std::vector<std::string> row(h.size());
  auto set = [&](const std::string& name, const std::string& value) {
    if (int i = column(h, name); i >= 0) row[i] = value;
  };
  if (layout == Layout::kGoogle) {
    set("Name", c.formatted_name);
    set("Given Name", c.given);
    set("Additional Name", c.additional);
    set("Family Name", c.family);
    set("Name Prefix", c.prefix);
    set("Name Suffix", c.suffix);
    set("Nickname", c.nickname);
    set("Birthday", c.birthday);
    set("Notes", c.note);
    set("Organization 1 - Name", c.organization);
    set("Organization 1 - Title", c.title);
    for (size_t k = 0; k < c.emails.size() && k < kMaxValues; ++k) {
      set("E-mail " + std::to_string(k + 1) + " - Type", c.emails[k].first);
      set("E-mail " + std::to_string(k + 1) + " - Value", c.emails[k].second);
    }
    for (size_t k = 0; k < c.phones.size() && k < kMaxValues; ++k) {
      set("Phone " + std::to_string(k + 1) + " - Type", c.phones[k].first);
      set("Phone " + std::to_string(k + 1) + " - Value", c.phones[k].second);
    }
  } else {
    set("First Name", c.given);
    set("Middle Name", c.additional);
    set("Last Name", c.family);
    set("Title", c.prefix);
    set("Suffix", c.suffix);
    set("Nickname", c.nickname);
    set("Birthday", c.birthday);
    set("Notes", c.note);
    set("Company", c.organization);
    set("Job Title", c.title);
    for (size_t k = 0; k < c.emails.size() && k < kMaxValues; ++k) set(kOutlookEmails[k], c.emails[k].second);
    for (const auto& [type, number] : c.phones) {
      for (const auto& [col, col_type] : kOutlookPhones) {
        if (type == col_type && cell(h, row, col).empty()) {
          set(col, number);
          break;
        }
      }
    }
  }
  set(kIdColumn, c.id);
  return row;
}

bool from_vcard(const std::string& vcard, Contact& c) {
  // Unfold (RFC 6350 §3.2), then one property per line.
  std::string unfolded;
  for (size_t i = 0; i < vcard.size(); ++i) {
    if (vcard[i] == '\r') continue;
    if (vcard[i] == '\n' && i + 1 < vcard.size() && (vcard[i + 1] == ' ' || vcard[i + 1] == '\t')) {
      ++i;
      continue;
    }
    unfolded += vcard[i];
  }
  bool begun = false, ended = false;
  size_t pos = 0;
  while (pos < unfolded.size()) {
    size_t eol = unfolded.find('\n', pos);
    std::string line = unfolded.substr(pos, eol == std::string::npos ? std::string::npos : eol - pos);
    pos = eol == std::string::npos ? unfolded.size() : eol + 1;
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    auto head = split_unescaped(line.substr(0, colon), ';');
    std::string name = upper(head[0]);
    if (auto dot = name.rfind('.'); dot != std::string::npos) name = name.substr(dot + 1);  // item1.EMAIL
    std::vector<std::string> params(head.begin() + 1, head.end());
    const std::string value = line.substr(colon + 1);
    if (name == "BEGIN" && upper(value) == "VCARD") begun = true;
    if (name == "END" && upper(value) == "VCARD") ended = true;
    if (name == "FN") c.formatted_name = unescape(value);
    if (name == "N") {
      auto parts = split_unescaped(value, ';');
      parts.resize(5);
      c.family = unescape(parts[0]);
      c.given = unescape(parts[1]);
      c.additional = unescape(parts[2]);
      c.prefix = unescape(parts[3]);
      c.suffix = unescape(parts[4]);
    }
    if (name == "NICKNAME") c.nickname = unescape(value);
    if (name == "BDAY") c.birthday = value;
    if (name == "NOTE") c.note = unescape(value);
    if (name == "ORG") c.organization = unescape(split_unescaped(value, ';')[0]);
    if (name == "TITLE") c.title = unescape(value);
    if (name == "EMAIL" && !value.empty()) c.emails.emplace_back(email_type(types_of(params)), unescape(value));
    if (name == "TEL" && !value.empty()) c.phones.emplace_back(phone_type(types_of(params)), unescape(value));
  }
  return begun && ended;
}

std::string to_vcard(const Contact& c) {
  std::string v = "BEGIN:VCARD\r\nVERSION:3.0\r\n";
  v += "N:" + escape(c.family) + ";" + escape(c.given) + ";" + escape(c.additional) + ";" + escape(c.prefix) + ";" +
       escape(c.suffix) + "\r\n";
  v += "FN:" + escape(c.formatted_name) + "\r\n";
  if (!c.nickname.empty()) v += "NICKNAME:" + escape(c.nickname) + "\r\n";
  if (!c.birthday.empty()) v += "BDAY:" + c.birthday + "\r\n";
  if (!c.organization.empty()) v += "ORG:" + escape(c.organization) + "\r\n";
  if (!c.title.empty()) v += "TITLE:" + escape(c.title) + "\r\n";
  for (const auto& [type, number] : c.phones) v += "TEL;TYPE=" + vcard_phone_type(type) + ":" + escape(number) + "\r\n";
  for (const auto& [type, address] : c.emails) {
    v += "EMAIL;TYPE=INTERNET" + std::string(type == "Work" ? ",WORK" : type == "Home" ? ",HOME" : "") + ":" +
         escape(address) + "\r\n";
  }
  if (!c.note.empty()) v += "NOTE:" + escape(c.note) + "\r\n";
  return v + "END:VCARD\r\n";
}

}  // namespace csv_plugin
