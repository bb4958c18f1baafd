#include "data/note.h"

#include <libical/ical.h>

#include <algorithm>
#include <set>

#include "data/sif.h"
#include "data/text_codec.h"
#include "data/vcalendar.h"

namespace conflux::data {
namespace {

Result<std::string> as_utf8(std::string_view bytes, std::string_view charset) {
  if (!charset.empty() && !iequals(charset, "UTF-8")) return to_utf8(bytes, charset);
  return undeclared_to_utf8(bytes);
}

Result<NoteFields> parse_vnote(std::string_view bytes) {
  const std::vector<std::string> lines = unfold_21_lines(bytes);
  NoteFields note;
  int depth = 0;
  bool seen = false;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    std::string where = "line " + std::to_string(i + 1);
    size_t colon = line.find(':');
    if (colon == std::string::npos) return Status::invalid_argument(where + ": no ':' in a content line");
    std::string head = line.substr(0, colon);
    std::string value = line.substr(colon + 1);
    std::string name = ascii_upper(head.substr(0, head.find(';')));
    bool ok = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
      return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
    });
    if (!ok) return Status::invalid_argument(where + ": bad property name");
    std::string params = ascii_upper(head.substr(name.size()));
    if (name == "BEGIN" || name == "END") {
      if (!iequals(value, "VNOTE")) return Status::invalid_argument(where + ": " + name + ":" + value.substr(0, 20));
      if (name == "BEGIN") {
        if (seen) return Status::invalid_argument(where + ": more than one VNOTE");
        seen = true;
        ++depth;
      } else if (--depth < 0) {
        return Status::invalid_argument(where + ": END:VNOTE without BEGIN");
      }
      continue;
    }
    if (depth != 1) return Status::invalid_argument(where + ": content outside a VNOTE");
    if (params.find("QUOTED-PRINTABLE") != std::string::npos) value = qp_decode(value);
    std::string charset;
    if (size_t c = params.find("CHARSET="); c != std::string::npos) {
      size_t e = params.find(';', c);
      charset = head.substr(name.size() + c + 8, e == std::string::npos ? std::string::npos : e - c - 8);
    }
    auto utf8 = as_utf8(value, charset);
    if (!utf8) return utf8.error().with_context(where + " " + name);
    std::string text = normalise_newlines(unescape_text(*utf8));
    if (name == "VERSION") continue;
    if (name == "BODY") {
      note.body = text;
    } else if (name == "SUMMARY") {
      note.summary = text;
    } else if (name == "DCREATED") {
      note.created = text;
    } else if (name == "LAST-MODIFIED") {
      note.last_modified = text;
    } else if (name == "CATEGORIES" || name == "CLASS" || name.substr(0, 2) == "X-") {
      note.extra.emplace_back(name, text);
    }
  }
  if (!seen) return Status::invalid_argument("no BEGIN:VNOTE");
  if (depth != 0) return Status::invalid_argument("no END:VNOTE");
  return note;
}

std::string take_ical_string(char* s) {
  std::string out = s ? s : "";
  if (s) icalmemory_free_buffer(s);
  return out;
}

// One VJOURNAL (of `cal`) as NoteFields, by the mapping in note.h.
NoteFields journal_fields(icalcomponent* journal, icalcomponent* cal) {
  NoteFields note;
  bool have_body = false;
  std::set<std::string> tzids;
  std::vector<icalproperty*> props;
  for (icalproperty* p = icalcomponent_get_first_property(journal, ICAL_ANY_PROPERTY); p;
       p = icalcomponent_get_next_property(journal, ICAL_ANY_PROPERTY)) {
    props.push_back(p);
  }
  for (icalproperty* p : props) {
    std::string name = ascii_upper(icalproperty_get_property_name(p));
    icalvalue* v = icalproperty_get_value(p);
    std::string text = v && icalvalue_isa(v) == ICAL_TEXT_VALUE && icalvalue_get_text(v) ? icalvalue_get_text(v) : "";
    if (name.rfind("X-LIC-", 0) == 0) continue;  // libical's own error notes
    if (name == "DESCRIPTION" && !have_body) {
      note.body = normalise_newlines(text);
      have_body = true;
    } else if (name == "SUMMARY") {
      note.summary = normalise_newlines(text);
    } else if (name == "CREATED") {
      note.created = take_ical_string(icalproperty_get_value_as_string_r(p));
    } else if (name == "LAST-MODIFIED") {
      note.last_modified = take_ical_string(icalproperty_get_value_as_string_r(p));
    } else if (name == "CATEGORIES" || name == "CLASS" || name.rfind("X-", 0) == 0) {
      if (text.empty()) text = take_ical_string(icalproperty_get_value_as_string_r(p));
      note.extra.emplace_back(name, normalise_newlines(text));
    } else {
      note.journal_only.push_back(take_ical_string(icalproperty_as_ical_string_r(p)));
      if (icalparameter* tz = icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER)) {
        if (const char* id = icalparameter_get_tzid(tz)) tzids.insert(id);
      }
    }
  }
  for (icalcomponent* z = icalcomponent_get_first_component(cal, ICAL_VTIMEZONE_COMPONENT); z;
       z = icalcomponent_get_next_component(cal, ICAL_VTIMEZONE_COMPONENT)) {
    icalproperty* id = icalcomponent_get_first_property(z, ICAL_TZID_PROPERTY);
    if (id && icalproperty_get_tzid(id) && tzids.count(icalproperty_get_tzid(id))) {
      note.journal_zones.push_back(take_ical_string(icalcomponent_as_ical_string_r(z)));
    }
  }
  return note;
}

