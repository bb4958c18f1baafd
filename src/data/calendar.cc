#include "data/calendar.h"

#include <libical/ical.h>

#include <algorithm>
#include <map>
#include <set>

#include "common/utf8.h"
#include "data/calendar_time.h"
#include "data/sif.h"
#include "data/text_codec.h"
#include "data/text_merge.h"
#include "data/vcalendar.h"

namespace conflux::data {

void IcalComponentDeleter::operator()(icalcomponent* c) const {
  if (c) icalcomponent_free(c);
}

namespace {

// Puts back the token of an enumerated value that icalvalue_new_clone left
// out (see clone_ical in the header).
void copy_unknown_token(icalproperty* from, icalproperty* to) {
  icalvalue* original = icalproperty_get_value(from);
  icalvalue* copy = icalproperty_get_value(to);
  if (original == nullptr || copy == nullptr) return;
  const char* token = icalvalue_get_x(original);
  if (token != nullptr && icalvalue_get_x(copy) == nullptr) icalvalue_set_x(copy, token);
}

// A clone has the original's properties and components in the same order.
void copy_unknown_tokens(icalcomponent* from, icalcomponent* to) {
  for (icalproperty *p = icalcomponent_get_first_property(from, ICAL_ANY_PROPERTY),
                    *q = icalcomponent_get_first_property(to, ICAL_ANY_PROPERTY);
       p != nullptr && q != nullptr; p = icalcomponent_get_next_property(from, ICAL_ANY_PROPERTY),
                    q = icalcomponent_get_next_property(to, ICAL_ANY_PROPERTY)) {
    copy_unknown_token(p, q);
  }
  for (icalcomponent *a = icalcomponent_get_first_component(from, ICAL_ANY_COMPONENT),
                     *b = icalcomponent_get_first_component(to, ICAL_ANY_COMPONENT);
       a != nullptr && b != nullptr; a = icalcomponent_get_next_component(from, ICAL_ANY_COMPONENT),
                     b = icalcomponent_get_next_component(to, ICAL_ANY_COMPONENT)) {
    copy_unknown_tokens(a, b);
  }
}

}  // namespace

icalcomponent* clone_ical(const icalcomponent* component) {
  // libical's getters take non-const pointers but do not change the tree
  // beyond its iterators.
  auto* from = const_cast<icalcomponent*>(component);
  icalcomponent* copy = icalcomponent_new_clone(from);
  if (copy != nullptr) copy_unknown_tokens(from, copy);
  return copy;
}

icalproperty* clone_ical(const icalproperty* property) {
  auto* from = const_cast<icalproperty*>(property);
  icalproperty* copy = icalproperty_new_clone(from);
  if (copy != nullptr) copy_unknown_token(from, copy);
  return copy;
}

namespace {

bool is_item_kind(icalcomponent_kind k) { return k == ICAL_VEVENT_COMPONENT || k == ICAL_VTODO_COMPONENT; }

std::string take_string(char* s) {
  if (!s) return "";
  std::string out(s);
  icalmemory_free_buffer(s);
  return out;
}

bool is_component_name(std::string_view name) {
  static const char* const kKnown[] = {
      "VCALENDAR",     "VEVENT",    "VTODO", "VJOURNAL", "VFREEBUSY", "VTIMEZONE",   "STANDARD",  "DAYLIGHT", "VALARM",
      "VAVAILABILITY", "AVAILABLE", "VPOLL", "VVOTER",   "VOTE",      "PARTICIPANT", "VLOCATION", "VRESOURCE"};
  std::string upper = ascii_upper(name);
  if (upper.rfind("X-", 0) == 0 && upper.size() > 2) return true;
  return std::any_of(std::begin(kKnown), std::end(kKnown), [&](const char* k) { return upper == k; });
}

}  // namespace

// The checks libical does not make, so that broken data fails naming its
// line instead of being half-read:
//  - property names are tokens: letters, digits and '-' (RFC 5545 §3.1),
//    plus '_' that Lotus Notes writes (X-LOTUS-CHILD_UID, Horde
//    test_recurring.ics); libical accepts X-BAD/SLASH (gammu badline.ics);
//  - components nest: BEGIN names a known (or X-) component, END closes the
//    innermost open one, and everything sits inside a VCALENDAR (RFC 5545
//    §3.4, §3.6). A missing final END:VCALENDAR is tolerated (Horde's
//    exdate.ics); parse_items supplies it.
namespace {

std::string_view physical_line(std::string_view text, size_t& pos) {
  size_t end = text.find('\n', pos);
  if (end == std::string_view::npos) end = text.size();
  std::string_view line = text.substr(pos, end - pos);
  pos = end + 1;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

bool continues(std::string_view line) { return !line.empty() && (line[0] == ' ' || line[0] == '\t' || line[0] == ':'); }

// The content line at `pos` with its continuations joined, as libical reads
// it: a line starting with a space or tab continues the one before (RFC
// 5545 §3.1), and so does one starting with ':' (Exchange breaks
// "ATTENDEE;...;CN=\"X\"" before the ':'). A name folded across lines is
// then checked whole. `line_no` counts the lines read.
std::string content_line(std::string_view text, size_t& pos, size_t& line_no) {
  std::string line(physical_line(text, pos));
  ++line_no;
  while (pos < text.size()) {
    size_t next = pos;
    std::string_view more = physical_line(text, next);
    if (!continues(more)) break;
    line += more[0] == ':' ? more : more.substr(1);
    pos = next;
    ++line_no;
  }
  return line;
}

// libical reads a backslash before a byte of a multi-byte character as an
// escape of that byte alone, and splits the character. RFC 5545 escapes no
// such thing: the device meant the backslash, so it is doubled. nullopt when
// `text` has none.
std::optional<std::string> double_backslashes_before_non_ascii(std::string_view text) {
  std::optional<std::string> out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\' || i + 1 == text.size()) {
      if (out) out->push_back(text[i]);
      continue;
    }
    if (static_cast<unsigned char>(text[i + 1]) < 0x80) {  // an escape pair (\\, \n, ...): as it is
      if (out) out->append(text.substr(i, 2));
      ++i;
      continue;
    }
    if (!out) out = std::string(text.substr(0, i));
    out->append("\\\\");
  }
  return out;
}

// RFC 5545 §3.1: a line break followed by a space or tab is removed.
std::string unfold_ical(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const size_t rest = text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n' ? i + 1 : i;
    if (text[rest] == '\n' && rest + 1 < text.size() && (text[rest + 1] == ' ' || text[rest + 1] == '\t')) {
      i = rest + 1;
      continue;
    }
    out.push_back(text[i]);
  }
  return out;
}

}  // namespace

