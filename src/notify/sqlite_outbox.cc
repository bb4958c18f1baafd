// The outbox in conflux.db (see outbox.h). SQLite serialises writers, so one
// UPDATE ... RETURNING claims a batch atomically, also against other
// processes sharing the file.
#include <utility>

#include "common/base64.h"
#include "notify/outbox.h"
#include "notify/schema.h"

namespace conflux::notify {

// Schema of module "notify". Append new steps; never edit a released one.
const std::vector<std::string>& sqlite_schema() {
  static const std::vector<std::string> steps = {
      // 1: webhook outbox
      "CREATE TABLE outbox("
      "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
      "  id TEXT NOT NULL UNIQUE, target TEXT NOT NULL, body TEXT NOT NULL,"
      "  created_at INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
      "  next_attempt_at INTEGER NOT NULL, last_error TEXT NOT NULL DEFAULT '',"
      "  dead INTEGER NOT NULL DEFAULT 0,"
      "  lease_owner TEXT NOT NULL DEFAULT '', lease_until INTEGER NOT NULL DEFAULT 0);"
      "CREATE INDEX outbox_due ON outbox(dead, next_attempt_at);",
      // 2: users' webhook subscriptions (subscriptions.h)
      "CREATE TABLE webhook_subscriptions("
      "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
      "  id TEXT NOT NULL UNIQUE, user_name TEXT NOT NULL, datastores TEXT NOT NULL,"
      "  url TEXT NOT NULL, secret TEXT NOT NULL, created_at INTEGER NOT NULL);"
      "CREATE INDEX webhook_subscriptions_user ON webhook_subscriptions(user_name);",
      // 3: devices' pending alerts in the outbox; one waiting per device and datastore
      "ALTER TABLE outbox ADD COLUMN kind TEXT NOT NULL DEFAULT 'webhook';"
      "CREATE UNIQUE INDEX outbox_waiting_alert ON outbox(target, body) WHERE kind = 'alert' AND lease_owner = '';",
  };
  return steps;
}

namespace {

constexpr const char* kColumns = "id, target, body, created_at, attempts, next_attempt_at, last_error, dead";

OutboxMessage message_from_row(const SqliteStatement& st) {
  OutboxMessage m;
  m.id = st.column_text(0);
  m.target = st.column_text(1);
  m.body = st.column_text(2);
  m.created_at = st.column_int64(3);
  m.attempts = static_cast<int>(st.column_int64(4));
  m.next_attempt_at = st.column_int64(5);
  m.last_error = st.column_text(6);
  m.dead = st.column_int64(7) != 0;
  return m;
}

Result<std::vector<OutboxMessage>> all_rows(SqliteStatement& st) {
  std::vector<OutboxMessage> out;
  for (;;) {
    auto row = st.step();
    if (!row) return row.error();
    if (!*row) return out;
    out.push_back(message_from_row(st));
  }
}

class SqliteOutbox final : public Outbox {
 public:
  explicit SqliteOutbox(std::shared_ptr<SqliteDb> db) : db_(std::move(db)) {}

  Status enqueue(const std::vector<OutboxMessage>& messages) override {
    if (messages.empty()) return Status::ok();
    auto tx = db_->transaction();
    if (!tx) return tx.error().with_context("outbox enqueue");
    for (const auto& m : messages) {
      auto st =
          db_->prepare("INSERT INTO outbox(id, target, body, created_at, next_attempt_at) VALUES (?1, ?2, ?3, ?4, ?4)");
      if (!st) return st.error().with_context("outbox enqueue");
      st->bind(1, m.id).bind(2, m.target).bind(3, m.body).bind(4, m.created_at);
      CFX_RETURN_IF_ERROR(st->run().status().with_context("outbox enqueue"));
    }
    return tx->commit().with_context("outbox enqueue");
  }

  Result<std::vector<OutboxMessage>> claim_due(const std::string& node, int64_t now, int64_t lease_seconds,
                                               int limit) override {
    return claim("webhook", node, now, lease_seconds, limit);
  }

  Status queue_alert(const std::string& target, const std::string& datastore, int64_t due, int64_t now) override {
    auto tx = db_->transaction();
    if (!tx) return tx.error().with_context("outbox queue alert");
    auto insert = db_->prepare(
        "INSERT INTO outbox(id, target, body, created_at, next_attempt_at, kind) VALUES (?1, ?2, ?3, ?4, ?5, 'alert')"
        " ON CONFLICT(target, body) WHERE kind = 'alert' AND lease_owner = ''"
        " DO UPDATE SET next_attempt_at = excluded.next_attempt_at");
    if (!insert) return insert.error().with_context("outbox queue alert");
    insert->bind(1, "san_" + random_hex(16)).bind(2, target).bind(3, datastore).bind(4, now).bind(5, due);
    CFX_RETURN_IF_ERROR(insert->run().status().with_context("outbox queue alert"));
    auto burst = db_->prepare(
        "UPDATE outbox SET next_attempt_at = ?2 WHERE kind = 'alert' AND target = ?1 AND lease_owner = ''");
    if (!burst) return burst.error().with_context("outbox queue alert");
    burst->bind(1, target).bind(2, due);
    CFX_RETURN_IF_ERROR(burst->run().status().with_context("outbox queue alert"));
    return tx->commit().with_context("outbox queue alert");
  }

