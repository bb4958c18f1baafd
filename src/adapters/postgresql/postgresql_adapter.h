// The postgresql back end: contacts, events or any other rows kept in an
// organisation's own table (a CRM's `customers`, a booking system's
// `appointments`, a shop's `orders`), mapped column by column in the store's
// section. The store's content type says which: text/vcard or text/x-vcard
// maps contacts (contact_row.h lists the fields), text/calendar or
// text/x-vcalendar maps events (event_row.h), and
// application/vnd.conflux.record+json maps the rows of any other table to
// data::Records: `field_<name> = "<column>"` names the Record's columns, their
// types come from the live schema (record_row.h).
// Registered as adapter kind "postgresql".
//
//   [stores.contacts]
//   adapter = "postgresql"
//   content_type = "text/vcard"
//   connection = "postgresql://conflux@/crm?host=/run/postgresql"
//   table = "crm.customers"          # schema-qualified or on the search path
//   key = "id"                       # any type; a key without a default must be text
//   owner = "account_manager"        # text column holding the Conflux user name, or
//   owner = "account_id"             #   a key of another table that names the user:
//   owner_table = "crm.accounts"     #   (all three together; the role needs SELECT on it)
//   owner_table_key = "id"           #   the column `owner` refers to
//   owner_table_user = "login"       #   the text column holding the Conflux user name
//   field_given = "first_name"       # field_<name> = "<column>": contact_row.h, event_row.h list the names;
//                                    #   for Records any name (record_row.h)
//   child_table = "crm.customer_channels"  # optional: further phones and e-mails, with
//   child_key = "customer_id"        #   the parent's key, "tel"/"email", the TYPE values
//   child_kind = "kind"              #   and the value
//   child_type = "label"
//   child_value = "value"
//   delete = "soft"                  # "hard" (default) or "soft": deleted_column = deleted_value
//   deleted_column = "status"
//   deleted_value = "D"
//   modified_column = "updated_at"   # optional: the revision, when every writer bumps it
//   install_triggers = true          # else the SQL is written to a file to run by hand
//   statement_timeout_seconds = 30   # a statement waiting longer (a locked table) is
//                                    #   cancelled: kUnavailable, the batch kept nothing
//
// At start the mapping is checked against the live schema (table, every
// column and its type, the role's rights); anything wrong stops the server
// with one line naming the store, the config key and the column.
//
// Columns the mapping does not name are never written: an UPDATE sets only
// mapped columns, an INSERT leaves the others to their defaults.
//
// What a device sends that no column holds is kept per item in the side
// table `<schema>.conflux_item_extra` (table, item key, the leftovers as a
// vCard, a VCALENDAR or a Record of the columns the mapping lacks;
// contact_row.h, event_row.h and record_row.h say what goes there), created
// at start, so the device gets it back on its next sync.
//
// Changes: a caf::RevisionTracker (<data_dir>/postgresql-<store>.db) lists
// every row of the user (key -> revision) and works out creates, updates and
// deletes (the key set). The revision is an md5 over the mapped columns,
// child rows and kept leftovers, or `modified_column` with the leftovers'
// md5 when that is configured. The tracker lists once per sync session and
// keeps the vCards it read by revision (costly_listing). Changes by other programs are pushed
// (kCapChangeNotify) when the change-log triggers are installed: see
// pg_change_listener.h; without them the Back End Monitor's poll finds them.
//
// Logins: `login = "service"` uses the role of `connection` for everyone;
// `login = "per-user"` checks each user's password by connecting as the
// PostgreSQL role of that name (a refusal is a refused login for this store)
// and runs that user's session calls on that connection, so the database's
// own grants and row policies apply.
//
// Writes: the tracker's apply() batch runs in one transaction
// (PgTable::in_one_transaction) through statements prepared once per
// connection, a savepoint per item so that one failing item fails alone.
//
// Threading: any method from any thread; the tracker serialises the item
// calls of the store.
#pragma once

#include <chrono>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "adapters/postgresql/contact_row.h"
#include "adapters/postgresql/event_row.h"
#include "adapters/postgresql/record_row.h"
#include "caf/backend_registry.h"
#include "caf/content_adapter.h"
#include "caf/revision_tracker.h"
#include "caf/typed_adapter_factory.h"
#include "common/pg_db.h"

