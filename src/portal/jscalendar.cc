#include "portal/jscalendar.h"

#include <libical/ical.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <regex>
#include <set>

#include "common/base64.h"

namespace conflux::portal {
namespace {

using nlohmann::json;

struct ComponentFree {
  void operator()(icalcomponent* c) const { icalcomponent_free(c); }
};
using ComponentPtr = std::unique_ptr<icalcomponent, ComponentFree>;

const std::set<std::string> kEventKeys = {"@type",       "uid",      "title",           "description", "start",
                                          "timeZone",    "duration", "showWithoutTime", "locations",   "id",
                                          "calendarIds", "updated",  "created"};

icalcomponent* vevent_of(icalcomponent* root) {
  if (!root) return nullptr;
  if (icalcomponent_isa(root) == ICAL_VEVENT_COMPONENT) return root;
  return icalcomponent_get_first_component(root, ICAL_VEVENT_COMPONENT);
}

std::string local_date_time(const icaltimetype& t) {
  char text[32];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d", t.year, t.month, t.day, t.is_date ? 0 : t.hour,
                t.is_date ? 0 : t.minute, t.is_date ? 0 : t.second);
  return text;
}

// RFC 8984 §1.4.4 LocalDateTime: "2026-04-10T09:00:00".
std::optional<icaltimetype> parse_local_date_time(const std::string& text) {
  static const std::regex form(R"((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2}))");
  std::smatch m;
  if (!std::regex_match(text, m, form)) return std::nullopt;
  icaltimetype t = icaltime_null_time();
  t.year = std::stoi(m[1]);
  t.month = std::stoi(m[2]);
  t.day = std::stoi(m[3]);
  t.hour = std::stoi(m[4]);
  t.minute = std::stoi(m[5]);
  t.second = std::stoi(m[6]);
  if (t.month < 1 || t.month > 12 || t.day < 1 || t.day > 31 || t.hour > 23 || t.minute > 59 || t.second > 60) {
    return std::nullopt;
  }
  return t;
}

void replace_property(icalcomponent* event, icalproperty_kind kind, icalproperty* with) {
  while (icalproperty* old = icalcomponent_get_first_property(event, kind)) {
    icalcomponent_remove_property(event, old);
    icalproperty_free(old);
  }
  if (with) icalcomponent_add_property(event, with);
}

}  // namespace

std::optional<json> event_from_icalendar(const std::string& icalendar) {
  ComponentPtr root(icalparser_parse_string(icalendar.c_str()));
  icalcomponent* event = vevent_of(root.get());
  if (!event) return std::nullopt;
  json out = {{"@type", "Event"}};
  if (const char* uid = icalcomponent_get_uid(event)) out["uid"] = uid;
  if (const char* s = icalcomponent_get_summary(event)) out["title"] = s;
  if (const char* s = icalcomponent_get_description(event)) out["description"] = s;
  if (const char* s = icalcomponent_get_location(event); s && *s) {
    out["locations"] = {{"l1", {{"@type", "Location"}, {"name", s}}}};
  }
  if (icalproperty* dtstart = icalcomponent_get_first_property(event, ICAL_DTSTART_PROPERTY)) {
    const icaltimetype start = icalproperty_get_dtstart(dtstart);
    out["start"] = local_date_time(start);
    if (start.is_date) {
      out["showWithoutTime"] = true;
      out["timeZone"] = nullptr;
    } else if (icalparameter* tzid = icalproperty_get_first_parameter(dtstart, ICAL_TZID_PARAMETER)) {
      out["timeZone"] = icalparameter_get_tzid(tzid);
    } else {
      out["timeZone"] = icaltime_is_utc(start) ? json("Etc/UTC") : json(nullptr);  // else floating
    }
    const icaldurationtype duration = icalcomponent_get_duration(event);
    if (!icaldurationtype_is_null_duration(duration) && !icaldurationtype_is_bad_duration(duration)) {
      out["duration"] = icaldurationtype_as_ical_string(duration);
    }
  }
  return out;
}