Status check_ical_structure(std::string_view text) {
  size_t line_no = 0;
  size_t pos = 0;
  std::vector<std::string> open;
  while (pos < text.size()) {
    std::string where = "line " + std::to_string(line_no + 1) + ": ";
    const std::string line = content_line(text, pos, line_no);
    if (line.find('\0') != std::string::npos) return Status::invalid_argument(where + "NUL byte");
    if (line.empty() || continues(line)) continue;  // a continuation of nothing, at the start
    size_t name_end = line.find_first_of(";:");
    if (name_end == std::string_view::npos) continue;  // libical skips it (Horde SpanishHolidays.ics: "METHOD")
    std::string_view name = std::string_view(line).substr(0, name_end);
    bool ok = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
      return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    });
    if (!ok) return Status::invalid_argument(where + "bad property name '" + std::string(name.substr(0, 40)) + "'");
    std::string upper = ascii_upper(name);
    size_t colon = line.find(':');
    std::string value = colon == std::string_view::npos ? "" : std::string(line.substr(colon + 1));
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.pop_back();
    if (upper == "BEGIN") {
      if (!is_component_name(value)) {
        return Status::invalid_argument(where + "BEGIN of an unknown component '" + value.substr(0, 40) + "'");
      }
      if (open.empty() && !iequals(value, "VCALENDAR")) {
        return Status::invalid_argument(where + "BEGIN:" + value + " outside a VCALENDAR");
      }
      open.push_back(ascii_upper(value));
    } else if (upper == "END") {
      if (open.empty()) return Status::invalid_argument(where + "END:" + value.substr(0, 40) + " without BEGIN");
      if (!iequals(value, open.back())) {
        return Status::invalid_argument(where + "END:" + value.substr(0, 40) + " where END:" + open.back() +
                                        " belongs");
      }
      open.pop_back();
    } else if (open.empty()) {
      return Status::invalid_argument(where + std::string(name.substr(0, 40)) + " outside a VCALENDAR");
    }
  }
  if (open.size() > 1) {
    return Status::invalid_argument("line " + std::to_string(line_no) + ": " + open.back() + " is not closed");
  }
  return Status::ok();
}

