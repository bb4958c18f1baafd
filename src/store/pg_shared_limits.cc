#include "store/pg_shared_limits.h"

#include <utility>
#include <vector>

namespace conflux::store {
namespace {

// Append new steps; never edit a released one.
const std::vector<std::string>& limits_migrations() {
  static const std::vector<std::string> steps = {
      "CREATE TABLE limits("
      "  kind TEXT NOT NULL, key TEXT NOT NULL,"
      "  count BIGINT NOT NULL, level DOUBLE PRECISION NOT NULL, at BIGINT NOT NULL, until BIGINT NOT NULL,"
      "  PRIMARY KEY(kind, key));"
      "CREATE INDEX limits_at ON limits(at);",
  };
  return steps;
}

engine::LimitRecord record_of(const pqxx::row& row) {
  return engine::LimitRecord{row[0].as<int64_t>(), row[1].as<double>(), row[2].as<int64_t>(), row[3].as<int64_t>()};
}

}  // namespace

Result<std::unique_ptr<PgSharedLimits>> PgSharedLimits::open(std::shared_ptr<PgDb> db) {
  if (!db) return Status::invalid_argument("PgSharedLimits: no database");
  CFX_RETURN_IF_ERROR(db->migrate("limits", limits_migrations()));
  db->prepare("limits_read", "SELECT count, level, at, until FROM limits WHERE kind = $1 AND key = $2");
  // The empty row first, so the one that follows has something to lock even
  // when two servers make the record at once.
  db->prepare("limits_make",
              "INSERT INTO limits(kind, key, count, level, at, until) VALUES ($1, $2, 0, 0, 0, 0)"
              " ON CONFLICT(kind, key) DO NOTHING RETURNING 1");
  db->prepare("limits_lock", "SELECT count, level, at, until FROM limits WHERE kind = $1 AND key = $2 FOR UPDATE");
  db->prepare("limits_write",
              "UPDATE limits SET count = $3, level = $4, at = $5, until = $6 WHERE kind = $1 AND key = $2");
  db->prepare("limits_remove", "DELETE FROM limits WHERE kind = $1 AND key = $2");
  db->prepare("limits_expire", "DELETE FROM limits WHERE at < $1 AND until < $1");
  return std::unique_ptr<PgSharedLimits>(new PgSharedLimits(std::move(db)));
}

Result<std::optional<engine::LimitRecord>> PgSharedLimits::read(const std::string& kind, const std::string& key) {
  return db_->transact("read limit", [&](pqxx::work& txn) -> Result<std::optional<engine::LimitRecord>> {
    const pqxx::result rows = txn.exec_prepared("limits_read", kind, key);
    if (rows.empty()) return std::optional<engine::LimitRecord>();
    return std::optional<engine::LimitRecord>(record_of(rows[0]));
  });
}

Status PgSharedLimits::update(const std::string& kind, const std::string& key, const Change& change) {
  return db_->transact("update limit", [&](pqxx::work& txn) {
    const bool made = !txn.exec_prepared("limits_make", kind, key).empty();
    const pqxx::result rows = txn.exec_prepared("limits_lock", kind, key);
    std::optional<engine::LimitRecord> before;
    if (!made && !rows.empty()) before = record_of(rows[0]);
    const std::optional<engine::LimitRecord> after = change(before);
    if (!after) {
      txn.exec_prepared("limits_remove", kind, key);
    } else {
      txn.exec_prepared("limits_write", kind, key, after->count, after->level, after->at, after->until);
    }
    return Status::ok();
  });
}

Result<int> PgSharedLimits::expire(int64_t before) {
  return db_->transact("expire limits", [&](pqxx::work& txn) -> Result<int> {
    return static_cast<int>(txn.exec_prepared("limits_expire", before).affected_rows());
  });
}

}  // namespace conflux::store
