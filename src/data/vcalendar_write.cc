// iCalendar 2.0 model -> vCalendar 1.0 text (rules in vcalendar.h).
#include <algorithm>
#include <cstdio>
#include <vector>

#include "data/calendar_time.h"
#include "data/text_codec.h"
#include "data/vcalendar.h"

namespace conflux::data {
namespace {

std::string take(char* s) {
  if (!s) return "";
  std::string out(s);
  icalmemory_free_buffer(s);
  return out;
}

// Properties vCalendar 1.0 defines (vCalendar 1.0 §3.6-3.7); X- ones pass too.
bool written_in_10(std::string_view n) {
  static const char* const kNames[] = {"ATTACH",  "ATTENDEE",    "CATEGORIES",    "CLASS",    "COMPLETED",
                                       "CREATED", "DESCRIPTION", "DTEND",         "DTSTAMP",  "DTSTART",
                                       "DUE",     "EXDATE",      "LAST-MODIFIED", "LOCATION", "PRIORITY",
                                       "RDATE",   "RELATED-TO",  "RESOURCES",     "RRULE",    "SEQUENCE",
                                       "STATUS",  "SUMMARY",     "TRANSP",        "UID",      "URL"};
  if (n.substr(0, 2) == "X-") return n.substr(0, 6) != "X-LIC-";
  return std::any_of(std::begin(kNames), std::end(kNames), [&](const char* k) { return n == k; });
}

// `local_zone`: the zone whose wall clock the calendar's TZ/DAYLIGHT lines
// describe (nullptr: every time in UTC).
std::string time_10(icaltimetype t, const icaltimezone* local_zone = nullptr) {
  char buf[24];
  if (local_zone && t.zone && !icaltime_is_utc(t) && !t.is_date) {
    t = icaltime_convert_to_zone(t, const_cast<icaltimezone*>(local_zone));
    snprintf(buf, sizeof buf, "%04d%02d%02dT%02d%02d%02d", t.year, t.month, t.day, t.hour, t.minute, t.second);
    return buf;
  }
  if (t.is_date) {
    snprintf(buf, sizeof buf, "%04d%02d%02dT000000", t.year, t.month, t.day);
    return buf;
  }
  bool utc = icaltime_is_utc(t) || t.zone;
  if (t.zone && !icaltime_is_utc(t)) t = icaltime_convert_to_zone(t, icaltimezone_get_utc_timezone());
  snprintf(buf, sizeof buf, "%04d%02d%02dT%02d%02d%02d%s", t.year, t.month, t.day, t.hour, t.minute, t.second,
           utc ? "Z" : "");
  return buf;
}

class Writer {
 public:
  explicit Writer(icalcomponent* main) : main_(main) {}

  std::string run() {
    std::string out = "BEGIN:VCALENDAR\r\nVERSION:1.0\r\n";
    if (icalproperty* start = icalcomponent_get_first_property(main_, ICAL_DTSTART_PROPERTY)) {
      start_ = resolved_datetime(start, main_);
      if (start_.zone && !icaltime_is_utc(start_) && !start_.is_date) {
        zone_ = start_.zone;
        std::string daylight = daylight_lines();
        // Without daylight periods (a zone without DST, or a hand-written
        // VTIMEZONE with one rule) the offset in force at DTSTART is the TZ.
        out += "TZ:" + (daylight.empty() ? offset_at(start_) : standard_offset(start_)) + "\r\n";
        out += daylight;
      }
    }
    const char* kind = icalcomponent_isa(main_) == ICAL_VTODO_COMPONENT ? "VTODO" : "VEVENT";
    out += std::string("BEGIN:") + kind + "\r\n";
    bool has_end = false;
    // Collected first: libical's per-component cursor restarts whenever a
    // lookup calls get_first_property.
    std::vector<icalproperty*> props;
    for (icalproperty* p = icalcomponent_get_first_property(main_, ICAL_ANY_PROPERTY); p;
         p = icalcomponent_get_next_property(main_, ICAL_ANY_PROPERTY)) {
      props.push_back(p);
    }
    for (icalproperty* p : props) {
      if (icalproperty_isa(p) == ICAL_DTEND_PROPERTY) has_end = true;
      out += property(p);
    }
    if (!has_end && icalcomponent_isa(main_) == ICAL_VEVENT_COMPONENT) {
      if (icalcomponent_get_first_property(main_, ICAL_DURATION_PROPERTY)) {
        out += end_from_duration();
      } else if (start_.is_date) {
        out += date_or_time("DTEND", icaltime_add(start_, icaldurationtype_from_int(24 * 3600)));  // marks all-day
      }
    }
    std::vector<icalcomponent*> alarms;
    for (icalcomponent* a = icalcomponent_get_first_component(main_, ICAL_VALARM_COMPONENT); a;
         a = icalcomponent_get_next_component(main_, ICAL_VALARM_COMPONENT)) {
      alarms.push_back(a);
    }
    for (icalcomponent* a : alarms) out += alarm(a);
    out += std::string("END:") + kind + "\r\nEND:VCALENDAR\r\n";
    return out;
  }

