// Slow-sync duplicate detection (MISSION §3): which server item is the same
// thing as an item a client sends while it sends everything it has (slow
// sync, refresh from client), so a slow sync never doubles an address book.
//
// A client item matches an unclaimed server item whose bytes are equal, else
// one with the same identity key of its data object (a contact: normalised
// name plus any phone or e-mail, data/contact.h; an event or task: its UID,
// data/calendar.h). Each server item matches
// at most one client item per session.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "caf/sync_obj.h"

namespace conflux::engine {

class DuplicateMatcher {
 public:
  struct Match {
    std::string guid;
    bool identical = false;  // byte-equal: nothing to write
    std::string merged_raw;  // otherwise: client merged into the server version, in the server's format
  };

  // `items` are the store's live items with data; `claimed` the GUIDs already
  // matched earlier in the session.
  DuplicateMatcher(std::vector<caf::SyncObj> items, const std::set<std::string>& claimed);

  const caf::SyncObj* item(const std::string& guid) const;
  void claim(const std::string& guid);
  // The unclaimed item `raw` matches, or nullopt; claims it.
  std::optional<Match> match(const std::string& raw, const std::string& content_type);

 private:
  void index_identities();

  std::unordered_map<std::string, caf::SyncObj> items_;
  std::set<std::string> claimed_;
  std::unordered_multimap<std::string, std::string> by_raw_;
  bool identities_indexed_ = false;  // parsed lazily: most slow syncs match by bytes
  std::multimap<std::string, std::string> by_identity_;
};

}  // namespace conflux::engine
