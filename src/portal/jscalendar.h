// JSCalendar (RFC 8984) Event objects converted from and to iCalendar, for
// the subset the portal shows: uid, title (SUMMARY), description
// (DESCRIPTION), start + timeZone + showWithoutTime (DTSTART), duration
// (DTEND or DURATION) and locations (LOCATION).
//
// Going back to iCalendar never drops what the subset does not cover: the
// stored VEVENT is edited in place (RRULE, VALARM, ATTENDEE ... stay).
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

}  // namespace conflux::portal
