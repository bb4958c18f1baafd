#include "adapters/postgresql/pg_change_listener.h"

#include <algorithm>
#include <chrono>
#include <set>

#include <pqxx/pqxx>

#include "common/log.h"

namespace conflux::adapters {

namespace {

// Counts wake-ups; their payload (the table) is not needed, the log says more.
class WakeUp final : public pqxx::notification_receiver {
 public:
  WakeUp(pqxx::connection_base& conn, const std::string& channel) : pqxx::notification_receiver(conn, channel) {}
  void operator()(const std::string& /*payload*/, int /*backend_pid*/) override { woken = true; }
  bool woken = false;
};

std::string one_line(std::string text) {
  std::replace(text.begin(), text.end(), '\n', ' ');
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

}  // namespace

std::unique_ptr<PgChangeListener> PgChangeListener::start(std::string store, std::string connection,
                                                          std::string changelog_table, std::vector<std::string> tables,
                                                          std::string owner_name, caf::ChangeCallback on_change) {
  return std::unique_ptr<PgChangeListener>(new PgChangeListener(std::move(store), std::move(connection),
                                                                std::move(changelog_table), std::move(tables),
                                                                std::move(owner_name), std::move(on_change)));
}

PgChangeListener::PgChangeListener(std::string store, std::string connection, std::string changelog_table,
                                   std::vector<std::string> tables, std::string owner_name,
                                   caf::ChangeCallback on_change)
    : store_(std::move(store)),
      connection_(std::move(connection)),
      changelog_table_(std::move(changelog_table)),
      tables_(std::move(tables)),
      owner_name_(std::move(owner_name)),
      on_change_(std::move(on_change)),
      thread_([this] { run(); }) {}

PgChangeListener::~PgChangeListener() {
  {
    std::lock_guard guard(mutex_);
    stopping_ = true;
  }
  stop_.notify_all();
  thread_.join();
}

void PgChangeListener::run() {
  auto log = logger("adapter.postgresql");
  bool reported = false;
  while (!stopping_) {
    try {
      listen_once();
      reported = false;
    } catch (const std::exception& e) {
      // Down: said once per outage; the catch-up at reconnection covers the gap.
      if (!reported) {
        log->warn("store '{}': change listener lost the database, retrying: {}", store_, one_line(e.what()));
        reported = true;
      }
    }
    std::unique_lock lock(mutex_);
    stop_.wait_for(lock, std::chrono::seconds(2), [&] { return stopping_.load(); });
  }
}

void PgChangeListener::listen_once() {
  pqxx::connection conn(connection_);
  WakeUp wake(conn, kChannel);  // LISTEN before the catch-up: nothing falls between
  // Each query in its own short nontransaction: libpqxx delivers no
  // notification while a transaction object is open on the connection.
  auto query = [&](const std::string& sql) {
    pqxx::nontransaction txn(conn);
    return txn.exec(sql);
  };
  std::string tables_in;
  for (const auto& t : tables_) tables_in += (tables_in.empty() ? "" : ", ") + conn.quote(t);
  const std::string xmin_now = "SELECT pg_snapshot_xmin(pg_current_snapshot())::text";
  // The log is only a wake-up aid (the catch-up scan covers a listener that
  // was away), so a week of it is plenty; pruned at connection and hourly.
  const std::string prune = "DELETE FROM " + changelog_table_ + " WHERE at < now() - interval '7 days'";
  query(prune);
  auto pruned_at = std::chrono::steady_clock::now();
  std::string position = query(xmin_now)[0][0].as<std::string>();
  logger("adapter.postgresql")
      ->info("store '{}': listening for changes of {} (change log {})", store_, tables_in, changelog_table_);
  on_change_(UserId());  // catch-up: whatever happened while nobody listened

  bool pending = false;
  while (!stopping_) {
    conn.await_notification(1, 0);
    if (std::chrono::steady_clock::now() - pruned_at > std::chrono::hours(1)) {
      query(prune);
      pruned_at = std::chrono::steady_clock::now();
    }
    if (!wake.woken && !pending) continue;
    wake.woken = false;
    const std::string horizon = query(xmin_now)[0][0].as<std::string>();
    const pqxx::result owners =
        query("SELECT DISTINCT " + owner_name_ + " FROM " + changelog_table_ + " l WHERE tbl IN (" + tables_in +
              ") AND xid >= " + conn.quote(position) + "::xid8 AND xid < " + conn.quote(horizon) + "::xid8");
    pending = query("SELECT EXISTS (SELECT 1 FROM " + changelog_table_ + " WHERE tbl IN (" + tables_in +
                    ") AND xid >= " + conn.quote(horizon) + "::xid8)")[0][0]
                  .as<bool>();
    position = horizon;
    for (const auto& row : owners) {
      on_change_(row[0].is_null() ? UserId() : UserId(row[0].as<std::string>()));
    }
  }
}

}  // namespace conflux::adapters
