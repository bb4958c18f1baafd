#include "adapters/postgresql/event_row.h"

#include <libical/ical.h>

#include <algorithm>
#include <cstdio>
#include <memory>

#include "data/calendar.h"

namespace conflux::adapters {

namespace {

struct ComponentFree {
  void operator()(icalcomponent* c) const { icalcomponent_free(c); }
};
using Component = std::unique_ptr<icalcomponent, ComponentFree>;

struct TextField {
  const char* field;
  icalproperty_kind kind;
};
constexpr TextField kTextFields[] = {{"summary", ICAL_SUMMARY_PROPERTY},
                                     {"location", ICAL_LOCATION_PROPERTY},
                                     {"description", ICAL_DESCRIPTION_PROPERTY}};

icalcomponent* main_event(icalcomponent* vcalendar) {
  for (icalcomponent* c = icalcomponent_get_first_component(vcalendar, ICAL_VEVENT_COMPONENT); c != nullptr;
       c = icalcomponent_get_next_component(vcalendar, ICAL_VEVENT_COMPONENT)) {
    if (icalcomponent_get_first_property(c, ICAL_RECURRENCEID_PROPERTY) == nullptr) return c;
  }
  return nullptr;
}

int count_of(icalcomponent* c, icalproperty_kind kind) { return icalcomponent_count_properties(c, kind); }

bool has_parameters(icalproperty* p) { return icalproperty_get_first_parameter(p, ICAL_ANY_PARAMETER) != nullptr; }

void remove_all(icalcomponent* c, icalproperty_kind kind) {
  while (icalproperty* p = icalcomponent_get_first_property(c, kind)) {
    icalcomponent_remove_property(c, p);
    icalproperty_free(p);
  }
}

void take_away(icalcomponent* c, icalproperty* p) {
  icalcomponent_remove_property(c, p);
  icalproperty_free(p);
}

std::string column_time(const icaltimetype& t) {
  char buf[32];
  snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d", t.year, t.month, t.day, t.is_date ? 0 : t.hour,
           t.is_date ? 0 : t.minute, t.is_date ? 0 : t.second);
  return buf;
}

// "YYYY-MM-DD HH:MM:SS" as a floating time; nullopt for anything else.
std::optional<icaltimetype> time_of_column(const std::string& text) {
  icaltimetype t = icaltime_null_time();
  char tail = 0;
  if (sscanf(text.c_str(), "%4d-%2d-%2d %2d:%2d:%2d%c", &t.year, &t.month, &t.day, &t.hour, &t.minute, &t.second,
             &tail) != 6) {
    return std::nullopt;
  }
  if (!icaltime_is_valid_time(t)) return std::nullopt;
  return t;
}

// A zone by name: the item's own VTIMEZONE first, then libical's built-in ones.
icaltimezone* find_zone(icalcomponent* vcalendar, const std::string& tzid) {
  if (icaltimezone* zone = icalcomponent_get_timezone(vcalendar, tzid.c_str())) return zone;
  if (icaltimezone* zone = icaltimezone_get_builtin_timezone(tzid.c_str())) return zone;
  return icaltimezone_get_builtin_timezone_from_tzid(tzid.c_str());
}

bool has_vtimezone(icalcomponent* vcalendar, const std::string& tzid) {
  for (icalcomponent* c = icalcomponent_get_first_component(vcalendar, ICAL_VTIMEZONE_COMPONENT); c != nullptr;
       c = icalcomponent_get_next_component(vcalendar, ICAL_VTIMEZONE_COMPONENT)) {
    icalproperty* p = icalcomponent_get_first_property(c, ICAL_TZID_PROPERTY);
    if (p != nullptr && tzid == icalproperty_get_tzid(p)) return true;
  }
  return false;
}

std::string text_of(icalcomponent* c) {
  char* text = icalcomponent_as_ical_string_r(c);
  std::string out = text ? text : "";
  icalmemory_free_buffer(text);
  return out;
}

// Nothing left beside VERSION and PRODID and an empty event: no leftovers.
bool only_the_frame(icalcomponent* vcalendar, icalcomponent* main) {
  if (icalcomponent_count_components(vcalendar, ICAL_ANY_COMPONENT) != 1) return false;
  if (icalcomponent_get_first_property(main, ICAL_ANY_PROPERTY) != nullptr) return false;
  if (icalcomponent_get_first_component(main, ICAL_ANY_COMPONENT) != nullptr) return false;
  for (icalproperty* p = icalcomponent_get_first_property(vcalendar, ICAL_ANY_PROPERTY); p != nullptr;
       p = icalcomponent_get_next_property(vcalendar, ICAL_ANY_PROPERTY)) {
    const icalproperty_kind kind = icalproperty_isa(p);
    if (kind != ICAL_VERSION_PROPERTY && kind != ICAL_PRODID_PROPERTY) return false;
  }
  return true;
}

}  // namespace

