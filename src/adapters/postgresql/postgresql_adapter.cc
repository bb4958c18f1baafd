#include "adapters/postgresql/postgresql_adapter.h"

#include <libpq-fe.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <utility>

#include "adapters/postgresql/pg_change_listener.h"
#include "caf/tracked_adapter.h"
#include "common/log.h"

namespace conflux::adapters {

namespace fs = std::filesystem;

namespace {

// PostgreSQL's identifier quoting ("a""b"); libpqxx's quote_name needs a
// connection, which the config checks do not have yet.
std::string quote_ident(const std::string& name) {
  std::string out = "\"";
  for (char c : name) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// 'it''s': for values built into DDL and filters (no parameters there).
std::string quote_literal(const std::string& value) {
  std::string out = "'";
  for (char c : value) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

// "crm.customers" -> "crm"."customers"; "customers" -> "customers".
std::string quote_qualified(const std::string& name) {
  const size_t dot = name.find('.');
  if (dot == std::string::npos) return quote_ident(name);
  return quote_ident(name.substr(0, dot)) + "." + quote_ident(name.substr(dot + 1));
}

std::string hex_of(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

std::string bytes_of_hex(const std::string& hex) {
  auto nibble = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out += static_cast<char>(nibble(hex[i]) * 16 + nibble(hex[i + 1]));
  return out;
}

std::string one_line(std::string text) {
  std::replace(text.begin(), text.end(), '\n', ' ');
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

// A parameter list with NULLs: libpqxx 6.4 sends a null const char* as SQL NULL.
struct Params {
  std::vector<std::optional<std::string>> values;
  std::string add(std::optional<std::string> value) {
    values.push_back(std::move(value));
    return "$" + std::to_string(values.size());
  }
  std::vector<const char*> pointers() const {
    std::vector<const char*> out;
    for (const auto& v : values) out.push_back(v ? v->c_str() : nullptr);
    return out;
  }
};

// `connection` as keyword=value pairs with `set` written over it and
// `defaults` added where it has none (libpq parses both spellings).
Result<std::string> rewritten(const std::string& connection, const std::map<std::string, std::string>& set,
                              const std::map<std::string, std::string>& defaults) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(connection.c_str(), &error);
  if (options == nullptr) {
    std::string why = error ? one_line(error) : "cannot parse";
    PQfreemem(error);
    return Status::invalid_argument(why);
  }
  auto quote = [](const std::string& v) {
    std::string out = "'";
    for (char c : v) {
      if (c == '\'' || c == '\\') out += '\\';
      out += c;
    }
    return out + "'";
  };
  std::map<std::string, std::string> values = defaults;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val != nullptr) values[o->keyword] = o->val;
  }
  PQconninfoFree(options);
  for (const auto& [key, value] : set) values[key] = value;
  std::string out;
  for (const auto& [key, value] : values) out += (out.empty() ? "" : " ") + key + "=" + quote(value);
  return out;
}

const char* kind_needs(ColumnKind kind) {
  switch (kind) {
    case ColumnKind::kText: return "a text type (text, varchar, char)";
    case ColumnKind::kDate: return "date";
    case ColumnKind::kBytes: return "bytea";
    case ColumnKind::kTimestamp: return "timestamptz or timestamp";
    case ColumnKind::kBool: return "boolean";
    case ColumnKind::kInteger: return "an integer type (smallint, integer, bigint)";
    case ColumnKind::kReal: return "real, double precision or numeric";
  }
  return "";
}

struct Column {
  std::string type;       // format_type(): "character varying(80)"
  std::string category;   // pg_type.typcategory: "S" for strings
  std::string type_name;  // pg_type.typname: "date", "bytea"
  bool has_default = false;
  int position = 0;  // pg_attribute.attnum: the column's place in the table
};

bool fits(const Column& column, ColumnKind kind) {
  switch (kind) {
    case ColumnKind::kText: return column.category == "S";
    case ColumnKind::kDate: return column.type_name == "date";
    case ColumnKind::kBytes: return column.type_name == "bytea";
    case ColumnKind::kTimestamp: return column.type_name == "timestamptz" || column.type_name == "timestamp";
    case ColumnKind::kBool: return column.type_name == "bool";
    case ColumnKind::kInteger:
    case ColumnKind::kReal: return record_kind_for(column.type_name, column.category) == kind;
  }
  return false;
}

bool is_contacts(const std::string& content_type) {
  return content_type == "text/vcard" || content_type == "text/x-vcard";
}

bool is_events(const std::string& content_type) {
  return content_type == "text/calendar" || content_type == "text/x-vcalendar";
}

bool is_records(const std::string& content_type) { return content_type == data::record_format().mime_type; }

const std::vector<MappedField>& fields_for(const std::string& content_type) {
  return is_events(content_type) ? event_fields() : contact_fields();
}

std::optional<ColumnKind> field_kind(const std::string& content_type, const std::string& field) {
  for (const MappedField& f : fields_for(content_type)) {
    if (field == f.name) return f.kind;
  }
  return std::nullopt;
}

}  // namespace

// ---------------------------------------------------------------------------
// PgTable

PgTable::PgTable(const PgTableConfig& config, PgTableShape shape, std::shared_ptr<PgDb> service)
    : config_(config), shape_(std::move(shape)), service_(std::move(service)) {
  if (is_records(config_.content_type)) {
    mapping_ =
        std::make_unique<RecordMapping>(config_.table, shape_.name, config_.key, shape_.key_kind, shape_.record_fields);
  }
  std::string mapped_columns;
  for (const auto& field : mapping_ ? mapping_->fields() : fields_for(config_.content_type)) {
    auto it = config_.fields.find(field.name);
    if (it == config_.fields.end()) continue;
    mapped_.push_back(field.name);
    mapped_columns += (mapped_columns.empty() ? "" : ", ") + std::string("t.") + quote_ident(it->second);
  }
  const std::string extra = "coalesce(x.vcard, '')";
  if (!config_.modified_column.empty()) {
    revision_sql_ = "t." + quote_ident(config_.modified_column) + "::text || '/' || md5(" + extra + ")";
  } else {
    std::string children = "''";
    if (!shape_.child_qualified.empty()) {
      children = "coalesce((SELECT string_agg(row(c." + quote_ident(config_.child_kind) + ", c." +
                 quote_ident(config_.child_type) + ", c." + quote_ident(config_.child_value) +
                 ")::text, ',' ORDER BY 1) FROM " + shape_.child_qualified + " c WHERE c." +
                 quote_ident(config_.child_key) + " = t." + quote_ident(config_.key) + "), '')";
    }
    revision_sql_ = "md5(row(" + mapped_columns + ")::text || " + children + " || " + extra + ")";
  }
  // A Record mapping was made above, its fields being the mapped columns.
  if (is_events(config_.content_type)) {
    mapping_ = std::make_unique<EventMapping>(mapped_, shape_.instant_fields,
                                              data::Format{config_.content_type, config_.content_version});
  } else if (is_contacts(config_.content_type)) {
    mapping_ = std::make_unique<ContactMapping>(mapped_, !shape_.child_qualified.empty(), config_.version);
  }
  if (config_.soft_delete) {
    live_filter_ = " AND t." + quote_ident(config_.deleted_column) + "::text IS DISTINCT FROM " +
                   quote_literal(config_.deleted_value);
  }
  build_statements();
}

std::string PgTable::owner_match(const std::string& slot) const {
  const std::string owner = "t." + quote_ident(config_.owner);
  if (shape_.owner_table.empty()) return owner + " = " + slot;
  return owner + " IN (SELECT a." + quote_ident(config_.owner_table_key) + " FROM " + shape_.owner_table +
         " a WHERE a." + quote_ident(config_.owner_table_user) + " = " + slot + ")";
}

std::string PgTable::read_expression(const std::string& field) const {
  const std::string column = "t." + quote_ident(config_.fields.at(field));
  switch (*mapping_->kind_of(field)) {
    case ColumnKind::kBytes: return "encode(" + column + ", 'hex')";
    case ColumnKind::kDate: return "to_char(" + column + ", 'YYYY-MM-DD')";
    case ColumnKind::kTimestamp:
      return "to_char(" + column + (shape_.instant_fields.count(field) ? " AT TIME ZONE 'UTC'" : "") +
             ", 'YYYY-MM-DD HH24:MI:SS')";
    case ColumnKind::kText:
    case ColumnKind::kBool:
    case ColumnKind::kInteger:
    case ColumnKind::kReal: break;
  }
  return column + "::text";
}

std::string PgTable::write_expression(const std::string& field, const std::string& slot) const {
  switch (*mapping_->kind_of(field)) {
    case ColumnKind::kBytes: return "decode(" + slot + ", 'hex')";
    case ColumnKind::kDate: return slot + "::date";
    case ColumnKind::kTimestamp:
      return shape_.instant_fields.count(field) ? "(" + slot + "::timestamp AT TIME ZONE 'UTC')" : slot + "::timestamp";
    case ColumnKind::kBool: return slot + "::boolean";
    // Assigned to the column's own type: bigint fits any integer column (a
    // value out of its range fails the item), numeric any real one exactly.
    case ColumnKind::kInteger: return slot + "::bigint";
    case ColumnKind::kReal: return slot + "::numeric";
    case ColumnKind::kText: break;
  }
  return slot;
}

void PgTable::set_session(const UserId& user, std::shared_ptr<PgDb> db) {
  std::lock_guard guard(mutex_);
  sessions_[user] = std::move(db);
}

void PgTable::end_session(const UserId& user) {
  std::lock_guard guard(mutex_);
  sessions_.erase(user);
}

std::shared_ptr<PgDb> PgTable::db_for(const UserId& user) {
  std::lock_guard guard(mutex_);
  auto it = sessions_.find(user);
  return it == sessions_.end() ? service_ : it->second;
}

namespace {

bool succeeded(const Status& status) { return status.is_ok(); }
template <typename T>
bool succeeded(const Result<T>& result) {
  return result.has_value();
}

// One text[] parameter: {"id1","id2"} with \ and " escaped.
std::string text_array(const std::vector<std::string>& ids) {
  std::string array = "{";
  for (const std::string& id : ids) {
    array += (array.size() > 1 ? ",\"" : "\"");
    for (char c : id) {
      if (c == '"' || c == '\\') array += '\\';
      array += c;
    }
    array += '"';
  }
  return array + "}";
}

}  // namespace

void PgTable::build_statements() {
  const std::string key = quote_ident(config_.key);
  const std::string joined_extra =
      " LEFT JOIN " + shape_.extra_table + " x ON x.tbl = $2 AND x.item_key = t." + key + "::text";
  auto add = [&](const std::string& name, const std::string& sql) { statements_.emplace_back("pgt_" + name, sql); };
  add("list", "SELECT t." + key + "::text, " + revision_sql_ + " FROM " + shape_.qualified + " t" + joined_extra +
                  " WHERE " + owner_match("$1") + live_filter_);
  std::string columns;
  for (const std::string& field : mapped_) columns += ", " + read_expression(field);
  add("read", "SELECT t." + key + "::text, x.vcard" + columns + " FROM " + shape_.qualified + " t LEFT JOIN " +
                  shape_.extra_table + " x ON x.tbl = $3 AND x.item_key = t." + key + "::text WHERE t." + key +
                  "::text = ANY($1::text[]) AND " + owner_match("$2") + live_filter_);
  // One row by its key: compared in the key's own type where it has one the
  // parameter can be given as (an index on the key serves it), else as text.
  auto row_is = [&](const std::string& slot) { return "t." + key + (shape_.key_typed ? " = " : "::text = ") + slot; };
  add("revision",
      "SELECT " + revision_sql_ + " FROM " + shape_.qualified + " t" + joined_extra + " WHERE " + row_is("$1"));

  // Writes: $1 .. $n the mapped fields in mapped_ order, $n+1 the user, $n+2 the key.
  const std::string user_slot = "$" + std::to_string(mapped_.size() + 1);
  const std::string key_slot = "$" + std::to_string(mapped_.size() + 2);
  std::string sets, insert_columns = quote_ident(config_.owner), insert_values;
  insert_values = shape_.owner_table.empty() ? user_slot : "a." + quote_ident(config_.owner_table_key);
  for (size_t i = 0; i < mapped_.size(); ++i) {
    const std::string column = quote_ident(config_.fields.at(mapped_[i]));
    const std::string value = write_expression(mapped_[i], "$" + std::to_string(i + 1));
    sets += (sets.empty() ? "" : ", ") + column + " = " + value;
    insert_columns += ", " + column;
    insert_values += ", " + value;
  }
  if (sets.empty()) sets = key + " = " + key;
  add("update", "UPDATE " + shape_.qualified + " t SET " + sets + " WHERE " + row_is(key_slot) + " AND " +
                    owner_match(user_slot) + live_filter_);
  // INSERT ... SELECT: with an owner table, no row is made for a user it lacks.
  const std::string owner_row =
      shape_.owner_table.empty()
          ? ""
          : " FROM " + shape_.owner_table + " a WHERE a." + quote_ident(config_.owner_table_user) + " = " + user_slot;
  add("insert", "INSERT INTO " + shape_.qualified + " (" + insert_columns + ") SELECT " + insert_values + owner_row +
                    " RETURNING " + key + "::text");
  add("insert_keyed", "INSERT INTO " + shape_.qualified + " (" + key + ", " + insert_columns + ") SELECT " + key_slot +
                          ", " + insert_values + owner_row + " RETURNING " + key + "::text");

  add("extra_delete", "DELETE FROM " + shape_.extra_table + " WHERE tbl = $1 AND item_key = $2");
  add("extra_upsert", "INSERT INTO " + shape_.extra_table +
                          " (tbl, item_key, vcard) VALUES ($1, $2, $3)"
                          " ON CONFLICT (tbl, item_key) DO UPDATE SET vcard = EXCLUDED.vcard");
  if (config_.soft_delete) {
    add("delete", "UPDATE " + shape_.qualified + " t SET " + quote_ident(config_.deleted_column) + " = $3 WHERE " +
                      row_is("$1") + " AND " + owner_match("$2") + live_filter_);
  } else {
    add("delete", "DELETE FROM " + shape_.qualified + " t WHERE " + row_is("$1") + " AND " + owner_match("$2"));
  }
  if (!shape_.child_qualified.empty()) {
    const std::string fk = quote_ident(config_.child_key);
    add("children_read", "SELECT " + fk + "::text, " + quote_ident(config_.child_kind) + "::text, " +
                             quote_ident(config_.child_type) + "::text, " + quote_ident(config_.child_value) +
                             "::text FROM " + shape_.child_qualified + " WHERE " + fk +
                             "::text = ANY($1::text[]) ORDER BY 1, 2, 3, 4");
    add("children_delete", "DELETE FROM " + shape_.child_qualified + " WHERE " + fk + " IN (SELECT t." + key +
                               " FROM " + shape_.qualified + " t WHERE " + row_is("$1") + ")");
    add("children_delete_owned", "DELETE FROM " + shape_.child_qualified + " c USING " + shape_.qualified +
                                     " t WHERE c." + fk + " = t." + key + " AND " + row_is("$1") + " AND " +
                                     owner_match("$2"));
    add("child_insert", "INSERT INTO " + shape_.child_qualified + " (" + fk + ", " + quote_ident(config_.child_kind) +
                            ", " + quote_ident(config_.child_type) + ", " + quote_ident(config_.child_value) +
                            ") SELECT t." + key + ", $2, $3, $4 FROM " + shape_.qualified + " t WHERE " + row_is("$1"));
  }
}

void PgTable::prepare_on(PgDb& db) const {
  for (const auto& [name, sql] : statements_) db.prepare(name, sql);
}

template <typename Work>
auto PgTable::run(const caf::StoreRef& store, const std::string& what, Work&& work)
    -> std::invoke_result_t<Work&, pqxx::transaction_base&> {
  using Out = std::invoke_result_t<Work&, pqxx::transaction_base&>;
  Batch* batch = nullptr;
  {
    std::lock_guard guard(mutex_);
    if (batch_ && batch_->user == store.user) batch = &*batch_;
  }
  if (batch == nullptr) return db_for(store.user)->transact(what, [&](pqxx::work& txn) { return work(txn); });
  if (batch->failure) return Out(Status::unavailable(what + ": the batch's transaction failed before"));
  // A savepoint per item: an item that fails takes back only its own writes.
  // Plain SQL: libpqxx 6.4's subtransaction issues its SAVEPOINT lazily, and
  // not before exec_prepared, so a failed item would abort the whole batch
  // and its COMMIT would silently roll back.
  pqxx::dbtransaction& txn = *batch->txn;
  std::optional<Status> refused;
  try {
    txn.exec0("SAVEPOINT conflux_item");
    Out out = work(txn);
    txn.exec0(succeeded(out) ? "RELEASE SAVEPOINT conflux_item" : "ROLLBACK TO SAVEPOINT conflux_item");
    return out;
  } catch (const pqxx::unique_violation& e) {
    refused = Status::already_exists(what + ": " + one_line(e.what()));
  } catch (const pqxx::insufficient_privilege& e) {
    refused = Status::permission_denied(what + ": " + one_line(e.what()));
  } catch (const pqxx::sql_error& e) {
    const std::string& state = e.sqlstate();
    // Deadlock, serialization failure, shutdown, or a statement that timed
    // out (a locked table: each further item would wait as long): the whole
    // transaction must go.
    if (state.rfind("40", 0) != 0 && state.rfind("57P", 0) != 0 && !PgDb::is_statement_timeout(e)) {
      refused = Status::internal(what + ": " + one_line(e.what()));
    } else {
      batch->failure = std::current_exception();
    }
  } catch (...) {  // the connection broke
    batch->failure = std::current_exception();
  }
  if (refused) {
    try {
      txn.exec0("ROLLBACK TO SAVEPOINT conflux_item");
      return Out(*refused);
    } catch (...) {
      batch->failure = std::current_exception();
    }
  }
  return Out(Status::unavailable(what + ": the batch's transaction failed"));
}

Status PgTable::in_one_transaction(const caf::StoreRef& store, const std::function<Status()>& write_all) {
  return db_for(store.user)->transact("write to " + shape_.name, [&](pqxx::work& txn) -> Status {
    {
      std::lock_guard guard(mutex_);
      batch_ = Batch{store.user, &txn, nullptr};
    }
    Status written = write_all();
    std::exception_ptr failure;
    {
      std::lock_guard guard(mutex_);
      failure = batch_->failure;
      batch_.reset();
    }
    // PgDb::transact retries a deadlock or a lost connection (write_all runs again) or reports it.
    if (failure) std::rethrow_exception(failure);
    return written;
  });
}

Result<std::map<std::string, std::string>> PgTable::list(const caf::StoreRef& store) {
  return db_for(store.user)->transact("list " + shape_.name, [&](pqxx::work& txn) {
    std::map<std::string, std::string> out;
    for (const auto& row : txn.exec_prepared("pgt_list", store.user.str(), shape_.name)) {
      out[row[0].as<std::string>()] = row[1].as<std::string>();
    }
    return Result<std::map<std::string, std::string>>(std::move(out));
  });
}

Result<std::map<std::string, std::string>> PgTable::read_many(const caf::StoreRef& store,
                                                              const std::vector<std::string>& ids) {
  const std::string array = text_array(ids);
  using Found = std::map<std::string, std::string>;
  return db_for(store.user)->transact("read " + shape_.name, [&](pqxx::work& txn) -> Result<Found> {
    std::map<std::string, MappedRow> rows;
    for (const auto& found : txn.exec_prepared("pgt_read", array, store.user.str(), shape_.name)) {
      MappedRow& row = rows[found[0].as<std::string>()];
      row.key = found[0].as<std::string>();
      row.name = shape_.name + ":" + row.key;
      if (!found[1].is_null()) row.extra = found[1].as<std::string>();
      for (size_t i = 0; i < mapped_.size(); ++i) {
        const pqxx::field value = found[static_cast<int>(i + 2)];
        if (value.is_null()) continue;
        row.fields[mapped_[i]] = *mapping_->kind_of(mapped_[i]) == ColumnKind::kBytes
                                     ? bytes_of_hex(value.as<std::string>())
                                     : value.as<std::string>();
      }
    }
    if (!shape_.child_qualified.empty() && !rows.empty()) {
      for (const auto& child : txn.exec_prepared("pgt_children_read", array)) {
        auto it = rows.find(child[0].as<std::string>());
        if (it == rows.end()) continue;
        it->second.children.push_back(ChildValue{child[1].is_null() ? "" : child[1].as<std::string>(),
                                                 child[2].is_null() ? "" : child[2].as<std::string>(),
                                                 child[3].is_null() ? "" : child[3].as<std::string>()});
      }
    }
    Found out;
    for (const auto& [id, row] : rows) {
      auto item = mapping_->to_item(row);
      if (!item) {
        // Left out: read() reports the row as not found, the listing's next change brings it again.
        logger("adapter.postgresql")
            ->warn("store '{}': row {} of {} cannot be read: {}", config_.store, id, shape_.name,
                   item.error().to_string());
        continue;
      }
      out[id] = std::move(*item);
    }
    return Result<Found>(std::move(out));
  });
}

Result<std::string> PgTable::read(const caf::StoreRef& store, const std::string& id) {
  {
    std::lock_guard guard(mutex_);
    auto it = prefetched_.find({store.user, id});
    if (it != prefetched_.end()) {
      std::string bytes = std::move(it->second);
      prefetched_.erase(it);
      return bytes;
    }
  }
  auto found = read_many(store, {id});
  if (!found) return found.error();
  auto it = found->find(id);
  if (it == found->end()) return Status::not_found("no row " + id + " in " + shape_.name);
  return std::move(it->second);
}

void PgTable::forget_prefetched(const UserId& user, const std::string& id) {
  std::lock_guard guard(mutex_);
  prefetched_.erase({user, id});
}

void PgTable::prefetch(const caf::StoreRef& store, const std::vector<std::string>& ids) {
  constexpr size_t kChunk = 500;  // rows per query: a bounded statement and result
  std::map<std::pair<UserId, std::string>, std::string> fetched;
  for (size_t at = 0; at < ids.size(); at += kChunk) {
    std::vector<std::string> chunk(ids.begin() + at, ids.begin() + std::min(ids.size(), at + kChunk));
    auto found = read_many(store, chunk);
    if (!found) break;  // a hint only: read() reports the failure
    for (auto& [id, bytes] : *found) fetched[{store.user, id}] = std::move(bytes);
  }
  std::lock_guard guard(mutex_);
  prefetched_ = std::move(fetched);  // drops what an earlier call fetched and did not read
}

Result<std::string> PgTable::revision_of(pqxx::transaction_base& txn, const std::string& key) {
  const pqxx::result r = txn.exec_prepared("pgt_revision", key, shape_.name);
  if (r.empty()) return Status::internal("row " + key + " vanished from " + shape_.name + " while written");
  return r[0][0].as<std::string>();
}

Result<std::pair<std::string, std::string>> PgTable::store_row(const caf::StoreRef& store, const std::string& key,
                                                               std::string_view raw, WriteMode mode) {
  if (mode == WriteMode::kReplace && !could_be_key(key))
    return Status::not_found("no row " + key + " in " + shape_.name);
  auto row = mapping_->to_row(raw);
  if (!row) return row.error();
  forget_prefetched(store.user, key);
  // The parameters of pgt_update and pgt_insert*: the mapped fields, the user, the key.
  Params params;
  for (const std::string& field : mapped_) {
    auto it = row->fields.find(field);
    std::optional<std::string> value;
    if (it != row->fields.end()) value = it->second;
    if (*mapping_->kind_of(field) == ColumnKind::kBytes && value) value = hex_of(*value);
    params.add(std::move(value));
  }
  params.add(store.user.str());
  using Written = std::pair<std::string, std::string>;
  return run(store, "write " + shape_.name, [&](pqxx::transaction_base& txn) -> Result<Written> {
    Params all = params;
    std::string written_key = key;
    if (mode == WriteMode::kReplace) {
      all.add(key);
      const std::vector<const char*> pointers = all.pointers();
      const pqxx::result updated = txn.exec_prepared("pgt_update", pqxx::prepare::make_dynamic_params(pointers));
      if (updated.affected_rows() == 0) return Status::not_found("no row " + key + " in " + shape_.name);
    } else {
      if (!key.empty()) all.add(key);
      const std::vector<const char*> pointers = all.pointers();
      const pqxx::result inserted = txn.exec_prepared(key.empty() ? "pgt_insert" : "pgt_insert_keyed",
                                                      pqxx::prepare::make_dynamic_params(pointers));
      if (inserted.empty()) {
        return Status::failed_precondition("user " + store.user.str() + " has no row in " + config_.owner_table + " (" +
                                           config_.owner_table_user + " = '" + store.user.str() + "')");
      }
      written_key = inserted[0][0].as<std::string>();
    }
    if (!shape_.child_qualified.empty()) {
      txn.exec_prepared("pgt_children_delete", written_key);
      for (const ChildValue& child : row->children) {
        txn.exec_prepared("pgt_child_insert", written_key, child.kind, child.types, child.value);
      }
    }
    if (row->extra.empty()) {
      txn.exec_prepared("pgt_extra_delete", shape_.name, written_key);
    } else {
      txn.exec_prepared("pgt_extra_upsert", shape_.name, written_key, row->extra);
    }
    auto revision = revision_of(txn, written_key);
    if (!revision) return revision.error();
    return Written(written_key, *revision);
  });
}

Result<std::string> PgTable::write(const caf::StoreRef& store, const std::string& id, std::string_view raw,
                                   WriteMode mode) {
  auto written = store_row(store, id, raw, mode);
  if (!written) return written.error();
  return written->second;
}

Result<std::pair<std::string, std::string>> PgTable::create_with_own_id(const caf::StoreRef& store,
                                                                        std::string_view raw) {
  return store_row(store, "", raw, WriteMode::kCreate);
}

bool PgTable::could_be_key(const std::string& id) const {
  if (shape_.key_integer_max == 0) return true;
  int64_t value = 0;
  auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), value);
  return !id.empty() && ec == std::errc() && end == id.data() + id.size() && value <= shape_.key_integer_max &&
         value >= -shape_.key_integer_max - 1;
}