Result<std::vector<NoteFields>> parse_vjournals(std::string_view bytes) {
  if (Status s = check_ical_structure(bytes); !s.is_ok()) return s;
  icalerror_set_errors_are_fatal(0);
  icalerror_clear_errno();
  icalcomponent* root = icalparser_parse_string(std::string(bytes).c_str());
  icalerror_clear_errno();
  if (!root) return Status::invalid_argument("not iCalendar");
  std::vector<icalcomponent*> cals;
  if (icalcomponent_isa(root) == ICAL_VCALENDAR_COMPONENT) {
    cals.push_back(root);
  } else {
    for (icalcomponent* k = icalcomponent_get_first_component(root, ICAL_VCALENDAR_COMPONENT); k;
         k = icalcomponent_get_next_component(root, ICAL_VCALENDAR_COMPONENT)) {
      cals.push_back(k);
    }
  }
  std::vector<NoteFields> notes;
  for (icalcomponent* cal : cals) {
    std::vector<icalcomponent*> journals;
    for (icalcomponent* j = icalcomponent_get_first_component(cal, ICAL_VJOURNAL_COMPONENT); j;
         j = icalcomponent_get_next_component(cal, ICAL_VJOURNAL_COMPONENT)) {
      journals.push_back(j);
    }
    for (icalcomponent* j : journals) notes.push_back(journal_fields(j, cal));
  }
  icalcomponent_free(root);
  if (notes.empty()) return Status::invalid_argument("no VJOURNAL in the calendar data");
  return notes;
}

// The VCALENDAR text of one note as a VJOURNAL.
std::string write_vjournal(const NoteFields& note) {
  icalcomponent* cal = icalcomponent_new(ICAL_VCALENDAR_COMPONENT);
  icalcomponent_add_property(cal, icalproperty_new_version("2.0"));
  icalcomponent_add_property(cal, icalproperty_new_prodid("-//Conflux//Conflux data objects//EN"));
  for (const auto& zone : note.journal_zones) {
    if (icalcomponent* z = icalcomponent_new_from_string(zone.c_str())) icalcomponent_add_component(cal, z);
  }
  icalcomponent* journal = icalcomponent_new(ICAL_VJOURNAL_COMPONENT);
  if (!note.summary.empty()) icalcomponent_add_property(journal, icalproperty_new_summary(note.summary.c_str()));
  // The body first: of several DESCRIPTIONs the first is the body.
  if (!note.body.empty()) icalcomponent_add_property(journal, icalproperty_new_description(note.body.c_str()));
  for (const auto& line : note.journal_only) {
    if (icalproperty* p = icalproperty_new_from_string(line.c_str())) icalcomponent_add_property(journal, p);
  }
  // Stamps that do not parse as date-times are dropped: libical would write
  // them as an error note instead.
  auto add_stamp = [&](const std::string& value, icalproperty* (*make)(icaltimetype)) {
    icaltimetype t = icaltime_from_string(value.c_str());
    if (!value.empty() && !icaltime_is_null_time(t)) icalcomponent_add_property(journal, make(t));
  };
  add_stamp(note.created, icalproperty_new_created);
  add_stamp(note.last_modified, icalproperty_new_lastmodified);
  for (const auto& [name, value] : note.extra) {
    icalproperty* p = nullptr;
    if (name == "CATEGORIES") {
      p = icalproperty_new_categories(value.c_str());
    } else if (name == "CLASS") {
      p = icalproperty_new_from_string(("CLASS:" + value).c_str());
    } else {
      p = icalproperty_new_x(value.c_str());
      icalproperty_set_x_name(p, name.c_str());
    }
    if (p) icalcomponent_add_property(journal, p);
  }
  icalcomponent_add_component(cal, journal);
  std::string out = take_ical_string(icalcomponent_as_ical_string_r(cal));
  icalcomponent_free(cal);
  return out;
}

}  // namespace

