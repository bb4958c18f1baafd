// vCalendar 1.0 RRULE grammar <-> RFC 5545 RRULE (SYNCML-REFERENCE §16,
// vCalendar 1.0 §3.2 "Recurrence Rule Grammar"; libsynthesis rrules.cpp for
// what devices send).
#include <libical/ical.h>

#include <algorithm>
#include <cctype>
#include <sstream>
#include <vector>

#include "data/text_codec.h"
#include "data/vcalendar.h"

namespace conflux::data {
namespace {

const char* const kDays[] = {"SU", "MO", "TU", "WE", "TH", "FR", "SA"};

bool is_day(std::string_view t) {
  for (const char* d : kDays) {
    if (t == d) return true;
  }
  return false;
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

// "1+" -> 1, "2-" -> -2, "3" -> 3; 0 when not an ordinal.
int ordinal(std::string_view t) {
  if (t.empty()) return 0;
  char sign = t.back();
  std::string_view num = (sign == '+' || sign == '-') ? t.substr(0, t.size() - 1) : t;
  if (!all_digits(num) || num.size() > 2) return 0;
  int n = std::stoi(std::string(num));
  if (n < 1 || n > 5) return 0;
  return sign == '-' ? -n : n;
}

}  // namespace

Result<std::string> rrule_from_vcal10(std::string_view rule) {
  std::vector<std::string> tokens;
  {
    std::istringstream in{std::string(rule)};
    for (std::string t; in >> t;) tokens.push_back(ascii_upper(t));
  }
  if (tokens.empty()) return Status::invalid_argument("empty RRULE");
  const std::string& head = tokens[0];
  size_t letters = 0;
  while (letters < head.size() && std::isalpha(static_cast<unsigned char>(head[letters]))) ++letters;
  std::string kind = head.substr(0, letters);
  std::string interval = head.substr(letters);
  if (interval.empty()) interval = "1";
  if (!all_digits(interval) || interval.size() > 4) return Status::invalid_argument("bad RRULE interval in " + head);
  std::string freq = kind == "D"                    ? "DAILY"
                     : kind == "W"                  ? "WEEKLY"
                     : kind == "MP" || kind == "MD" ? "MONTHLY"
                     : kind == "YM" || kind == "YD" ? "YEARLY"
                                                    : "";
  if (freq.empty()) return Status::invalid_argument("unknown RRULE frequency " + head);

  std::string end;
  size_t last = tokens.size();
  if (tokens.size() > 1) {
    const std::string& t = tokens.back();
    if (t[0] == '#' ||
        (t.size() >= 8 && all_digits(t.substr(0, 8)) && t.size() != 2 && t.find('T') != std::string::npos) ||
        (t.size() == 8 && all_digits(t))) {
      end = t;
      last = tokens.size() - 1;
    }
  }
  std::vector<std::string> by;  // BYDAY / BYMONTHDAY / BYMONTH / BYYEARDAY entries
  std::vector<int> ordinals;
  for (size_t i = 1; i < last; ++i) {
    const std::string& t = tokens[i];
    if (kind == "W" && is_day(t)) {
      by.push_back(t);
    } else if (kind == "MP" && ordinal(t) != 0) {
      ordinals.push_back(ordinal(t));
    } else if (kind == "MP" && is_day(t)) {
      by.push_back(t);
    } else if (kind == "MD" && (t == "LD" || (t.size() >= 2 && (t.back() == 'L' || t.back() == '-') &&
                                              all_digits(t.substr(0, t.size() - 1))))) {
      by.push_back(t == "LD" ? "-1" : "-" + t.substr(0, t.size() - 1));
    } else if ((kind == "MD" || kind == "YM" || kind == "YD") &&
               all_digits(t.back() == '+' ? t.substr(0, t.size() - 1) : t)) {
      by.push_back(t.back() == '+' ? t.substr(0, t.size() - 1) : t);
    } else {
      return Status::invalid_argument("RRULE token '" + t + "' not understood in " + std::string(rule));
    }
  }
  std::string out = "FREQ=" + freq + ";INTERVAL=" + std::to_string(std::stoi(interval));
  size_t per_interval = 1;
  if (kind == "W" && !by.empty()) {
    out += ";BYDAY=" + join(by);
    per_interval = by.size();
  } else if (kind == "MP") {
    if (by.empty()) return Status::invalid_argument("MP rule without a weekday: " + std::string(rule));
    if (ordinals.empty()) ordinals.push_back(1);
    std::vector<std::string> days;
    for (int o : ordinals) {
      for (const auto& d : by) days.push_back(std::to_string(o) + d);
    }
    out += ";BYDAY=" + join(days);
    per_interval = days.size();
  } else if (kind == "MD" && !by.empty()) {
    out += ";BYMONTHDAY=" + join(by);
    per_interval = by.size();
  } else if (kind == "YM" && !by.empty()) {
    out += ";BYMONTH=" + join(by);
    per_interval = by.size();
  } else if (kind == "YD" && !by.empty()) {
    out += ";BYYEARDAY=" + join(by);
    per_interval = by.size();
  }
  // The 1.0 count counts intervals; no end at all means #2.
  if (end.empty()) end = "#2";
  if (end[0] == '#') {
    std::string n = end.substr(1);
    if (!all_digits(n) || n.size() > 6) return Status::invalid_argument("bad RRULE count " + end);
    long count = std::stol(n);
    if (count > 0) out += ";COUNT=" + std::to_string(count * static_cast<long>(per_interval));
  } else {
    out += ";UNTIL=" + end;
  }
  return out;
}

std::optional<std::string> rrule_to_vcal10(std::string_view ical_rrule, icaltimetype dtstart) {
  std::string text(ical_rrule);
  icalerror_clear_errno();
  icalrecurrencetype r = icalrecurrencetype_from_string(text.c_str());
  icalerror_clear_errno();
  if (r.freq == ICAL_NO_RECURRENCE) return std::nullopt;
  if (r.by_second[0] != ICAL_RECURRENCE_ARRAY_MAX || r.by_minute[0] != ICAL_RECURRENCE_ARRAY_MAX ||
      r.by_hour[0] != ICAL_RECURRENCE_ARRAY_MAX || r.by_set_pos[0] != ICAL_RECURRENCE_ARRAY_MAX ||
      r.by_week_no[0] != ICAL_RECURRENCE_ARRAY_MAX) {
    return std::nullopt;
  }
  auto list = [](const short* a, size_t max) {
    std::vector<int> v;
    for (size_t i = 0; i < max && a[i] != ICAL_RECURRENCE_ARRAY_MAX; ++i) v.push_back(a[i]);
    return v;
  };
  std::vector<int> days = list(r.by_day, ICAL_BY_DAY_SIZE);
  std::vector<int> mdays = list(r.by_month_day, ICAL_BY_MONTHDAY_SIZE);
  std::vector<int> months = list(r.by_month, ICAL_BY_MONTH_SIZE);
  std::vector<int> ydays = list(r.by_year_day, ICAL_BY_YEARDAY_SIZE);
  int interval = r.interval > 0 ? r.interval : 1;
  int start_wday = icaltime_day_of_week(dtstart);  // 1 = Sunday
  std::string out;
  size_t per_interval = 1;
  switch (r.freq) {
    case ICAL_DAILY_RECURRENCE:
      if (!days.empty() || !mdays.empty() || !months.empty() || !ydays.empty()) return std::nullopt;
      out = "D" + std::to_string(interval);
      break;
    case ICAL_WEEKLY_RECURRENCE:
      if (!mdays.empty() || !months.empty() || !ydays.empty()) return std::nullopt;
      out = "W" + std::to_string(interval);
      if (days.empty()) days.push_back(start_wday);
      for (int d : days) {
        if (icalrecurrencetype_day_position(static_cast<short>(d)) != 0) return std::nullopt;
        out += std::string(" ") + kDays[icalrecurrencetype_day_day_of_week(static_cast<short>(d)) - 1];
      }
      per_interval = days.size();
      break;
    case ICAL_MONTHLY_RECURRENCE:
      if (!months.empty() || !ydays.empty()) return std::nullopt;
      if (!days.empty()) {
        if (!mdays.empty()) return std::nullopt;
        int pos = icalrecurrencetype_day_position(static_cast<short>(days[0]));
        if (pos == 0) return std::nullopt;
        out = "MP" + std::to_string(interval) + " " + std::to_string(pos < 0 ? -pos : pos) + (pos < 0 ? "-" : "+");
        for (int d : days) {
          if (icalrecurrencetype_day_position(static_cast<short>(d)) != pos) return std::nullopt;
          out += std::string(" ") + kDays[icalrecurrencetype_day_day_of_week(static_cast<short>(d)) - 1];
        }
        per_interval = days.size();
      } else {
        out = "MD" + std::to_string(interval);
        if (mdays.empty()) mdays.push_back(dtstart.day);
        for (int d : mdays) out += " " + (d < 0 ? std::to_string(-d) + "-" : std::to_string(d));
        per_interval = mdays.size();
      }
      break;
    case ICAL_YEARLY_RECURRENCE:
      if (!days.empty()) return std::nullopt;
      if (!ydays.empty()) {
        if (!months.empty() || !mdays.empty()) return std::nullopt;
        out = "YD" + std::to_string(interval);
        for (int d : ydays) out += " " + std::to_string(d);
        per_interval = ydays.size();
      } else {
        if (!mdays.empty() && !(mdays.size() == 1 && mdays[0] == dtstart.day)) return std::nullopt;
        out = "YM" + std::to_string(interval);
        if (months.empty()) months.push_back(dtstart.month);
        for (int m : months) out += " " + std::to_string(m);
        per_interval = months.size();
      }
      break;
    default: return std::nullopt;  // SECONDLY, MINUTELY, HOURLY: no 1.0 spelling
  }
  if (r.count > 0 && r.count % static_cast<int>(per_interval) == 0) {
    out += " #" + std::to_string(r.count / static_cast<int>(per_interval));
    return out;
  }
  icaltimetype until = r.until;
  if (r.count > 0) {
    // A count that is not whole intervals: end at the last occurrence. The
    // iterator is bounded (libical spins long on rules that never match).
    icalrecurrencetype bounded = r;
    bounded.until = dtstart;
    bounded.until.year += 100;
    icalrecur_iterator* it = icalrecur_iterator_new(bounded, dtstart);
    if (!it) return std::nullopt;
    for (icaltimetype t = icalrecur_iterator_next(it); !icaltime_is_null_time(t); t = icalrecur_iterator_next(it)) {
      until = t;
    }
    icalrecur_iterator_free(it);
    if (!until.is_date && dtstart.zone && !icaltime_is_utc(dtstart)) {
      until = icaltime_convert_to_zone(until, icaltimezone_get_utc_timezone());
    }
  }
  if (icaltime_is_null_time(until)) return out + " #0";
  char buf[32];
  if (until.is_date) {
    snprintf(buf, sizeof buf, "%04d%02d%02dT000000", until.year, until.month, until.day);
  } else {
    snprintf(buf, sizeof buf, "%04d%02d%02dT%02d%02d%02d%s", until.year, until.month, until.day, until.hour,
             until.minute, until.second, icaltime_is_utc(until) ? "Z" : "");
  }
  return out + " " + buf;
}

}  // namespace conflux::data