Status PgTable::remove(const caf::StoreRef& store, const std::string& id) {
  if (!could_be_key(id)) return Status::not_found("no row " + id + " in " + shape_.name);
  forget_prefetched(store.user, id);
  return run(store, "delete from " + shape_.name, [&](pqxx::transaction_base& txn) -> Status {
    pqxx::result done;
    if (config_.soft_delete) {
      done = txn.exec_prepared("pgt_delete", id, store.user.str(), config_.deleted_value);
    } else {
      if (!shape_.child_qualified.empty()) txn.exec_prepared("pgt_children_delete_owned", id, store.user.str());
      done = txn.exec_prepared("pgt_delete", id, store.user.str());
      txn.exec_prepared("pgt_extra_delete", shape_.name, id);
    }
    if (done.affected_rows() == 0) return Status::not_found("no row " + id + " in " + shape_.name);
    return Status::ok();
  });
}

// ---------------------------------------------------------------------------
// Start: the mapping against the live schema

namespace {

// A Record store's fields: each column's kind from its type, in the table's
// column order. The key and the owner are Conflux's to set, not a device's.
Status inspect_record_fields(const PgTableConfig& config, const std::map<std::string, Column>& columns,
                             PgTableShape& shape) {
  std::vector<std::pair<int, RecordField>> placed;
  for (const auto& [field, name] : config.fields) {
    const std::string where = "stores." + config.store + ".field_" + field + ": ";
    auto it = columns.find(name);
    if (it == columns.end()) {
      return Status::invalid_argument(where + "table " + config.table + " has no column \"" + name + "\"");
    }
    if (name == config.key || field == config.key) {
      return Status::invalid_argument(where + "every Record carries the key column " + config.key +
                                      " under its own name; map the other columns");
    }
    if (name == config.owner) {
      return Status::invalid_argument(where + "column " + name + " is the owner, which Conflux sets to the user");
    }
    auto kind = record_kind_for(it->second.type_name, it->second.category);
    if (!kind) {
      return Status::invalid_argument(where + "column " + config.table + "." + name + " is " + it->second.type +
                                      ", which a Record cannot hold (integer, real, double precision, numeric, "
                                      "text, varchar, boolean, bytea, date, timestamp, timestamptz can)");
    }
    placed.push_back({it->second.position, RecordField{field, *kind}});
  }
  std::stable_sort(placed.begin(), placed.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [position, field] : placed) shape.record_fields.push_back(std::move(field));
  return Status::ok();
}

// Checks table, columns, types and rights; fills the shape. Every error is
// one line "stores.<store>.<key>: ..." naming the column.
Result<PgTableShape> inspect(PgDb& db, const PgTableConfig& config) {
  const std::string prefix = "stores." + config.store + ".";
  return db.transact("inspect " + config.table, [&](pqxx::work& txn) -> Result<PgTableShape> {
    PgTableShape shape;
    auto columns_of = [&](const std::string& table, const std::string& key) -> Result<std::map<std::string, Column>> {
      const pqxx::result where = txn.exec_params(
          "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
          " WHERE c.oid = to_regclass($1)",
          quote_qualified(table));
      if (where.empty()) {
        return Status::invalid_argument(prefix + key + ": table " + table + " does not exist (or role " +
                                        txn.exec1("SELECT current_user")[0].as<std::string>() + " cannot see it)");
      }
      std::map<std::string, Column> columns;
      for (const auto& row : txn.exec_params(
               "SELECT a.attname, format_type(a.atttypid, a.atttypmod), t.typcategory::text, t.typname::text,"
               " a.atthasdef OR a.attidentity <> '', a.attnum FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid"
               " WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped",
               quote_qualified(table))) {
        columns[row[0].as<std::string>()] = Column{row[1].as<std::string>(), row[2].as<std::string>(),
                                                   row[3].as<std::string>(), row[4].as<bool>(), row[5].as<int>()};
      }
      const bool read_only = key == "owner_table";
      for (const char* right : {"SELECT", "INSERT", "UPDATE", "DELETE"}) {
        if (std::string(right) == "DELETE" && config.soft_delete && key == "table") continue;
        if (read_only && std::string(right) != "SELECT") continue;
        if (!txn.exec_params1("SELECT has_table_privilege(to_regclass($1), $2)", quote_qualified(table), right)[0]
                 .as<bool>()) {
          const std::string role = txn.exec1("SELECT current_user")[0].as<std::string>();
          const std::string grant = read_only            ? "SELECT"
                                    : config.soft_delete ? "SELECT, INSERT, UPDATE"
                                                         : "SELECT, INSERT, UPDATE, DELETE";
          return Status::permission_denied(prefix + key + ": role " + role + " may not " + right + " " + table +
                                           " (GRANT " + grant + " ON " + table + " TO " + role + ")");
        }
      }
      if (key == "table") {
        shape.schema = where[0][0].as<std::string>();
        shape.name = shape.schema + "." + where[0][1].as<std::string>();
        shape.qualified = quote_ident(shape.schema) + "." + quote_ident(where[0][1].as<std::string>());
      } else if (read_only) {
        shape.owner_table =
            quote_ident(where[0][0].as<std::string>()) + "." + quote_ident(where[0][1].as<std::string>());
      } else {
        shape.child_name = where[0][0].as<std::string>() + "." + where[0][1].as<std::string>();
        shape.child_qualified =
            quote_ident(where[0][0].as<std::string>()) + "." + quote_ident(where[0][1].as<std::string>());
      }
      return columns;
    };
    auto column = [&](const std::map<std::string, Column>& columns, const std::string& table, const std::string& key,
                      const std::string& name) -> Result<Column> {
      auto it = columns.find(name);
      if (it == columns.end()) {
        return Status::invalid_argument(prefix + key + ": table " + table + " has no column \"" + name + "\"");
      }
      return it->second;
    };
    auto typed = [&](const std::map<std::string, Column>& columns, const std::string& table, const std::string& key,
                     const std::string& name, ColumnKind kind) -> Status {
      auto c = column(columns, table, key, name);
      if (!c) return c.error();
      if (!fits(*c, kind)) {
        return Status::invalid_argument(prefix + key + ": column " + table + "." + name + " is " + c->type + ", " +
                                        kind_needs(kind) + " is needed");
      }
      return Status::ok();
    };

    auto columns = columns_of(config.table, "table");
    if (!columns) return columns.error();
    auto key = column(*columns, config.table, "key", config.key);
    if (!key) return key.error();
    shape.key_has_default = key->has_default;
    static const std::map<std::string, int64_t> integer_max = {
        {"int2", 32767}, {"int4", 2147483647}, {"int8", std::numeric_limits<int64_t>::max()}};
    if (auto it = integer_max.find(key->type_name); it != integer_max.end()) shape.key_integer_max = it->second;
    shape.key_typed = key->category == "S" || shape.key_integer_max > 0;
    if (!key->has_default && key->category != "S") {
      return Status::invalid_argument(prefix + "key: column " + config.table + "." + config.key + " is " + key->type +
                                      " without a default; Conflux can only name new rows itself in a text key");
    }
    if (config.owner_table.empty()) {
      CFX_RETURN_IF_ERROR(typed(*columns, config.table, "owner", config.owner, ColumnKind::kText));
    } else {
      // The owner column holds a key of the owner table, whose user column names the Conflux user.
      if (auto c = column(*columns, config.table, "owner", config.owner); !c) return c.error();
      auto owners = columns_of(config.owner_table, "owner_table");
      if (!owners) return owners.error();
      if (auto c = column(*owners, config.owner_table, "owner_table_key", config.owner_table_key); !c) {
        return c.error();
      }
      CFX_RETURN_IF_ERROR(
          typed(*owners, config.owner_table, "owner_table_user", config.owner_table_user, ColumnKind::kText));
    }
    if (is_records(config.content_type)) {
      CFX_RETURN_IF_ERROR(inspect_record_fields(config, *columns, shape));
      shape.key_kind = shape.key_integer_max > 0 ? ColumnKind::kInteger : ColumnKind::kText;
    }
    for (const auto& [field, name] : config.fields) {
      if (!is_records(config.content_type)) {
        CFX_RETURN_IF_ERROR(
            typed(*columns, config.table, "field_" + field, name, *field_kind(config.content_type, field)));
      }
      if (columns->at(name).type_name == "timestamptz") shape.instant_fields.insert(field);
    }
    for (const auto& [key_name, name] :
         {std::pair{"modified_column", config.modified_column}, std::pair{"deleted_column", config.deleted_column}}) {
      if (name.empty()) continue;
      if (auto c = column(*columns, config.table, key_name, name); !c) return c.error();
    }
    if (!config.child_table.empty()) {
      auto child = columns_of(config.child_table, "child_table");
      if (!child) return child.error();
      if (auto c = column(*child, config.child_table, "child_key", config.child_key); !c) return c.error();
      CFX_RETURN_IF_ERROR(typed(*child, config.child_table, "child_kind", config.child_kind, ColumnKind::kText));
      CFX_RETURN_IF_ERROR(typed(*child, config.child_table, "child_type", config.child_type, ColumnKind::kText));
      CFX_RETURN_IF_ERROR(typed(*child, config.child_table, "child_value", config.child_value, ColumnKind::kText));
    }
    shape.extra_table = quote_ident(shape.schema) + "." + quote_ident("conflux_item_extra");
    shape.changelog_table = quote_ident(shape.schema) + "." + quote_ident("conflux_changelog");
    shape.triggers_present = txn.exec_params1(
                                    "SELECT count(*) > 0 FROM pg_trigger WHERE tgrelid = to_regclass($1)"
                                    " AND tgname = 'conflux_changes'",
                                    shape.qualified)[0]
                                 .as<bool>();
    return shape;
  });
}

// The side table for what no column holds; created when missing.
Status ensure_extra_table(PgDb& db, const PgTableConfig& config, const PgTableShape& shape) {
  Status made = db.transact("create " + shape.extra_table, [&](pqxx::work& txn) -> Status {
    if (!txn.exec_params1("SELECT to_regclass($1) IS NULL", shape.extra_table)[0].as<bool>()) return Status::ok();
    txn.exec0("CREATE TABLE " + shape.extra_table +
              " (tbl TEXT NOT NULL, item_key TEXT NOT NULL, vcard TEXT NOT NULL, PRIMARY KEY (tbl, item_key))");
    return Status::ok();
  });
  if (!made.is_ok()) {
    return made.with_context("stores." + config.store + ".table: cannot create " + shape.extra_table +
                             " (kept vCard fields no column holds; grant CREATE on schema " + shape.schema +
                             " or create it by hand)");
  }
  return Status::ok();
}

}  // namespace

