// PgChangeListener: the postgresql back end's change notifications
// (caf::kCapChangeNotify), fed by the change-log triggers
// (change_log_sql()): every INSERT, UPDATE and DELETE on the mapped table
// (and its child table) adds a row (table, key, owner, op, xid) to
// <schema>.conflux_changelog and NOTIFYs channel "conflux_changes".
//
// The NOTIFY is only a wake-up: it is lost while nobody listens, and it
// carries no position. What changed is read from the change log, and
// without the commit-order trap (DAV-PG-REFERENCE §B1): a row's position
// is the id of the transaction that wrote it (pg_current_xact_id()), and the
// listener reads only rows below the snapshot's xmin — every transaction
// below it has ended, so no row can still appear there later. After a read
// its position is that xmin: the next read takes [old xmin, new xmin), which
// misses nothing and repeats nothing, whatever order transactions committed
// in. Rows of transactions still open are taken once xmin has passed them:
// while any wait, the listener looks again each second without a NOTIFY.
//
// Limit: xmin is the cluster's, so one long transaction anywhere holds every
// push back until it ends (the Back End Monitor's poll still runs). Rows
// older than 7 days are pruned at connection and hourly.
//
// Safety net: on every (re)connection — start, or after the database was
// gone — the listener first calls back with "any user" (a catch-up scan by
// the Back End Monitor finds what happened meanwhile), then starts at the
// current xmin. The Back End Monitor's poll stays as well.
//
// The callback gets the owner of each changed row (both owners when an
// UPDATE moved a row), "any user" for a child-table row.
//
// Threading: one thread of its own listens and calls back; the destructor
// stops and joins it (within about a second).
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "caf/content_adapter.h"

namespace conflux::adapters {

class PgChangeListener final : public caf::ChangeSubscription {
 public:
  // `tables`: the names the triggers log (schema.table), one or two.
  // `owner_name`: SQL giving the user name from a log row `l` ("l.owner",
  // or a lookup in the owner table when the owner column holds its key).
  static std::unique_ptr<PgChangeListener> start(std::string store, std::string connection, std::string changelog_table,
                                                 std::vector<std::string> tables, std::string owner_name,
                                                 caf::ChangeCallback on_change);
  PgChangeListener(const PgChangeListener&) = delete;
  PgChangeListener& operator=(const PgChangeListener&) = delete;
  ~PgChangeListener() override;

  static constexpr const char* kChannel = "conflux_changes";

 private:
  PgChangeListener(std::string store, std::string connection, std::string changelog_table,
                   std::vector<std::string> tables, std::string owner_name, caf::ChangeCallback on_change);
  void run();
  // One connection's life: LISTEN, catch up, read the log on every wake-up.
  // Returns when stopping or when the connection fails (throws then).
  void listen_once();

  const std::string store_;
  const std::string connection_;
  const std::string changelog_table_;
  const std::vector<std::string> tables_;
  const std::string owner_name_;
  const caf::ChangeCallback on_change_;

  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::condition_variable stop_;
  std::thread thread_;  // last: started when everything above is set
};

}  // namespace conflux::adapters
