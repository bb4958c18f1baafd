#include "caf/item_table.h"

#include <charconv>
#include <set>

namespace conflux::caf {
namespace {

// Reads every row of `st` into `read`; returns how many there were.
Result<size_t> read_rows(SqliteStatement& st, const ItemTable::RowReader& read) {
  size_t rows = 0;
  for (;;) {
    auto row = st.step();
    if (!row) return row.error();
    if (!*row) return rows;
    read(st);
    ++rows;
  }
}

}  // namespace

std::string ItemTable::select_sql(std::string_view select, std::string_view rest) const {
  std::string sql = "SELECT ";
  sql += select;
  sql += " FROM items WHERE user = ?1 AND database = ?2";
  sql += rest;
  return sql;
}

Result<int64_t> ItemTable::aggregate(const StoreRef& store, std::string_view expression, std::string_view rest) const {
  auto st = db_.prepare(select_sql(expression, rest));
  if (!st) return st.error();
  st->bind(1, store.user.str()).bind(2, store.database);
  auto row = st->step();
  if (!row) return row.error();
  if (!*row) return Status::internal("items: aggregate returned no row");
  return st->column_int64(0);
}

Result<int64_t> ItemTable::max_revision(const StoreRef& store) const {
  return aggregate(store, "coalesce(max(" + std::string(columns_.revision) + "), 0)", "");
}

Result<int64_t> ItemTable::next_revision() const {
  auto st = db_.prepare("UPDATE seq SET value = value + 1 WHERE id = 1 RETURNING value");
  if (!st) return st.error();
  auto row = st->step();
  if (!row) return row.error();
  if (!*row) return Status::internal("items: sequence row missing");
  const int64_t value = st->column_int64(0);
  auto done = st->step();  // finish the statement so the write completes
  if (!done) return done.error();
  return value;
}

Result<int64_t> ItemTable::changes_since(const StoreRef& store, std::optional<int64_t> since, std::string_view select,
                                         const RowReader& read) const {
  // One read transaction: the anchor and the rows come from the same snapshot.
  auto tx = db_.transaction(SqliteDb::TxMode::kDeferred);
  if (!tx) return tx.error();
  auto max = max_revision(store);
  if (!max) return max.error();
  const std::string order(columns_.revision);
  auto st = db_.prepare(
      select_sql(select, (since ? " AND " + order + " > ?3" : std::string(" AND deleted = 0")) + " ORDER BY " + order));
  if (!st) return st.error();
  st->bind(1, store.user.str()).bind(2, store.database);
  if (since) st->bind(3, *since);
  auto rows = read_rows(*st, read);
  if (!rows) return rows.error();
  CFX_RETURN_IF_ERROR(tx->commit());
  return max;
}

Status ItemTable::search(const StoreRef& store, const Query& query, std::string_view select,
                         const RowReader& read) const {
  std::string rest = " AND deleted = 0";
  if (!query.contains.empty()) rest += " AND instr(data, ?3) > 0";
  if (!query.guids.empty()) {
    rest += " AND " + std::string(columns_.key) + " = ?4";
  } else {
    rest += " ORDER BY " + std::string(columns_.revision);
    if (query.limit > 0) rest += " LIMIT ?5";
  }
  auto st = db_.prepare(select_sql(select, rest));
  if (!st) return st.error();
  auto bind_common = [&] {
    st->bind(1, store.user.str()).bind(2, store.database);
    // A blob pattern makes instr() compare bytes, whatever the encoding.
    if (!query.contains.empty()) st->bind(3, SqlBlob{query.contains});
  };
  if (query.guids.empty()) {
    bind_common();
    if (query.limit > 0) st->bind(5, static_cast<int64_t>(query.limit));
    return read_rows(*st, read).status();
  }
  size_t found = 0;
  std::set<Guid> seen;
  for (const Guid& guid : query.guids) {
    if (query.limit > 0 && found >= query.limit) break;
    if (!seen.insert(guid).second) continue;
    st->reset();
    bind_common();
    st->bind(4, guid.str());
    auto rows = read_rows(*st, read);
    if (!rows) return rows.error();
    found += *rows;
  }
  return Status::ok();
}

std::string ItemTable::change_columns(bool with_data) const {
  return std::string(columns_.key) + ", " + std::string(columns_.revision) + ", created, deleted, content_type, " +
         (with_data ? "data" : "x''");
}

SyncObj ItemTable::change_from_row(const SqliteStatement& row, const StoreRef& store, int64_t since) {
  SyncObj obj;
  obj.guid = Guid(row.column_text(0));
  obj.anchor = revision_anchor(row.column_int64(1));
  obj.user = store.user;
  obj.database = store.database;
  if (row.column_int64(3) != 0) {
    obj.action = Action::kDelete;
    return obj;
  }
  obj.action = row.column_int64(2) > since ? Action::kCreate : Action::kUpdate;
  obj.content_type = row.column_text(4);
  obj.raw = row.column_blob(5);
  return obj;
}

Result<int64_t> ItemTable::live_count(const StoreRef& store) const {
  return aggregate(store, "count(*)", " AND deleted = 0");
}

Result<bool> ItemTable::has_row(const StoreRef& store, std::string_view key, bool live_only) const {
  auto st = db_.prepare(
      select_sql("1", " AND " + std::string(columns_.key) + " = ?3" + (live_only ? " AND deleted = 0" : "")));
  if (!st) return st.error();
  st->bind(1, store.user.str()).bind(2, store.database).bind(3, key);
  return st->step();
}

Result<int> ItemTable::insert(const StoreRef& store, std::string_view key, int64_t revision,
                              std::string_view content_type, std::string_view data) const {
  auto st = db_.prepare("INSERT INTO items(user, database, " + std::string(columns_.key) + ", " +
                        std::string(columns_.revision) +
                        ", created, deleted, content_type, data) VALUES (?1, ?2, ?3, ?4, ?4, 0, ?5, ?6)");
  if (!st) return st.error();
  st->bind(1, store.user.str()).bind(2, store.database).bind(3, key).bind(4, revision);
  st->bind(5, content_type).bind(6, SqlBlob{data});
  return st->run();
}

Result<int> ItemTable::update(const StoreRef& store, std::string_view key, int64_t revision,
                              std::string_view content_type, std::string_view data) const {
  auto st = db_.prepare("UPDATE items SET " + std::string(columns_.revision) +
                        " = ?4, content_type = coalesce(nullif(?5, ''), content_type), data = ?6"
                        " WHERE user = ?1 AND database = ?2 AND " +
                        std::string(columns_.key) + " = ?3 AND deleted = 0");
  if (!st) return st.error();
  st->bind(1, store.user.str()).bind(2, store.database).bind(3, key).bind(4, revision);
  st->bind(5, content_type).bind(6, SqlBlob{data});
  return st->run();
}

Result<int> ItemTable::remove(const StoreRef& store, std::string_view key, int64_t revision, int64_t now) const {
  // The row stays as a tombstone so changes_since reports the delete.
  std::string sql = "UPDATE items SET " + std::string(columns_.revision) + " = ?4, deleted = 1, data = NULL";
  if (!columns_.deleted_at.empty()) sql += ", " + std::string(columns_.deleted_at) + " = ?5";
  sql += " WHERE user = ?1 AND database = ?2 AND " + std::string(columns_.key) + " = ?3 AND deleted = 0";
  auto st = db_.prepare(sql);
  if (!st) return st.error();
  st->bind(1, store.user.str()).bind(2, store.database).bind(3, key).bind(4, revision);
  if (!columns_.deleted_at.empty()) st->bind(5, now);
  return st->run();
}

std::optional<int64_t> parse_revision(std::string_view text) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < 0) return std::nullopt;
  return value;
}

Anchor revision_anchor(int64_t revision) { return Anchor(std::to_string(revision)); }

}  // namespace conflux::caf
