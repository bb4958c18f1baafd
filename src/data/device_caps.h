// What a device can hold, and the two checks the sync path needs around it:
// a cheap look at bytes that are stored as they came (hot path), and the
// merge that keeps the fields a device cannot hold when it sends an update.
//
// FormatCaps is the data-level view of a DevInf CTCap (the engine fills it;
// nothing here knows SyncML). Thread rule: plain values; the functions are
// pure and may run on any thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "data/data_object.h"

namespace conflux::data {

struct PropertyCaps {
  std::optional<uint32_t> max_occur;  // how many instances the device keeps; nullopt: any number
};

// The properties a device stores for one format (its CTCap for it).
struct FormatCaps {
  Format format;
  std::map<std::string, PropertyCaps> properties;  // upper-case property names (ADR, NOTE, DTSTART)

  // The caps of property `name`; "X-*" (as SyncEvolution sends) stands for
  // every X- property. Null when the device did not name it.
  const PropertyCaps* find(std::string_view name) const;
};

// The update a device sent, completed with what it could not hold:
//  - a property the device's CTCap names: the update's instances replace the
//    server's, and an update without it deletes it (the user removed it);
//    with MaxOccur n the server's instances after the first n never reached
//    the device, so they are kept after the update's;
//  - a property the CTCap does not name, or any property when `caps` is null
//    (a device that sent no CTCap for this format): the update's instances
//    when it has a non-empty one, else the server's are kept (a contact's
//    empty slots, as phones send them, give way). So such a device can change
//    a field but never delete one outright (the peers' rule: "keep server
//    fields the device never sent").
// Contacts: per vCard property (a group travels with its members). Events and
// tasks: per property of the VEVENT/VTODO; alarms, exceptions and time zones
// come from the update. Notes: the update as it is (it has one field).
// The result has the update's kind; kInvalidArgument when the kinds differ.
Result<std::unique_ptr<DataObject>> keep_fields_device_cannot_hold(const DataObject& update, const DataObject& server,
                                                                   const FormatCaps* caps);

// A cheap structural check for bytes that may be stored without parsing
// (device format equals storage format): one object of the expected kind (BEGIN:VCARD or
// BEGIN:VCALENDAR first, matching END last, BEGIN/END nested properly), and,
// for the strict formats (vCard 3.0/4.0, iCalendar 2.0), valid UTF-8 and
// property names of letters, digits, '-' and '_' (a group prefix for vCard).
// Lines without ':' and lines starting with ':' are let through, as the full
// parsers do. Returns the format the data says it is in (its VERSION line;
// `declared` decides when there is none); kInvalidArgument naming the line
// when the bytes need the full parser's judgement (which may still accept
// them, e.g. a 3.0 card in windows-1252). text/plain and types without a data
// object: `declared`, unchecked.
Result<Format> sniff_format(std::string_view bytes, const Format& declared);

}  // namespace conflux::data
