#include "notify/outbox.h"

namespace conflux::notify {

Result<std::unique_ptr<Outbox>> open_outbox(const std::shared_ptr<SqliteDb>& sqlite, const std::shared_ptr<PgDb>& pg) {
  if (pg) return open_pg_outbox(pg);
  return open_sqlite_outbox(sqlite);
}

}  // namespace conflux::notify