std::string change_log_sql(const PgTableConfig& config, const PgTableShape& shape, const std::string& service_role) {
  const std::string function = quote_ident(shape.schema) + "." + quote_ident("conflux_log_change");
  std::string sql;
  sql += "-- Conflux change log for " + shape.name + " (store '" + config.store + "'): run as the table's owner.\n";
  sql += "BEGIN;\n";
  sql += "CREATE TABLE IF NOT EXISTS " + shape.changelog_table +
         " (seq BIGSERIAL PRIMARY KEY, tbl TEXT NOT NULL, item_key TEXT, owner TEXT, op CHAR(1) NOT NULL,"
         " xid XID8 NOT NULL DEFAULT pg_current_xact_id(), at TIMESTAMPTZ NOT NULL DEFAULT now());\n";
  sql += "CREATE INDEX IF NOT EXISTS conflux_changelog_xid ON " + shape.changelog_table + " (xid);\n";
  // SECURITY DEFINER: every program that writes the table may log, without rights on the log.
  sql += "CREATE OR REPLACE FUNCTION " + function +
         "() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $conflux$\n"
         "DECLARE\n"
         "  tbl TEXT := TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME;\n"
         "  r JSONB := to_jsonb(CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END);\n"
         "BEGIN\n"
         "  INSERT INTO " +
         shape.changelog_table +
         " (tbl, item_key, owner, op)\n"
         "    VALUES (tbl, r ->> TG_ARGV[0], r ->> TG_ARGV[1], left(TG_OP, 1));\n"
         "  IF TG_OP = 'UPDATE' AND (to_jsonb(OLD) ->> TG_ARGV[1]) IS DISTINCT FROM (r ->> TG_ARGV[1]) THEN\n"
         "    INSERT INTO " +
         shape.changelog_table +
         " (tbl, item_key, owner, op)\n"
         "      VALUES (tbl, r ->> TG_ARGV[0], to_jsonb(OLD) ->> TG_ARGV[1], 'U');\n"
         "  END IF;\n"
         "  PERFORM pg_notify('" +
         std::string(PgChangeListener::kChannel) +
         "', tbl);\n"
         "  RETURN NULL;\n"
         "END\n$conflux$;\n";
  auto trigger = [&](const std::string& table, const std::string& key, const std::string& owner) {
    sql += "DROP TRIGGER IF EXISTS conflux_changes ON " + table + ";\n";
    sql += "CREATE TRIGGER conflux_changes AFTER INSERT OR UPDATE OR DELETE ON " + table +
           " FOR EACH ROW EXECUTE FUNCTION " + function + "(" + quote_literal(key) + ", " + quote_literal(owner) +
           ");\n";
  };
  trigger(shape.qualified, config.key, config.owner);
  if (!shape.child_qualified.empty()) trigger(shape.child_qualified, config.child_key, "");
  sql += "GRANT SELECT, DELETE ON " + shape.changelog_table + " TO " + quote_ident(service_role) + ";\n";
  sql += "COMMIT;\n";
  return sql;
}