namespace {

void strip_lic_errors(icalcomponent* c) {
  for (icalproperty* p = icalcomponent_get_first_property(c, ICAL_XLICERROR_PROPERTY); p;) {
    icalproperty* next = icalcomponent_get_next_property(c, ICAL_XLICERROR_PROPERTY);
    icalcomponent_remove_property(c, p);
    icalproperty_free(p);
    p = next;
  }
  for (icalcomponent* k = icalcomponent_get_first_component(c, ICAL_ANY_COMPONENT); k;
       k = icalcomponent_get_next_component(c, ICAL_ANY_COMPONENT)) {
    strip_lic_errors(k);
  }
}

void collect_tzids(icalcomponent* c, std::set<std::string>& out) {
  for (icalproperty* p = icalcomponent_get_first_property(c, ICAL_ANY_PROPERTY); p;
       p = icalcomponent_get_next_property(c, ICAL_ANY_PROPERTY)) {
    if (icalparameter* tz = icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER)) {
      if (const char* id = icalparameter_get_tzid(tz)) out.insert(id);
    }
  }
  for (icalcomponent* k = icalcomponent_get_first_component(c, ICAL_ANY_COMPONENT); k;
       k = icalcomponent_get_next_component(c, ICAL_ANY_COMPONENT)) {
    collect_tzids(k, out);
  }
}

std::string tzid_of(icalcomponent* vtimezone) {
  icalproperty* p = icalcomponent_get_first_property(vtimezone, ICAL_TZID_PROPERTY);
  const char* id = p ? icalproperty_get_tzid(p) : nullptr;
  return id ? id : "";
}

IcalComponentPtr new_vcalendar() {
  IcalComponentPtr cal(icalcomponent_new(ICAL_VCALENDAR_COMPONENT));
  icalcomponent_add_property(cal.get(), icalproperty_new_version("2.0"));
  icalcomponent_add_property(cal.get(), icalproperty_new_prodid("-//Conflux//Conflux data objects//EN"));
  return cal;
}

// Parses iCalendar 2.0 text into the items it holds.
Result<std::vector<IcalComponentPtr>> parse_items(std::string_view text) {
  if (Status s = check_ical_structure(text); !s.is_ok()) return s;
  std::string copy(text);
  // A missing final END:VCALENDAR (Horde's exdate.ics) is supplied; libical
  // would otherwise return nothing at all.
  auto count = [&](std::string_view what) {
    size_t n = 0;
    for (size_t pos = copy.find(what); pos != std::string::npos; pos = copy.find(what, pos + 1)) ++n;
    return n;
  };
  if (count("BEGIN:VCALENDAR") == count("END:VCALENDAR") + 1) copy += "\r\nEND:VCALENDAR\r\n";
  icalerror_set_errors_are_fatal(0);
  icalerror_clear_errno();
  IcalComponentPtr root(icalparser_parse_string(copy.c_str()));
  if (!root) {
    std::string why = icalerrno != ICAL_NO_ERROR ? icalerror_strerror(icalerrno) : "no component";
    icalerror_clear_errno();
    return Status::invalid_argument("not iCalendar (libical: " + why + ")");
  }
  icalerror_clear_errno();
  std::vector<icalcomponent*> cals;
  if (icalcomponent_isa(root.get()) == ICAL_VCALENDAR_COMPONENT) {
    cals.push_back(root.get());
  } else if (icalcomponent_isa(root.get()) == ICAL_XROOT_COMPONENT) {
    for (icalcomponent* k = icalcomponent_get_first_component(root.get(), ICAL_VCALENDAR_COMPONENT); k;
         k = icalcomponent_get_next_component(root.get(), ICAL_VCALENDAR_COMPONENT)) {
      cals.push_back(k);
    }
  }
  if (cals.empty()) return Status::invalid_argument("no VCALENDAR component");
  std::vector<IcalComponentPtr> items;
  for (icalcomponent* cal : cals) {
    strip_lic_errors(cal);
    // Group VEVENT/VTODO by UID: a master and its detached exceptions are one item.
    std::vector<std::vector<icalcomponent*>> groups;
    std::map<std::string, size_t> by_uid;
    for (icalcomponent* k = icalcomponent_get_first_component(cal, ICAL_ANY_COMPONENT); k;
         k = icalcomponent_get_next_component(cal, ICAL_ANY_COMPONENT)) {
      if (!is_item_kind(icalcomponent_isa(k))) continue;
      const char* uid = icalcomponent_get_uid(k);
      std::string key = uid && *uid ? std::string(icalcomponent_kind_to_string(icalcomponent_isa(k))) + uid : "";
      if (!key.empty() && by_uid.count(key)) {
        groups[by_uid[key]].push_back(k);
        continue;
      }
      if (!key.empty()) by_uid[key] = groups.size();
      groups.push_back({k});
    }
    for (const auto& group : groups) {
      IcalComponentPtr item = new_vcalendar();
      std::set<std::string> tzids;
      for (icalcomponent* k : group) collect_tzids(k, tzids);
      for (icalcomponent* tz = icalcomponent_get_first_component(cal, ICAL_VTIMEZONE_COMPONENT); tz;
           tz = icalcomponent_get_next_component(cal, ICAL_VTIMEZONE_COMPONENT)) {
        if (tzids.count(tzid_of(tz))) icalcomponent_add_component(item.get(), clone_ical(tz));
      }
      for (icalcomponent* k : group) icalcomponent_add_component(item.get(), clone_ical(k));
      items.push_back(std::move(item));
    }
  }
  if (items.empty()) return Status::invalid_argument("no VEVENT or VTODO in the calendar data");
  return items;
}

