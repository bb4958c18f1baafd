#include "adapters/sqlite/sqlite_adapter.h"

#include <sodium.h>

#include <filesystem>
#include <set>
#include <utility>

#include "common/base64.h"
#include "common/log.h"

namespace conflux::adapters {
namespace {

namespace fs = std::filesystem;

constexpr int kGuidAttempts = 8;  // a 64-bit random guid colliding twice is already absurd

// Schema of module "adapter.sqlite". Append new steps; never edit a released one.
const std::vector<std::string>& adapter_migrations() {
  static const std::vector<std::string> steps = {
      // 1: initial schema. `created` is the revision the item was created at,
      // so changes_since can tell a create from an update. `seq` holds the
      // last revision handed out in this file (one row).
      "CREATE TABLE items("
      "  user TEXT NOT NULL, database TEXT NOT NULL, guid TEXT NOT NULL,"
      "  revision INTEGER NOT NULL, created INTEGER NOT NULL,"
      "  deleted INTEGER NOT NULL DEFAULT 0,"
      "  content_type TEXT NOT NULL DEFAULT '',"
      "  data BLOB,"
      "  PRIMARY KEY(user, database, guid));"
      "CREATE INDEX items_by_revision ON items(user, database, revision);" +
          std::string(caf::kRevisionSequenceSchema),
  };
  return steps;
}

void ensure_sodium() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (sodium_init() < 0) logger("adapter.sqlite")->error("sodium_init failed");
  });
}

Status check_scope(const caf::StoreRef& store) {
  if (store.user.empty()) return Status::invalid_argument("sqlite adapter: call without a user");
  if (store.database.empty()) return Status::invalid_argument("sqlite adapter: call without a database");
  return Status::ok();
}

using caf::parse_revision;
using caf::revision_anchor;

// The parts the columns of this adapter's items table play.
constexpr caf::ItemColumns kItemParts{.key = "guid", .revision = "revision", .deleted_at = ""};

// The writes of one apply() batch, inside its transaction. Revisions are
// taken from `next_revision` and the sequence row is written back once at
// the end (finish()).
class BatchWriter {
 public:
  BatchWriter(SqliteDb& db, const caf::ItemTable& items, const caf::StoreRef& store,
              const std::string& default_content_type)
      : db_(db), items_(items), store_(store), default_content_type_(default_content_type) {}