namespace conflux::adapters {

// The store section (PostgresqlAdapterFactory::parse); tracker_file and
// script_file are named when the adapter is made.
struct PgTableConfig {
  std::string store;       // the datastore's name, for messages
  std::string connection;  // libpq connection string or URI (the service role)
  std::string table;       // as configured: "crm.customers"
  std::string key;
  std::string owner;
  std::string owner_table, owner_table_key, owner_table_user;               // all or none: the owner via a join
  std::map<std::string, std::string> fields;                                // field name -> column
  std::string child_table, child_key, child_kind, child_type, child_value;  // all or none
  bool soft_delete = false;
  std::string deleted_column, deleted_value;
  std::string modified_column;
  bool install_triggers = false;
  std::chrono::milliseconds statement_timeout{30'000};  // 0: no limit
  data::VCardVersion version = data::VCardVersion::k30;
  std::string content_type;     // text/vcard, text/x-vcard: contacts; text/calendar, text/x-vcalendar: events;
                                // application/vnd.conflux.record+json: Records
  std::string content_version;  // of the items written to devices ("3.0", "2.0" ...)
  std::string tracker_file;     // absolute path of the RevisionTracker state
  std::string script_file;      // where the trigger SQL is written when not installed
};

// The table, as the live schema showed it at start.
struct PgTableShape {
  std::string schema;           // of the mapped table, which also gets the side tables
  std::string qualified;        // "crm"."customers", quoted
  std::string name;             // crm.customers, as triggers name it (TG_TABLE_SCHEMA.TG_TABLE_NAME)
  std::string owner_table;      // quoted; empty when the owner column holds the user name
  std::string child_qualified;  // quoted; empty without a child table
  std::string child_name;
  std::string extra_table;               // quoted "<schema>"."conflux_item_extra"
  std::string changelog_table;           // quoted "<schema>"."conflux_changelog"
  std::set<std::string> instant_fields;  // timestamp fields whose column is a timestamptz
  // Records only: the mapped columns in the table's column order, with the
  // kind their type gives, and the key's kind (kText when not an integer).
  std::vector<RecordField> record_fields;
  ColumnKind key_kind = ColumnKind::kText;
  bool key_has_default = false;  // the database picks new keys
  // The key is compared in its own type, so that its index serves a row's
  // statements: a text type or an integer. Other types are compared as text.
  bool key_typed = false;
  int64_t key_integer_max = 0;  // an integer key's largest value (int2, int4, int8); 0 otherwise
  bool triggers_present = false;
};

// The rows of one table: the primitives caf::RevisionTracker works with.
class PgTable final : public caf::TrackedBackend {
 public:
  PgTable(const PgTableConfig& config, PgTableShape shape, std::shared_ptr<PgDb> service);

  // The connection a user's calls run on: their own while a per-user session
  // holds one (set_session), else the service role's.
  void set_session(const UserId& user, std::shared_ptr<PgDb> db);
  void end_session(const UserId& user);

  // caf::TrackedBackend
  Result<std::map<std::string, std::string>> list(const caf::StoreRef& store) override;
  Result<std::string> read(const caf::StoreRef& store, const std::string& id) override;
  Result<std::string> write(const caf::StoreRef& store, const std::string& id, std::string_view raw,
                            WriteMode mode) override;
  Status remove(const caf::StoreRef& store, const std::string& id) override;
  // Reads the rows in queries of 500 and keeps them for the read() calls that follow.
  void prefetch(const caf::StoreRef& store, const std::vector<std::string>& ids) override;
  bool picks_ids() const override { return shape_.key_has_default; }
  bool costly_listing() const override { return true; }
  // One transaction for the batch's writes, through prepared statements; an
  // item that fails is rolled back to its savepoint and fails alone. A lost
  // connection, a deadlock or a failed COMMIT fails the whole batch (PgDb
  // retries the first two by running the batch again).
  Status in_one_transaction(const caf::StoreRef& store, const std::function<Status()>& write_all) override;
  Result<std::pair<std::string, std::string>> create_with_own_id(const caf::StoreRef& store,
                                                                 std::string_view raw) override;

  const PgTableShape& shape() const { return shape_; }
  // Declares the table's statements on `db` (the service role's, or a user's own).
  void prepare_on(PgDb& db) const;

 private:
  std::shared_ptr<PgDb> db_for(const UserId& user);
  // False for an id no row can have (not a number, for an integer key): such an id names no row.
  bool could_be_key(const std::string& id) const;
  // A row about to change is read afresh.
  void forget_prefetched(const UserId& user, const std::string& id);
  // The vCards of those of `ids` that are rows of the user, in one transaction.
  Result<std::map<std::string, std::string>> read_many(const caf::StoreRef& store, const std::vector<std::string>& ids);
  // Writes a new row (key empty: the database picks it) or replaces one;
  // returns its key and revision.
  Result<std::pair<std::string, std::string>> store_row(const caf::StoreRef& store, const std::string& key,
                                                        std::string_view raw, WriteMode mode);
  Result<std::string> revision_of(pqxx::transaction_base& txn, const std::string& key);
  // The statements (pgt_*), made once from the mapping.
  void build_statements();
  // Runs `work` on the user's batch transaction under a savepoint while
  // in_one_transaction() holds one, else in a transaction of its own.
  template <typename Work>
  auto run(const caf::StoreRef& store, const std::string& what, Work&& work)
      -> std::invoke_result_t<Work&, pqxx::transaction_base&>;
  // "t.<owner> = <slot>", or through the owner table: the rows of the user named by the parameter `slot`.
  std::string owner_match(const std::string& slot) const;
  // A mapped field's column as the row mapping spells it (ColumnKind), and back.
  std::string read_expression(const std::string& field) const;
  std::string write_expression(const std::string& field, const std::string& slot) const;

