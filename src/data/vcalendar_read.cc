// vCalendar 1.0 -> iCalendar 2.0 text (rules in vcalendar.h).
#include <algorithm>
#include <cstdio>
#include <optional>
#include <vector>

#include "data/text_codec.h"
#include "data/vcalendar.h"

namespace conflux::data {
namespace {

struct Line {
  std::string name;                                         // upper case
  std::vector<std::pair<std::string, std::string>> params;  // without ENCODING/CHARSET
  std::string value;                                        // decoded UTF-8, 1.0 escapes kept
};

struct Component {
  std::string kind;  // VEVENT, VTODO
  std::vector<Line> lines;
};

struct Daylight {
  int offset_min = 0;
  icaltimetype start, end;  // as written; UTC when is_utc
};

struct Calendar {
  std::optional<int> tz_offset_min;
  std::vector<Daylight> daylight;
  std::vector<Component> components;
};

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (true) {
    size_t end = s.find(sep, pos);
    out.emplace_back(s.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos));
    if (end == std::string_view::npos) break;
    pos = end + 1;
  }
  return out;
}

std::string trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(" \t");
  return std::string(s.substr(b, e - b + 1));
}

Result<Line> parse_line(const std::string& text, size_t line_no) {
  auto where = [&] { return "line " + std::to_string(line_no); };
  size_t colon = std::string::npos;
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '"') quoted = !quoted;
    if (text[i] == ':' && !quoted) {
      colon = i;
      break;
    }
  }
  if (colon == std::string::npos) return Status::invalid_argument(where() + ": no ':' in a content line");
  auto parts = split(std::string_view(text).substr(0, colon), ';');
  Line line;
  line.name = ascii_upper(trim(parts[0]));
  bool ok = !line.name.empty() && std::all_of(line.name.begin(), line.name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';  // '_': Lotus Notes
  });
  if (!ok) return Status::invalid_argument(where() + ": bad property name '" + line.name.substr(0, 40) + "'");
  std::string encoding;
  std::string charset;
  for (size_t i = 1; i < parts.size(); ++i) {
    size_t eq = parts[i].find('=');
    std::string name = ascii_upper(trim(parts[i].substr(0, eq)));
    std::string value = eq == std::string::npos ? "" : trim(parts[i].substr(eq + 1));
    if (eq == std::string::npos && (name == "QUOTED-PRINTABLE" || name == "BASE64" || name == "8BIT")) {
      encoding = name;
    } else if (name == "ENCODING") {
      encoding = ascii_upper(value);
    } else if (name == "CHARSET") {
      charset = value;
    } else if (!name.empty()) {
      line.params.emplace_back(name, value);
    }
  }
  std::string value = text.substr(colon + 1);
  if (encoding == "QUOTED-PRINTABLE") value = qp_decode(value);
  if (!charset.empty() && !iequals(charset, "UTF-8")) {
    auto utf8 = to_utf8(value, charset);
    if (!utf8) return utf8.error().with_context(where() + " " + line.name);
    value = std::move(*utf8);
  } else {
    value = undeclared_to_utf8(value);
  }
  line.value = std::move(value);
  return line;
}

// "+01", "-0700", "+01:00" -> minutes; nullopt when not a sane offset. A
// minutes part that is not a quarter hour is ignored (P990i: "TZ:+0124").
std::optional<int> parse_offset(std::string_view s) {
  std::string t = trim(s);
  if (t.size() < 2 || (t[0] != '+' && t[0] != '-')) return std::nullopt;
  int sign = t[0] == '-' ? -1 : 1;
  std::string digits;
  for (char c : t.substr(1)) {
    if (c >= '0' && c <= '9')
      digits.push_back(c);
    else if (c != ':')
      return std::nullopt;
  }
  if (digits.empty() || digits.size() > 4) return std::nullopt;
  int hours = std::stoi(digits.size() > 2 ? digits.substr(0, digits.size() - 2) : digits);
  int minutes = digits.size() > 2 ? std::stoi(digits.substr(digits.size() - 2)) : 0;
  if (minutes % 15 != 0 || minutes >= 60) minutes = 0;
  if (hours > 14) return std::nullopt;
  return sign * (hours * 60 + minutes);
}