bool holds_only_journals(std::string_view bytes) {
  std::string upper = ascii_upper(bytes);
  return upper.find("BEGIN:VJOURNAL") != std::string::npos && upper.find("BEGIN:VEVENT") == std::string::npos &&
         upper.find("BEGIN:VTODO") == std::string::npos;
}

Result<std::vector<std::unique_ptr<Note>>> Note::parse_journals(std::string_view bytes) {
  auto all = parse_vjournals(bytes);
  if (!all) return all.error().with_context("VJOURNAL");
  std::vector<std::unique_ptr<Note>> notes;
  for (auto& fields : *all) notes.push_back(std::make_unique<Note>(std::move(fields), vjournal_format()));
  return notes;
}

Result<std::unique_ptr<Note>> Note::parse(std::string_view bytes, const Format& format) {
  std::string type = ascii_lower(format.mime_type);
  if (type == "text/plain") {
    auto text = as_utf8(bytes, "");
    if (!text) return text.error();
    NoteFields note;
    note.body = normalise_newlines(*text);
    return std::make_unique<Note>(std::move(note), text_plain_format());
  }
  if (type == "text/x-vnote") {
    if (bytes.find('\0') != std::string_view::npos) return Status::invalid_argument("NUL byte in a vNote");
    auto note = parse_vnote(bytes);
    if (!note) return note.error().with_context("vNote");
    return std::make_unique<Note>(std::move(*note), vnote11_format());
  }
  if (type == "text/calendar" || type == "text/x-vcalendar") {
    auto notes = parse_journals(bytes);
    if (!notes) return notes.error();
    if (notes->size() != 1) {
      return Status::invalid_argument("expected one VJOURNAL, found " + std::to_string(notes->size()));
    }
    return std::move(notes->front());
  }
  return Status::invalid_argument("a note cannot be read from " + format.to_string());
}

Result<std::string> Note::write(const Format& format) const {
  std::string type = ascii_lower(format.mime_type);
  if (type == "text/plain") return fields_.body.empty() ? fields_.summary : fields_.body;
  if (type == "text/x-vnote") {
    std::string out = "BEGIN:VNOTE\r\nVERSION:1.1\r\n";
    if (!fields_.summary.empty()) out += text_line_10("SUMMARY", fields_.summary);
    out += text_line_10("BODY", fields_.body);
    if (!fields_.created.empty()) out += "DCREATED:" + fields_.created + "\r\n";
    if (!fields_.last_modified.empty()) out += "LAST-MODIFIED:" + fields_.last_modified + "\r\n";
    for (const auto& [name, value] : fields_.extra) out += text_line_10(name, value);
    return out + "END:VNOTE\r\n";
  }
  if (type == "text/calendar" && (format.version.empty() || format.version == "2.0")) return write_vjournal(fields_);
  if (type == sif_note_format().mime_type) return write_sif_note(fields_);
  return Status::invalid_argument("a note cannot be written as " + format.to_string());
}

std::string Note::identity_key() const {
  std::string_view text = fields_.body.empty() ? fields_.summary : fields_.body;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string line = collapse_lower(text.substr(pos, end - pos));
    if (!line.empty()) return "note:" + line;
    pos = end + 1;
  }
  return "";
}

Result<std::unique_ptr<DataObject>> Note::merged_with(const DataObject& theirs) const {
  if (theirs.kind() != DataKind::kNote) {
    return Status::invalid_argument(std::string("cannot merge a note with a ") + data_kind_name(theirs.kind()));
  }
  const NoteFields& other = static_cast<const Note&>(theirs).fields();
  NoteFields result = fields_;
  if (result.body.empty()) result.body = other.body;
  if (result.summary.empty()) result.summary = other.summary;
  if (result.created.empty()) result.created = other.created;
  if (result.last_modified.empty()) result.last_modified = other.last_modified;
  auto unite = [](auto& into, const auto& from) {
    for (const auto& e : from) {
      if (std::find(into.begin(), into.end(), e) == into.end()) into.push_back(e);
    }
  };
  unite(result.extra, other.extra);
  unite(result.journal_only, other.journal_only);
  unite(result.journal_zones, other.journal_zones);
  return std::unique_ptr<DataObject>(std::make_unique<Note>(std::move(result), source_));
}

}  // namespace conflux::data