  Status start() {
    auto st = db_.prepare("SELECT value FROM seq WHERE id = 1");
    if (!st) return st.error();
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) return Status::internal("sqlite adapter: sequence row missing");
    last_revision_ = first_last_ = st->column_int64(0);
    return Status::ok();
  }

  // Writes the sequence back when revisions were handed out.
  Status finish() {
    if (last_revision_ == first_last_) return Status::ok();
    auto st = db_.prepare("UPDATE seq SET value = ?1 WHERE id = 1");
    if (!st) return st.error();
    st->bind(1, last_revision_);
    return st->run().status();
  }

  caf::ApplyResult apply(caf::SyncObj& obj) {
    caf::ApplyResult result;
    result.guid = obj.guid;
    if ((!obj.user.empty() && obj.user != store_.user) || (!obj.database.empty() && obj.database != store_.database)) {
      result.status = Status::invalid_argument("item names another user or datastore than the call");
      return result;
    }
    switch (obj.action) {
      case caf::Action::kCreate: create(obj, result); break;
      case caf::Action::kUpdate: update(obj, result); break;
      case caf::Action::kDelete: remove(obj, result); break;
      default: result.status = Status::invalid_argument("unknown action"); break;
    }
    return result;
  }

 private:
  void create(caf::SyncObj& obj, caf::ApplyResult& result) {
    std::string guid = obj.guid.str();
    // A guid is never reused, not even a tombstone's.
    bool usable = false;
    for (int attempt = 0; !usable && attempt <= kGuidAttempts; ++attempt) {
      if (attempt > 0) guid = random_hex(8);
      if (guid.empty()) continue;  // none wanted: random ones only
      auto taken = items_.has_row(store_, guid);
      if (!taken) {
        result.status = taken.error();
        return;
      }
      usable = !*taken;
    }
    if (!usable) {
      result.status =
          Status::internal("sqlite adapter: no unused guid after " + std::to_string(kGuidAttempts) + " attempts");
      return;
    }
    const int64_t revision = last_revision_ + 1;
    auto written = items_.insert(store_, guid, revision,
                                 obj.content_type.empty() ? default_content_type_ : obj.content_type, obj.raw);
    if (!written) {
      result.status = written.error();
      return;
    }
    last_revision_ = revision;
    result.outcome = caf::ApplyOutcome::kCreated;
    result.guid = Guid(guid);
    result.anchor = revision_anchor(revision);
  }

  void update(caf::SyncObj& obj, caf::ApplyResult& result) {
    if (obj.guid.empty()) {
      result.status = Status::invalid_argument("update without a guid");
      return;
    }
    const int64_t revision = last_revision_ + 1;
    auto changed = items_.update(store_, obj.guid.str(), revision, obj.content_type, obj.raw);
    if (!changed) {
      result.status = changed.error();
      return;
    }
    if (*changed == 0) {
      result.status = Status::not_found("no item " + obj.guid.str());
      return;
    }
    last_revision_ = revision;
    result.outcome = caf::ApplyOutcome::kUpdated;
    result.anchor = revision_anchor(revision);
  }

  void remove(caf::SyncObj& obj, caf::ApplyResult& result) {
    if (obj.guid.empty()) {
      result.status = Status::invalid_argument("delete without a guid");
      return;
    }
    const int64_t revision = last_revision_ + 1;
    auto changed = items_.remove(store_, obj.guid.str(), revision);
    if (!changed) {
      result.status = changed.error();
      return;
    }
    if (*changed == 0) {
      result.outcome = caf::ApplyOutcome::kAlreadyDeleted;
      return;
    }
    last_revision_ = revision;
    result.outcome = caf::ApplyOutcome::kDeleted;
    result.anchor = revision_anchor(revision);
  }

  SqliteDb& db_;
  const caf::ItemTable& items_;
  const caf::StoreRef& store_;
  const std::string& default_content_type_;
  int64_t first_last_ = 0;     // seq value when the batch began
  int64_t last_revision_ = 0;  // last revision handed out so far
};

std::vector<caf::ApplyResult> fail_all(size_t n, const Status& status) {
  std::vector<caf::ApplyResult> results(n);
  for (auto& r : results) r.status = status;
  return results;
}

}  // namespace

// ---------------------------------------------------------------------------
// SqliteAdapter

SqliteAdapter::SqliteAdapter(std::shared_ptr<SqliteDb> db, const caf::StoreSettings& settings,
                             std::string accounts_file)
    : db_(std::move(db)),
      items_(*db_, kItemParts),
      accounts_(accounts_file.empty() ? std::nullopt
                                      : std::make_optional<caf::BackendAccounts>(std::move(accounts_file))),
      store_name_(settings.name),
      default_content_type_(settings.content_type) {}

Result<std::shared_ptr<SqliteAdapter>> SqliteAdapter::open(std::shared_ptr<SqliteDb> db,
                                                           const caf::StoreSettings& settings,
                                                           std::string accounts_file) {
  if (!db) return Status::invalid_argument("sqlite adapter: no database");
  ensure_sodium();
  CFX_RETURN_IF_ERROR(db->migrate("adapter.sqlite", adapter_migrations()));
  return std::shared_ptr<SqliteAdapter>(new SqliteAdapter(std::move(db), settings, std::move(accounts_file)));
}

caf::AdapterCaps SqliteAdapter::caps() const {
  return caf::kCapTombstones | caf::kCapSearch | (accounts_ ? caf::kCapOwnAccounts : caf::kCapNone);
}

Status SqliteAdapter::verify_credentials(const std::string& database, const caf::Credentials& creds) {
  if (!accounts_) return Status::unimplemented("sqlite adapter: accounts are Conflux's own");
  return accounts_->verify(creds);
}

Status SqliteAdapter::begin_connect(const UserId& user, const caf::Credentials* credentials) {
  if (accounts_ && credentials) return accounts_->verify(*credentials);
  return Status::ok();
}

Result<Anchor> SqliteAdapter::current_anchor(const caf::StoreRef& store) {
  CFX_RETURN_IF_ERROR(check_scope(store));
  auto max = items_.max_revision(store);
  if (!max) return max.error().with_context("sqlite current_anchor");
  return revision_anchor(*max);
}