// A 1.0 date or date-time; is_date set for date-only values; hour 24 kept.
std::optional<icaltimetype> parse_time(std::string_view s) {
  std::string t = trim(s);
  icaltimetype out = icaltime_null_time();
  int y, mo, d, h = 0, mi = 0, se = 0;
  if (t.size() == 8 && sscanf(t.c_str(), "%4d%2d%2d", &y, &mo, &d) == 3) {
    out.is_date = 1;
  } else if ((t.size() == 15 || (t.size() == 16 && (t[15] == 'Z' || t[15] == 'z'))) && t[8] == 'T' &&
             sscanf(t.c_str(), "%4d%2d%2dT%2d%2d%2d", &y, &mo, &d, &h, &mi, &se) == 6) {
    if (t.size() == 16) out.zone = icaltimezone_get_utc_timezone();
  } else {
    return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 24 || mi > 59 || se > 60 || y < 1) return std::nullopt;
  out.year = y;
  out.month = mo;
  out.day = d;
  out.hour = h;
  out.minute = mi;
  out.second = se;
  return out;
}

bool is_local(const icaltimetype& t) { return !t.is_date && !icaltime_is_utc(t); }
bool at_midnight(const icaltimetype& t) { return t.hour == 0 && t.minute == 0 && t.second == 0; }

std::string date_text(icaltimetype t) {
  char buf[16];
  snprintf(buf, sizeof buf, "%04d%02d%02d", t.year, t.month, t.day);
  return buf;
}

std::string time_text(icaltimetype t) {
  char buf[24];
  snprintf(buf, sizeof buf, "%04d%02d%02dT%02d%02d%02d%s", t.year, t.month, t.day, t.hour, t.minute, t.second,
           icaltime_is_utc(t) ? "Z" : "");
  return buf;
}

icaltimetype next_day(icaltimetype t) {
  icaltimetype d = t;
  d.is_date = 1;
  d.hour = d.minute = d.second = 0;
  icaltime_adjust(&d, 1, 0, 0, 0);
  return d;
}

// Local time -> UTC by the calendar's TZ and DAYLIGHT lines.
icaltimetype local_to_utc(const Calendar& cal, icaltimetype t) {
  if (!is_local(t) || !cal.tz_offset_min) return t;
  int offset = *cal.tz_offset_min;
  for (const Daylight& dl : cal.daylight) {
    if (dl.start.year != t.year) continue;
    icaltimetype start = dl.start;
    icaltimetype end = dl.end;
    // Compare in local time: a UTC bound moves by the offset in force before it.
    if (icaltime_is_utc(start)) icaltime_adjust(&start, 0, 0, *cal.tz_offset_min, 0);
    if (icaltime_is_utc(end)) icaltime_adjust(&end, 0, 0, dl.offset_min, 0);
    start.zone = end.zone = nullptr;
    if (icaltime_compare(t, start) >= 0 && icaltime_compare(t, end) < 0) offset = dl.offset_min;
  }
  icaltimetype u = t;
  icaltime_adjust(&u, 0, 0, -offset, 0);
  u.zone = icaltimezone_get_utc_timezone();
  return u;
}

std::string offset_text(int minutes) {
  char buf[16];  // "+hhmm", with room for any int the compiler cannot rule out
  int m = minutes < 0 ? -minutes : minutes;
  snprintf(buf, sizeof buf, "%c%02d%02d", minutes < 0 ? '-' : '+', m / 60, m % 60);
  return buf;
}

std::string tzid_for(const Calendar& cal) {
  return "vCalendar-TZ" + offset_text(*cal.tz_offset_min) + (cal.daylight.empty() ? "" : "-DAYLIGHT");
}

// TZ + DAYLIGHT lines -> a VTIMEZONE: one STANDARD rule, then for each
// DAYLIGHT year a DAYLIGHT onset at its start (local standard time) and a
// STANDARD onset at its end (local daylight time). UTC bounds are moved to
// local time first (Symbian sends them local, others with Z).
std::string vtimezone_for(const Calendar& cal) {
  int std_off = *cal.tz_offset_min;
  std::string out = "BEGIN:VTIMEZONE\r\nTZID:" + tzid_for(cal) + "\r\n";
  out += "BEGIN:STANDARD\r\nDTSTART:16010101T000000\r\nTZOFFSETFROM:" + offset_text(std_off) +
         "\r\nTZOFFSETTO:" + offset_text(std_off) + "\r\nEND:STANDARD\r\n";
  for (const Daylight& dl : cal.daylight) {
    icaltimetype start = dl.start;
    icaltimetype end = dl.end;
    if (icaltime_is_utc(start)) icaltime_adjust(&start, 0, 0, std_off, 0);
    if (icaltime_is_utc(end)) icaltime_adjust(&end, 0, 0, dl.offset_min, 0);
    start.zone = end.zone = nullptr;
    start.is_date = end.is_date = 0;
    out += "BEGIN:DAYLIGHT\r\nDTSTART:" + time_text(start) + "\r\nTZOFFSETFROM:" + offset_text(std_off) +
           "\r\nTZOFFSETTO:" + offset_text(dl.offset_min) + "\r\nEND:DAYLIGHT\r\n";
    out += "BEGIN:STANDARD\r\nDTSTART:" + time_text(end) + "\r\nTZOFFSETFROM:" + offset_text(dl.offset_min) +
           "\r\nTZOFFSETTO:" + offset_text(std_off) + "\r\nEND:STANDARD\r\n";
  }
  return out + "END:VTIMEZONE\r\n";
}