// ---------------------------------------------------------------------------
// PostgresqlAdapter

PostgresqlAdapter::PostgresqlAdapter(PgTableConfig config, std::unique_ptr<PgTable> table, bool per_user)
    : config_(std::move(config)), per_user_(per_user), table_(std::move(table)) {}

Result<std::shared_ptr<PostgresqlAdapter>> PostgresqlAdapter::open(const PgTableConfig& config,
                                                                   const caf::StoreSettings& settings) {
  auto log = logger("adapter.postgresql");
  const std::string prefix = "stores." + config.store + ".";
  auto db = PgDb::open(config.connection, PgDb::Options{.statement_timeout = config.statement_timeout});
  if (!db) return db.error().with_context(prefix + "connection");
  auto shape = inspect(**db, config);
  if (!shape) return shape.error();
  CFX_RETURN_IF_ERROR(ensure_extra_table(**db, config, *shape));
  auto role = (*db)->transact("current_user", [](pqxx::work& txn) {
    return Result<std::string>(txn.exec1("SELECT current_user")[0].as<std::string>());
  });
  if (!role) return role.error();
  const std::string script = change_log_sql(config, *shape, *role);
  if (config.install_triggers) {
    Status installed = (*db)->transact("install triggers", [&](pqxx::work& txn) -> Status {
      // The script's own BEGIN/COMMIT are for psql; here it runs in this transaction.
      std::string body = script.substr(script.find("BEGIN;\n") + 7);
      body = body.substr(0, body.rfind("COMMIT;"));
      txn.exec0(body);
      return Status::ok();
    });
    if (!installed.is_ok()) {
      return installed.with_context(prefix + "install_triggers: the role must own " + shape->name +
                                    " (or set install_triggers = false and run the SQL by hand)");
    }
    shape->triggers_present = true;
    log->info("store '{}': change-log triggers installed on {}", config.store, shape->name);
  } else if (!shape->triggers_present) {
    std::ofstream out(config.script_file, std::ios::trunc);
    out << script;
    log->warn(
        "store '{}': no change-log triggers on {}; changes by other programs are found by polling. "
        "To have them pushed, run {} as the table's owner (psql -f) or set install_triggers = true",
        config.store, shape->name, out ? config.script_file : "the SQL (could not be written)");
  }
  std::unique_ptr<PgTable> table(new PgTable(config, *shape, *db));
  table->prepare_on(**db);
  std::shared_ptr<PostgresqlAdapter> adapter(
      new PostgresqlAdapter(config, std::move(table), settings.login == caf::BackendLogin::kPerUser));
  auto tracker = caf::RevisionTracker::open(config.tracker_file, *adapter->table_, settings.content_type);
  if (!tracker) return tracker.error().with_context(prefix + "tracker");
  adapter->tracker_ = std::move(*tracker);
  log->info("store '{}' kept in {} of {} ({} fields mapped{}), revisions in {}", config.store, shape->name,
            (*db)->display_uri(), config.fields.size(), shape->child_qualified.empty() ? "" : ", child table",
            config.tracker_file);
  return adapter;
}