Result<caf::ChangeSet> SqliteAdapter::changes_since(const caf::StoreRef& store, const Anchor& since) {
  CFX_RETURN_IF_ERROR(check_scope(store));
  std::optional<int64_t> since_revision;
  if (!since.empty()) {
    since_revision = parse_revision(since.str());
    if (!since_revision) {
      return Status::invalid_argument("sqlite changes_since: '" + since.str() + "' is not an anchor of this back end");
    }
  }
  caf::ChangeSet set;
  auto max = items_.changes_since(store, since_revision, items_.change_columns(), [&](const SqliteStatement& row) {
    set.changes.push_back(caf::ItemTable::change_from_row(row, store, since_revision.value_or(0)));
  });
  if (!max) return max.error().with_context("sqlite changes_since");
  set.anchor = revision_anchor(*max);
  return set;
}

std::vector<caf::ApplyResult> SqliteAdapter::apply(const caf::StoreRef& store, std::vector<caf::SyncObj>&& batch) {
  if (Status scope = check_scope(store); !scope.is_ok()) return fail_all(batch.size(), scope);
  if (batch.empty()) return {};
  auto log = logger("adapter.sqlite");

  auto tx = db_->transaction();
  if (!tx) {
    log->warn("store '{}' user '{}': batch of {} not applied: {}", store.database, store.user.str(), batch.size(),
              tx.error().to_string());
    return fail_all(batch.size(), tx.error().with_context("sqlite apply"));
  }
  BatchWriter writer(*db_, items_, store, default_content_type_);
  if (Status started = writer.start(); !started.is_ok()) {
    return fail_all(batch.size(), started.with_context("sqlite apply"));
  }
  std::vector<caf::ApplyResult> results;
  results.reserve(batch.size());
  size_t failed = 0;
  for (auto& obj : batch) {
    results.push_back(writer.apply(obj));
    if (!results.back().status.is_ok()) {
      ++failed;
      // Some errors (disk full, I/O) make SQLite roll the whole transaction
      // back: then nothing of the batch stands, and every item must say so.
      if (!tx->active()) {
        Status lost = results.back().status.with_context("sqlite apply: batch rolled back");
        log->warn("store '{}' user '{}': {}", store.database, store.user.str(), lost.to_string());
        return fail_all(batch.size(), lost);
      }
    }
  }
  Status committed = writer.finish();
  if (committed.is_ok()) committed = tx->commit();
  if (!committed.is_ok()) {
    Status lost = committed.with_context("sqlite apply");
    log->warn("store '{}' user '{}': batch of {} not applied: {}", store.database, store.user.str(), batch.size(),
              lost.to_string());
    return fail_all(batch.size(), lost);
  }
  log->debug("store '{}' user '{}': applied {} items, {} failed", store.database, store.user.str(), batch.size(),
             failed);
  return results;
}

Result<std::vector<caf::SyncObj>> SqliteAdapter::search(const caf::StoreRef& store, const caf::Query& query) {
  CFX_RETURN_IF_ERROR(check_scope(store));
  std::vector<caf::SyncObj> found;
  CFX_RETURN_IF_ERROR(
      items_
          .search(store, query, items_.change_columns(!query.metadata_only),
                  [&](const SqliteStatement& row) { found.push_back(caf::ItemTable::change_from_row(row, store, 0)); })
          .with_context("sqlite search"));
  return found;
}