// Splits a 1.0 list on unescaped ';'.
std::vector<std::string> split_list(std::string_view s) {
  std::vector<std::string> out(1);
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      out.back() += s.substr(i, 2);
      ++i;
    } else if (s[i] == ';') {
      out.emplace_back();
    } else {
      out.back().push_back(s[i]);
    }
  }
  return out;
}

bool is_time_property(std::string_view n) {
  return n == "DTSTART" || n == "DTEND" || n == "DUE" || n == "COMPLETED" || n == "DCREATED" || n == "CREATED" ||
         n == "LAST-MODIFIED" || n == "DTSTAMP" || n == "RECURRENCE-ID";
}

bool is_text_property(std::string_view n) {
  return n == "SUMMARY" || n == "DESCRIPTION" || n == "LOCATION" || n == "COMMENT" || n == "CONTACT" || n == "UID" ||
         n == "RELATED-TO" || n.substr(0, 2) == "X-";
}

class Translator {
 public:
  Translator(const Calendar& cal, const Component& comp) : cal_(cal), comp_(comp) {}

  std::string run() {
    decide_all_day();
    out_ = "BEGIN:" + comp_.kind + "\r\n";
    for (const Line& l : comp_.lines) property(l);
    out_ += alarms_;
    out_ += "END:" + comp_.kind + "\r\n";
    return out_;
  }

 private:
  const Line* find(std::string_view name) const {
    for (const Line& l : comp_.lines) {
      if (l.name == name) return &l;
    }
    return nullptr;
  }

  void decide_all_day() {
    const Line* start = find("DTSTART");
    auto s = start ? parse_time(start->value) : std::nullopt;
    if (comp_.kind == "VTODO") {
      task_dates_ = true;
      return;
    }
    if (!s || !(s->is_date || (is_local(*s) && at_midnight(*s)))) return;
    const Line* end = find("DTEND");
    auto e = end ? parse_time(end->value) : std::nullopt;
    if (end && !e) return;
    if (!e) {
      all_day_ = s->is_date;  // a lone local midnight is a timed event
      if (all_day_) end_date_ = next_day(*s);
      return;
    }
    icaltimetype end_day = *e;
    end_day.is_date = 1;
    end_day.zone = nullptr;
    icaltimetype start_day = *s;
    start_day.is_date = 1;
    int cmp = icaltime_compare_date_only(end_day, start_day);
    bool midnight = e->is_date || at_midnight(*e);
    bool end_of_day = !e->is_date && ((e->hour == 23 && e->minute == 59) || e->hour == 24);
    if (cmp < 0 || !(midnight || end_of_day)) return;
    if (midnight && !e->is_date) {
      end_date_ = end_day;  // exclusive end at midnight
    } else {
      end_date_ = next_day(end_day);  // inclusive last day (T235959, T240000, a date)
    }
    if (icaltime_is_utc(*e) && !(e->hour == 24 || end_of_day)) return;
    all_day_ = true;
  }

  // The 2.0 spelling of a 1.0 time value of property `name`; local times of
  // the item's own schedule keep their wall clock under the TZ's VTIMEZONE
  // (*tzid set), others become UTC.
  std::optional<std::string> time_value(std::string_view name, std::string_view value, bool* is_date,
                                        std::string* tzid = nullptr) {
    auto t = parse_time(value);
    if (!t) return std::nullopt;
    bool date =
        t->is_date || ((all_day_ && name != "LAST-MODIFIED" && name != "DCREATED" && name != "CREATED" &&
                        name != "DTSTAMP" && name != "COMPLETED") ||
                       (task_dates_ && (name == "DUE" || name == "DTSTART") && is_local(*t) && at_midnight(*t)));
    *is_date = date;
    if (date) return date_text(name == "DTEND" && end_date_ ? *end_date_ : *t);
    if (t->hour == 24) {
      t->hour = 0;
      icaltime_adjust(&*t, 1, 0, 0, 0);
    }
    if (tzid && is_local(*t) && cal_.tz_offset_min) {
      *tzid = tzid_for(cal_);
      return time_text(*t);
    }
    bool stamp =
        name == "LAST-MODIFIED" || name == "DCREATED" || name == "CREATED" || name == "DTSTAMP" || name == "COMPLETED";
    if (stamp) return time_text(*t);  // a floating stamp stays floating (2.0 wants UTC, but keeps the value)
    return time_text(local_to_utc(cal_, *t));
  }