bool in_list(std::string_view name, std::initializer_list<std::string_view> list) {
  return std::find(list.begin(), list.end(), name) != list.end();
}

bool is_multi_valued(std::string_view name) {
  return in_list(name, {"ATTENDEE", "CATEGORIES", "COMMENT", "CONTACT", "EXDATE", "RDATE", "RESOURCES", "ATTACH",
                        "RELATED-TO", "REQUEST-STATUS"});
}

std::string prop_name(icalproperty* p) { return ascii_upper(icalproperty_get_property_name(p)); }

std::string prop_text(icalproperty* p) { return take_string(icalproperty_as_ical_string_r(p)); }

std::string comp_text(icalcomponent* c) { return take_string(icalcomponent_as_ical_string_r(c)); }

std::string recurrence_id_key(icalcomponent* c) {
  icalproperty* p = icalcomponent_get_first_property(c, ICAL_RECURRENCEID_PROPERTY);
  return p ? normalised_time(p, c) : "";
}

icalcomponent* find_main(icalcomponent* cal) {
  for (icalcomponent* k = icalcomponent_get_first_component(cal, ICAL_ANY_COMPONENT); k;
       k = icalcomponent_get_next_component(cal, ICAL_ANY_COMPONENT)) {
    if (is_item_kind(icalcomponent_isa(k)) && !icalcomponent_get_first_property(k, ICAL_RECURRENCEID_PROPERTY)) {
      return k;
    }
  }
  // Only exceptions (a client sent one detached occurrence): the first one.
  for (icalcomponent* k = icalcomponent_get_first_component(cal, ICAL_ANY_COMPONENT); k;
       k = icalcomponent_get_next_component(cal, ICAL_ANY_COMPONENT)) {
    if (is_item_kind(icalcomponent_isa(k))) return k;
  }
  return nullptr;
}

// Texts a person writes, where two versions both keep their words.
// (COMMENT is multi-valued, so both are kept anyway.)
bool is_free_text(const std::string& name) { return name == "DESCRIPTION"; }

// Our first property of q's kind gets both texts (data::merge_free_text).
void keep_both_texts(icalcomponent* ours, icalproperty* q) {
  icalproperty* p = icalcomponent_get_first_property(ours, icalproperty_isa(q));
  icalvalue* our_value = p ? icalproperty_get_value(p) : nullptr;
  icalvalue* their_value = icalproperty_get_value(q);
  if (!our_value || !their_value || icalvalue_isa(our_value) != ICAL_TEXT_VALUE ||
      icalvalue_isa(their_value) != ICAL_TEXT_VALUE) {
    return;
  }
  const char* our_text = icalvalue_get_text(our_value);
  const char* their_text = icalvalue_get_text(their_value);
  std::string merged = merge_free_text(our_text ? our_text : "", their_text ? their_text : "");
  icalproperty_set_value(p, icalvalue_new_text(merged.c_str()));
}