std::optional<std::string> icalendar_from_event(const json& event, const std::string& base,
                                                std::vector<InvalidProperty>& invalid_r) {
  const size_t problems_before = invalid_r.size();
  auto bad = [&invalid_r](std::string path, std::string why) {
    invalid_r.push_back({std::move(path), std::move(why)});
  };
  if (!event.is_object()) {
    bad("", "a CalendarEvent must be a JSON object");
    return std::nullopt;
  }
  for (const auto& [key, value] : event.items()) {
    if (!kEventKeys.count(key) && key.find(':') == std::string::npos) bad(key, "is not a CalendarEvent property");
  }
  auto text = [&](const char* key) -> std::optional<std::string> {
    auto it = event.find(key);
    if (it == event.end() || it->is_null()) return std::nullopt;
    if (!it->is_string()) {
      bad(key, "must be a string");
      return std::nullopt;
    }
    return it->get<std::string>();
  };
  if (auto t = event.find("@type"); t != event.end() && *t != "Event") bad("@type", "must be \"Event\"");

  ComponentPtr root;
  if (!base.empty()) root.reset(icalparser_parse_string(base.c_str()));
  icalcomponent* vevent = vevent_of(root.get());
  if (!vevent) {
    root.reset(icalcomponent_vanew(ICAL_VCALENDAR_COMPONENT, icalproperty_new_version("2.0"),
                                   icalproperty_new_prodid("-//Conflux//portal//EN"), nullptr));
    vevent = icalcomponent_new(ICAL_VEVENT_COMPONENT);
    icalcomponent_add_component(root.get(), vevent);
    icalcomponent_add_property(
        vevent, icalproperty_new_dtstamp(icaltime_current_time_with_zone(icaltimezone_get_utc_timezone())));
  }

  const std::optional<std::string> uid = text("uid");
  if (uid)
    replace_property(vevent, ICAL_UID_PROPERTY, icalproperty_new_uid(uid->c_str()));
  else if (!icalcomponent_get_uid(vevent)) {
    const std::string made = random_hex(16) + "@conflux";
    icalcomponent_add_property(vevent, icalproperty_new_uid(made.c_str()));
  }
  const auto title = text("title");
  replace_property(vevent, ICAL_SUMMARY_PROPERTY, title ? icalproperty_new_summary(title->c_str()) : nullptr);
  const auto description = text("description");
  replace_property(vevent, ICAL_DESCRIPTION_PROPERTY,
                   description ? icalproperty_new_description(description->c_str()) : nullptr);

  std::string location;
  if (auto it = event.find("locations"); it != event.end() && !it->is_null()) {
    if (!it->is_object()) bad("locations", "must be an object of id to Location");
    for (auto loc = it->begin(); it->is_object() && loc != it->end(); ++loc) {
      const json* name = loc->is_object() && loc->contains("name") ? &(*loc)["name"] : nullptr;
      if (!name || !name->is_string()) {
        bad("locations/" + loc.key() + "/name", "must be a string");
        continue;
      }
      location += std::string(location.empty() ? "" : ", ") + name->get<std::string>();
    }
  }
  replace_property(vevent, ICAL_LOCATION_PROPERTY,
                   location.empty() ? nullptr : icalproperty_new_location(location.c_str()));

  const auto start_text = text("start");
  if (!start_text) bad("start", "is required");
  std::optional<icaltimetype> start = start_text ? parse_local_date_time(*start_text) : std::nullopt;
  if (start_text && !start) bad("start", "must be a LocalDateTime like 2026-04-10T09:00:00");
  bool without_time = false;
  if (auto it = event.find("showWithoutTime"); it != event.end() && !it->is_null()) {
    if (!it->is_boolean())
      bad("showWithoutTime", "must be true or false");
    else
      without_time = it->get<bool>();
  }
  std::string tzid;
  if (auto it = event.find("timeZone"); it != event.end() && !it->is_null()) {
    if (!it->is_string())
      bad("timeZone", "must be a time zone name or null");
    else
      tzid = it->get<std::string>();
  }
  icaldurationtype duration = icaldurationtype_null_duration();
  if (auto d = text("duration")) {
    duration = icaldurationtype_from_string(d->c_str());
    if (icaldurationtype_is_bad_duration(duration) || duration.is_neg) {
      bad("duration", "must be an ISO 8601 duration like PT1H");
    }
  }
  if (invalid_r.size() != problems_before) return std::nullopt;

  if (without_time) {
    start->is_date = 1;
    start->hour = start->minute = start->second = 0;
    if (icaldurationtype_is_null_duration(duration)) duration.days = 1;
  }
  const bool utc = tzid == "Etc/UTC" || tzid == "UTC";
  if (utc && !without_time) start->zone = icaltimezone_get_utc_timezone();
  icaltimetype end = icaltime_add(*start, duration);
  replace_property(vevent, ICAL_DURATION_PROPERTY, nullptr);
  icalproperty* dtstart = icalproperty_new_dtstart(*start);
  icalproperty* dtend = icalproperty_new_dtend(end);
  if (!utc && !tzid.empty() && !without_time) {
    icalproperty_add_parameter(dtstart, icalparameter_new_tzid(tzid.c_str()));
    icalproperty_add_parameter(dtend, icalparameter_new_tzid(tzid.c_str()));
  }
  replace_property(vevent, ICAL_DTSTART_PROPERTY, dtstart);
  replace_property(vevent, ICAL_DTEND_PROPERTY, dtend);

  char* written = icalcomponent_as_ical_string_r(root.get());
  std::string out = written ? written : "";
  std::free(written);
  return out;
}

