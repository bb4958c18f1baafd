// The outbox in PostgreSQL (see outbox.h): several servers share it. A claim
// locks the due rows it takes with FOR UPDATE SKIP LOCKED (DAV-PG-REFERENCE
// §B2), so concurrent claims never wait on each other nor take one row twice;
// the lease then keeps the row the claimer's after the claim commits.
#include <utility>

#include "common/base64.h"
#include "notify/outbox.h"
#include "notify/schema.h"

namespace conflux::notify {

// Schema of module "notify" in PostgreSQL, the SQLite schema's twin. Append
// new steps; never edit a released one.
const std::vector<std::string>& pg_schema() {
  static const std::vector<std::string> steps = {
      // 1: webhook outbox
      "CREATE TABLE outbox("
      "  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
      "  id TEXT NOT NULL UNIQUE, target TEXT NOT NULL, body TEXT NOT NULL,"
      "  created_at BIGINT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
      "  next_attempt_at BIGINT NOT NULL, last_error TEXT NOT NULL DEFAULT '',"
      "  dead BOOLEAN NOT NULL DEFAULT FALSE,"
      "  lease_owner TEXT NOT NULL DEFAULT '', lease_until BIGINT NOT NULL DEFAULT 0);"
      "CREATE INDEX outbox_due ON outbox(dead, next_attempt_at);",
      // 2: users' webhook subscriptions (subscriptions.h)
      "CREATE TABLE webhook_subscriptions("
      "  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
      "  id TEXT NOT NULL UNIQUE, user_name TEXT NOT NULL, datastores TEXT NOT NULL,"
      "  url TEXT NOT NULL, secret TEXT NOT NULL, created_at BIGINT NOT NULL);"
      "CREATE INDEX webhook_subscriptions_user ON webhook_subscriptions(user_name);",
      // 3: devices' pending alerts in the outbox; one waiting per device and datastore
      "ALTER TABLE outbox ADD COLUMN kind TEXT NOT NULL DEFAULT 'webhook';"
      "CREATE UNIQUE INDEX outbox_waiting_alert ON outbox(target, body) WHERE kind = 'alert' AND lease_owner = '';",
  };
  return steps;
}

namespace {

#define OUTBOX_COLUMNS "id, target, body, created_at, attempts, next_attempt_at, last_error, dead"

const std::vector<std::pair<std::string, std::string>>& statements() {
  static const std::vector<std::pair<std::string, std::string>> list = {
      {"outbox_enqueue",
       "INSERT INTO outbox(id, target, body, created_at, next_attempt_at) VALUES ($1, $2, $3, $4, $4)"},
      {"outbox_claim",
       "UPDATE outbox SET lease_owner = $1, lease_until = $2 WHERE seq IN ("
       "  SELECT seq FROM outbox WHERE kind = $5 AND NOT dead AND next_attempt_at <= $3"
       "  AND (lease_owner = '' OR lease_owner = $1 OR lease_until <= $3)"
       "  ORDER BY seq LIMIT $4 FOR UPDATE SKIP LOCKED) RETURNING " OUTBOX_COLUMNS},
      {"outbox_queue_alert",
       "INSERT INTO outbox(id, target, body, created_at, next_attempt_at, kind) VALUES ($1, $2, $3, $4, $5, 'alert')"
       " ON CONFLICT(target, body) WHERE kind = 'alert' AND lease_owner = ''"
       " DO UPDATE SET next_attempt_at = excluded.next_attempt_at"},
      {"outbox_alert_burst",
       "UPDATE outbox SET next_attempt_at = $2 WHERE kind = 'alert' AND target = $1 AND lease_owner = ''"},
      {"outbox_delivered", "DELETE FROM outbox WHERE id = $1 AND lease_owner = $2"},
      {"outbox_failed",
       "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $3, dead = $4, last_error = $5,"
       " lease_owner = '', lease_until = 0 WHERE id = $1 AND lease_owner = $2"},
      {"outbox_dead", "SELECT " OUTBOX_COLUMNS " FROM outbox WHERE kind = 'webhook' AND dead ORDER BY seq"},
      {"outbox_retry",
       "UPDATE outbox SET dead = FALSE, attempts = 0, next_attempt_at = $2, lease_owner = '', lease_until = 0"
       " WHERE dead AND ($1 = '' OR id = $1)"},
      {"outbox_backlog",
       "SELECT COUNT(*) FILTER (WHERE NOT dead), COALESCE(MIN(created_at) FILTER (WHERE NOT dead), 0),"
       " COUNT(*) FILTER (WHERE dead) FROM outbox WHERE kind = 'webhook'"},
  };
  return list;
}

std::vector<OutboxMessage> messages_from(const pqxx::result& rows) {
  std::vector<OutboxMessage> out;
  for (const auto& row : rows) {
    OutboxMessage m;
    m.id = row[0].c_str();
    m.target = row[1].c_str();
    m.body = row[2].c_str();
    m.created_at = row[3].as<int64_t>();
    m.attempts = row[4].as<int>();
    m.next_attempt_at = row[5].as<int64_t>();
    m.last_error = row[6].c_str();
    m.dead = row[7].as<bool>();
    out.push_back(std::move(m));
  }
  return out;
}

class PgOutbox final : public Outbox {
 public:
  explicit PgOutbox(std::shared_ptr<PgDb> db) : db_(std::move(db)) {}