 private:
  static std::string offset_text(int secs) {
    char buf[16];
    int m = (secs < 0 ? -secs : secs) / 60;
    snprintf(buf, sizeof buf, "%c%02d:%02d", secs < 0 ? '-' : '+', m / 60, m % 60);
    return buf;
  }

  static std::string offset_at(icaltimetype t) {
    int dst = 0;
    return offset_text(icaltimezone_get_utc_offset(const_cast<icaltimezone*>(t.zone), &t, &dst));
  }

  // "+01:00": the UTC offset of `t`'s zone in January or July, whichever is
  // smaller (the standard time of both hemispheres' usual rules).
  static std::string standard_offset(icaltimetype t) {
    icaltimetype jan = t, jul = t;
    jan.month = 1;
    jul.month = 7;
    jan.day = jul.day = 1;
    int dst = 0;
    int a = icaltimezone_get_utc_offset(const_cast<icaltimezone*>(t.zone), &jan, &dst);
    int b = icaltimezone_get_utc_offset(const_cast<icaltimezone*>(t.zone), &jul, &dst);
    int secs = std::min(a, b);
    char buf[16];
    int m = (secs < 0 ? -secs : secs) / 60;
    snprintf(buf, sizeof buf, "%c%02d:%02d", secs < 0 ? '-' : '+', m / 60, m % 60);
    return buf;
  }

  // DAYLIGHT:TRUE;<dst offset>;<start, local standard time>;<end, local
  // daylight time>;; for each year from DTSTART's (ten years on when the
  // item recurs, to 2037 at most) in which the zone has daylight time.
  std::string daylight_lines() {
    bool recurs = icalcomponent_get_first_property(main_, ICAL_RRULE_PROPERTY) != nullptr;
    int last_year = std::min(recurs ? start_.year + 10 : start_.year, 2037);
    std::string out;
    auto* zone = const_cast<icaltimezone*>(zone_);
    // From the year before: a southern-hemisphere DST period that began
    // then is still in force in DTSTART's January.
    for (int year = start_.year - 1; year <= last_year; ++year) {
      icaltimetype t = icaltime_null_time();
      t.year = year;
      t.month = 1;
      t.day = 1;
      t.zone = icaltimezone_get_utc_timezone();
      int dst = 0;
      int prev_off = icaltimezone_get_utc_offset_of_utc_time(zone, &t, &dst);
      std::string start, end;
      int dst_off = 0;
      for (int h = 1; h < 366 * 24 && t.year == year; ++h) {
        icaltime_adjust(&t, 0, 1, 0, 0);
        int off = icaltimezone_get_utc_offset_of_utc_time(zone, &t, &dst);
        if (off != prev_off) {
          // A change to a larger offset starts daylight time (libical's
          // is_daylight flag is unreliable for hand-written VTIMEZONEs).
          icaltimetype local = t;
          icaltime_adjust(&local, 0, 0, 0, prev_off);
          char buf[24];
          snprintf(buf, sizeof buf, "%04d%02d%02dT%02d%02d%02d", local.year, local.month, local.day, local.hour,
                   local.minute, local.second);
          (off > prev_off ? start : end) = buf;
          if (off > prev_off) dst_off = off;
        }
        prev_off = off;
      }
      if (start.empty() || end.empty()) continue;
      char off_buf[16];
      int m = (dst_off < 0 ? -dst_off : dst_off) / 60;
      snprintf(off_buf, sizeof off_buf, "%c%02d:%02d", dst_off < 0 ? '-' : '+', m / 60, m % 60);
      out += std::string("DAYLIGHT:TRUE;") + off_buf + ";" + start + ";" + end + ";;\r\n";
    }
    return out;
  }

  std::string end_from_duration() {
    icalproperty* d = icalcomponent_get_first_property(main_, ICAL_DURATION_PROPERTY);
    if (!d || icaltime_is_null_time(start_)) return "";
    icaltimetype end = icaltime_add(start_, icalproperty_get_duration(d));
    return date_or_time("DTEND", end);
  }