namespace {

const std::set<std::string> kTaskKeys = {
    "@type",           "uid",      "title",           "description", "start",      "due",     "timeZone", "progress",
    "percentComplete", "priority", "showWithoutTime", "id",          "taskListId", "updated", "created"};

icalcomponent* vtodo_of(icalcomponent* root) {
  if (!root) return nullptr;
  if (icalcomponent_isa(root) == ICAL_VTODO_COMPONENT) return root;
  return icalcomponent_get_first_component(root, ICAL_VTODO_COMPONENT);
}

// RFC 8984 §5.2.5 progress values and the iCalendar STATUS they stand for.
const std::vector<std::pair<const char*, icalproperty_status>>& progress_values() {
  static const std::vector<std::pair<const char*, icalproperty_status>> values = {
      {"needs-action", ICAL_STATUS_NEEDSACTION},
      {"in-process", ICAL_STATUS_INPROCESS},
      {"completed", ICAL_STATUS_COMPLETED},
      {"cancelled", ICAL_STATUS_CANCELLED},
  };
  return values;
}

}  // namespace

std::optional<json> task_from_icalendar(const std::string& icalendar) {
  ComponentPtr root(icalparser_parse_string(icalendar.c_str()));
  icalcomponent* todo = vtodo_of(root.get());
  if (!todo) return std::nullopt;
  json out = {{"@type", "Task"}};
  if (const char* uid = icalcomponent_get_uid(todo)) out["uid"] = uid;
  if (const char* s = icalcomponent_get_summary(todo)) out["title"] = s;
  if (const char* s = icalcomponent_get_description(todo)) out["description"] = s;
  // JSCalendar has one timeZone for start and due: DTSTART's, else DUE's.
  std::optional<json> zone;
  bool without_time = false;
  for (const auto& [kind, key] : {std::pair{ICAL_DTSTART_PROPERTY, "start"}, std::pair{ICAL_DUE_PROPERTY, "due"}}) {
    icalproperty* p = icalcomponent_get_first_property(todo, kind);
    if (!p) continue;
    const icaltimetype t = kind == ICAL_DTSTART_PROPERTY ? icalproperty_get_dtstart(p) : icalproperty_get_due(p);
    out[key] = local_date_time(t);
    without_time = without_time || t.is_date;
    if (zone) continue;
    if (icalparameter* tzid = icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER)) {
      zone = icalparameter_get_tzid(tzid);
    } else {
      zone = icaltime_is_utc(t) ? json("Etc/UTC") : json(nullptr);
    }
  }
  if (zone) out["timeZone"] = without_time ? json(nullptr) : *zone;
  if (without_time) out["showWithoutTime"] = true;
  if (icalproperty* p = icalcomponent_get_first_property(todo, ICAL_STATUS_PROPERTY)) {
    const icalproperty_status status = icalproperty_get_status(p);
    for (const auto& [name, value] : progress_values()) {
      if (value == status) out["progress"] = name;
    }
  }
  if (icalproperty* p = icalcomponent_get_first_property(todo, ICAL_PERCENTCOMPLETE_PROPERTY)) {
    out["percentComplete"] = icalproperty_get_percentcomplete(p);
  }
  if (icalproperty* p = icalcomponent_get_first_property(todo, ICAL_PRIORITY_PROPERTY)) {
    out["priority"] = icalproperty_get_priority(p);
  }
  return out;
}

