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

// The date-time value of `p` with its zone resolved as libical does (the
// VTIMEZONE of `owner`'s calendar for its TZID, else a built-in zone), except
// that a TZID the system's time zone database knows ("America/Sao_Paulo")
// takes the database's zone. libical builds an item's own VTIMEZONE anew for
// every parsed item and expands all its rules at the first offset lookup: for
// a zone with a long history that costs seconds per item (docs/FUZZING.md
// F9); a database zone is loaded once per process.
icaltimetype resolved_datetime(icalproperty* p, icalcomponent* owner);

}  // namespace conflux::data
