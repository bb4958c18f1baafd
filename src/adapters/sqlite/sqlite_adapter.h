// The embedded default back end: items of every user and datastore in one
// SQLite file (<data_dir>/items.db unless the store's `file` option says
// otherwise). Registered as adapter kind "sqlite".
//
// Model: each item is a row keyed (user, database, guid) carrying the
// revision it was last written at. Revisions come from one sequence per file,
// so they strictly increase across every user and datastore of the file; an
// anchor is the decimal text of a revision. A delete keeps a tombstone row
// (deleted = 1, data cleared, new revision) so changes_since can report it,
// until an administrator purges tombstones.
//
// Isolation: every query is bound to StoreRef::user and StoreRef::database;
// a StoreRef with either empty is refused with kInvalidArgument before any
// SQL runs. (The CAF checks tokens too; this is the second wall.)
//
// Threading: any method from any thread. Adapters sharing a file share one
// SqliteDb, which serialises them; a batch is one IMMEDIATE transaction, so
// other nodes on the same file wait (up to the 5 s busy timeout, then
// kUnavailable).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "caf/backend_accounts.h"
#include "caf/backend_registry.h"
#include "caf/content_adapter.h"
#include "caf/item_table.h"
#include "caf/typed_adapter_factory.h"
#include "common/sqlite_db.h"

namespace conflux::adapters {

// The store section (SqliteAdapterFactory::parse); paths as written until
// SqliteAdapterFactory::resolve makes them absolute.
struct SqliteAdapterConfig {
  std::string file;           // the items database
  std::string accounts_file;  // caf::BackendAccounts of this back end; empty: Conflux's accounts
};

class SqliteAdapter final : public caf::ContentAdapter {
 public:
  // Brings the "adapter.sqlite" tables of `db` up to date. `settings` supplies
  // the store name (for the log) and the content type given to items that
  // arrive without one.
  // `accounts_file`: see SqliteAdapterConfig.
  static Result<std::shared_ptr<SqliteAdapter>> open(std::shared_ptr<SqliteDb> db, const caf::StoreSettings& settings,
                                                     std::string accounts_file = {});

  // caf::ContentAdapter
  caf::AdapterCaps caps() const override;
  // With `accounts_file`: checks the file (kCapOwnAccounts). Without:
  // kUnimplemented, this back end trusts Conflux's own accounts.
  Status verify_credentials(const std::string& database, const caf::Credentials& creds) override;
  // Nothing to connect to in an embedded file; with own accounts the login
  // is checked.
  Status begin_connect(const UserId& user, const caf::Credentials* credentials) override;
  // The highest revision written for (user, database), tombstones included;
  // "0" when there is none.
  Result<Anchor> current_anchor(const caf::StoreRef& store) override;
  // `since` must be empty or an anchor of this back end (kInvalidArgument
  // otherwise). Creates and updates carry user, database, content type, raw
  // and their revision as anchor; kCreate when the item was created after
  // `since`, else kUpdate. Deletes carry only the guid (and revision).
  Result<caf::ChangeSet> changes_since(const caf::StoreRef& store, const Anchor& since) override;
  // One transaction per batch. A create keeps the guid it carries when no row
  // (live or tombstone) has it, else gets a fresh random one. An update of an
  // unknown or deleted guid fails that item alone with kNotFound; a delete of
  // one is kAlreadyDeleted. Items naming another user or database than
  // `store` fail with kInvalidArgument. Each written item's result carries
  // its new revision as anchor (a delete's too: its tombstone's). When the
  // transaction itself cannot begin or commit, every item gets that error.
  std::vector<caf::ApplyResult> apply(const caf::StoreRef& store, std::vector<caf::SyncObj>&& batch) override;
  // Live items only, oldest revision first (in the order of `guids` when
  // guids are given; unknown guids are skipped). `contains` matches bytes of
  // the raw item.
  Result<std::vector<caf::SyncObj>> search(const caf::StoreRef& store, const caf::Query& query) override;
  // "count": number of live items. "purge-tombstones" (arg "before": a
  // revision, required): removes tombstones written before it, except the
  // one holding the current anchor, so the anchor never goes back; output is
  // how many rows went. Others: kUnimplemented.
  Result<caf::ExecResult> execute(const caf::StoreRef& store, const caf::Command& command) override;

  const std::string& file() const { return db_->path(); }

 private:
  SqliteAdapter(std::shared_ptr<SqliteDb> db, const caf::StoreSettings& settings, std::string accounts_file);

  const std::shared_ptr<SqliteDb> db_;
  const caf::ItemTable items_;  // over *db_
  const std::optional<caf::BackendAccounts> accounts_;
  const std::string store_name_;            // for the log
  const std::string default_content_type_;  // settings.content_type
};

// Adapter kind "sqlite". Options: `file` (optional, default "items.db";
// relative paths are relative to the data directory), `accounts_file`
// (optional, see caf/backend_accounts.h). Stores naming the same
// file share one connection, kept here while any adapter uses it.
class SqliteAdapterFactory final : public caf::TypedAdapterFactory<SqliteAdapterConfig> {
 public:
  static constexpr const char* kKind = "sqlite";
  static constexpr const char* kDefaultFile = "items.db";

  std::string kind() const override { return kKind; }

  // `config` with both paths made absolute against env.data_dir.
  static Result<SqliteAdapterConfig> resolve(SqliteAdapterConfig config, const caf::StoreSettings& settings,
                                             const caf::AdapterEnv& env);

 protected:
  Result<caf::OptionKeys> keys(const caf::StoreSettings& settings) const override;
  Result<SqliteAdapterConfig> read(const caf::CheckedOptions& options,
                                   const caf::StoreSettings& settings) const override;
  // Creates the file's parent directories and opens (or reuses) the file.
  Result<std::shared_ptr<caf::ContentAdapter>> make(SqliteAdapterConfig config, const caf::StoreSettings& settings,
                                                    const caf::AdapterEnv& env) override;

 private:
  std::mutex mutex_;
  std::map<std::string, std::weak_ptr<SqliteDb>> open_files_;  // guarded by mutex_; key: normalised path
};

}  // namespace conflux::adapters