std::optional<std::string> icalendar_from_task(const json& task, const std::string& base,
                                               std::vector<InvalidProperty>& invalid_r) {
  const size_t problems_before = invalid_r.size();
  auto bad = [&invalid_r](std::string path, std::string why) {
    invalid_r.push_back({std::move(path), std::move(why)});
  };
  if (!task.is_object()) {
    bad("", "a Task must be a JSON object");
    return std::nullopt;
  }
  for (const auto& [key, value] : task.items()) {
    if (!kTaskKeys.count(key) && key.find(':') == std::string::npos) bad(key, "is not a Task property");
  }
  auto text = [&](const char* key) -> std::optional<std::string> {
    auto it = task.find(key);
    if (it == task.end() || it->is_null()) return std::nullopt;
    if (!it->is_string()) {
      bad(key, "must be a string");
      return std::nullopt;
    }
    return it->get<std::string>();
  };
  auto number = [&](const char* key, int low, int high) -> std::optional<int> {
    auto it = task.find(key);
    if (it == task.end() || it->is_null()) return std::nullopt;
    if (!it->is_number_integer() || it->get<int64_t>() < low || it->get<int64_t>() > high) {
      bad(key, "must be an integer from " + std::to_string(low) + " to " + std::to_string(high));
      return std::nullopt;
    }
    return it->get<int>();
  };
  if (auto t = task.find("@type"); t != task.end() && *t != "Task") bad("@type", "must be \"Task\"");
  const auto title = text("title");
  const auto description = text("description");
  const auto uid = text("uid");
  std::optional<icaltimetype> start, due;
  for (const auto& [key, slot] : {std::pair{"start", &start}, std::pair{"due", &due}}) {
    if (auto value = text(key)) {
      *slot = parse_local_date_time(*value);
      if (!*slot) bad(key, "must be a LocalDateTime like 2026-04-10T09:00:00");
    }
  }
  bool without_time = false;
  if (auto it = task.find("showWithoutTime"); it != task.end() && !it->is_null()) {
    if (!it->is_boolean()) {
      bad("showWithoutTime", "must be true or false");
    } else {
      without_time = it->get<bool>();
    }
  }
  std::string tzid;
  if (auto it = task.find("timeZone"); it != task.end() && !it->is_null()) {
    if (!it->is_string()) {
      bad("timeZone", "must be a time zone name or null");
    } else {
      tzid = it->get<std::string>();
    }
  }
  std::optional<icalproperty_status> status;
  if (auto progress = text("progress")) {
    for (const auto& [name, value] : progress_values()) {
      if (*progress == name) status = value;
    }
    if (!status) bad("progress", "must be needs-action, in-process, completed or cancelled");
  }
  const auto percent = number("percentComplete", 0, 100);
  const auto priority = number("priority", 0, 9);
  if (invalid_r.size() != problems_before) return std::nullopt;

  ComponentPtr root;
  if (!base.empty()) root.reset(icalparser_parse_string(base.c_str()));
  icalcomponent* vtodo = vtodo_of(root.get());
  if (!vtodo) {
    root.reset(icalcomponent_vanew(ICAL_VCALENDAR_COMPONENT, icalproperty_new_version("2.0"),
                                   icalproperty_new_prodid("-//Conflux//portal//EN"), nullptr));
    vtodo = icalcomponent_new(ICAL_VTODO_COMPONENT);
    icalcomponent_add_component(root.get(), vtodo);
    icalcomponent_add_property(
        vtodo, icalproperty_new_dtstamp(icaltime_current_time_with_zone(icaltimezone_get_utc_timezone())));
  }
  if (uid) {
    replace_property(vtodo, ICAL_UID_PROPERTY, icalproperty_new_uid(uid->c_str()));
  } else if (!icalcomponent_get_uid(vtodo)) {
    const std::string made = random_hex(16) + "@conflux";
    icalcomponent_add_property(vtodo, icalproperty_new_uid(made.c_str()));
  }
  replace_property(vtodo, ICAL_SUMMARY_PROPERTY, title ? icalproperty_new_summary(title->c_str()) : nullptr);
  replace_property(vtodo, ICAL_DESCRIPTION_PROPERTY,
                   description ? icalproperty_new_description(description->c_str()) : nullptr);
  const bool utc = tzid == "Etc/UTC" || tzid == "UTC";
  auto time_property = [&](std::optional<icaltimetype> t, bool is_start) -> icalproperty* {
    if (!t) return nullptr;
    if (without_time) {
      t->is_date = 1;
      t->hour = t->minute = t->second = 0;
    } else if (utc) {
      t->zone = icaltimezone_get_utc_timezone();
    }
    icalproperty* p = is_start ? icalproperty_new_dtstart(*t) : icalproperty_new_due(*t);
    if (!utc && !tzid.empty() && !without_time) icalproperty_add_parameter(p, icalparameter_new_tzid(tzid.c_str()));
    return p;
  };
  replace_property(vtodo, ICAL_DTSTART_PROPERTY, time_property(start, true));
  replace_property(vtodo, ICAL_DUE_PROPERTY, time_property(due, false));
  replace_property(vtodo, ICAL_STATUS_PROPERTY, status ? icalproperty_new_status(*status) : nullptr);
  replace_property(vtodo, ICAL_PERCENTCOMPLETE_PROPERTY,
                   percent ? icalproperty_new_percentcomplete(*percent) : nullptr);
  replace_property(vtodo, ICAL_PRIORITY_PROPERTY, priority ? icalproperty_new_priority(*priority) : nullptr);
  // A completed task says when (RFC 5545 COMPLETED), once.
  if (status == ICAL_STATUS_COMPLETED && !icalcomponent_get_first_property(vtodo, ICAL_COMPLETED_PROPERTY)) {
    icalcomponent_add_property(
        vtodo, icalproperty_new_completed(icaltime_current_time_with_zone(icaltimezone_get_utc_timezone())));
  } else if (status != ICAL_STATUS_COMPLETED) {
    replace_property(vtodo, ICAL_COMPLETED_PROPERTY, nullptr);
  }

  char* written = icalcomponent_as_ical_string_r(root.get());
  std::string out = written ? written : "";
  std::free(written);
  return out;
}

}  // namespace conflux::portal