  std::string date_or_time(const std::string& name, icaltimetype t) {
    if (t.is_date && name != "DTSTART" && name != "DTEND" && name != "DUE") {
      char buf[16];
      snprintf(buf, sizeof buf, "%04d%02d%02d", t.year, t.month, t.day);
      return name + ":" + buf + "\r\n";  // a date stamp stays a date
    }
    if (t.is_date && name == "DTEND" && !icaltime_is_null_time(start_) && icaltime_compare_date_only(t, start_) <= 0) {
      char buf[24];
      snprintf(buf, sizeof buf, "%04d%02d%02dT000000", t.year, t.month, t.day);
      return name + ":" + buf + "\r\n";  // zero-length all-day item
    }
    if (t.is_date && name == "DTEND") {
      // All-day: the last day, at T235959 (phones' spelling).
      icaltimetype last = t;
      icaltime_adjust(&last, -1, 0, 0, 0);
      if (!icaltime_is_null_time(start_) && icaltime_compare_date_only(last, start_) < 0) last = start_;
      char buf[24];
      snprintf(buf, sizeof buf, "%04d%02d%02dT235959", last.year, last.month, last.day);
      return name + ":" + buf + "\r\n";
    }
    return name + ":" + time_10(t, zone_) + "\r\n";
  }

  std::string property(icalproperty* p) {
    std::string n = ascii_upper(icalproperty_get_property_name(p));
    if (!written_in_10(n)) return "";
    icalproperty_kind k = icalproperty_isa(p);
    switch (k) {
      case ICAL_DTSTART_PROPERTY:
      case ICAL_DTEND_PROPERTY:
      case ICAL_DUE_PROPERTY:
      case ICAL_COMPLETED_PROPERTY:
      case ICAL_CREATED_PROPERTY:
      case ICAL_LASTMODIFIED_PROPERTY:
      case ICAL_DTSTAMP_PROPERTY: return date_or_time(n == "CREATED" ? "DCREATED" : n, resolved_datetime(p, main_));
      case ICAL_EXDATE_PROPERTY:
      case ICAL_RDATE_PROPERTY: {
        icaltimetype t = resolved_datetime(p, main_);
        if (icaltime_is_null_time(t)) return "";  // RDATE periods: no 1.0 spelling
        if (t.is_date) {
          char buf[16];
          snprintf(buf, sizeof buf, "%04d%02d%02d", t.year, t.month, t.day);
          return n + ":" + buf + "\r\n";  // an excluded day stays a date
        }
        return n + ":" + time_10(t, zone_) + "\r\n";
      }
      case ICAL_RRULE_PROPERTY: {
        std::string rule = take(icalproperty_get_value_as_string_r(p));
        auto r = rrule_to_vcal10(rule, start_);
        return r ? "RRULE:" + *r + "\r\n" : "";
      }
      case ICAL_TRANSP_PROPERTY:
        return std::string("TRANSP:") + (icalproperty_get_transp(p) == ICAL_TRANSP_TRANSPARENT ? "1" : "0") + "\r\n";
      case ICAL_STATUS_PROPERTY: {
        std::string s = take(icalproperty_get_value_as_string_r(p));
        if (s == "NEEDS-ACTION") s = "NEEDS ACTION";
        return "STATUS:" + s + "\r\n";
      }
      case ICAL_ATTENDEE_PROPERTY: {
        std::string a = take(icalproperty_get_value_as_string_r(p));
        if (a.size() > 7 && iequals(a.substr(0, 7), "mailto:")) a = a.substr(7);
        return text_line_10("ATTENDEE", a);
      }
      case ICAL_CATEGORIES_PROPERTY:
      case ICAL_RESOURCES_PROPERTY:
      case ICAL_SUMMARY_PROPERTY:
      case ICAL_DESCRIPTION_PROPERTY:
      case ICAL_LOCATION_PROPERTY:
      case ICAL_UID_PROPERTY:
      case ICAL_RELATEDTO_PROPERTY:
      case ICAL_X_PROPERTY: {
        icalvalue* v = icalproperty_get_value(p);
        if (!v) return "";
        const char* text = icalvalue_isa(v) == ICAL_TEXT_VALUE || icalvalue_isa(v) == ICAL_X_VALUE
                               ? (icalvalue_isa(v) == ICAL_TEXT_VALUE ? icalvalue_get_text(v) : icalvalue_get_x(v))
                               : nullptr;
        if (text) return text_line_10(n, text);
        return n + ":" + take(icalproperty_get_value_as_string_r(p)) + "\r\n";
      }
      default: return n + ":" + take(icalproperty_get_value_as_string_r(p)) + "\r\n";
    }
  }