void merge_component(icalcomponent* ours, icalcomponent* theirs) {
  std::set<std::string> our_names;
  std::set<std::string> our_values;
  for (icalproperty* p = icalcomponent_get_first_property(ours, ICAL_ANY_PROPERTY); p;
       p = icalcomponent_get_next_property(ours, ICAL_ANY_PROPERTY)) {
    our_names.insert(prop_name(p));
    our_values.insert(prop_text(p));
  }
  std::vector<icalproperty*> to_add;
  for (icalproperty* q = icalcomponent_get_first_property(theirs, ICAL_ANY_PROPERTY); q;
       q = icalcomponent_get_next_property(theirs, ICAL_ANY_PROPERTY)) {
    std::string name = prop_name(q);
    if (is_free_text(name) && our_names.count(name)) {
      keep_both_texts(ours, q);
      continue;
    }
    bool add = is_multi_valued(name) ? !our_values.count(prop_text(q)) : !our_names.count(name);
    if (add) to_add.push_back(q);
  }
  for (icalproperty* q : to_add) icalcomponent_add_property(ours, clone_ical(q));
  std::set<std::string> our_alarms;
  for (icalcomponent* a = icalcomponent_get_first_component(ours, ICAL_VALARM_COMPONENT); a;
       a = icalcomponent_get_next_component(ours, ICAL_VALARM_COMPONENT)) {
    our_alarms.insert(comp_text(a));
  }
  std::vector<icalcomponent*> alarms;
  for (icalcomponent* a = icalcomponent_get_first_component(theirs, ICAL_VALARM_COMPONENT); a;
       a = icalcomponent_get_next_component(theirs, ICAL_VALARM_COMPONENT)) {
    if (!our_alarms.count(comp_text(a))) alarms.push_back(a);
  }
  for (icalcomponent* a : alarms) icalcomponent_add_component(ours, clone_ical(a));
}

}  // namespace

std::unique_ptr<CalendarItem> CalendarItem::make(IcalComponentPtr&& vcalendar, const Format& source) {
  icalcomponent* main = find_main(vcalendar.get());
  if (main && icalcomponent_isa(main) == ICAL_VTODO_COMPONENT) {
    return std::make_unique<Task>(std::move(vcalendar), source);
  }
  return std::make_unique<Event>(std::move(vcalendar), source);
}

Result<std::vector<std::unique_ptr<CalendarItem>>> CalendarItem::parse_all(std::string_view bytes,
                                                                           const Format& format) {
  Format source = ical20_format();
  if (bytes.substr(0, 3) == "\xEF\xBB\xBF") bytes.remove_prefix(3);  // UTF-8 byte order mark
  std::string converted;
  std::string_view text = bytes;
  if (is_vcal10(bytes)) {
    auto ical = vcal10_to_ical20(bytes);
    if (!ical) return ical.error().with_context("vCalendar 1.0");
    converted = std::move(*ical);
    text = converted;
    source = vcal10_format();
  } else if (!is_valid_utf8(text)) {
    // libical folds lines inside a UTF-8 sequence, so only the unfolded text
    // says whether the bytes are UTF-8; libical then reads that text.
    converted = unfold_ical(text);
    // iCalendar is UTF-8 (RFC 5545 §3.1.4); a device that sends its own
    // charset is read the way undeclared vCard text is.
    if (!is_valid_utf8(converted)) converted = undeclared_to_utf8(converted);
    text = converted;
  }
  if (auto escaped = double_backslashes_before_non_ascii(text)) {
    converted = std::move(*escaped);
    text = converted;
  }
  auto items = parse_items(text);
  if (!items) return items.error();
  std::vector<std::unique_ptr<CalendarItem>> out;
  for (auto& item : *items) out.push_back(make(std::move(item), source));
  return out;
}

Result<std::unique_ptr<CalendarItem>> CalendarItem::parse(std::string_view bytes, const Format& format) {
  auto items = parse_all(bytes, format);
  if (!items) return items.error();
  if (items->size() != 1) {
    return Status::invalid_argument("expected one event or task, found " + std::to_string(items->size()));
  }
  return std::move(items->front());
}

std::vector<Format> CalendarItem::supported_formats() const {
  return {ical20_format(), vcal10_format(), kind() == DataKind::kTask ? sif_task_format() : sif_event_format()};
}

const icalcomponent* CalendarItem::main_component() const { return find_main(vcalendar_.get()); }

Result<std::string> CalendarItem::write(const Format& format) const {
  std::string type = ascii_lower(format.mime_type);
  if (type == "text/calendar" && (format.version.empty() || format.version == "2.0")) {
    return comp_text(vcalendar_.get());
  }
  if (type == "text/x-vcalendar" || (type == "text/calendar" && format.version == "1.0")) {
    return write_vcal10(vcalendar_.get());
  }
  if (is_sif_type(type)) return write_sif_calendar(*this, Format{type, format.version});
  return Status::invalid_argument(std::string("a ") + data_kind_name(kind()) + " cannot be written as " +
                                  format.to_string());
}