caf::AdapterCaps PostgresqlAdapter::caps() const {
  caf::AdapterCaps caps = caf::kCapTombstones | caf::kCapSearch;
  if (per_user_) caps |= caf::kCapOwnAccounts;
  if (table_->shape().triggers_present) caps |= caf::kCapChangeNotify;
  return caps;
}

Status PostgresqlAdapter::verify_credentials(const std::string& database, const caf::Credentials& creds) {
  if (creds.scheme != caf::CredentialScheme::kPassword) {
    return Status::unauthenticated("postgresql per-user login needs the password (syncml:auth-basic)");
  }
  auto uri = rewritten(config_.connection, {{"user", creds.user.str()}, {"password", creds.secret}}, {});
  if (!uri) return uri.error();
  auto db = PgDb::open(*uri, PgDb::Options{1, 1, config_.statement_timeout});
  if (!db) return db.error();
  return Status::ok();
}

Status PostgresqlAdapter::begin_connect(const UserId& user, const caf::Credentials* credentials) {
  if (credentials == nullptr || credentials->scheme != caf::CredentialScheme::kPassword) return Status::ok();
  auto uri = rewritten(config_.connection, {{"user", credentials->user.str()}, {"password", credentials->secret}}, {});
  if (!uri) return uri.error();
  auto db = PgDb::open(*uri, PgDb::Options{1, 5, config_.statement_timeout});
  if (!db) return db.error();
  table_->prepare_on(**db);
  table_->set_session(user, std::move(*db));
  return Status::ok();
}

