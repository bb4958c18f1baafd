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

#include <cstddef>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "caf/content_adapter.h"
#include "caf/sync_obj.h"

namespace conflux::engine {

// A store's live items as of one anchor, indexed by their bytes and (parsed
// lazily, when a client item first needs it) by identity key. Kept up to
// date by folding in the store's changes since that anchor, so a slow sync
// reads the whole store once, not once per client message.
class ItemIndex {
 public:
  ItemIndex() = default;
  // `items` as of `anchor` (empty: an index that changes cannot update).
  explicit ItemIndex(std::vector<caf::SyncObj> items, Anchor anchor = Anchor());

  // The store's changes since anchor() (caf changes_since): creates and
  // updates replace the item, deletes remove it; the anchor moves on.
  void fold_in(caf::ChangeSet&& changes);
  const Anchor& anchor() const { return anchor_; }
  size_t size() const { return items_.size(); }

  const caf::SyncObj* item(const std::string& guid) const;
  // GUIDs of the items whose bytes are `raw`.
  std::vector<std::string> with_bytes(const std::string& raw) const;
  // GUIDs of the items sharing one of `keys`, the first key's first.
  std::vector<std::string> with_identities(const std::vector<std::string>& keys);
  // The identity keys of a client item that matched nothing: written, it
  // comes back in the next fold_in, and is not parsed again then.
  void remember_identities(const std::string& raw, std::vector<std::string> keys);

 private:
  struct Entry {
    caf::SyncObj obj;
    std::vector<std::string> identities;  // filled once identities_indexed_
  };
  void insert(caf::SyncObj&& obj);
  void erase(const std::string& guid);
  void index_identities(const std::string& guid, Entry& entry);

  Anchor anchor_;
  std::unordered_map<std::string, Entry> items_;
  std::unordered_multimap<size_t, std::string> by_raw_hash_;  // hash of the bytes → GUID
  bool identities_indexed_ = false;                           // parsed lazily: most slow syncs match by bytes
  std::multimap<std::string, std::string> by_identity_;
  std::unordered_map<std::string, std::vector<std::string>> remembered_;  // bytes → identity keys, until fold_in
};

class DuplicateMatcher {
 public:
  struct Match {
    std::string guid;
    bool identical = false;  // byte-equal: nothing to write
    std::string merged_raw;  // otherwise: client merged into the server version, in the server's format
  };

  // `index` holds the store's live items with data; `claimed` the GUIDs
  // already matched in the session (the session's own set: match() adds to it).
  DuplicateMatcher(ItemIndex index, std::set<std::string>& claimed);

  const caf::SyncObj* item(const std::string& guid) const { return index_.item(guid); }
  void claim(const std::string& guid) { claimed_.insert(guid); }
  // The unclaimed item `raw` matches, or nullopt; claims it.
  std::optional<Match> match(const std::string& raw, const std::string& content_type);
  // The index, for the session's next message (ItemIndexCache).
  ItemIndex release() && { return std::move(index_); }

 private:
  ItemIndex index_;
  std::set<std::string>& claimed_;
};

// Indexes kept by this node between the messages of a slow sync, by session
// and datastore. Nodes are stateless (docs/LOAD-BALANCING.md): an index is
// only a head start. Whoever takes one brings it up to date with the
// store's changes since its anchor, which include the session's own writes
// and those of anyone else; a miss (another node served the last message,
// or the entry was evicted) reads the store again. The claimed GUIDs live in
// the session's state, never here.
class ItemIndexCache {
 public:
  explicit ItemIndexCache(size_t capacity) : capacity_(capacity) {}

  // The index kept under `key`, removed from the cache: one message uses it at a time.
  std::optional<ItemIndex> take(const std::string& key);
  // Keeps `index` under `key`, dropping the least recently kept beyond capacity.
  void put(const std::string& key, ItemIndex index);

 private:
  const size_t capacity_;
  std::mutex mutex_;
  std::list<std::pair<std::string, ItemIndex>> entries_;  // most recent first; guarded by mutex_
};

}  // namespace conflux::engine
