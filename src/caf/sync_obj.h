// SyncObj: the record that crosses the CAF interface (seed: "CAF Meta data"
// plus ActionData). Metadata plus the item itself as raw bytes, so the hot path
// (store to device in the same format) never re-serialises.
#pragma once

#include <cstdint>
#include <string>

#include "common/ids.h"

namespace conflux::caf {

enum class Action : uint8_t { kCreate, kUpdate, kDelete };

const char* action_name(Action action);

struct SyncObj {
  Anchor anchor;  // revision of this version in the back end (seed: Timestamp)
  Action action = Action::kCreate;
  Guid guid;                 // back end's global id; empty on a create until applied
  Cuid cuid;                 // cache id; empty while no cache sits in between
  std::string database;      // datastore URI as configured ("contacts")
  UserId user;               // whose item this is; the CAF refuses calls without one
  std::string content_type;  // MIME type of raw ("text/vcard"); empty for a delete
  std::string raw;           // the item bytes, untouched ("raw value binary encoding")
};

}  // namespace conflux::caf