void PostgresqlAdapter::end_connect(const UserId& user) { table_->end_session(user); }

Result<Anchor> PostgresqlAdapter::current_anchor(const caf::StoreRef& store) {
  if (store.user.empty()) return Status::invalid_argument("postgresql adapter: call without a user");
  auto anchor = tracker_->current_anchor(store);
  if (!anchor) return anchor.error().with_context("postgresql current_anchor");
  return anchor;
}

Result<caf::ChangeSet> PostgresqlAdapter::changes_since(const caf::StoreRef& store, const Anchor& since) {
  if (store.user.empty()) return Status::invalid_argument("postgresql adapter: call without a user");
  auto set = tracker_->changes_since(store, since);
  if (!set) return set.error().with_context("postgresql changes_since");
  return set;
}

std::vector<caf::ApplyResult> PostgresqlAdapter::apply(const caf::StoreRef& store, std::vector<caf::SyncObj>&& batch) {
  if (store.user.empty()) {
    std::vector<caf::ApplyResult> results(batch.size());
    for (auto& r : results) r.status = Status::invalid_argument("postgresql adapter: call without a user");
    return results;
  }
  return caf::apply_tracked(*tracker_, store, std::move(batch), nullptr, "postgresql");
}

Result<std::vector<caf::SyncObj>> PostgresqlAdapter::search(const caf::StoreRef& store, const caf::Query& query) {
  if (store.user.empty()) return Status::invalid_argument("postgresql adapter: call without a user");
  auto found = tracker_->search(store, query);
  if (!found) return found.error().with_context("postgresql search");
  return found;
}

