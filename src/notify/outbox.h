// Outbox: the persistent queue of notifications still to send, kept in the
// state database (conflux.db, or the PostgreSQL database several servers
// share), so a restart loses none and each message is sent by one server.
//
// A message is claimed with a lease (owner = [storage] node_id, until = now +
// lease): a claim takes only messages that are due, not dead, and whose lease
// is free, expired or the caller's; on PostgreSQL the claim skips rows
// another server's claim is locking (FOR UPDATE SKIP LOCKED), so servers
// never wait on each other. A server that dies mid-send leaves its lease to
// expire and another sends the message again, with the same id (receivers
// deduplicate on it). delivered() removes a message, failed() schedules the
// next attempt or makes it a dead letter; both only while the lease is the
// caller's (kAborted when it was lost).
//
// Two kinds of message share the table: webhook events (enqueue, claim_due;
// retried, then dead letters) and devices' pending Server Alerted
// Notifications (queue_alert, claim_due_alerts; san_push.h), which wait for
// their debounce in the database, so a node killed inside the window loses
// none and with several servers one sends each.
//
// Threading: any method from any thread. Failures: kUnavailable when the
// database cannot be reached (retry later), kInternal otherwise.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/pg_db.h"
#include "common/sqlite_db.h"
#include "common/status.h"

namespace conflux::notify {

struct OutboxMessage {
  std::string id;      // unique; a webhook's webhook-id, the same on every attempt
  std::string target;  // the [[webhooks]] subscription's name
  std::string body;    // what is sent, exactly
  int64_t created_at = 0;
  int attempts = 0;  // failed attempts so far
  int64_t next_attempt_at = 0;
  std::string last_error;
  bool dead = false;  // the last retry failed too
};

class Outbox {
 public:
  virtual ~Outbox() = default;

  // Adds every message in one transaction, due at once.
  virtual Status enqueue(const std::vector<OutboxMessage>& messages) = 0;
  // Claims up to `limit` due webhook messages for `node` until now +
  // lease_seconds, oldest first.
  virtual Result<std::vector<OutboxMessage>> claim_due(const std::string& node, int64_t now, int64_t lease_seconds,
                                                       int limit) = 0;

  // A device's alert (`target` names the device) for `datastore`, not before
  // `due`. Coalesced while it waits: one message per target and datastore
  // (a later change moves its time), and every waiting alert of the target
  // moves to `due`, so a burst over several datastores is sent as one.
  virtual Status queue_alert(const std::string& target, const std::string& datastore, int64_t due, int64_t now) = 0;
  // As claim_due, for alerts; a message's body is its datastore.
  virtual Result<std::vector<OutboxMessage>> claim_due_alerts(const std::string& node, int64_t now,
                                                              int64_t lease_seconds, int limit) = 0;
  virtual Status delivered(const OutboxMessage& message, const std::string& node) = 0;
  // One more failed attempt: due again at next_attempt_at, or dead.
  virtual Status failed(const OutboxMessage& message, const std::string& node, int64_t next_attempt_at, bool dead,
                        const std::string& error) = 0;
  // Webhook dead letters, oldest first.
  virtual Result<std::vector<OutboxMessage>> dead_letters() = 0;
  // Makes dead letter `id` (empty: every dead letter) due at `now` with a
  // fresh retry schedule. Returns how many; kNotFound for an unknown id.
  virtual Result<int> retry(const std::string& id, int64_t now) = 0;
  // Webhook messages waiting (not dead) and the creation time of the oldest
  // (0: none).
  struct Backlog {
    int64_t waiting = 0;
    int64_t oldest_created_at = 0;
    int64_t dead = 0;
  };
  virtual Result<Backlog> backlog() = 0;
};

// Module "notify"'s tables in `db`, brought up to date.
Result<std::unique_ptr<Outbox>> open_sqlite_outbox(std::shared_ptr<SqliteDb> db);
Result<std::unique_ptr<Outbox>> open_pg_outbox(std::shared_ptr<PgDb> db);

// The outbox in the state database the configuration chose: `pg` when it is
// set, else `sqlite` (tables of module "notify" in either).
Result<std::unique_ptr<Outbox>> open_outbox(const std::shared_ptr<SqliteDb>& sqlite, const std::shared_ptr<PgDb>& pg);

}  // namespace conflux::notify
