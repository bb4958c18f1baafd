#include "caf/revision_tracker.h"

#include <sodium.h>

#include <optional>
#include <set>
#include <utility>

#include "common/base64.h"
#include "common/log.h"

namespace conflux::caf {
namespace {

constexpr int kIdAttempts = 8;  // a 64-bit random id colliding twice is already absurd
// What the item cache may hold; past it, it starts again empty. 10,000
// contacts of a slow sync are about 6 MiB.
constexpr size_t kItemCacheBytes = size_t{64} << 20;

// Schema of module "caf.revision_tracker". Append new steps; never edit a released one.
const std::vector<std::string>& tracker_migrations() {
  static const std::vector<std::string> steps = {
      // 1: initial schema. One row per id ever seen in a collection: the
      // revision last listed, the counter at which the id was (re)created and
      // at which its current revision or tombstone was first seen. `seq`
      // holds the last counter handed out (one row).
      "CREATE TABLE items("
      "  user TEXT NOT NULL, database TEXT NOT NULL, id TEXT NOT NULL,"
      "  revision TEXT NOT NULL, created INTEGER NOT NULL, changed INTEGER NOT NULL,"
      "  deleted INTEGER NOT NULL DEFAULT 0,"
      "  PRIMARY KEY(user, database, id));"
      "CREATE INDEX items_by_changed ON items(user, database, changed);" +
          std::string(kRevisionSequenceSchema),
  };
  return steps;
}

// The parts the columns of the tracker's items table play: the counter
// `changed` orders the changes (`revision` is the back end's, as text).
constexpr ItemColumns kItemParts{.key = "id", .revision = "changed", .deleted_at = ""};

std::vector<ApplyResult> fail_all(size_t n, const Status& status) {
  std::vector<ApplyResult> results(n);
  for (auto& r : results) r.status = status;
  return results;
}

}  // namespace

struct RevisionTracker::Row {
  std::string revision;
  int64_t created = 0;
  int64_t changed = 0;
  bool deleted = false;
};

RevisionTracker::RevisionTracker(std::unique_ptr<SqliteDb> db, TrackedBackend& backend, std::string content_type)
    : db_(std::move(db)), items_(*db_, kItemParts), backend_(backend), content_type_(std::move(content_type)) {}

Result<std::unique_ptr<RevisionTracker>> RevisionTracker::open(const std::string& db_path, TrackedBackend& backend,
                                                               std::string content_type) {
  if (sodium_init() < 0) return Status::internal("revision tracker: sodium_init failed");  // for random ids
  auto db = SqliteDb::open(db_path);
  if (!db) return db.error().with_context("revision tracker " + db_path);
  CFX_RETURN_IF_ERROR((*db)->migrate("caf.revision_tracker", tracker_migrations()));
  return std::unique_ptr<RevisionTracker>(new RevisionTracker(std::move(*db), backend, std::move(content_type)));
}

Result<std::map<std::string, RevisionTracker::Row>> RevisionTracker::load_rows(const StoreRef& store) {
  auto st = db_->prepare("SELECT id, revision, created, changed, deleted FROM items WHERE user = ?1 AND database = ?2");
  if (!st) return st.error();
  st->bind(1, store.user.str()).bind(2, store.database);
  std::map<std::string, Row> rows;
  for (;;) {
    auto more = st->step();
    if (!more) return more.error();
    if (!*more) break;
    rows[st->column_text(0)] =
        Row{st->column_text(1), st->column_int64(2), st->column_int64(3), st->column_int64(4) != 0};
  }
  return rows;
}

Status RevisionTracker::record(const StoreRef& store, const std::string& id, const std::string& revision, bool created,
                               bool deleted, int64_t counter) {
  // A new row is always a creation; an existing one keeps its creation
  // counter unless the id comes back from a tombstone.
  auto st = db_->prepare(
      "INSERT INTO items(user, database, id, revision, created, changed, deleted)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6)"
      " ON CONFLICT(user, database, id) DO UPDATE SET revision = excluded.revision,"
      " changed = excluded.changed, deleted = excluded.deleted,"
      " created = CASE WHEN ?7 THEN excluded.created ELSE items.created END");
  if (!st) return st.error();
  st->bind(1, store.user.str()).bind(2, store.database).bind(3, id).bind(4, revision);
  st->bind(5, counter).bind(6, deleted).bind(7, created);
  return st->run().status();
}

Result<int> RevisionTracker::refresh(const StoreRef& store) {
  std::lock_guard guard(mutex_);
  return list_and_record(store);
}

Result<int> RevisionTracker::refresh_locked(const StoreRef& store) {
  const bool once_per_session = backend_.costly_listing() && !store.session.empty();
  const std::pair<std::string, std::string> collection(store.user.str(), store.database);
  if (once_per_session) {
    auto it = listed_in_session_.find(collection);
    if (it != listed_in_session_.end() && it->second == store.session) return 0;
  }
  auto changes = list_and_record(store);
  if (changes && once_per_session) listed_in_session_[collection] = store.session;
  return changes;
}

Result<int> RevisionTracker::list_and_record(const StoreRef& store) {
  auto listing = backend_.list(store);
  if (!listing && !listing.error().is_not_found()) return listing.error();

  auto tx = db_->transaction();
  if (!tx) return tx.error().with_context("revision tracker");
  auto rows = load_rows(store);
  if (!rows) return rows.error().with_context("revision tracker");
  if (!listing) {
    size_t live = 0;
    for (const auto& [id, row] : *rows) live += row.deleted ? 0 : 1;
    if (live > 0) {
      return Status::unavailable(listing.error().message() + " (collection missing while " + std::to_string(live) +
                                 " items are tracked; not taken as deleted)");
    }
    listing = std::map<std::string, std::string>();
  }

  int changes = 0;
  auto note = [&](const std::string& id, const std::string& revision, bool created, bool deleted) -> Status {
    auto counter = items_.next_revision();
    if (!counter) return counter.error();
    ++changes;
    return record(store, id, revision, created, deleted, *counter);
  };
  for (const auto& [id, revision] : *listing) {
    auto it = rows->find(id);
    if (it == rows->end() || it->second.deleted) {
      CFX_RETURN_IF_ERROR(note(id, revision, true, false).with_context("revision tracker"));
    } else if (it->second.revision != revision) {
      CFX_RETURN_IF_ERROR(note(id, revision, false, false).with_context("revision tracker"));
    }
  }
  for (const auto& [id, row] : *rows) {
    if (!row.deleted && !listing->count(id)) {
      CFX_RETURN_IF_ERROR(note(id, "", false, true).with_context("revision tracker"));
    }
  }
  if (changes == 0) return 0;  // the destructor rolls back an empty transaction
  CFX_RETURN_IF_ERROR(tx->commit().with_context("revision tracker"));
  logger("caf")->debug("tracker: store '{}' user '{}': {} changes by others", store.database, store.user.str(),
                       changes);
  return changes;
}

void RevisionTracker::prefetch_uncached(const StoreRef& store,
                                        const std::vector<std::pair<std::string, std::string>>& items) {
  std::vector<std::string> to_read;
  for (const auto& [id, revision] : items) {
    if (!cached(store, id, revision)) to_read.push_back(id);
  }
  if (!to_read.empty()) backend_.prefetch(store, to_read);
}

const std::string* RevisionTracker::cached(const StoreRef& store, const std::string& id,
                                           const std::string& revision) const {
  auto it = item_cache_.find({store.user.str(), store.database, id});
  return it != item_cache_.end() && it->second.revision == revision ? &it->second.raw : nullptr;
}

Result<std::string> RevisionTracker::read_item(const StoreRef& store, const std::string& id,
                                               const std::string& revision) {
  if (!backend_.costly_listing()) return backend_.read(store, id);
  if (const std::string* raw = cached(store, id, revision)) return *raw;
  auto raw = backend_.read(store, id);
  if (!raw) return raw;
  CachedItem& slot = item_cache_[{store.user.str(), store.database, id}];
  item_cache_bytes_ -= slot.raw.size();
  if (item_cache_bytes_ + raw->size() > kItemCacheBytes) {
    item_cache_.clear();
    item_cache_bytes_ = 0;
    item_cache_[{store.user.str(), store.database, id}] = CachedItem{revision, *raw};
  } else {
    slot = CachedItem{revision, *raw};
  }
  item_cache_bytes_ += raw->size();
  return raw;
}

Result<Anchor> RevisionTracker::current_anchor(const StoreRef& store) {
  std::lock_guard guard(mutex_);
  auto refreshed = refresh_locked(store);
  if (!refreshed) return refreshed.error();
  auto anchor = items_.max_revision(store);
  if (!anchor) return anchor.error().with_context("revision tracker");
  return revision_anchor(*anchor);
}

Result<ChangeSet> RevisionTracker::changes_since(const StoreRef& store, const Anchor& since) {
  std::optional<int64_t> since_counter;
  if (!since.empty()) {
    since_counter = parse_revision(since.str());
    if (!since_counter) return Status::invalid_argument("'" + since.str() + "' is not an anchor of this back end");
  }
  std::lock_guard guard(mutex_);
  auto refreshed = refresh_locked(store);
  if (!refreshed) return refreshed.error();

  ChangeSet set;
  std::vector<std::pair<std::string, Row>> rows;
  auto anchor = items_.changes_since(
      store, since_counter, "id, revision, created, changed, deleted", [&](const SqliteStatement& st) {
        rows.emplace_back(st.column_text(0),
                          Row{st.column_text(1), st.column_int64(2), st.column_int64(3), st.column_int64(4) != 0});
      });
  if (!anchor) return anchor.error().with_context("revision tracker");
  set.anchor = revision_anchor(*anchor);
  std::vector<std::pair<std::string, std::string>> to_read;
  for (const auto& [id, row] : rows) {
    if (!row.deleted) to_read.emplace_back(id, row.revision);
  }
  prefetch_uncached(store, to_read);
  for (auto& [id, row] : rows) {
    SyncObj obj;
    obj.guid = Guid(id);
    obj.anchor = revision_anchor(row.changed);
    obj.user = store.user;
    obj.database = store.database;
    if (row.deleted) {
      obj.action = Action::kDelete;
      set.changes.push_back(std::move(obj));
      continue;
    }
    auto raw = read_item(store, id, row.revision);
    if (!raw) {
      if (raw.error().is_not_found()) continue;  // gone since the listing: the next call reports the delete
      return raw.error();
    }
    obj.action = row.created > since_counter.value_or(0) ? Action::kCreate : Action::kUpdate;
    obj.content_type = content_type_;
    obj.raw = std::move(*raw);
    set.changes.push_back(std::move(obj));
  }
  return set;
}

Result<std::vector<SyncObj>> RevisionTracker::search(const StoreRef& store, const Query& query) {
  std::lock_guard guard(mutex_);
  auto refreshed = refresh_locked(store);
  if (!refreshed) return refreshed.error();

  // The candidates, in the order they are reported.
  struct Candidate {
    std::string id;
    std::string revision;
    int64_t changed = 0;
  };
  std::vector<Candidate> candidates;
  // The names only: limit and contains need the items' bytes, read below.
  Query by_name;
  by_name.guids = query.guids;
  CFX_RETURN_IF_ERROR(
      items_
          .search(store, by_name, "id, revision, changed",
                  [&](const SqliteStatement& st) {
                    candidates.push_back(Candidate{st.column_text(0), st.column_text(1), st.column_int64(2)});
                  })
          .with_context("revision tracker"));

  const bool need_data = !query.metadata_only || !query.contains.empty();
  if (need_data && !candidates.empty()) {
    std::vector<std::pair<std::string, std::string>> to_read;
    for (const Candidate& c : candidates) {
      if (query.limit > 0 && to_read.size() >= query.limit && query.contains.empty()) break;
      to_read.emplace_back(c.id, c.revision);
    }
    prefetch_uncached(store, to_read);
  }
  std::vector<SyncObj> found;
  for (const auto& [id, revision, changed] : candidates) {
    if (query.limit > 0 && found.size() >= query.limit) break;
    SyncObj obj;
    obj.guid = Guid(id);
    obj.anchor = revision_anchor(changed);
    obj.action = Action::kUpdate;
    obj.user = store.user;
    obj.database = store.database;
    obj.content_type = content_type_;
    if (need_data) {
      auto raw = read_item(store, id, revision);
      if (!raw) {
        if (raw.error().is_not_found()) continue;  // gone since the listing
        return raw.error();
      }
      if (!query.contains.empty() && raw->find(query.contains) == std::string::npos) continue;
      if (!query.metadata_only) obj.raw = std::move(*raw);
    }
    found.push_back(std::move(obj));
  }
  return found;
}

std::vector<ApplyResult> RevisionTracker::apply(const StoreRef& store, std::vector<SyncObj>&& batch) {
  if (batch.empty()) return {};
  std::lock_guard guard(mutex_);
  // A fresh listing first: a collection that is down or missing fails the
  // whole batch before anything is written (so a write cannot recreate a
  // vanished collection and turn every other item into a tombstone).
  if (auto refreshed = refresh_locked(store); !refreshed) return fail_all(batch.size(), refreshed.error());
  // One transaction records the whole batch. A back end with transactions
  // runs the writes in one of its own (TrackedBackend::in_one_transaction)
  // that commits before the record; a file system has none, so there each
  // write is recorded right after it.
  std::optional<SqliteTransaction> tx;
  std::vector<ApplyResult> results;
  Status written = backend_.in_one_transaction(store, [&]() -> Status {
    tx.reset();  // a run again: what the last one recorded is rolled back
    auto begun = db_->transaction();
    if (!begun) return begun.error().with_context("revision tracker");
    tx.emplace(std::move(*begun));
    results.assign(batch.size(), ApplyResult{});
    for (size_t i = 0; i < batch.size(); ++i) apply_one(store, batch[i], results[i]);
    return Status::ok();
  });
  if (!written.is_ok()) return fail_all(batch.size(), written);
  if (Status committed = tx->commit(); !committed.is_ok()) {
    // The back end holds the writes; only their revisions are not recorded.
    // The next listing reports them as changes, so devices get them again
    // (harmless); failing the items would make devices send them twice.
    logger("caf")->warn("tracker: store '{}' user '{}': revisions of a batch of {} not recorded: {}", store.database,
                        store.user.str(), batch.size(), committed.to_string());
    for (auto& r : results) r.anchor = Anchor();
  }
  return results;
}

void RevisionTracker::apply_one(const StoreRef& store, SyncObj& obj, ApplyResult& result) {
  result.guid = obj.guid;
  if ((!obj.user.empty() && obj.user != store.user) || (!obj.database.empty() && obj.database != store.database)) {
    result.status = Status::invalid_argument("item names another user or datastore than the call");
    return;
  }
  if (obj.action != Action::kCreate && obj.guid.empty()) {
    result.status = Status::invalid_argument(std::string(action_name(obj.action)) + " without a guid");
    return;
  }
  // Records the change; a failure here is logged, not reported: the back end
  // holds the change already (see apply()).
  auto note = [&](const std::string& id, const std::string& revision, bool created, bool deleted) {
    auto counter = items_.next_revision();
    Status recorded = counter ? record(store, id, revision, created, deleted, *counter) : counter.error();
    if (!recorded.is_ok()) {
      logger("caf")->warn("tracker: store '{}' user '{}': revision of {} not recorded: {}", store.database,
                          store.user.str(), id, recorded.to_string());
      return;
    }
    result.anchor = revision_anchor(*counter);
  };

  switch (obj.action) {
    case Action::kCreate: {
      if (backend_.picks_ids()) {
        auto made = backend_.create_with_own_id(store, obj.raw);
        if (!made) {
          result.status = made.error();
          return;
        }
        result.outcome = ApplyOutcome::kCreated;
        result.guid = Guid(made->first);
        note(made->first, made->second, true, false);
        return;
      }
      std::vector<std::string> candidates;
      if (!obj.guid.empty()) candidates.push_back(obj.guid.str());
      for (int i = 0; i < kIdAttempts; ++i) candidates.push_back(random_hex(8));
      for (const std::string& id : candidates) {
        auto seen = items_.has_row(store, id);
        if (!seen) {
          result.status = seen.error();
          return;
        }
        if (*seen) continue;  // never reuse an id, not even a tombstone's
        auto created = backend_.create(store, id, obj.raw);
        if (!created) {
          const StatusCode code = created.error().code();
          if (code == StatusCode::kAlreadyExists || (code == StatusCode::kInvalidArgument && id == obj.guid.str())) {
            continue;
          }
          result.status = created.error();
          return;
        }
        if (created->id != id) {
          // The back end held this item already: an update of that one.
          auto live = items_.has_row(store, created->id, /*live_only=*/true);
          if (!live) {
            result.status = live.error();
            return;
          }
          result.outcome = *live ? ApplyOutcome::kUpdated : ApplyOutcome::kCreated;
          result.guid = Guid(created->id);
          note(created->id, created->revision, !*live, false);
          return;
        }
        result.outcome = ApplyOutcome::kCreated;
        result.guid = Guid(id);
        note(id, created->revision, true, false);
        return;
      }
      result.status = Status::internal("no unused id after " + std::to_string(kIdAttempts) + " attempts");
      return;
    }
    case Action::kUpdate: {
      auto revision = backend_.write(store, obj.guid.str(), obj.raw, TrackedBackend::WriteMode::kReplace);
      if (!revision) {
        result.status = revision.error();
        return;
      }
      result.outcome = ApplyOutcome::kUpdated;
      note(obj.guid.str(), *revision, false, false);
      return;
    }
    case Action::kDelete: {
      Status removed = backend_.remove(store, obj.guid.str());
      if (removed.is_not_found()) {
        result.outcome = ApplyOutcome::kAlreadyDeleted;
        return;  // a live row, if any, becomes a tombstone at the next listing
      }
      if (!removed.is_ok()) {
        result.status = removed;
        return;
      }
      result.outcome = ApplyOutcome::kDeleted;
      note(obj.guid.str(), "", false, true);
      return;
    }
  }
  result.status = Status::invalid_argument("unknown action");
}

}  // namespace conflux::caf
