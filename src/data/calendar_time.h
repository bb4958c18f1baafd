// Time values of calendar items, normalised for comparison and keys.
// Internal to src/data and its tests.
#pragma once

#include <libical/ical.h>

#include <string>

namespace conflux::data {

// A date-time property's value as one comparable string: "utc:<seconds since
// the epoch>" for UTC and TZID times (the TZID resolved through the item's
// VTIMEZONE, else libical's built-in zones), "date:YYYYMMDD" for dates,
// "local:YYYYMMDDTHHMMSS" for floating times; empty when the property holds
// no time. `owner` is the component holding `p` (its parent resolves TZIDs).
std::string normalised_time(icalproperty* p, icalcomponent* owner);
std::string normalised_time(icaltimetype t);

}  // namespace conflux::data
