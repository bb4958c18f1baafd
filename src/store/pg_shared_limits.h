// PgSharedLimits: engine::SharedLimits in a PostgreSQL table (module
// "limits"), one row per (kind, key), updated under a row lock.
//
// Threading: any method from any thread, one transaction each (common/pg_db.h).
#pragma once

#include <memory>
#include <string>

#include "common/pg_db.h"
#include "engine/shared_limits.h"

namespace conflux::store {

class PgSharedLimits final : public engine::SharedLimits {
 public:
  // Brings module "limits"'s table in `db` up to date and returns the store.
  static Result<std::unique_ptr<PgSharedLimits>> open(std::shared_ptr<PgDb> db);

  Result<std::optional<engine::LimitRecord>> read(const std::string& kind, const std::string& key) override;
  Status update(const std::string& kind, const std::string& key, const Change& change) override;
  Result<int> expire(int64_t before) override;

 private:
  explicit PgSharedLimits(std::shared_ptr<PgDb> db) : db_(std::move(db)) {}

  const std::shared_ptr<PgDb> db_;
};

}  // namespace conflux::store