const std::vector<MappedField>& event_fields() {
  static const std::vector<MappedField> fields = {
      {"summary", ColumnKind::kText},    {"location", ColumnKind::kText}, {"description", ColumnKind::kText},
      {"start", ColumnKind::kTimestamp}, {"end", ColumnKind::kTimestamp}, {"all_day", ColumnKind::kBool},
      {"timezone", ColumnKind::kText},   {"rrule", ColumnKind::kText},
  };
  return fields;
}

bool EventMapping::is_mapped(const std::string& field) const {
  return std::find(mapped_.begin(), mapped_.end(), field) != mapped_.end();
}

// DTSTART decides the row's kind of time and zone; DTEND follows it. What
// the columns take is removed from `main`.
void EventMapping::take_times(icalcomponent* main, MappedRow& row) const {
  icalproperty* start = icalcomponent_get_first_property(main, ICAL_DTSTART_PROPERTY);
  if (start == nullptr || !is_mapped("start")) return;
  const icaltimetype t = icalproperty_get_datetime_with_component(start, main);
  if (icaltime_is_null_time(t) || !icaltime_is_valid_time(t)) return;
  const bool all_day = t.is_date;
  if (all_day && !is_mapped("all_day")) return;
  if (!all_day && icalproperty_get_first_parameter(start, ICAL_TZID_PARAMETER) != nullptr && t.zone == nullptr) {
    return;  // a TZID nothing defines: kept as sent
  }
  icaltimezone* row_zone = nullptr;  // of a timestamp column; nullptr: UTC
  if (!all_day && is_mapped("timezone") && t.zone != nullptr && !icaltime_is_utc(t)) {
    icalparameter* tzid = icalproperty_get_first_parameter(start, ICAL_TZID_PARAMETER);
    row.fields["timezone"] = icalparameter_get_tzid(tzid);
    row_zone = const_cast<icaltimezone*>(t.zone);
  }
  if (is_mapped("all_day")) row.fields["all_day"] = all_day ? "true" : "false";
  icaltimezone* utc = icaltimezone_get_utc_timezone();
  auto column_value = [&](const char* field, icaltimetype value) -> std::optional<std::string> {
    if (value.is_date != all_day) return std::nullopt;
    if (all_day) return column_time(value);
    // A floating time is taken as UTC.
    const icaltimetype in_utc = value.zone != nullptr ? icaltime_convert_to_zone(value, utc) : value;
    if (instants_.count(field) || row_zone == nullptr) return column_time(in_utc);
    return column_time(icaltime_convert_to_zone(in_utc, row_zone));
  };
  if (auto value = column_value("start", t)) {
    row.fields["start"] = *value;
    take_away(main, start);
  }
  icalproperty* end = icalcomponent_get_first_property(main, ICAL_DTEND_PROPERTY);
  if (end != nullptr && is_mapped("end")) {
    const icaltimetype e = icalproperty_get_datetime_with_component(end, main);
    const bool unresolved = icalproperty_get_first_parameter(end, ICAL_TZID_PARAMETER) != nullptr && e.zone == nullptr;
    if (!unresolved && !icaltime_is_null_time(e) && icaltime_is_valid_time(e)) {
      if (auto value = column_value("end", e)) {
        row.fields["end"] = *value;
        take_away(main, end);
      }
    }
  }
}

Result<MappedRow> EventMapping::to_row(std::string_view bytes) const {
  auto item = data::CalendarItem::parse(bytes, format_);
  if (!item) return item.error();
  if ((*item)->kind() != data::DataKind::kEvent) {
    return Status::invalid_argument("this table holds events; a task has no place in it");
  }
  Component vcalendar(data::clone_ical((*item)->vcalendar()));
  icalcomponent* main = main_event(vcalendar.get());
  if (main == nullptr) return Status::invalid_argument("no event without a RECURRENCE-ID");
  MappedRow row;

  for (const TextField& text : kTextFields) {
    icalproperty* p = icalcomponent_get_first_property(main, text.kind);
    if (!is_mapped(text.field) || p == nullptr || has_parameters(p) || count_of(main, text.kind) != 1) continue;
    const char* value = icalvalue_get_text(icalproperty_get_value(p));
    row.fields[text.field] = value ? value : "";
    take_away(main, p);
  }
  if (icalproperty* p = icalcomponent_get_first_property(main, ICAL_RRULE_PROPERTY);
      p != nullptr && is_mapped("rrule") && !has_parameters(p) && count_of(main, ICAL_RRULE_PROPERTY) == 1) {
    const icalrecurrencetype rule = icalproperty_get_rrule(p);
    char* text = icalrecurrencetype_as_string_r(const_cast<icalrecurrencetype*>(&rule));
    if (text != nullptr) {
      row.fields["rrule"] = text;
      icalmemory_free_buffer(text);
      take_away(main, p);
    }
  }

  take_times(main, row);
  if (!only_the_frame(vcalendar.get(), main)) row.extra = text_of(vcalendar.get());
  return row;
}

