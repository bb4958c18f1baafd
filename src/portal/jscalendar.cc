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

const std::set<std::string> kEventKeys = {"@type",    "uid",       "title",           "description", "start",
                                          "timeZone", "duration",  "showWithoutTime", "locations",   "id",
                                          "calendarIds", "updated", "created"};

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
  auto bad = [&invalid_r](std::string path, std::string why) { invalid_r.push_back({std::move(path), std::move(why)}); };
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
    icalcomponent_add_property(vevent, icalproperty_new_dtstamp(icaltime_current_time_with_zone(icaltimezone_get_utc_timezone())));
  }

  const std::optional<std::string> uid = text("uid");
  if (uid) replace_property(vevent, ICAL_UID_PROPERTY, icalproperty_new_uid(uid->c_str()));
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
  replace_property(vevent, ICAL_LOCATION_PROPERTY, location.empty() ? nullptr : icalproperty_new_location(location.c_str()));

  const auto start_text = text("start");
  if (!start_text) bad("start", "is required");
  std::optional<icaltimetype> start = start_text ? parse_local_date_time(*start_text) : std::nullopt;
  if (start_text && !start) bad("start", "must be a LocalDateTime like 2026-04-10T09:00:00");
  bool without_time = false;
  if (auto it = event.find("showWithoutTime"); it != event.end() && !it->is_null()) {
    if (!it->is_boolean()) bad("showWithoutTime", "must be true or false");
    else without_time = it->get<bool>();
  }
  std::string tzid;
  if (auto it = event.find("timeZone"); it != event.end() && !it->is_null()) {
    if (!it->is_string()) bad("timeZone", "must be a time zone name or null");
    else tzid = it->get<std::string>();
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

}  // namespace conflux::portal
