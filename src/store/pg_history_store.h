// The item history (caf/item_history.h) in PostgreSQL, beside the state of
// PgStateStore when `[storage] database` names one: the same tables and
// contracts as SqliteHistoryStore (item_versions, history_horizons; schema
// module "history"), so every node records into and restores from one
// history.
//
// Threading: any thread; each call is one transaction on a pooled
// connection (common/pg_db.h). Failures: kUnavailable when PostgreSQL cannot
// be reached (nothing of the call was written), kInternal otherwise.
#pragma once

#include <memory>

#include "caf/item_history.h"
#include "common/pg_db.h"

namespace conflux::store {

class PgHistoryStore final : public caf::HistoryStore {
 public:
  // Brings module "history"'s tables in `db` up to date.
  static Result<std::unique_ptr<PgHistoryStore>> open(std::shared_ptr<PgDb> db);

  Status record(const std::vector<caf::ItemVersion>& versions) override;
  Result<std::set<std::string>> known(const UserId& user, const std::string& database,
                                      const std::vector<Guid>& guids) override;
  Result<std::vector<caf::ItemVersion>> versions(const UserId& user, const std::string& database,
                                                 const std::optional<Guid>& guid) override;
  Result<int64_t> purge(const std::string& database, int64_t before, int max_versions) override;
  Result<int64_t> whole_from(const UserId& user, const std::string& database) override;

 private:
  explicit PgHistoryStore(std::shared_ptr<PgDb> db) : db_(std::move(db)) {}
  const std::shared_ptr<PgDb> db_;
};

}  // namespace conflux::store
