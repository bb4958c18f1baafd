#include <libical/ical.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>

#include "data/calendar.h"
#include "data/sif.h"
#include "data/sif_detail.h"
#include "data/text_codec.h"

// SIF-E and SIF-T <-> the libical model (the mapping is in data/sif.h).
namespace conflux::data {
namespace sif_detail {
namespace {

bool is_date_only(std::string_view v) { return v.size() == 10 && v[4] == '-' ? true : v.size() == 8; }

// The ical line "NAME;VALUE=DATE:20070101" or "NAME:20070101T050000Z".
std::string time_line(const std::string& name, std::string_view value, bool as_date) {
  std::string v = compact_date(value);
  if (as_date) return name + ";VALUE=DATE:" + v.substr(0, 8) + "\r\n";
  return name + ":" + v + "\r\n";
}

std::string next_day(const std::string& yyyymmdd) {
  icaltimetype t = icaltime_from_string(yyyymmdd.c_str());
  icaltime_adjust(&t, 1, 0, 0, 0);
  return icaltime_as_ical_string(t);
}

constexpr std::array<const char*, 7> kWeekdays = {"SU", "MO", "TU", "WE", "TH", "FR", "SA"};

// Outlook's recurrence pattern as an RRULE value; empty when it makes none.
std::string rrule_from_sif(const SifFields& f, bool all_day) {
  const std::string type = f.get("RecurrenceType");
  const int interval = std::max(1, std::atoi(f.get("Interval").c_str()));
  const int mask = std::atoi(f.get("DayOfWeekMask").c_str());
  const int instance = std::atoi(f.get("Instance").c_str());
  std::vector<std::string> days;
  for (int i = 0; i < 7; ++i) {
    if (mask & (1 << i)) days.push_back(kWeekdays[i]);
  }
  std::string rule;
  if (type == "0") {
    rule = "FREQ=DAILY";
  } else if (type == "1") {
    rule = "FREQ=WEEKLY";
    if (!days.empty()) rule += ";BYDAY=" + join(days, ",");
  } else if (type == "2") {
    rule = "FREQ=MONTHLY;BYMONTHDAY=" + f.get("DayOfMonth");
  } else if (type == "3" || type == "6") {
    rule = type == "3" ? "FREQ=MONTHLY" : "FREQ=YEARLY;BYMONTH=" + f.get("MonthOfYear");
    std::string pos = instance == 5 ? "-1" : std::to_string(instance);
    for (auto& d : days) d = pos + d;
    if (!days.empty()) rule += ";BYDAY=" + join(days, ",");
  } else if (type == "5") {
    rule = "FREQ=YEARLY;BYMONTH=" + f.get("MonthOfYear") + ";BYMONTHDAY=" + f.get("DayOfMonth");
  } else {
    return "";
  }
  if (interval > 1) rule += ";INTERVAL=" + std::to_string(interval);
  if (f.get("NoEndDate") != "1") {
    const int count = std::atoi(f.get("Occurrences").c_str());
    const std::string end = compact_date(f.get("PatternEndDate"));
    if (count > 0) {
      rule += ";COUNT=" + std::to_string(count);
    } else if (!end.empty()) {
      rule += ";UNTIL=" + (all_day ? end.substr(0, 8) : end);
    }
  }
  return rule;
}

const std::set<std::string>& mapped_calendar_elements() {
  static const std::set<std::string> s = {"Subject",        "Body",          "Location",
                                          "Categories",     "Start",         "End",
                                          "AllDayEvent",    "ReminderSet",   "ReminderMinutesBeforeStart",
                                          "ReminderTime",   "IsRecurring",   "RecurrenceType",
                                          "Interval",       "DayOfWeekMask", "DayOfMonth",
                                          "MonthOfYear",    "Instance",      "PatternStartDate",
                                          "PatternEndDate", "NoEndDate",     "Occurrences",
                                          "Sensitivity",    "Importance",    "BusyStatus",
                                          "Duration",       "StartDate",     "DueDate",
                                          "Complete",       "DateCompleted", "PercentComplete",
                                          "Status"};
  return s;
}

std::string priority_for_importance(const std::string& importance) {
  if (importance == "0") return "9";
  if (importance == "2") return "1";
  return importance.empty() ? "" : "5";
}

constexpr std::array<const char*, 4> kBusyStatus = {"FREE", "TENTATIVE", "BUSY", "OOF"};

Result<std::string> ical_from_sif(const SifFields& f, bool task) {
  std::string out = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Conflux//SIF//EN\r\n";
  out += task ? "BEGIN:VTODO\r\n" : "BEGIN:VEVENT\r\n";
  auto text = [&](const char* element, const char* property) {
    std::string v = f.get(element);
    if (!v.empty()) out += std::string(property) + ":" + escape_text(v) + "\r\n";
  };
  text("Subject", "SUMMARY");
  text("Body", "DESCRIPTION");
  text("Location", "LOCATION");
  if (auto cats = split_categories(f.get("Categories")); !cats.empty()) {
    std::vector<std::string> escaped;
    escaped.reserve(cats.size());
    for (const auto& c : cats) escaped.push_back(escape_text(c));
    out += "CATEGORIES:" + join(escaped, ",") + "\r\n";
  }
  if (std::string cls = class_for_sensitivity(f.get("Sensitivity")); !cls.empty()) out += "CLASS:" + cls + "\r\n";
  if (std::string prio = priority_for_importance(f.get("Importance")); !prio.empty()) {
    out += "PRIORITY:" + prio + "\r\n";
  }
  bool all_day = false;
  if (!task) {
    const std::string start = f.get("Start");
    const std::string end = f.get("End");
    all_day = f.get("AllDayEvent") == "1" || ascii_lower(f.get("AllDayEvent")) == "true" ||
              (is_date_only(start) && !start.empty());
    if (start.empty()) return Status::invalid_argument("SIF-E appointment without <Start>");
    out += time_line("DTSTART", start, all_day);
    if (!end.empty()) {
      // SIF names the last day of an all-day event, iCalendar the day after.
      out += all_day ? "DTEND;VALUE=DATE:" + next_day(compact_date(end).substr(0, 8)) + "\r\n"
                     : time_line("DTEND", end, false);
    }
    const int busy = f.get("BusyStatus").empty() ? -1 : std::atoi(f.get("BusyStatus").c_str());
    if (busy >= 0 && busy < 4) {
      out += std::string("TRANSP:") + (busy == 0 ? "TRANSPARENT" : "OPAQUE") + "\r\n";
      out += std::string("X-MICROSOFT-CDO-BUSYSTATUS:") + kBusyStatus[busy] + "\r\n";
    }
  } else {
    const std::string start = f.get("StartDate");
    const std::string due = f.get("DueDate");
    if (!start.empty()) out += time_line("DTSTART", start, is_date_only(start));
    if (!due.empty()) out += time_line("DUE", due, is_date_only(due));
    all_day = is_date_only(start.empty() ? due : start);
    const std::string status = f.get("Status");
    if (f.get("Complete") == "1" || status == "2") {
      out += "STATUS:COMPLETED\r\n";
    } else if (status == "1") {
      out += "STATUS:IN-PROCESS\r\n";
    } else if (status == "0") {
      out += "STATUS:NEEDS-ACTION\r\n";
    }
    if (std::string done = compact_date(f.get("DateCompleted")); !done.empty()) {
      out += "COMPLETED:" + (done.size() == 8 ? done + "T000000Z" : done) + "\r\n";
    }
    text("PercentComplete", "PERCENT-COMPLETE");
  }
  if (f.get("IsRecurring") == "1" || ascii_lower(f.get("IsRecurring")) == "true") {
    if (std::string rule = rrule_from_sif(f, all_day); !rule.empty()) out += "RRULE:" + rule + "\r\n";
    if (pugi::xml_node ex = f.root.child("Exceptions")) {
      for (pugi::xml_node d : ex.children("ExcludeDate")) {
        if (*d.child_value()) out += time_line("EXDATE", d.child_value(), is_date_only(d.child_value()));
      }
      for (pugi::xml_node d : ex.children("IncludeDate")) {
        if (*d.child_value()) out += time_line("RDATE", d.child_value(), is_date_only(d.child_value()));
      }
    }
  }
  for (const auto& [name, value] : f.in_order) {
    if (value.empty() || mapped_calendar_elements().count(name)) continue;
    out += std::string(kSifPrefix) + ascii_upper(name) + ":" + escape_text(value) + "\r\n";
  }
  if (f.get("ReminderSet") == "1" || ascii_lower(f.get("ReminderSet")) == "true") {
    out += "BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Reminder\r\n";
    if (task && !f.get("ReminderTime").empty()) {
      out += "TRIGGER;VALUE=DATE-TIME:" + compact_date(f.get("ReminderTime")) + "\r\n";
    } else {
      out += "TRIGGER:-PT" + std::to_string(std::atoi(f.get("ReminderMinutesBeforeStart").c_str())) + "M\r\n";
    }
    out += "END:VALARM\r\n";
  }
  out += task ? "END:VTODO\r\n" : "END:VEVENT\r\n";
  out += "END:VCALENDAR\r\n";
  return out;
}

std::string prop_text(icalcomponent* c, icalproperty_kind kind) {
  icalproperty* p = icalcomponent_get_first_property(c, kind);
  if (!p) return "";
  const char* v = icalproperty_get_value_as_string(p);
  if (!v) return "";
  if (kind == ICAL_SUMMARY_PROPERTY || kind == ICAL_DESCRIPTION_PROPERTY || kind == ICAL_LOCATION_PROPERTY) {
    icalvalue* value = icalproperty_get_value(p);
    const char* t = value ? icalvalue_get_text(value) : nullptr;
    return t ? t : "";
  }
  return v;
}

// A time as SIF writes it: all-day "YYYY-MM-DD"; otherwise UTC
// "YYYYMMDDTHHMMSSZ", or floating "YYYYMMDDTHHMMSS" when it has no zone.
std::string sif_time(icaltimetype t) {
  if (icaltime_is_null_time(t)) return "";
  char buf[32];
  if (t.is_date) {
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", t.year, t.month, t.day);
    return buf;
  }
  if (t.zone && !icaltime_is_utc(t)) t = icaltime_convert_to_zone(t, icaltimezone_get_utc_timezone());
  std::snprintf(buf, sizeof buf, "%04d%02d%02dT%02d%02d%02d%s", t.year, t.month, t.day, t.hour, t.minute, t.second,
                icaltime_is_utc(t) ? "Z" : "");
  return buf;
}

std::string importance_for_priority(icalcomponent* c) {
  icalproperty* p = icalcomponent_get_first_property(c, ICAL_PRIORITY_PROPERTY);
  if (!p) return "1";
  const int prio = icalproperty_get_priority(p);
  if (prio == 0 || prio == 5) return "1";
  return prio < 5 ? "2" : "0";
}

void write_recurrence(pugi::xml_node& root, icalcomponent* main, icaltimetype start) {
  icalproperty* rp = icalcomponent_get_first_property(main, ICAL_RRULE_PROPERTY);
  if (!rp) {
    add_element(root, "IsRecurring", "0");
    return;
  }
  icalrecurrencetype r = icalproperty_get_rrule(rp);
  int mask = 0;
  int instance = 0;
  for (int i = 0; i < ICAL_BY_DAY_SIZE && r.by_day[i] != ICAL_RECURRENCE_ARRAY_MAX; ++i) {
    mask |= 1 << (static_cast<int>(icalrecurrencetype_day_day_of_week(r.by_day[i])) - 1);
    const int pos = icalrecurrencetype_day_position(r.by_day[i]);
    if (pos != 0) instance = pos < 0 ? 5 : pos;
  }
  if (r.by_set_pos[0] != ICAL_RECURRENCE_ARRAY_MAX && instance == 0) {
    instance = r.by_set_pos[0] < 0 ? 5 : r.by_set_pos[0];
  }
  const int day_of_month = r.by_month_day[0] != ICAL_RECURRENCE_ARRAY_MAX ? r.by_month_day[0] : start.day;
  const int month = r.by_month[0] != ICAL_RECURRENCE_ARRAY_MAX ? r.by_month[0] : start.month;
  std::string type;
  switch (r.freq) {
    case ICAL_DAILY_RECURRENCE: type = "0"; break;
    case ICAL_WEEKLY_RECURRENCE: type = "1"; break;
    case ICAL_MONTHLY_RECURRENCE: type = instance ? "3" : "2"; break;
    case ICAL_YEARLY_RECURRENCE: type = instance ? "6" : "5"; break;
    default:
      // Hourly and finer have no Outlook pattern: the SIF device sees one
      // occurrence; the server keeps the RRULE (it is not in sif_caps' reach
      // to delete it, see keep_fields_device_cannot_hold).
      add_element(root, "IsRecurring", "0");
      return;
  }
  if (type == "1" && mask == 0) mask = 1 << (icaltime_day_of_week(start) - 1);
  add_element(root, "IsRecurring", "1");
  add_element(root, "RecurrenceType", type);
  add_element(root, "Interval", std::to_string(std::max<int>(1, r.interval)));
  add_element(root, "DayOfWeekMask", std::to_string(mask));
  add_element(root, "DayOfMonth", std::to_string(type == "2" || type == "5" ? day_of_month : 0));
  add_element(root, "MonthOfYear", std::to_string(type == "5" || type == "6" ? month : 0));
  add_element(root, "Instance", std::to_string(instance));
  add_element(root, "PatternStartDate", sif_time(start));
  const bool ends = r.count > 0 || !icaltime_is_null_time(r.until);
  add_element(root, "NoEndDate", ends ? "0" : "1");
  add_element(root, "PatternEndDate", icaltime_is_null_time(r.until) ? "" : sif_time(r.until));
  add_element(root, "Occurrences", r.count > 0 ? std::to_string(r.count) : "");
  pugi::xml_node exceptions = root.append_child("Exceptions");
  for (icalproperty* p = icalcomponent_get_first_property(main, ICAL_EXDATE_PROPERTY); p;
       p = icalcomponent_get_next_property(main, ICAL_EXDATE_PROPERTY)) {
    add_element(exceptions, "ExcludeDate", sif_time(icalproperty_get_exdate(p)));
  }
  for (icalproperty* p = icalcomponent_get_first_property(main, ICAL_RDATE_PROPERTY); p;
       p = icalcomponent_get_next_property(main, ICAL_RDATE_PROPERTY)) {
    add_element(exceptions, "IncludeDate", sif_time(icalproperty_get_rdate(p).time));
  }
}

void write_reminder(pugi::xml_node& root, icalcomponent* main, bool task) {
  for (icalcomponent* a = icalcomponent_get_first_component(main, ICAL_VALARM_COMPONENT); a;
       a = icalcomponent_get_next_component(main, ICAL_VALARM_COMPONENT)) {
    icalproperty* tp = icalcomponent_get_first_property(a, ICAL_TRIGGER_PROPERTY);
    if (!tp) continue;
    icaltriggertype trigger = icalproperty_get_trigger(tp);
    add_element(root, "ReminderSet", "1");
    if (!icaltime_is_null_time(trigger.time)) {
      add_element(root, "ReminderTime", sif_time(trigger.time));
    } else {
      const int minutes = -icaldurationtype_as_int(trigger.duration) / 60;
      add_element(root, "ReminderMinutesBeforeStart", std::to_string(std::max(0, minutes)));
      if (task) add_element(root, "ReminderTime", "");
    }
    return;
  }
  add_element(root, "ReminderSet", "0");
}

void write_kept_elements(pugi::xml_node& root, icalcomponent* main) {
  for (icalproperty* p = icalcomponent_get_first_property(main, ICAL_X_PROPERTY); p;
       p = icalcomponent_get_next_property(main, ICAL_X_PROPERTY)) {
    const char* name = icalproperty_get_x_name(p);
    if (!name || std::string_view(name).substr(0, kSifPrefix.size()) != kSifPrefix) continue;
    icalvalue* value = icalproperty_get_value(p);
    const char* text = value ? icalvalue_as_ical_string(value) : "";
    add_element(root, element_for(std::string_view(name).substr(kSifPrefix.size())), unescape_text(text ? text : ""));
  }
}

}  // namespace

Result<std::unique_ptr<DataObject>> parse_sif_calendar(std::string_view bytes, bool task) {
  pugi::xml_document doc;
  auto fields = read_sif(doc, bytes, task ? "task" : "appointment");
  if (!fields) return fields.error();
  auto text = ical_from_sif(*fields, task);
  if (!text) return text.error();
  auto item = CalendarItem::parse(*text, ical20_format());
  if (!item) return item.error().with_context(task ? "SIF-T" : "SIF-E");
  IcalComponentPtr copy(clone_ical((*item)->vcalendar()));
  if (task) return std::unique_ptr<DataObject>(std::make_unique<Task>(std::move(copy), sif_task_format()));
  return std::unique_ptr<DataObject>(std::make_unique<Event>(std::move(copy), sif_event_format()));
}

}  // namespace sif_detail

using namespace sif_detail;

Result<std::string> write_sif_calendar(const CalendarItem& item, const Format& format) {
  const bool task = format.mime_type == sif_task_format().mime_type;
  if (task != (item.kind() == DataKind::kTask)) {
    return Status::invalid_argument(std::string("a ") + data_kind_name(item.kind()) + " cannot be written as " +
                                    format.to_string());
  }
  icalcomponent* main = const_cast<icalcomponent*>(item.main_component());
  if (!main) return Status::invalid_argument("no event or task to write as SIF");
  pugi::xml_document doc;
  pugi::xml_node root = doc.append_child(task ? "task" : "appointment");
  add_element(root, "Subject", prop_text(main, ICAL_SUMMARY_PROPERTY));
  add_element(root, "Body", prop_text(main, ICAL_DESCRIPTION_PROPERTY));
  std::vector<std::string> categories;
  for (icalproperty* p = icalcomponent_get_first_property(main, ICAL_CATEGORIES_PROPERTY); p;
       p = icalcomponent_get_next_property(main, ICAL_CATEGORIES_PROPERTY)) {
    if (const char* c = icalproperty_get_categories(p)) categories.push_back(c);
  }
  add_element(root, "Categories", join(categories, ","));
  icalproperty* cls = icalcomponent_get_first_property(main, ICAL_CLASS_PROPERTY);
  add_element(root, "Sensitivity",
              sensitivity_for_class(cls ? ascii_upper(icalproperty_get_value_as_string(cls)) : ""));
  add_element(root, "Importance", importance_for_priority(main));
  const icaltimetype start = icalcomponent_get_dtstart(main);
  if (!task) {
    add_element(root, "Location", prop_text(main, ICAL_LOCATION_PROPERTY));
    const bool all_day = start.is_date;
    add_element(root, "AllDayEvent", all_day ? "1" : "0");
    add_element(root, "Start", sif_time(start));
    icaltimetype end = icalcomponent_get_dtend(main);
    if (all_day && !icaltime_is_null_time(end)) {
      icaltime_adjust(&end, -1, 0, 0, 0);  // SIF names the last day
      if (icaltime_compare(end, start) < 0) end = start;
    }
    add_element(root, "End", sif_time(end));
    // Outlook's four states where the item has them, else free/busy.
    std::string busy;
    for (icalproperty* b = icalcomponent_get_first_property(main, ICAL_X_PROPERTY); b && busy.empty();
         b = icalcomponent_get_next_property(main, ICAL_X_PROPERTY)) {
      const char* x_name = icalproperty_get_x_name(b);
      if (!x_name || std::string_view(x_name) != "X-MICROSOFT-CDO-BUSYSTATUS") continue;
      const std::string v = ascii_upper(icalproperty_get_value_as_string(b));
      for (size_t i = 0; i < kBusyStatus.size(); ++i) {
        if (v == kBusyStatus[i]) busy = std::to_string(i);
      }
    }
    if (busy.empty()) {
      icalproperty* t = icalcomponent_get_first_property(main, ICAL_TRANSP_PROPERTY);
      busy = t && icalproperty_get_transp(t) == ICAL_TRANSP_TRANSPARENT ? "0" : "2";
    }
    add_element(root, "BusyStatus", busy);
  } else {
    add_element(root, "StartDate", sif_time(start));
    add_element(root, "DueDate", sif_time(icalcomponent_get_due(main)));
    const icalproperty_status status = icalcomponent_get_status(main);
    add_element(root, "Complete", status == ICAL_STATUS_COMPLETED ? "1" : "0");
    add_element(root, "Status", status == ICAL_STATUS_COMPLETED ? "2" : status == ICAL_STATUS_INPROCESS ? "1" : "0");
    icalproperty* completed = icalcomponent_get_first_property(main, ICAL_COMPLETED_PROPERTY);
    add_element(root, "DateCompleted", completed ? sif_time(icalproperty_get_completed(completed)) : "");
    icalproperty* percent = icalcomponent_get_first_property(main, ICAL_PERCENTCOMPLETE_PROPERTY);
    add_element(root, "PercentComplete", percent ? std::to_string(icalproperty_get_percentcomplete(percent)) : "");
  }
  write_reminder(root, main, task);
  write_recurrence(root, main, start);
  write_kept_elements(root, main);
  return to_xml(doc);
}

}  // namespace conflux::data