  const PgTableConfig config_;
  const PgTableShape shape_;
  const std::shared_ptr<PgDb> service_;
  std::vector<std::string> mapped_;      // field names with a column, in the mapping's fields() order
  std::unique_ptr<RowMapping> mapping_;  // contacts, events or Records, by the store's content type
  std::string revision_sql_;             // md5(...) or modified || md5(extra), over t and x
  std::string live_filter_;              // "" or " AND t.<deleted> IS DISTINCT FROM '<value>'"

  std::vector<std::pair<std::string, std::string>> statements_;  // name, SQL

  struct Batch {
    UserId user;
    pqxx::dbtransaction* txn;
    std::exception_ptr failure;  // what ended the transaction: rethrown to PgDb::transact
  };

  std::mutex mutex_;
  std::optional<Batch> batch_;                        // guarded by mutex_; set during in_one_transaction()
  std::map<UserId, std::shared_ptr<PgDb>> sessions_;  // guarded by mutex_
  std::map<std::pair<UserId, std::string>, std::string> prefetched_;  // guarded by mutex_; (user, id) -> vCard
};

class PostgresqlAdapter final : public caf::ContentAdapter {
 public:
  // Connects, checks the mapping against the schema, creates the side
  // table, installs (or writes out) the triggers and opens the tracker.
  static Result<std::shared_ptr<PostgresqlAdapter>> open(const PgTableConfig& config,
                                                         const caf::StoreSettings& settings);

  // caf::ContentAdapter
  // kCapOwnAccounts only with login = "per-user" (the service role is in
  // `connection`, not a service_user); kCapChangeNotify when the triggers are there.
  caf::AdapterCaps caps() const override;
  // Connects as the role named like the user with their password (per-user
  // login). A digest login cannot be checked by PostgreSQL: kUnauthenticated.
  Status verify_credentials(const std::string& database, const caf::Credentials& creds) override;
  // Per-user: opens the user's own connection for the session's calls.
  Status begin_connect(const UserId& user, const caf::Credentials* credentials) override;
  void end_connect(const UserId& user) override;
  Result<Anchor> current_anchor(const caf::StoreRef& store) override;
  Result<caf::ChangeSet> changes_since(const caf::StoreRef& store, const Anchor& since) override;
  // One transaction per batch, a savepoint per item (PgTable::in_one_transaction).
  std::vector<caf::ApplyResult> apply(const caf::StoreRef& store, std::vector<caf::SyncObj>&& batch) override;
  Result<std::vector<caf::SyncObj>> search(const caf::StoreRef& store, const caf::Query& query) override;
  // "count": number of rows of the user. "rescan": lists now, output the
  // number of changes by other programs found. Others: kUnimplemented.
  Result<caf::ExecResult> execute(const caf::StoreRef& store, const caf::Command& command) override;
  // LISTENs for the change-log triggers' NOTIFY (pg_change_listener.h).
  Result<std::unique_ptr<caf::ChangeSubscription>> watch_changes(const std::string& database,
                                                                 caf::ChangeCallback on_change) override;

 private:
  PostgresqlAdapter(PgTableConfig config, std::unique_ptr<PgTable> table, bool per_user);

  const PgTableConfig config_;
  const bool per_user_;                   // login = "per-user": the back end's accounts (PostgreSQL roles) count
  const std::unique_ptr<PgTable> table_;  // before tracker_, which uses it
  std::unique_ptr<caf::RevisionTracker> tracker_;  // set once by open()
};

// The SQL that installs the change-log table, its trigger function and the
// triggers on the mapped table (and child table); run by Conflux with
// install_triggers = true, else by the table's owner by hand. `service_role`
// is granted what the listener needs.
std::string change_log_sql(const PgTableConfig& config, const PgTableShape& shape, const std::string& service_role);

// Adapter kind "postgresql"; keys as in the header comment.
class PostgresqlAdapterFactory final : public caf::TypedAdapterFactory<PgTableConfig> {
 public:
  static constexpr const char* kKind = "postgresql";

  std::string kind() const override { return kKind; }

 protected:
  Result<caf::OptionKeys> keys(const caf::StoreSettings& settings) const override;
  // field_<name> names a field of the content type; the child_* and the
  // owner_table* keys come all or none; soft delete with its column and value.
  Result<PgTableConfig> read(const caf::CheckedOptions& options, const caf::StoreSettings& settings) const override;
  Result<std::shared_ptr<caf::ContentAdapter>> make(PgTableConfig config, const caf::StoreSettings& settings,
                                                    const caf::AdapterEnv& env) override;
};

}  // namespace conflux::adapters
