// RevisionTracker: the back-end-independent part of an adapter whose back end
// keeps no change log (a directory of files, a WebDAV collection), in the
// mould of SyncEvolution's TrackingSyncSource — but a component the adapter
// uses, not a base class it inherits from.
//
// The back end supplies four primitives (TrackedBackend): list every item as
// "id -> revision", read one, write one, remove one. The tracker keeps, per
// (user, database), the listing it last saw plus a change counter, in a small
// SQLite file of its own, and from the difference between that and a fresh
// listing works out what was created, updated and deleted — by Conflux or by
// any other program. With that it answers the CAF calls an adapter forwards:
// current_anchor, changes_since, search and apply.
//
// Contract for the back end (as TrackingSyncSource writes it down):
//   - an id stays fixed while the user edits the item;
//   - the revision changes on every edit (a revision that stays the same is
//     taken as "unchanged", whatever the content);
//   - writing to an id that does not exist is an error (kNotFound), never a
//     silent re-create; creating an id that exists is kAlreadyExists.
//
// Anchors: the counter is one sequence per tracker file, so it only grows.
// An item's anchor is the counter value at which its current revision (or its
// tombstone) was first seen; a store's anchor is the highest of its items',
// tombstones included ("0" when it has none). Anchors are decimal text.
//
// Back ends whose listing is a query over a whole collection (a database
// table: TrackedBackend::costly_listing) are listed once per sync session
// (StoreRef::session; calls without one list every time), so the messages of
// a sync cost what their own items cost, not a listing each: a change by
// another program during a session is found at the next one. The items read
// from such a back end are kept in memory by revision (kItemCacheBytes per
// tracker), since the revision changes on every edit.
//
// Safety: a listing that fails leaves the state untouched (nothing is taken
// as deleted). A collection that is missing as a whole (list() -> kNotFound)
// counts as empty only while the tracker holds no live item for it;
// otherwise the call fails with kUnavailable (an unmounted disk must not
// delete every item on every device). An administrator who really wants to
// empty it recreates the empty collection.
//
// Threading: any method from any thread; one mutex serialises every call of
// one tracker, back-end primitives included.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "caf/content_adapter.h"
#include "caf/item_table.h"
#include "common/sqlite_db.h"

namespace conflux::caf {

// The primitives a back end without a change log supplies. Each is about one
// (user, database) collection; `store` is passed through from the CAF call.
class TrackedBackend {
 public:
  virtual ~TrackedBackend() = default;

  // id -> revision of every item. kNotFound when the collection itself does
  // not exist; kUnavailable when it cannot be read.
  virtual Result<std::map<std::string, std::string>> list(const StoreRef& store) = 0;

  // The item's bytes; kNotFound when there is no such item.
  virtual Result<std::string> read(const StoreRef& store, const std::string& id) = 0;

  enum class WriteMode {
    kCreate,   // the id must not exist yet (kAlreadyExists otherwise)
    kReplace,  // the id must exist (kNotFound otherwise)
  };
  // Writes the item and returns its new revision, the one list() reports from
  // now on. kInvalidArgument for an id the back end cannot hold.
  virtual Result<std::string> write(const StoreRef& store, const std::string& id, std::string_view raw,
                                    WriteMode mode) = 0;

  // A create: what write(kCreate) does, except that a back end which keys
  // items by a UID in their content may find it holds this item already
  // under another id (a DAV server's 409 no-uid-conflict: the device sends
  // again what the server has, after a reset or a lost map). It then
  // updates that item and says so in `id`; the tracker records an update of
  // it instead of a new item.
  struct Created {
    std::string revision;
    std::string id;  // the id the item is stored under
  };
  virtual Result<Created> create(const StoreRef& store, const std::string& id, std::string_view raw) {
    auto revision = write(store, id, raw, WriteMode::kCreate);
    if (!revision) return revision.error();
    return Created{std::move(*revision), id};
  }

  // kNotFound when there is no such item.
  virtual Status remove(const StoreRef& store, const std::string& id) = 0;

  // Back ends whose store picks a new item's id (a database key with a
  // default) say so; their creates go through create_with_own_id(), which
  // returns the id it got and the revision, instead of write(kCreate).
  virtual bool picks_ids() const { return false; }
  virtual Result<std::pair<std::string, std::string>> create_with_own_id(const StoreRef& store, std::string_view raw) {
    return Status::unimplemented("this back end takes the ids it is given");
  }

  // Runs `write_all` (the writes of one apply() batch); a back end with
  // transactions puts them in one and commits it when `write_all` returns
  // OK. A write that fails inside fails only its item (the back end undoes
  // just that one, e.g. by a savepoint). An error returned here (the commit
  // failed, the connection broke) means nothing of the batch was kept.
  // `write_all` may run more than once (a retried transaction), each run
  // from scratch.
  virtual Status in_one_transaction(const StoreRef& store, const std::function<Status()>& write_all) {
    return write_all();
  }