Result<caf::ExecResult> PostgresqlAdapter::execute(const caf::StoreRef& store, const caf::Command& command) {
  if (store.user.empty()) return Status::invalid_argument("postgresql adapter: call without a user");
  if (auto answered = caf::tracked_command(*tracker_, store, command, "postgresql")) return std::move(*answered);
  return Status::unimplemented("postgresql adapter: unknown command '" + command.name + "'");
}

Result<std::unique_ptr<caf::ChangeSubscription>> PostgresqlAdapter::watch_changes(const std::string& database,
                                                                                  caf::ChangeCallback on_change) {
  const PgTableShape& shape = table_->shape();
  if (!shape.triggers_present) {
    return Status::unimplemented("store '" + config_.store + "': no change-log triggers on " + shape.name);
  }
  std::vector<std::string> tables = {shape.name};
  if (!shape.child_name.empty()) tables.push_back(shape.child_name);
  // A bounded connect: the listener's thread must notice a stop while the database is away.
  auto connection = rewritten(config_.connection, {}, {{"connect_timeout", "5"}, {"application_name", "conflux"}});
  if (!connection) return connection.error().with_context("stores." + config_.store + ".connection");
  std::string owner_name = "l.owner";
  if (!shape.owner_table.empty()) {
    owner_name = "(SELECT a." + quote_ident(config_.owner_table_user) + "::text FROM " + shape.owner_table +
                 " a WHERE a." + quote_ident(config_.owner_table_key) + "::text = l.owner LIMIT 1)";
  }
  return std::unique_ptr<caf::ChangeSubscription>(PgChangeListener::start(config_.store, *connection,
                                                                          shape.changelog_table, std::move(tables),
                                                                          std::move(owner_name), std::move(on_change)));
}