  // The alarm's absolute time: an absolute TRIGGER, or the relative one
  // added to DTSTART (DTEND/DUE for RELATED=END).
  std::optional<icaltimetype> alarm_time(icalcomponent* a) {
    icalproperty* trig = icalcomponent_get_first_property(a, ICAL_TRIGGER_PROPERTY);
    if (!trig) return std::nullopt;
    icaltriggertype t = icalproperty_get_trigger(trig);
    if (!icaltime_is_null_time(t.time)) return t.time;
    icalparameter* rel = icalproperty_get_first_parameter(trig, ICAL_RELATED_PARAMETER);
    bool at_end = rel && icalparameter_get_related(rel) == ICAL_RELATED_END;
    icalproperty* base_p = icalcomponent_get_first_property(
        main_, at_end ? (icalcomponent_isa(main_) == ICAL_VTODO_COMPONENT ? ICAL_DUE_PROPERTY : ICAL_DTEND_PROPERTY)
                      : ICAL_DTSTART_PROPERTY);
    if (!base_p) return std::nullopt;
    icaltimetype base = resolved_datetime(base_p, main_);
    if (icaltime_is_null_time(base)) return std::nullopt;
    if (base.is_date) {
      base.is_date = 0;
      base.hour = base.minute = base.second = 0;
    }
    return icaltime_add(base, t.duration);
  }

  std::string alarm(icalcomponent* a) {
    icalproperty* action = icalcomponent_get_first_property(a, ICAL_ACTION_PROPERTY);
    if (!action) return "";
    icalproperty_action act = icalproperty_get_action(action);
    if (act != ICAL_ACTION_AUDIO && act != ICAL_ACTION_DISPLAY) return "";  // EMAIL/PROCEDURE: left out
    auto when = alarm_time(a);
    if (!when) return "";
    std::string fields = time_10(*when) + ";";
    icalproperty* dur = icalcomponent_get_first_property(a, ICAL_DURATION_PROPERTY);
    icalproperty* rep = icalcomponent_get_first_property(a, ICAL_REPEAT_PROPERTY);
    if (dur && rep) {
      fields += take(icaldurationtype_as_ical_string_r(icalproperty_get_duration(dur))) + ";" +
                std::to_string(icalproperty_get_repeat(rep));
    } else {
      fields += ";";
    }
    if (act == ICAL_ACTION_AUDIO) return "AALARM:" + fields + ";\r\n";
    icalproperty* desc = icalcomponent_get_first_property(a, ICAL_DESCRIPTION_PROPERTY);
    std::string text = desc && icalproperty_get_description(desc) ? icalproperty_get_description(desc) : "";
    if (text.empty()) text = kDefaultAlarmText;
    std::string escaped;
    for (char c : text) {
      if (c == '\\' || c == ';') escaped.push_back('\\');
      escaped.push_back(c == '\n' ? ' ' : c);
    }
    return text_line_raw("DALARM", fields + ";" + escaped);
  }

  // A line whose value is already in 1.0 syntax; QP only for non-ASCII.
  static std::string text_line_raw(const std::string& name, const std::string& value) {
    bool plain = std::all_of(value.begin(), value.end(), [](char c) { return static_cast<unsigned char>(c) < 0x7f; });
    if (plain) return name + ":" + value + "\r\n";
    std::string head = name + ";CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:";
    return head + qp_encode(value, head.size() < 70 ? 75 - head.size() : 5) + "\r\n";
  }

  icalcomponent* const main_;
  icaltimetype start_ = icaltime_null_time();
  const icaltimezone* zone_ = nullptr;  // DTSTART's zone when it has one (not UTC)
};

}  // namespace

std::string write_vcal10(const icalcomponent* vcalendar) {
  auto* cal = const_cast<icalcomponent*>(vcalendar);  // libical's getters take non-const
  icalcomponent* main = nullptr;
  for (icalcomponent* k = icalcomponent_get_first_component(cal, ICAL_ANY_COMPONENT); k;
       k = icalcomponent_get_next_component(cal, ICAL_ANY_COMPONENT)) {
    icalcomponent_kind kind = icalcomponent_isa(k);
    if ((kind == ICAL_VEVENT_COMPONENT || kind == ICAL_VTODO_COMPONENT) &&
        !icalcomponent_get_first_property(k, ICAL_RECURRENCEID_PROPERTY)) {
      main = k;
      break;
    }
  }
  if (!main) {
    // Only a detached occurrence (RECURRENCE-ID): written as a plain item.
    for (icalcomponent* k = icalcomponent_get_first_component(cal, ICAL_ANY_COMPONENT); k && !main;
         k = icalcomponent_get_next_component(cal, ICAL_ANY_COMPONENT)) {
      icalcomponent_kind kind = icalcomponent_isa(k);
      if (kind == ICAL_VEVENT_COMPONENT || kind == ICAL_VTODO_COMPONENT) main = k;
    }
  }
  if (!main) return "BEGIN:VCALENDAR\r\nVERSION:1.0\r\nEND:VCALENDAR\r\n";
  return Writer(main).run();
}

}  // namespace conflux::data