  Status enqueue(const std::vector<OutboxMessage>& messages) override {
    if (messages.empty()) return Status::ok();
    return db_->transact("outbox enqueue", [&](pqxx::work& txn) {
      for (const auto& m : messages) txn.exec_prepared("outbox_enqueue", m.id, m.target, m.body, m.created_at);
      return Status::ok();
    });
  }

  Result<std::vector<OutboxMessage>> claim_due(const std::string& node, int64_t now, int64_t lease_seconds,
                                               int limit) override {
    return db_->transact("outbox claim", [&](pqxx::work& txn) -> Result<std::vector<OutboxMessage>> {
      return messages_from(txn.exec_prepared("outbox_claim", node, now + lease_seconds, now, limit, "webhook"));
    });
  }

  Status queue_alert(const std::string& target, const std::string& datastore, int64_t due, int64_t now) override {
    const std::string id = "san_" + random_hex(16);
    return db_->transact("outbox queue alert", [&](pqxx::work& txn) {
      txn.exec_prepared("outbox_queue_alert", id, target, datastore, now, due);
      txn.exec_prepared("outbox_alert_burst", target, due);
      return Status::ok();
    });
  }

  Result<std::vector<OutboxMessage>> claim_due_alerts(const std::string& node, int64_t now, int64_t lease_seconds,
                                                      int limit) override {
    return db_->transact("outbox claim alerts", [&](pqxx::work& txn) -> Result<std::vector<OutboxMessage>> {
      return messages_from(txn.exec_prepared("outbox_claim", node, now + lease_seconds, now, limit, "alert"));
    });
  }

  Status delivered(const OutboxMessage& message, const std::string& node) override {
    return db_->transact("outbox delivered", [&](pqxx::work& txn) {
      if (txn.exec_prepared("outbox_delivered", message.id, node).affected_rows() == 0) {
        return Status::aborted("outbox: lease on message " + message.id + " lost");
      }
      return Status::ok();
    });
  }

  Status failed(const OutboxMessage& message, const std::string& node, int64_t next_attempt_at, bool dead,
                const std::string& error) override {
    return db_->transact("outbox failed", [&](pqxx::work& txn) {
      if (txn.exec_prepared("outbox_failed", message.id, node, next_attempt_at, dead, error).affected_rows() == 0) {
        return Status::aborted("outbox: lease on message " + message.id + " lost");
      }
      return Status::ok();
    });
  }

  Result<std::vector<OutboxMessage>> dead_letters() override {
    return db_->transact("outbox dead letters", [&](pqxx::work& txn) -> Result<std::vector<OutboxMessage>> {
      return messages_from(txn.exec_prepared("outbox_dead"));
    });
  }

  Result<int> retry(const std::string& id, int64_t now) override {
    return db_->transact("outbox retry", [&](pqxx::work& txn) -> Result<int> {
      const int changed = static_cast<int>(txn.exec_prepared("outbox_retry", id, now).affected_rows());
      if (changed == 0 && !id.empty()) return Status::not_found("no dead letter with id " + id);
      return changed;
    });
  }

  Result<Backlog> backlog() override {
    return db_->transact("outbox backlog", [&](pqxx::work& txn) -> Result<Backlog> {
      const pqxx::row row = txn.exec_prepared1("outbox_backlog");
      return Backlog{row[0].as<int64_t>(), row[1].as<int64_t>(), row[2].as<int64_t>()};
    });
  }

 private:
  const std::shared_ptr<PgDb> db_;
};

}  // namespace

Result<std::unique_ptr<Outbox>> open_pg_outbox(std::shared_ptr<PgDb> db) {
  if (!db) return Status::invalid_argument("outbox: no database");
  CFX_RETURN_IF_ERROR(db->migrate("notify", pg_schema()));
  for (const auto& [name, sql] : statements()) db->prepare(name, sql);
  return std::unique_ptr<Outbox>(new PgOutbox(std::move(db)));
}

}  // namespace conflux::notify