// ---------------------------------------------------------------------------
// PostgresqlAdapterFactory

namespace {

// "stores.<name>.field_<field>: no contact field '<field>' (fields: ...)".
Status unknown_field(const caf::StoreSettings& settings, const std::string& field) {
  std::string names;
  for (const auto& f : fields_for(settings.content_type)) names += (names.empty() ? "" : ", ") + std::string(f.name);
  const char* kind = is_events(settings.content_type) ? "event" : "contact";
  return Status::invalid_argument("stores." + settings.name + ".field_" + field + ": no " + kind + " field '" + field +
                                  "' (fields: " + names + ")");
}

// The rules of a section that join several keys (PostgresqlAdapterFactory::read).
Status check_joined_keys(const caf::CheckedOptions& options, const caf::StoreSettings& settings) {
  const std::string prefix = "stores." + settings.name + ".";
  for (const auto& [name, column] : options.with_prefix("field_")) {
    if (name.empty()) return Status::invalid_argument(prefix + "field_: a field needs a name (field_<name>)");
    // A Record's fields are the table's own columns, checked against the live schema.
    if (!is_records(settings.content_type) && !field_kind(settings.content_type, name)) {
      return unknown_field(settings, name);
    }
  }
  int children = 0;
  for (const char* key : {"child_table", "child_key", "child_kind", "child_type", "child_value"}) {
    children += options.has(key) ? 1 : 0;
  }
  if (children != 0 && !is_contacts(settings.content_type)) {
    return Status::invalid_argument(prefix +
                                    "child_table: only contacts have a child table (further phones and "
                                    "e-mails)");
  }
  if (children != 0 && children != 5) {
    return Status::invalid_argument(prefix +
                                    "child_table: child_table, child_key, child_kind, child_type and "
                                    "child_value go together");
  }
  int owner_join = 0;
  for (const char* key : {"owner_table", "owner_table_key", "owner_table_user"}) owner_join += options.has(key) ? 1 : 0;
  if (owner_join != 0 && owner_join != 3) {
    return Status::invalid_argument(prefix +
                                    "owner_table: owner_table, owner_table_key and owner_table_user go "
                                    "together");
  }
  for (const char* key : {"owner_table", "table"}) {
    const std::string table = options.text(key);
    if (std::count(table.begin(), table.end(), '.') > 1) {
      return Status::invalid_argument(prefix + key + ": write schema.table or table");
    }
  }
  if ((options.text("delete") == "soft") != (options.has("deleted_column") && options.has("deleted_value"))) {
    return Status::invalid_argument(prefix + "delete: soft delete needs deleted_column and deleted_value, and only it");
  }
  return Status::ok();
}

}  // namespace

Result<caf::OptionKeys> PostgresqlAdapterFactory::keys(const caf::StoreSettings&) const {
  return caf::OptionKeys{
      "adapter postgresql",
      {caf::non_empty_option("connection", "a libpq connection string or URI").needed(),
       caf::non_empty_option("table", "the mapped table").needed(),
       caf::non_empty_option("key", "the table's key column").needed(),
       caf::non_empty_option("owner", "the column naming the owning user").needed(),
       caf::prefix_option("field_", "the column of a field"),
       caf::text_option("child_table", "a table of further phones and e-mails"),
       caf::text_option("child_key", "the child table's column of the parent's key"),
       caf::text_option("child_kind", "the child table's tel/email column"),
       caf::text_option("child_type", "the child table's TYPE column"),
       caf::text_option("child_value", "the child table's value column"),
       caf::choice_option("delete", {"hard", "soft"}, "how a deletion is written").or_default("hard"),
       caf::text_option("deleted_column", "the column a soft delete sets"),
       // A status code may well be written as a number: it is compared as text.
       caf::scalar_option("deleted_value", "the value a soft delete sets"),
       caf::text_option("modified_column", "a column every writer bumps"),
       caf::boolean_option("install_triggers", "whether Conflux installs the change-log triggers").or_default(false),
       caf::text_option("owner_table", "the table naming the owner"),
       caf::text_option("owner_table_key", "the owner table's key column"),
       caf::text_option("owner_table_user", "the owner table's user name column"),
       caf::integer_option("statement_timeout_seconds", 0, 86400, "seconds a statement may wait (0: no limit)")
           .or_default(int64_t{30})}};
}

Result<PgTableConfig> PostgresqlAdapterFactory::read(const caf::CheckedOptions& options,
                                                     const caf::StoreSettings& settings) const {
  if (!is_contacts(settings.content_type) && !is_events(settings.content_type) && !is_records(settings.content_type)) {
    return Status::invalid_argument("stores." + settings.name +
                                    ".content_type: adapter postgresql maps contacts (text/vcard, "
                                    "text/x-vcard), events (text/calendar, text/x-vcalendar) and the rows of "
                                    "any other table (application/vnd.conflux.record+json), not '" +
                                    settings.content_type + "'");
  }
  CFX_RETURN_IF_ERROR(check_joined_keys(options, settings));
  PgTableConfig config;
  config.store = settings.name;
  config.connection = options.text("connection");
  config.table = options.text("table");
  config.key = options.text("key");
  config.owner = options.text("owner");
  config.owner_table = options.text("owner_table");
  config.owner_table_key = options.text("owner_table_key");
  config.owner_table_user = options.text("owner_table_user");
  config.fields = options.with_prefix("field_");
  config.child_table = options.text("child_table");
  config.child_key = options.text("child_key");
  config.child_kind = options.text("child_kind");
  config.child_type = options.text("child_type");
  config.child_value = options.text("child_value");
  config.soft_delete = options.text("delete") == "soft";
  config.deleted_column = options.text("deleted_column");
  config.deleted_value = options.text("deleted_value");
  config.modified_column = options.text("modified_column");
  config.install_triggers = options.boolean("install_triggers");
  config.statement_timeout = std::chrono::seconds(options.integer("statement_timeout_seconds"));
  config.version = settings.content_version == "4.0" ? data::VCardVersion::k40 : data::VCardVersion::k30;
  config.content_type = settings.content_type;
  config.content_version = settings.content_version;
  return config;
}

Result<std::shared_ptr<caf::ContentAdapter>> PostgresqlAdapterFactory::make(PgTableConfig config,
                                                                            const caf::StoreSettings& settings,
                                                                            const caf::AdapterEnv& env) {
  config.tracker_file = (fs::path(env.data_dir) / ("postgresql-" + settings.name + ".db")).lexically_normal().string();
  config.script_file =
      (fs::path(env.data_dir) / ("postgresql-" + settings.name + "-triggers.sql")).lexically_normal().string();
  std::error_code ec;
  fs::create_directories(fs::path(config.tracker_file).parent_path(), ec);
  auto adapter = PostgresqlAdapter::open(config, settings);
  if (!adapter) return adapter.error();
  return std::shared_ptr<caf::ContentAdapter>(std::move(*adapter));
}

}  // namespace conflux::adapters
