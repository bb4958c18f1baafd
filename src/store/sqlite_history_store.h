// The item history (caf/item_history.h) in the state database (conflux.db),
// beside the user's anchors, maps and conflicts: table item_versions (and
// history_horizons, where purges by count leave gaps), schema module
// "history".
#pragma once

#include <memory>

#include "caf/item_history.h"
#include "common/sqlite_db.h"

namespace conflux::store {

class SqliteHistoryStore final : public caf::HistoryStore {
 public:
  // Brings the schema up to date; kFailedPrecondition for a newer schema.
  static Result<std::unique_ptr<SqliteHistoryStore>> open(std::shared_ptr<SqliteDb> db);

  Status record(const std::vector<caf::ItemVersion>& versions) override;
  Result<std::set<std::string>> known(const UserId& user, const std::string& database,
                                      const std::vector<Guid>& guids) override;
  Result<std::vector<caf::ItemVersion>> versions(const UserId& user, const std::string& database,
                                                 const std::optional<Guid>& guid) override;
  Result<int64_t> purge(const std::string& database, int64_t before, int max_versions) override;
  Result<int64_t> whole_from(const UserId& user, const std::string& database) override;

 private:
  explicit SqliteHistoryStore(std::shared_ptr<SqliteDb> db) : db_(std::move(db)) {}
  const std::shared_ptr<SqliteDb> db_;
};

}  // namespace conflux::store
