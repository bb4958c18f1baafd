// ItemTable: the queries the three SQLite "items" tables have in common (the
// SQLite adapter's, the cache's and the revision tracker's). Each is a table
// `items` of rows keyed by (user, database, <key>) with a revision that
// orders the changes, a `created` revision and a `deleted` tombstone flag,
// next to a one-row table `seq` holding the last revision handed out. Each
// caller keeps its own migrations, column lists and what only it does; this
// class knows which column plays which part and runs the shared queries.
//
// It holds a reference to the caller's SqliteDb and no state of its own, so a
// call runs inside the caller's transaction when the thread has one open.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "caf/content_adapter.h"
#include "common/sqlite_db.h"

namespace conflux::caf {

// Migration text of the revision sequence, the same in every items schema.
inline constexpr const char* kRevisionSequenceSchema =
    "CREATE TABLE seq(id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL);"
    "INSERT INTO seq(id, value) VALUES (1, 0);";

// The columns of one items table that play the shared parts.
struct ItemColumns {
  std::string_view key;         // names an item within (user, database): "guid", "cuid", "id"
  std::string_view revision;    // orders the changes: "revision", "changed"
  std::string_view deleted_at;  // time a tombstone was made; empty when the table has none
};

class ItemTable {
 public:
  // Reads the current row of a SELECT whose column list the caller gave.
  using RowReader = std::function<void(const SqliteStatement&)>;

  ItemTable(SqliteDb& db, ItemColumns columns) : db_(db), columns_(columns) {}

  // The highest revision of `store`, tombstones included; 0 when it has no row.
  Result<int64_t> max_revision(const StoreRef& store) const;

  // The next revision of the sequence; call it inside a write transaction.
  Result<int64_t> next_revision() const;

  // In one read snapshot: returns max_revision and hands `read` the rows
  // changed after `since` (tombstones too) or, when since is nullopt, every
  // live row, in revision order. `select` is the SELECT's column list.
  Result<int64_t> changes_since(const StoreRef& store, std::optional<int64_t> since, std::string_view select,
                                const RowReader& read) const;

  // Hands `read` the live rows matching `query`: those named in query.guids
  // (each name once, in that order) or else all in revision order; with
  // query.contains only rows whose `data` holds those bytes; at most
  // query.limit rows (0: no limit).
  Status search(const StoreRef& store, const Query& query, std::string_view select, const RowReader& read) const;

  // The column list change_from_row reads: key, revision, created, deleted,
  // content_type and data (an empty blob without data).
  std::string change_columns(bool with_data = true) const;

  // The item of a row selected with change_columns(): a tombstone is a
  // delete, a row created after `since` a create, any other an update.
  static SyncObj change_from_row(const SqliteStatement& row, const StoreRef& store, int64_t since);

  // The number of live rows of `store`.
  Result<int64_t> live_count(const StoreRef& store) const;

  // Whether `store` has a row `key`, a tombstone too unless `live_only`.
  Result<bool> has_row(const StoreRef& store, std::string_view key, bool live_only = false) const;

  // Writes a new live row `key` at `revision` (returns 1, the rows written);
  // fails kAlreadyExists when the key is taken.
  Result<int> insert(const StoreRef& store, std::string_view key, int64_t revision, std::string_view content_type,
                     std::string_view data) const;

  // Gives the live row `key` new data at `revision` (an empty content type
  // keeps the stored one). Returns the rows changed: 0 when none is live.
  Result<int> update(const StoreRef& store, std::string_view key, int64_t revision, std::string_view content_type,
                     std::string_view data) const;

  // Turns the live row `key` into a tombstone at `revision`, stamped with
  // `now` where the table keeps deleted_at. Returns the rows changed: 0 when
  // none is live.
  Result<int> remove(const StoreRef& store, std::string_view key, int64_t revision, int64_t now = 0) const;

 private:
  // "SELECT <select> FROM items WHERE user = ?1 AND database = ?2" and `rest`.
  std::string select_sql(std::string_view select, std::string_view rest) const;
  // The one value of an aggregate SELECT `expression` over the store's rows and `rest`.
  Result<int64_t> aggregate(const StoreRef& store, std::string_view expression, std::string_view rest) const;

  SqliteDb& db_;
  const ItemColumns columns_;
};

// A revision from its decimal text (as revision_anchor writes it); nullopt
// for anything else.
std::optional<int64_t> parse_revision(std::string_view text);

// The anchor that stands for `revision`.
Anchor revision_anchor(int64_t revision);

}  // namespace conflux::caf