  Result<std::vector<OutboxMessage>> claim_due_alerts(const std::string& node, int64_t now, int64_t lease_seconds,
                                                      int limit) override {
    return claim("alert", node, now, lease_seconds, limit);
  }

  Status delivered(const OutboxMessage& message, const std::string& node) override {
    auto st = db_->prepare("DELETE FROM outbox WHERE id = ?1 AND lease_owner = ?2");
    if (!st) return st.error().with_context("outbox delivered");
    st->bind(1, message.id).bind(2, node);
    auto changed = st->run();
    if (!changed) return changed.error().with_context("outbox delivered");
    if (*changed == 0) return Status::aborted("outbox: lease on message " + message.id + " lost");
    return Status::ok();
  }

  Status failed(const OutboxMessage& message, const std::string& node, int64_t next_attempt_at, bool dead,
                const std::string& error) override {
    auto st = db_->prepare(
        "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?3, dead = ?4, last_error = ?5,"
        " lease_owner = '', lease_until = 0 WHERE id = ?1 AND lease_owner = ?2");
    if (!st) return st.error().with_context("outbox failed");
    st->bind(1, message.id).bind(2, node).bind(3, next_attempt_at).bind(4, dead).bind(5, error);
    auto changed = st->run();
    if (!changed) return changed.error().with_context("outbox failed");
    if (*changed == 0) return Status::aborted("outbox: lease on message " + message.id + " lost");
    return Status::ok();
  }

  Result<std::vector<OutboxMessage>> dead_letters() override {
    auto st = db_->prepare(std::string("SELECT ") + kColumns +
                           " FROM outbox WHERE kind = 'webhook' AND dead = 1 ORDER BY seq");
    if (!st) return st.error().with_context("outbox dead letters");
    return all_rows(*st);
  }

  Result<int> retry(const std::string& id, int64_t now) override {
    auto st = db_->prepare(
        "UPDATE outbox SET dead = 0, attempts = 0, next_attempt_at = ?2, lease_owner = '', lease_until = 0"
        " WHERE dead = 1 AND (?1 = '' OR id = ?1)");
    if (!st) return st.error().with_context("outbox retry");
    st->bind(1, id).bind(2, now);
    auto changed = st->run();
    if (!changed) return changed.error().with_context("outbox retry");
    if (*changed == 0 && !id.empty()) return Status::not_found("no dead letter with id " + id);
    return changed;
  }

  Result<Backlog> backlog() override {
    auto st = db_->prepare(
        "SELECT COUNT(*) FILTER (WHERE dead = 0), COALESCE(MIN(created_at) FILTER (WHERE dead = 0), 0),"
        " COUNT(*) FILTER (WHERE dead = 1) FROM outbox WHERE kind = 'webhook'");
    if (!st) return st.error().with_context("outbox backlog");
    auto row = st->step();
    if (!row) return row.error().with_context("outbox backlog");
    return Backlog{st->column_int64(0), st->column_int64(1), st->column_int64(2)};
  }

 private:
  // Claims due messages of `kind` ("webhook" or "alert"); see claim_due.
  Result<std::vector<OutboxMessage>> claim(const char* kind, const std::string& node, int64_t now,
                                           int64_t lease_seconds, int limit) {
    auto st = db_->prepare(std::string("UPDATE outbox SET lease_owner = ?1, lease_until = ?2 WHERE seq IN ("
                                       "  SELECT seq FROM outbox WHERE kind = ?5 AND dead = 0 AND next_attempt_at <= ?3"
                                       "  AND (lease_owner = '' OR lease_owner = ?1 OR lease_until <= ?3)"
                                       "  ORDER BY seq LIMIT ?4) RETURNING ") +
                           kColumns);
    if (!st) return st.error().with_context("outbox claim");
    st->bind(1, node).bind(2, now + lease_seconds).bind(3, now).bind(4, limit).bind(5, std::string(kind));
    auto rows = all_rows(*st);
    if (!rows) return rows.error().with_context("outbox claim");
    return rows;
  }

  const std::shared_ptr<SqliteDb> db_;
};

}  // namespace

Result<std::unique_ptr<Outbox>> open_sqlite_outbox(std::shared_ptr<SqliteDb> db) {
  if (!db) return Status::invalid_argument("outbox: no database");
  CFX_RETURN_IF_ERROR(db->migrate("notify", sqlite_schema()));
  return std::unique_ptr<Outbox>(new SqliteOutbox(std::move(db)));
}

}  // namespace conflux::notify