  void property(const Line& l) {
    const std::string& n = l.name;
    std::string v = trim(l.value);
    if (n == "AALARM" || n == "DALARM") return alarm(l);
    if (is_time_property(n)) {
      bool date = false;
      std::string tzid;
      bool scheduled = n == "DTSTART" || n == "DTEND" || n == "DUE" || n == "RECURRENCE-ID";
      auto t = time_value(n, v, &date, scheduled ? &tzid : nullptr);
      if (!t) return;  // empty or unreadable time (gammu 02.vcs: "DUE:")
      std::string name = n == "DCREATED" ? "CREATED" : n;
      out_ += name + (date ? ";VALUE=DATE:" : tzid.empty() ? ":" : ";TZID=" + tzid + ":") + *t + "\r\n";
      return;
    }
    if (n == "EXDATE" || n == "RDATE") {
      for (const auto& item : split(v, v.find(';') != std::string::npos ? ';' : ',')) {
        bool date = false;
        std::string tzid;
        auto t = time_value("EXDATE", trim(item), &date, &tzid);
        if (!t) continue;
        out_ += n + (date ? ";VALUE=DATE:" : tzid.empty() ? ":" : ";TZID=" + tzid + ":") + *t + "\r\n";
      }
      return;
    }
    if (n == "RRULE") {
      std::string rule;
      if (ascii_upper(v).find("FREQ=") != std::string::npos) {
        rule = v;  // some phones send 2.0 rules in 1.0 data
      } else {
        auto r = rrule_from_vcal10(v);
        if (!r) return;  // left out: a rule we cannot read
        rule = *r;
        size_t until = rule.find(";UNTIL=");
        if (until != std::string::npos) {
          bool date = false;
          auto t = time_value("UNTIL", rule.substr(until + 7), &date);
          if (!t) return;
          rule = rule.substr(0, until) + ";UNTIL=" + *t;
        }
      }
      out_ += "RRULE:" + rule + "\r\n";
      return;
    }
    if (n == "CATEGORIES" || n == "RESOURCES") {
      std::string values;
      for (const auto& item : split_list(v)) {
        std::string c = trim(unescape_text(item));
        if (!c.empty()) values += (values.empty() ? "" : ",") + escape_text(c);
      }
      if (!values.empty()) out_ += n + ":" + values + "\r\n";
      return;
    }
    if (n == "TRANSP") {
      out_ += std::string("TRANSP:") + (v == "0" || iequals(v, "OPAQUE") ? "OPAQUE" : "TRANSPARENT") + "\r\n";
      return;
    }
    if (n == "STATUS") {
      std::string s = ascii_upper(v);
      std::replace(s.begin(), s.end(), ' ', '-');
      if (!s.empty()) out_ += "STATUS:" + s + "\r\n";
      return;
    }
    if (n == "ATTENDEE" || n == "ORGANIZER") {
      if (v.empty()) return;
      v = unescape_text(v);
      std::string addr = v;
      size_t lt = v.find('<');
      size_t gt = v.find('>');
      if (lt != std::string::npos && gt != std::string::npos && gt > lt) addr = v.substr(lt + 1, gt - lt - 1);
      if (addr.find(':') == std::string::npos) addr = "mailto:" + addr;
      out_ += n + ":" + addr + "\r\n";
      return;
    }
    if (is_text_property(n)) {
      std::string params;
      if (n.substr(0, 2) == "X-") {
        for (const auto& [pn, pv] : l.params) {
          if (pv.find_first_of(":;,\"") == std::string::npos && !pn.empty())
            params += ";" + pn + (pv.empty() ? "" : "=" + pv);
        }
      }
      out_ += n + params + ":" + escape_text(unescape_text(l.value)) + "\r\n";
      return;
    }
    if (v.empty()) return;
    if (n == "CLASS" || n == "PRIORITY" || n == "SEQUENCE" || n == "URL" || n == "GEO" || n == "ATTACH" ||
        n == "PERCENT-COMPLETE") {
      out_ += n + ":" + v + "\r\n";
    }
    // Anything else (RNUM, EXRULE, unknown IANA names) has no 2.0 meaning we keep.
  }