Result<std::string> EventMapping::to_item(const MappedRow& row) const {
  auto field = [&](const char* name) -> const std::string* {
    auto it = row.fields.find(name);
    return it == row.fields.end() ? nullptr : &it->second;
  };
  Component vcalendar;
  if (!row.extra.empty()) {
    // Written by to_row, so it parses; a hand-edited broken one is dropped.
    vcalendar.reset(icalparser_parse_string(row.extra.c_str()));
    if (vcalendar && icalcomponent_isa(vcalendar.get()) != ICAL_VCALENDAR_COMPONENT) vcalendar.reset();
  }
  if (!vcalendar) {
    vcalendar.reset(icalcomponent_vanew(ICAL_VCALENDAR_COMPONENT, icalproperty_new_version("2.0"),
                                        icalproperty_new_prodid("-//Conflux//postgresql//EN"), nullptr));
  }
  icalcomponent* main = main_event(vcalendar.get());
  if (main == nullptr) {
    main = icalcomponent_new_vevent();
    icalcomponent_add_component(vcalendar.get(), main);
  }
  if (icalcomponent_get_first_property(main, ICAL_UID_PROPERTY) == nullptr && !row.name.empty()) {
    // A row another program wrote: every device must get the same UID for it.
    icalcomponent_add_property(main, icalproperty_new_uid((row.name + "@conflux").c_str()));
  }
  auto replace = [&](icalproperty_kind kind, icalproperty* with) {
    remove_all(main, kind);
    icalcomponent_add_property(main, with);
  };
  for (const TextField& text : kTextFields) {
    if (const std::string* value = field(text.field)) {
      icalproperty* p = icalproperty_new(text.kind);
      icalproperty_set_value(p, icalvalue_new_text(value->c_str()));
      replace(text.kind, p);
    }
  }
  if (const std::string* value = field("rrule")) {
    const icalrecurrencetype rule = icalrecurrencetype_from_string(value->c_str());
    if (rule.freq != ICAL_NO_RECURRENCE) replace(ICAL_RRULE_PROPERTY, icalproperty_new_rrule(rule));
  }

  const bool all_day = field("all_day") && *field("all_day") == "true";
  const std::string tzid = field("timezone") ? *field("timezone") : "";
  icaltimezone* zone = tzid.empty() || all_day ? nullptr : find_zone(vcalendar.get(), tzid);
  icaltimezone* utc = icaltimezone_get_utc_timezone();
  bool zoned = false;
  auto write_time = [&](const char* name, icalproperty_kind kind) {
    const std::string* value = field(name);
    if (value == nullptr) return;
    auto t = time_of_column(*value);
    if (!t) return;
    icalproperty* p = icalproperty_new(kind);
    if (all_day) {
      t->is_date = 1;
      t->hour = t->minute = t->second = 0;
      icalproperty_set_value(p, icalvalue_new_date(*t));
    } else if (zone == nullptr) {
      t->zone = utc;  // an instant, or wall-clock time in UTC
      icalproperty_set_value(p, icalvalue_new_datetime(*t));
    } else {
      icaltimetype local = *t;
      if (instants_.count(name)) {
        t->zone = utc;
        local = icaltime_convert_to_zone(*t, zone);
      }
      local.zone = nullptr;  // written as is, with the TZID parameter
      icalproperty_set_value(p, icalvalue_new_datetime(local));
      icalproperty_add_parameter(p, icalparameter_new_tzid(tzid.c_str()));
      zoned = true;
    }
    replace(kind, p);
  };
  write_time("start", ICAL_DTSTART_PROPERTY);
  write_time("end", ICAL_DTEND_PROPERTY);
  if (zoned && !has_vtimezone(vcalendar.get(), tzid)) {
    icalcomponent* definition = data::clone_ical(icaltimezone_get_component(zone));
    remove_all(definition, ICAL_TZID_PROPERTY);
    icalcomponent_add_property(definition, icalproperty_new_tzid(tzid.c_str()));
    // VTIMEZONEs go before the events that use them.
    icalcomponent_remove_component(vcalendar.get(), main);
    icalcomponent_add_component(vcalendar.get(), definition);
    icalcomponent_add_component(vcalendar.get(), main);
  }

  const std::string text = text_of(vcalendar.get());
  const std::string type = format_.mime_type;
  if (type == "text/calendar" && (format_.version.empty() || format_.version == "2.0")) return text;
  auto item = data::CalendarItem::parse(text, data::ical20_format());
  if (!item) return item.error();
  return (*item)->write(format_);
}

}  // namespace conflux::adapters
