// The decisions of the newest-wins and merge conflict policies
// (caf/conflict_policy.h), apart from the engine's bookkeeping so that
// each rule can be tested alone. They read items through the data objects
// (data::parse); the engine only passes bytes and content types.
//
// Thread rule: pure functions; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "caf/conflict_policy.h"
#include "common/status.h"
#include "protocol/status_code.h"

namespace conflux::engine {

// A datastore setting (StoreSettings::conflict_policy) the engine acts on.
using caf::ConflictPolicy;

enum class ConflictSide { kServer, kDevice };

// The item's own modification time in Unix seconds: vCard REV; iCalendar
// LAST-MODIFIED, else DTSTAMP, of the main VEVENT/VTODO; vNote LAST-MODIFIED.
// A time without zone is read as UTC. nullopt when the item carries none, or
// its bytes cannot be parsed as `content_type`.
std::optional<int64_t> item_modified_at(std::string_view bytes, const std::string& content_type);

// newest-wins: the side whose version was modified last, when both versions
// carry their own modification time and the times differ. Otherwise (either
// lacks one, or they are equal: clients such as libsynthesis stamp a default
// REV on cards that had none) the order in which the changes reached the
// server decides: the server's version was stored before this sync, the
// device's arrives now, so the device's is the newer.
ConflictSide newest_side(std::optional<int64_t> server_modified, std::optional<int64_t> device_modified);

struct MergedVersions {
  std::string data;  // in the server version's content type
  // Single-valued fields of the device's version whose value the merge did
  // not keep (contacts: N, BDAY, ORG …; see data::Contact::fields_left_out_of).
  // Empty when nothing the device typed was left out; always empty for other
  // kinds of data, which are not inspected.
  std::vector<std::string> device_fields_left_out;
};

// merge: a field-level merge of the two versions (data::DataObject::merged_with)
// with the server's version as "ours", losing as little as it can: multi-
// valued fields are united, a free-text field both changed (NOTE,
// DESCRIPTION) keeps both texts, every field only one side has is kept; only
// a single-valued field both changed keeps the server's value, the version
// other devices already hold. kInvalidArgument / kUnimplemented when either
// version cannot be parsed or the two are different kinds of data.
Result<MergedVersions> merge_versions(const std::string& server_type, std::string_view server_data,
                                      const std::string& device_type, std::string_view device_data);

// One conflict as a policy sees it: what each side did and, for a side
// that changed the item, its version. A side whose version could not be read
// has empty data.
struct ConflictCase {
  ConflictPolicy policy = ConflictPolicy::kServerWins;
  bool client_deletes = false;
  bool server_deleted = false;
  std::string server_type, server_data;
  std::string client_type, client_data;
};

// What settles a conflict: the write to make, how the device's command is
// answered, how its map row changes, and the outcome for the record.
struct ConflictDecision {
  enum class Write {
    kNone,
    kClientVersion,       // the device's change as it is (update, re-create, or delete)
    kClientVersionAsNew,  // the device's version as a new item (duplicate)
    kMerged,              // `merged` replaces the server's version
  };
  enum class MapChange {
    kNone,
    kRemove,     // the device's map row goes: it receives the server's item as an Add
    kSetSynced,  // the row names the server's current revision: nothing is sent back
  };
  Write write = Write::kNone;
  std::string merged;
  protocol::StatusCode decided = protocol::StatusCode::kOk;  // the answer when nothing is written
  protocol::StatusCode success = protocol::StatusCode::kOk;  // the answer when the write succeeds
  bool map_written_item = true;                              // false: the written item is not the device's (duplicate)
  bool resend_to_device = false;                             // the device gets the written version back
  MapChange map = MapChange::kNone;
  std::string outcome;  // for the ConflictRecord
};

// The policy applied to one conflict; newest-wins and merge settle it as one
// of the plain policies or, a merge, as a write of their own.
ConflictDecision decide_conflict(const ConflictCase& c);

}  // namespace conflux::engine