Result<caf::ExecResult> SqliteAdapter::execute(const caf::StoreRef& store, const caf::Command& command) {
  CFX_RETURN_IF_ERROR(check_scope(store));
  auto refuse_args = [&](const std::set<std::string>& allowed) -> Status {
    for (const auto& [key, _] : command.args) {
      if (!allowed.count(key)) {
        return Status::invalid_argument("sqlite " + command.name + ": unknown argument '" + key + "'");
      }
    }
    return Status::ok();
  };

  if (command.name == "count") {
    CFX_RETURN_IF_ERROR(refuse_args({}));
    auto count = items_.live_count(store);
    if (!count) return count.error().with_context("sqlite count");
    return caf::ExecResult{std::to_string(*count)};
  }

  if (command.name == "purge-tombstones") {
    CFX_RETURN_IF_ERROR(refuse_args({"before"}));
    auto arg = command.args.find("before");
    if (arg == command.args.end())
      return Status::invalid_argument("sqlite purge-tombstones: argument 'before' missing");
    auto before = parse_revision(arg->second);
    if (!before) {
      return Status::invalid_argument("sqlite purge-tombstones: 'before' must be a revision, not '" + arg->second +
                                      "'");
    }
    // The row at the highest revision stays even when it is a tombstone:
    // current_anchor must never go back.
    auto st = db_->prepare(
        "DELETE FROM items WHERE user = ?1 AND database = ?2 AND deleted = 1 AND revision < ?3"
        " AND revision < (SELECT max(revision) FROM items WHERE user = ?1 AND database = ?2)");
    if (!st) return st.error().with_context("sqlite purge-tombstones");
    st->bind(1, store.user.str()).bind(2, store.database).bind(3, *before);
    auto removed = st->run();
    if (!removed) return removed.error().with_context("sqlite purge-tombstones");
    logger("adapter.sqlite")
        ->info("store '{}' user '{}': purged {} tombstones before revision {}", store.database, store.user.str(),
               *removed, *before);
    return caf::ExecResult{std::to_string(*removed)};
  }

  return Status::unimplemented("sqlite adapter: unknown command '" + command.name + "'");
}

// ---------------------------------------------------------------------------
// SqliteAdapterFactory

Result<caf::OptionKeys> SqliteAdapterFactory::keys(const caf::StoreSettings&) const {
  return caf::OptionKeys{
      "adapter sqlite",
      {caf::non_empty_option("file", "the items database file").or_default(std::string(kDefaultFile)),
       caf::text_option("accounts_file", "the back end's own accounts file")}};
}

Result<SqliteAdapterConfig> SqliteAdapterFactory::read(const caf::CheckedOptions& options,
                                                       const caf::StoreSettings&) const {
  return SqliteAdapterConfig{options.text("file"), options.text("accounts_file")};
}

Result<SqliteAdapterConfig> SqliteAdapterFactory::resolve(SqliteAdapterConfig config,
                                                          const caf::StoreSettings& settings,
                                                          const caf::AdapterEnv& env) {
  fs::path file(config.file);
  if (file.is_relative()) file = fs::path(env.data_dir) / file;
  std::error_code ec;
  fs::path absolute = fs::absolute(file, ec);
  if (ec) {
    return Status::invalid_argument("stores." + settings.name + ".file: cannot resolve '" + file.string() +
                                    "': " + ec.message());
  }
  config.file = absolute.lexically_normal().string();
  config.accounts_file = caf::BackendAccounts::configured_path(config.accounts_file, env);
  return config;
}

Result<std::shared_ptr<caf::ContentAdapter>> SqliteAdapterFactory::make(SqliteAdapterConfig parsed,
                                                                        const caf::StoreSettings& settings,
                                                                        const caf::AdapterEnv& env) {
  auto config = resolve(std::move(parsed), settings, env);
  if (!config) return config.error();
  const fs::path file(config->file);
  std::error_code ec;
  fs::create_directories(file.parent_path(), ec);
  if (ec) {
    return Status::unavailable("stores." + settings.name + ".file: cannot create directory " +
                               file.parent_path().string() + ": " + ec.message());
  }
  // One connection per file, whatever the spelling of its path.
  fs::path canonical = fs::weakly_canonical(file, ec);
  const std::string key = ec ? file.string() : canonical.string();

  std::shared_ptr<SqliteDb> db;
  {
    std::lock_guard guard(mutex_);
    db = open_files_[key].lock();
    if (!db) {
      auto opened = SqliteDb::open(file.string());
      if (!opened) return opened.error().with_context("stores." + settings.name);
      db = std::move(*opened);
      open_files_[key] = db;
    }
    // Drop entries of files no adapter uses any more.
    std::erase_if(open_files_, [](const auto& entry) { return entry.second.expired(); });
  }
  auto adapter = SqliteAdapter::open(db, settings, config->accounts_file);
  if (!adapter) return adapter.error().with_context("stores." + settings.name);
  logger("adapter.sqlite")->info("store '{}' kept in {}", settings.name, file.string());
  return std::shared_ptr<caf::ContentAdapter>(std::move(*adapter));
}

}  // namespace conflux::adapters
