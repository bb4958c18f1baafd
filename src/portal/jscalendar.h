// JSCalendar (RFC 8984) Event and Task objects converted from and to
// iCalendar, for the subset the portal shows. Event (VEVENT): uid, title
// (SUMMARY), description (DESCRIPTION), start + timeZone + showWithoutTime
// (DTSTART), duration (DTEND or DURATION) and locations (LOCATION). Task
// (VTODO, RFC 8984 §5.2): uid, title, description, start (DTSTART), due
// (DUE), timeZone, showWithoutTime, progress (STATUS), percentComplete
// (PERCENT-COMPLETE) and priority (PRIORITY).
//
// Going back to iCalendar never drops what the subset does not cover: the
// stored VEVENT / VTODO is edited in place (RRULE, VALARM, ATTENDEE ... stay).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "portal/jscontact.h"

namespace conflux::portal {

// The Event of an iCalendar object whose item is a VEVENT; nullopt for
// anything else (a task, a broken object).
std::optional<nlohmann::json> event_from_icalendar(const std::string& icalendar);

// The iCalendar object for `event`, over `base` (the stored object on an
// update, empty on a create). Every problem is listed in `invalid_r`
// (nothing is returned then).
std::optional<std::string> icalendar_from_event(const nlohmann::json& event, const std::string& base,
                                                std::vector<InvalidProperty>& invalid_r);

// The Task of an iCalendar object whose item is a VTODO; nullopt otherwise.
std::optional<nlohmann::json> task_from_icalendar(const std::string& icalendar);

// The iCalendar object for `task`, over `base`, as icalendar_from_event.
std::optional<std::string> icalendar_from_task(const nlohmann::json& task, const std::string& base,
                                               std::vector<InvalidProperty>& invalid_r);

}  // namespace conflux::portal