  // Told the ids the tracker is about to read() one after another, so a back
  // end that can fetch many items in one request (a DAV multiget) does so.
  // A hint only: read() must work without it, and a failure here is left for
  // read() to report.
  virtual void prefetch(const StoreRef& store, const std::vector<std::string>& ids) {}

  // True when list() and read() are queries over the whole collection (a
  // database table) rather than a look at local files: the tracker then lists
  // once per sync session and keeps what it read (see RevisionTracker).
  virtual bool costly_listing() const { return false; }
};

class RevisionTracker {
 public:
  // Opens (creating when missing) the tracker state at `db_path` and brings
  // its schema up to date. `backend` must outlive the tracker. `content_type`
  // is given to every item the tracker reports.
  static Result<std::unique_ptr<RevisionTracker>> open(const std::string& db_path, TrackedBackend& backend,
                                                       std::string content_type);

  RevisionTracker(const RevisionTracker&) = delete;
  RevisionTracker& operator=(const RevisionTracker&) = delete;

  // Each of these first lists the back end and records what changed since the
  // last listing (refresh()), then answers from the recorded state; the
  // contracts are those of the same calls of caf::ContentAdapter. The caller
  // checks the scope (non-empty user and database).
  Result<Anchor> current_anchor(const StoreRef& store);
  // `since`: empty, or an anchor of this tracker (kInvalidArgument otherwise).
  // Items created after `since` are kCreate, others kUpdate; deletes carry
  // only the guid and their tombstone's anchor. An item that vanishes between
  // listing and reading is left out (the next call reports its delete).
  Result<ChangeSet> changes_since(const StoreRef& store, const Anchor& since);
  // Live items, oldest anchor first (in the order of `guids` when given;
  // unknown guids are skipped).
  Result<std::vector<SyncObj>> search(const StoreRef& store, const Query& query);
  // Lists the back end first (a failure fails every item with that status,
  // nothing written), then writes through the back end (in one of its
  // transactions when it has them: a failed commit fails every item) and
  // records each new revision at once, so the next listing does not report Conflux's own
  // writes as changes. A create keeps the guid it carries when the back end has no such id and
  // accepts it, else gets random hex; one the back end took as an update of
  // an item it holds (TrackedBackend::create) is kUpdated with that item's
  // guid. Updates of a missing item fail that
  // item with kNotFound; deletes of one are kAlreadyDeleted. Items naming
  // another user or database fail with kInvalidArgument.
  std::vector<ApplyResult> apply(const StoreRef& store, std::vector<SyncObj>&& batch);

  // Lists the back end and records creates, updates and deletes, whatever
  // the session (a rescan). Returns the number of changes recorded.
  Result<int> refresh(const StoreRef& store);

  const std::string& path() const { return db_->path(); }

 private:
  RevisionTracker(std::unique_ptr<SqliteDb> db, TrackedBackend& backend, std::string content_type);

  struct Row;
  struct CachedItem {
    std::string revision;
    std::string raw;
  };
  // list_and_record(), unless a costly listing was made in this sync session already.
  Result<int> refresh_locked(const StoreRef& store);
  Result<int> list_and_record(const StoreRef& store);
  // The item's bytes at `revision`: from item_cache_ when it holds them (a
  // costly back end), else read from the back end.
  Result<std::string> read_item(const StoreRef& store, const std::string& id, const std::string& revision);
  const std::string* cached(const StoreRef& store, const std::string& id, const std::string& revision) const;
  // backend_.prefetch() of those of (id, revision) the cache does not hold.
  void prefetch_uncached(const StoreRef& store, const std::vector<std::pair<std::string, std::string>>& items);
  Result<std::map<std::string, Row>> load_rows(const StoreRef& store);
  Status record(const StoreRef& store, const std::string& id, const std::string& revision, bool created, bool deleted,
                int64_t counter);
  void apply_one(const StoreRef& store, SyncObj& obj, ApplyResult& result);

  const std::unique_ptr<SqliteDb> db_;
  const ItemTable items_;  // over *db_
  TrackedBackend& backend_;
  const std::string content_type_;
  std::mutex mutex_;  // serialises every public call
  // (user, database) -> the sync session its last costly listing was made for. Guarded by mutex_.
  std::map<std::pair<std::string, std::string>, std::string> listed_in_session_;
  // (user, database, id) -> bytes at a revision; emptied when past kItemCacheBytes. Guarded by mutex_.
  std::map<std::tuple<std::string, std::string, std::string>, CachedItem> item_cache_;
  size_t item_cache_bytes_ = 0;  // guarded by mutex_
};

}  // namespace conflux::caf