std::string write_calendar_file(const std::vector<const CalendarItem*>& items) {
  IcalComponentPtr file = new_vcalendar();
  std::set<std::string> tzids;
  for (const CalendarItem* item : items) {
    auto* cal = const_cast<icalcomponent*>(item->vcalendar());  // libical's iterators are not const
    for (icalcomponent* tz = icalcomponent_get_first_component(cal, ICAL_VTIMEZONE_COMPONENT); tz;
         tz = icalcomponent_get_next_component(cal, ICAL_VTIMEZONE_COMPONENT)) {
      if (tzids.insert(tzid_of(tz)).second) icalcomponent_add_component(file.get(), clone_ical(tz));
    }
  }
  for (const CalendarItem* item : items) {
    auto* cal = const_cast<icalcomponent*>(item->vcalendar());
    for (icalcomponent* k = icalcomponent_get_first_component(cal, ICAL_ANY_COMPONENT); k;
         k = icalcomponent_get_next_component(cal, ICAL_ANY_COMPONENT)) {
      if (is_item_kind(icalcomponent_isa(k))) icalcomponent_add_component(file.get(), clone_ical(k));
    }
  }
  return comp_text(file.get());
}

std::string CalendarItem::identity_key() const {
  icalcomponent* main = find_main(vcalendar_.get());
  if (!main) return "";
  const char* uid = icalcomponent_get_uid(main);
  if (uid && *uid) return std::string("uid:") + uid;
  icalproperty* start = icalcomponent_get_first_property(main, ICAL_DTSTART_PROPERTY);
  if (!start) return "";
  std::string when = normalised_time(start, main);
  if (when.empty()) return "";
  const char* summary = icalcomponent_get_summary(main);
  std::string s;
  bool space = false;
  for (const char* c = summary ? summary : ""; *c; ++c) {
    if (*c == ' ' || *c == '\t' || *c == '\n' || *c == '\r') {
      space = !s.empty();
      continue;
    }
    if (space) s.push_back(' ');
    space = false;
    s.push_back(*c);
  }
  return "at:" + when + "|" + ascii_lower(s);
}

Result<std::unique_ptr<DataObject>> CalendarItem::merged_with(const DataObject& theirs) const {
  if (theirs.kind() != kind()) {
    return Status::invalid_argument(std::string("cannot merge a ") + data_kind_name(kind()) + " with a " +
                                    data_kind_name(theirs.kind()));
  }
  const auto& other = static_cast<const CalendarItem&>(theirs);
  IcalComponentPtr result(clone_ical(vcalendar_.get()));
  icalcomponent* their_cal = other.vcalendar_.get();
  icalcomponent* our_main = find_main(result.get());
  icalcomponent* their_main = find_main(their_cal);
  if (our_main && their_main) merge_component(our_main, their_main);
  std::set<std::string> our_rids;
  std::set<std::string> our_tzids;
  for (icalcomponent* k = icalcomponent_get_first_component(result.get(), ICAL_ANY_COMPONENT); k;
       k = icalcomponent_get_next_component(result.get(), ICAL_ANY_COMPONENT)) {
    if (icalcomponent_isa(k) == ICAL_VTIMEZONE_COMPONENT) our_tzids.insert(tzid_of(k));
    if (is_item_kind(icalcomponent_isa(k)) && k != our_main) our_rids.insert(recurrence_id_key(k));
  }
  std::vector<icalcomponent*> to_add;
  for (icalcomponent* k = icalcomponent_get_first_component(their_cal, ICAL_ANY_COMPONENT); k;
       k = icalcomponent_get_next_component(their_cal, ICAL_ANY_COMPONENT)) {
    if (icalcomponent_isa(k) == ICAL_VTIMEZONE_COMPONENT && !our_tzids.count(tzid_of(k))) to_add.push_back(k);
    if (is_item_kind(icalcomponent_isa(k)) && k != their_main && !our_rids.count(recurrence_id_key(k))) {
      to_add.push_back(k);
    }
  }
  // VTIMEZONEs first, so TZIDs resolve; libical appends, order is cosmetic.
  for (icalcomponent* k : to_add) icalcomponent_add_component(result.get(), clone_ical(k));
  return std::unique_ptr<DataObject>(make(std::move(result), source_));
}

std::unique_ptr<DataObject> CalendarItem::clone() const {
  return make(IcalComponentPtr(clone_ical(vcalendar_.get())), source_);
}

}  // namespace conflux::data
