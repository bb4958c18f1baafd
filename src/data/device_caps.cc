#include "data/device_caps.h"

#include <libical/ical.h>

#include <algorithm>
#include <set>
#include <vector>

#include "common/utf8.h"
#include "data/calendar.h"
#include "data/contact.h"
#include "data/text_codec.h"

namespace conflux::data {
namespace {

// Which of the server's properties (given by name, in order) the merge keeps,
// by the rules in device_caps.h; `update_has` says which names the update has.
std::vector<bool> server_properties_to_keep(const std::vector<std::string>& server_names,
                                            const std::set<std::string>& update_has, const FormatCaps* caps) {
  std::vector<bool> keep(server_names.size(), false);
  std::map<std::string, uint32_t> seen;  // instances of each name so far
  for (size_t i = 0; i < server_names.size(); ++i) {
    const std::string& name = server_names[i];
    const uint32_t index = seen[name]++;
    const PropertyCaps* cap = caps ? caps->find(name) : nullptr;
    if (!cap) {
      keep[i] = !update_has.count(name);
    } else {
      keep[i] = cap->max_occur && index >= *cap->max_occur;
    }
  }
  return keep;
}

Result<std::unique_ptr<DataObject>> keep_contact_fields(const Contact& update, const Contact& server,
                                                        const FormatCaps* caps) {
  VCard result = update.card();
  // Phones send fixed empty slots (NOTE:); an empty property of a name the
  // CTCap does not list says nothing, so it does not count as sent.
  std::set<std::string> update_has;
  for (const auto& p : result.properties) {
    if (!p.empty()) update_has.insert(p.name);
  }
  std::vector<std::string> server_names;
  for (const auto& p : server.card().properties) server_names.push_back(p.name);
  const std::vector<bool> keep = server_properties_to_keep(server_names, update_has, caps);
  std::set<std::string> kept_names;
  for (size_t i = 0; i < keep.size(); ++i) {
    if (keep[i]) kept_names.insert(server_names[i]);
  }
  std::erase_if(result.properties, [&](const VCardProperty& p) {
    return p.empty() && kept_names.count(p.name) && !update_has.count(p.name);
  });
  for (size_t i = 0; i < keep.size(); ++i) {
    if (keep[i]) result.properties.push_back(server.card().properties[i]);
  }
  return std::unique_ptr<DataObject>(std::make_unique<Contact>(std::move(result)));
}

icalcomponent* main_of(icalcomponent* vcalendar) {
  for (icalcomponent* c = icalcomponent_get_first_component(vcalendar, ICAL_ANY_COMPONENT); c;
       c = icalcomponent_get_next_component(vcalendar, ICAL_ANY_COMPONENT)) {
    const icalcomponent_kind k = icalcomponent_isa(c);
    if ((k == ICAL_VEVENT_COMPONENT || k == ICAL_VTODO_COMPONENT) &&
        !icalcomponent_get_first_property(c, ICAL_RECURRENCEID_PROPERTY)) {
      return c;
    }
  }
  return nullptr;
}

std::string property_name(icalproperty* p) {
  const char* name = icalproperty_get_property_name(p);  // the X- name for X- properties
  return ascii_upper(name ? name : "");
}

std::set<std::string> tzids_of(icalcomponent* vcalendar) {
  std::set<std::string> out;
  for (icalcomponent* c = icalcomponent_get_first_component(vcalendar, ICAL_VTIMEZONE_COMPONENT); c;
       c = icalcomponent_get_next_component(vcalendar, ICAL_VTIMEZONE_COMPONENT)) {
    if (icalproperty* id = icalcomponent_get_first_property(c, ICAL_TZID_PROPERTY)) {
      out.insert(icalproperty_get_tzid(id) ? icalproperty_get_tzid(id) : "");
    }
  }
  return out;
}

Result<std::unique_ptr<DataObject>> keep_calendar_fields(const CalendarItem& update, const CalendarItem& server,
                                                         const FormatCaps* caps) {
  IcalComponentPtr result(clone_ical(update.vcalendar()));
  icalcomponent* server_cal = const_cast<icalcomponent*>(server.vcalendar());
  icalcomponent* ours = main_of(result.get());
  icalcomponent* theirs = main_of(server_cal);
  if (!ours || !theirs) return update.clone();

  std::set<std::string> update_has;
  for (icalproperty* p = icalcomponent_get_first_property(ours, ICAL_ANY_PROPERTY); p;
       p = icalcomponent_get_next_property(ours, ICAL_ANY_PROPERTY)) {
    update_has.insert(property_name(p));
  }
  std::vector<icalproperty*> server_props;
  std::vector<std::string> server_names;
  for (icalproperty* p = icalcomponent_get_first_property(theirs, ICAL_ANY_PROPERTY); p;
       p = icalcomponent_get_next_property(theirs, ICAL_ANY_PROPERTY)) {
    server_props.push_back(p);
    server_names.push_back(property_name(p));
  }
  const std::vector<bool> keep = server_properties_to_keep(server_names, update_has, caps);
  bool kept_any = false;
  for (size_t i = 0; i < keep.size(); ++i) {
    if (!keep[i]) continue;
    icalcomponent_add_property(ours, clone_ical(server_props[i]));
    kept_any = true;
  }
  if (kept_any) {
    // A kept DTSTART;TZID=... needs its VTIMEZONE.
    const std::set<std::string> have = tzids_of(result.get());
    for (icalcomponent* c = icalcomponent_get_first_component(server_cal, ICAL_VTIMEZONE_COMPONENT); c;
         c = icalcomponent_get_next_component(server_cal, ICAL_VTIMEZONE_COMPONENT)) {
      icalproperty* id = icalcomponent_get_first_property(c, ICAL_TZID_PROPERTY);
      const char* tzid = id ? icalproperty_get_tzid(id) : nullptr;
      if (tzid && !have.count(tzid)) icalcomponent_add_component(result.get(), clone_ical(c));
    }
  }
  const Format source = update.source_format();
  if (update.kind() == DataKind::kTask)
    return std::unique_ptr<DataObject>(std::make_unique<Task>(std::move(result), source));
  return std::unique_ptr<DataObject>(std::make_unique<Event>(std::move(result), source));
}

bool is_name_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

std::string_view trim_cr(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

}  // namespace

const PropertyCaps* FormatCaps::find(std::string_view name) const {
  auto it = properties.find(std::string(name));
  if (it == properties.end() && name.substr(0, 2) == "X-") it = properties.find("X-*");  // SyncEvolution's wildcard
  return it == properties.end() ? nullptr : &it->second;
}

Result<std::unique_ptr<DataObject>> keep_fields_device_cannot_hold(const DataObject& update, const DataObject& server,
                                                                   const FormatCaps* caps) {
  if (update.kind() != server.kind()) {
    return Status::invalid_argument(std::string("an update of a ") + data_kind_name(server.kind()) + " is a " +
                                    data_kind_name(update.kind()));
  }
  switch (update.kind()) {
    case DataKind::kContact:
      return keep_contact_fields(static_cast<const Contact&>(update), static_cast<const Contact&>(server), caps);
    case DataKind::kEvent:
    case DataKind::kTask:
      return keep_calendar_fields(static_cast<const CalendarItem&>(update), static_cast<const CalendarItem&>(server),
                                  caps);
    default: return update.clone();
  }
}

Result<Format> sniff_format(std::string_view bytes, const Format& declared) {
  const std::string type = ascii_lower(declared.mime_type);
  const bool contact = type == "text/vcard" || type == "text/x-vcard" || type == "text/directory";
  const bool calendar = type == "text/calendar" || type == "text/x-vcalendar";
  if (!contact && !calendar) return declared;
  const std::string envelope = contact ? "VCARD" : "VCALENDAR";
  if (bytes.substr(0, 3) == "\xEF\xBB\xBF") bytes.remove_prefix(3);  // UTF-8 byte order mark

  struct Line {
    size_t number;
    std::string_view text;
  };
  std::vector<Line> lines;  // content lines: no blank lines, no continuations
  size_t number = 0;
  for (size_t pos = 0; pos < bytes.size();) {
    size_t end = bytes.find('\n', pos);
    if (end == std::string_view::npos) end = bytes.size();
    std::string_view line = trim_cr(bytes.substr(pos, end - pos));
    pos = end + 1;
    ++number;
    if (line.empty() || line[0] == ' ' || line[0] == '\t') continue;
    lines.push_back({number, line});
  }
  auto bad = [](size_t line_no, const std::string& why) {
    return Status::invalid_argument("line " + std::to_string(line_no) + ": " + why);
  };
  if (lines.empty()) return Status::invalid_argument("no " + envelope + " in the data");
  if (!iequals(lines.front().text, "BEGIN:" + envelope)) {
    return bad(lines.front().number, "expected BEGIN:" + envelope);
  }

  std::string version;
  std::vector<std::string> open;  // BEGIN names not yet ended
  std::vector<const Line*> names_to_check;
  for (const Line& line : lines) {
    if (open.empty() && &line != &lines.front()) return bad(line.number, "content after END:" + envelope);
    const size_t colon = line.text.find(':');
    const size_t name_end = line.text.find_first_of(";:");
    std::string_view name = line.text.substr(0, name_end);
    if (const size_t dot = name.find('.'); contact && dot != std::string_view::npos) name.remove_prefix(dot + 1);
    const std::string value = colon == std::string_view::npos ? "" : ascii_upper(line.text.substr(colon + 1));
    if (iequals(name, "BEGIN")) {
      if (value.empty()) return bad(line.number, "BEGIN without a component name");
      open.push_back(value);
    } else if (iequals(name, "END")) {
      if (open.empty() || open.back() != value) {
        return bad(line.number, "END:" + value + " does not close BEGIN:" + (open.empty() ? "" : open.back()));
      }
      open.pop_back();
    } else if (iequals(name, "VERSION") && open.size() == 1) {
      version = value;
    }
    if (line.text[0] != ':' && name_end != std::string_view::npos) names_to_check.push_back(&line);
  }
  if (!open.empty()) return bad(lines.back().number, "BEGIN:" + open.back() + " never ended");

  Format found = declared;
  if (contact) {
    if (version.empty() || version == "2.1")
      found = Format::vcard21();
    else if (version == "3.0")
      found = Format::vcard30();
    else if (version == "4.0")
      found = Format::vcard40();
    else
      return Status::invalid_argument("vCard VERSION " + version + " is not 2.1, 3.0 or 4.0");
  } else {
    if (version == "2.0")
      found = ical20_format();
    else if (version == "1.0")
      found = vcal10_format();
    else if (!version.empty())
      return Status::invalid_argument("calendar VERSION " + version + " is not 1.0 or 2.0");
  }
  // 2.1 and 1.0 allow 8-bit charsets and QP soft breaks (continuations
  // without indentation); only the strict formats get the line check.
  if (found == Format::vcard21() || found == vcal10_format()) return found;
  if (!is_valid_utf8(bytes)) return Status::invalid_argument("not UTF-8");
  for (const Line* line : names_to_check) {
    std::string_view name = line->text.substr(0, line->text.find_first_of(";:"));
    if (contact) {
      if (const size_t dot = name.find('.'); dot != std::string_view::npos) name.remove_prefix(dot + 1);
    }
    if (name.empty() || !std::all_of(name.begin(), name.end(), is_name_char)) {
      return bad(line->number, "bad property name '" + std::string(name.substr(0, 40)) + "'");
    }
  }
  return found;
}

}  // namespace conflux::data
