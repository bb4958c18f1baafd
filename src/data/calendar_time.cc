#include "data/calendar_time.h"

namespace conflux::data {

std::string normalised_time(icaltimetype t) {
  if (icaltime_is_null_time(t) || !icaltime_is_valid_time(t)) return "";
  if (t.is_date) {
    char buf[16];
    snprintf(buf, sizeof buf, "%04d%02d%02d", t.year, t.month, t.day);
    return std::string("date:") + buf;
  }
  if (icaltime_is_utc(t) || t.zone) {
    const icaltimezone* zone = t.zone ? t.zone : icaltimezone_get_utc_timezone();
    return "utc:" + std::to_string(static_cast<long long>(icaltime_as_timet_with_zone(t, zone)));
  }
  char buf[32];
  snprintf(buf, sizeof buf, "%04d%02d%02dT%02d%02d%02d", t.year, t.month, t.day, t.hour, t.minute, t.second);
  return std::string("local:") + buf;
}

std::string normalised_time(icalproperty* p, icalcomponent* owner) {
  icalvalue* v = icalproperty_get_value(p);
  if (!v) return "";
  icalvalue_kind k = icalvalue_isa(v);
  if (k != ICAL_DATETIME_VALUE && k != ICAL_DATE_VALUE && k != ICAL_DATETIMEDATE_VALUE) return "";
  return normalised_time(resolved_datetime(p, owner));
}

icaltimetype resolved_datetime(icalproperty* p, icalcomponent* owner) {
  icaltimetype t = icalproperty_get_datetime_with_component(p, owner);
  if (!t.zone || icaltime_is_utc(t)) return t;
  const char* tzid = icaltimezone_get_tzid(const_cast<icaltimezone*>(t.zone));
  if (!tzid) return t;
  icaltimezone* known = icaltimezone_get_builtin_timezone(tzid);
  if (!known) known = icaltimezone_get_builtin_timezone_from_tzid(tzid);
  if (known) t.zone = known;
  return t;
}

}  // namespace conflux::data
