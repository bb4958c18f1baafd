// Field equality for calendar tests: an item is the sorted multiset of
// "COMPONENT.PROPERTY=value" keys of its VEVENT/VTODO components, values
// normalised: date-times as UTC instants (TZIDs resolved), dates as dates,
// floating times as local text, RRULEs as the first 25 occurrences expanded
// with icalrecur_iterator, VALARMs as action plus absolute trigger instant,
// DURATION folded into DTEND. PRODID, VERSION and X-LIC-* do not count.
//
// kVcal10Fields restricts the keys to what both iCalendar 2.0 and vCalendar
// 1.0 can hold (see src/data/vcalendar.h), for the conversion round trip.
#pragma once

#include <libical/ical.h>

#include <algorithm>
#include <string>
#include <vector>

#include "data/calendar.h"
#include "data/calendar_time.h"
#include "data/text_codec.h"
#include "data/vcalendar.h"

namespace conflux::data::testing {

enum class FieldSet { kAll, kVcal10Fields };

inline std::string take_text(char* s) {
  std::string out = s ? s : "";
  if (s) icalmemory_free_buffer(s);
  return out;
}

// The rule "a field both versions can hold", property by property: the
// iCalendar 2.0 properties of VEVENT/VTODO (RFC 5545 §3.6.1, §3.6.2) and
// whether vCalendar 1.0 (vCal 1.0 §2.1.5) has a place for them. Properties
// not listed are X- (kept both ways) or unknown IANA ones (2.0 only).
struct Vcal10Rule {
  const char* name;
  bool held;
  const char* why;  // for the ones 1.0 cannot hold
};
inline constexpr Vcal10Rule kVcal10Rules[] = {
    {"ATTENDEE", true, ""},
    {"CATEGORIES", true, ""},
    {"CLASS", true, ""},
    {"COMPLETED", true, ""},
    {"CREATED", true, ""},
    {"DESCRIPTION", true, ""},
    {"DTEND", true, ""},
    {"DTSTAMP", true, ""},
    {"DTSTART", true, ""},
    {"DUE", true, ""},
    {"EXDATE", true, ""},
    {"LAST-MODIFIED", true, ""},
    {"LOCATION", true, ""},
    {"PRIORITY", true, ""},
    {"RDATE", true, ""},
    {"RELATED-TO", true, ""},
    {"RESOURCES", true, ""},
    {"RRULE", true, "only rules 1.0 can spell"},
    {"SEQUENCE", true, ""},
    {"STATUS", true, ""},
    {"SUMMARY", true, ""},
    {"TRANSP", true, ""},
    {"UID", true, ""},
    {"URL", true, ""},
    {"VALARM", true, "AUDIO and DISPLAY only, as AALARM/DALARM"},
    {"DURATION", false, "folded into DTEND by field_keys"},
    {"ATTACH", false, "1.0 ATTACH has no FMTTYPE/binary form"},
    {"COMMENT", false, "no 1.0 property"},
    {"CONTACT", false, "no 1.0 property"},
    {"GEO", false, "no 1.0 property"},
    {"ORGANIZER", false, "1.0 has only ATTENDEE;ROLE=ORGANIZER, no separate property"},
    {"PERCENT-COMPLETE", false, "no 1.0 property"},
    {"RECURRENCE-ID", false, "1.0 has no detached exceptions"},
    {"REQUEST-STATUS", false, "no 1.0 property (iTIP)"},
    {"EXRULE", false, "deprecated in RFC 5545; not written"},
};

inline bool in_vcal10(const std::string& n) {
  if (n.substr(0, 2) == "X-") return true;
  for (const auto& rule : kVcal10Rules) {
    if (n == rule.name) return rule.held;
  }
  return false;
}

inline icaltimetype start_of(icalcomponent* c) {
  icalproperty* p = icalcomponent_get_first_property(c, ICAL_DTSTART_PROPERTY);
  return p ? icalproperty_get_datetime_with_component(p, c) : icaltime_null_time();
}

inline std::string rrule_key(icalproperty* p, icalcomponent* c, FieldSet set) {
  icaltimetype start = start_of(c);
  std::string text = take_text(icalproperty_get_value_as_string_r(p));
  if (set == FieldSet::kVcal10Fields && !rrule_to_vcal10(text, start)) return "";
  icalrecurrencetype r = icalproperty_get_rrule(p);
  if (icaltime_is_null_time(start)) return "RRULE=" + text;
  // libical loops for a long time on rules that never match; bound them.
  if (icaltime_is_null_time(r.until)) {
    r.until = start;
    r.until.year += 30;
  }
  icalrecur_iterator* it = icalrecur_iterator_new(r, start);
  if (!it) return "RRULE=<bad>";
  std::string key = "RRULE=";
  int n = 0;
  for (icaltimetype t = icalrecur_iterator_next(it); !icaltime_is_null_time(t) && n < 25;
       t = icalrecur_iterator_next(it), ++n) {
    key += normalised_time(t) + ",";
  }
  icalrecur_iterator_free(it);
  return key;
}

inline std::string alarm_key(icalcomponent* a, icalcomponent* c) {
  icalproperty* act = icalcomponent_get_first_property(a, ICAL_ACTION_PROPERTY);
  icalproperty* trig = icalcomponent_get_first_property(a, ICAL_TRIGGER_PROPERTY);
  if (!act || !trig) return "";
  icalproperty_action action = icalproperty_get_action(act);
  if (action != ICAL_ACTION_AUDIO && action != ICAL_ACTION_DISPLAY) return "";
  icaltriggertype t = icalproperty_get_trigger(trig);
  icaltimetype when = t.time;
  if (icaltime_is_null_time(when)) {
    icalparameter* rel = icalproperty_get_first_parameter(trig, ICAL_RELATED_PARAMETER);
    bool at_end = rel && icalparameter_get_related(rel) == ICAL_RELATED_END;
    icalproperty* base = icalcomponent_get_first_property(
        c, at_end ? (icalcomponent_isa(c) == ICAL_VTODO_COMPONENT ? ICAL_DUE_PROPERTY : ICAL_DTEND_PROPERTY)
                  : ICAL_DTSTART_PROPERTY);
    if (!base) return "";
    icaltimetype b = icalproperty_get_datetime_with_component(base, c);
    if (b.is_date) {
      b.is_date = 0;
      b.hour = b.minute = b.second = 0;
    }
    when = icaltime_add(b, t.duration);
  }
  return std::string("VALARM=") + (action == ICAL_ACTION_AUDIO ? "AUDIO@" : "DISPLAY@") + normalised_time(when);
}

inline std::vector<std::string> field_keys(const CalendarItem& item, FieldSet set = FieldSet::kAll) {
  std::vector<std::string> keys;
  auto* cal = const_cast<icalcomponent*>(item.vcalendar());
  // libical components have one internal cursor per kind: collect first,
  // then look things up (a get_first_property inside a loop restarts it).
  std::vector<icalcomponent*> comps;
  for (icalcomponent* c = icalcomponent_get_first_component(cal, ICAL_ANY_COMPONENT); c;
       c = icalcomponent_get_next_component(cal, ICAL_ANY_COMPONENT)) {
    comps.push_back(c);
  }
  for (icalcomponent* c : comps) {
    icalcomponent_kind kind = icalcomponent_isa(c);
    if (kind != ICAL_VEVENT_COMPONENT && kind != ICAL_VTODO_COMPONENT) continue;
    bool exception = icalcomponent_get_first_property(c, ICAL_RECURRENCEID_PROPERTY) != nullptr;
    // 1.0 has no detached exceptions; one alone is written as a plain item.
    if (exception && set == FieldSet::kVcal10Fields && c != item.main_component()) continue;
    if (c == item.main_component()) exception = false;
    std::string prefix = std::string(icalcomponent_kind_to_string(kind)) + (exception ? "*." : ".");
    bool has_end = icalcomponent_get_first_property(c, ICAL_DTEND_PROPERTY) != nullptr;
    std::vector<icalproperty*> props;
    for (icalproperty* p = icalcomponent_get_first_property(c, ICAL_ANY_PROPERTY); p;
         p = icalcomponent_get_next_property(c, ICAL_ANY_PROPERTY)) {
      props.push_back(p);
    }
    for (icalproperty* p : props) {
      std::string name = ascii_upper(icalproperty_get_property_name(p));
      if (name.substr(0, 6) == "X-LIC-") continue;
      std::string value;
      if (name == "DURATION") {
        if (has_end || kind != ICAL_VEVENT_COMPONENT) continue;
        name = "DTEND";
        value = normalised_time(icaltime_add(start_of(c), icalproperty_get_duration(p)));
      } else if (name == "RRULE") {
        value = rrule_key(p, c, set);
        if (value.empty()) continue;
      } else {
        value = normalised_time(p, c);
        if (value.empty()) {
          if (name == "EXDATE" || name == "RDATE") {
            if (set == FieldSet::kVcal10Fields) continue;  // periods
          }
          icalvalue* v = icalproperty_get_value(p);
          if (v && icalvalue_isa(v) == ICAL_TEXT_VALUE) {
            value = icalvalue_get_text(v) ? icalvalue_get_text(v) : "";
          } else if (v && icalvalue_isa(v) == ICAL_X_VALUE) {
            value = icalvalue_get_x(v) ? icalvalue_get_x(v) : "";
          } else {
            value = take_text(icalproperty_get_value_as_string_r(p));
          }
          if (name == "ATTENDEE") {  // the address, whether or not written as a mailto: URI
            value = ascii_lower(value);
            if (value.rfind("mailto:", 0) == 0) value = value.substr(7);
          }
        }
      }
      if (set == FieldSet::kVcal10Fields && !in_vcal10(name)) continue;
      if (set == FieldSet::kVcal10Fields && (name == "CATEGORIES" || name == "RESOURCES")) {
        // 1.0 lists split on ';' and 2.0 on ',': compare the items.
        std::string one;
        for (char ch : value + ",") {
          if (ch == ',') {
            keys.push_back(prefix + name + "=" + one);
            one.clear();
          } else {
            one.push_back(ch);
          }
        }
        continue;
      }
      keys.push_back(prefix + name + "=" + value);
    }
    std::vector<icalcomponent*> alarms;
    for (icalcomponent* a = icalcomponent_get_first_component(c, ICAL_VALARM_COMPONENT); a;
         a = icalcomponent_get_next_component(c, ICAL_VALARM_COMPONENT)) {
      alarms.push_back(a);
    }
    for (icalcomponent* a : alarms) {
      std::string k = alarm_key(a, c);
      if (!k.empty()) keys.push_back(prefix + k);
    }
  }
  std::sort(keys.begin(), keys.end());
  return keys;
}

}  // namespace conflux::data::testing