  // AALARM/DALARM:<time>;<snooze>;<repeat>;<sound or display text>
  void alarm(const Line& l) {
    auto f = split_list(l.value);
    auto t = parse_time(f[0]);
    if (!t || t->is_date) return;
    icaltimetype u = local_to_utc(cal_, *t);
    alarms_ += "BEGIN:VALARM\r\n";
    alarms_ += std::string("ACTION:") + (l.name == "AALARM" ? "AUDIO" : "DISPLAY") + "\r\n";
    alarms_ += "TRIGGER;VALUE=DATE-TIME:" + time_text(u) + "\r\n";
    std::string snooze = f.size() > 1 ? trim(f[1]) : "";
    std::string repeat = f.size() > 2 ? trim(f[2]) : "";
    if (!snooze.empty() && !repeat.empty() && repeat != "0" &&
        !icaldurationtype_is_bad_duration(icaldurationtype_from_string(snooze.c_str())) &&
        std::all_of(repeat.begin(), repeat.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      alarms_ += "DURATION:" + snooze + "\r\nREPEAT:" + repeat + "\r\n";
    }
    icalerror_clear_errno();
    if (l.name == "DALARM") {
      std::string text = f.size() > 3 ? trim(unescape_text(f[3])) : "";
      alarms_ += "DESCRIPTION:" + escape_text(text.empty() ? kDefaultAlarmText : text) + "\r\n";
    }
    alarms_ += "END:VALARM\r\n";
  }

  const Calendar& cal_;
  const Component& comp_;
  bool all_day_ = false;
  bool task_dates_ = false;
  std::optional<icaltimetype> end_date_;
  std::string out_;
  std::string alarms_;
};

}  // namespace

bool is_vcal10(std::string_view bytes) {
  size_t pos = 0;
  while ((pos = bytes.find("VERSION", pos)) != std::string_view::npos) {
    size_t eol = bytes.find('\n', pos);
    std::string line = trim(bytes.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos));
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (pos == 0 || bytes[pos - 1] == '\n') return trim(line.substr(line.find(':') + 1)) == "1.0";
    pos += 7;
  }
  return false;
}

Result<std::string> vcal10_to_ical20(std::string_view bytes) {
  std::vector<Calendar> cals;
  std::vector<std::string> stack;
  size_t line_no = 0;
  for (const std::string& text : unfold_21_lines(bytes)) {
    ++line_no;
    auto parsed = parse_line(text, line_no);
    if (!parsed) return parsed.error();
    Line& l = *parsed;
    std::string value = ascii_upper(trim(l.value));
    if (l.name == "BEGIN") {
      if (value == "VCALENDAR") {
        cals.emplace_back();
      } else if (stack.empty() || stack.back() != "VCALENDAR") {
        return Status::invalid_argument("line " + std::to_string(line_no) + ": BEGIN:" + value +
                                        " outside a VCALENDAR");
      } else if (value == "VEVENT" || value == "VTODO") {
        cals.back().components.push_back({value, {}});
      }
      stack.push_back(value);
      continue;
    }
    if (l.name == "END") {
      if (stack.empty() || stack.back() != value) {
        return Status::invalid_argument("line " + std::to_string(line_no) + ": END:" + value + " without BEGIN");
      }
      stack.pop_back();
      continue;
    }
    if (stack.empty())
      return Status::invalid_argument("line " + std::to_string(line_no) + ": content outside a VCALENDAR");
    Calendar& cal = cals.back();
    if (stack.back() == "VCALENDAR") {
      if (l.name == "TZ") cal.tz_offset_min = parse_offset(l.value);
      if (l.name == "DAYLIGHT") {
        auto f = split(l.value, ';');
        if (f.size() >= 4 && iequals(trim(f[0]), "TRUE")) {
          auto off = parse_offset(f[1]);
          auto s = parse_time(f[2]);
          auto e = parse_time(f[3]);
          if (off && s && e) cal.daylight.push_back({*off, *s, *e});
        }
      }
    } else if (stack.back() == "VEVENT" || stack.back() == "VTODO") {
      cal.components.back().lines.push_back(std::move(l));
    }
  }
  if (!stack.empty()) return Status::invalid_argument("no END:" + stack.back());
  if (cals.empty()) return Status::invalid_argument("no VCALENDAR");
  std::string out;
  for (const Calendar& cal : cals) {
    out += "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Conflux//vCalendar 1.0 import//EN\r\n";
    if (cal.tz_offset_min) out += vtimezone_for(cal);
    for (const Component& comp : cal.components) out += Translator(cal, comp).run();
    out += "END:VCALENDAR\r\n";
  }
  return out;
}

}  // namespace conflux::data
