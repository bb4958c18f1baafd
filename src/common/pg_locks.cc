#include "common/pg_locks.h"

#include <algorithm>
#include <thread>

namespace conflux {
namespace {

int32_t space_id(PgLocks::Space space) { return static_cast<int32_t>(space); }

}  // namespace

PgLocks::PgLocks(std::shared_ptr<PgDb> db) : db_(std::move(db)) {}

PgLocks::~PgLocks() = default;

Status PgLocks::connect_locked() {
  if (conn_ && conn_->is_open()) return Status::ok();
  drop_connection_locked();
  auto conn = db_->connect_outside_pool();
  if (!conn) return conn.error().with_context("advisory locks");
  conn_ = std::move(*conn);
  return Status::ok();
}

void PgLocks::drop_connection_locked() {
  conn_.reset();
  held_.clear();
}

Result<bool> PgLocks::try_lock(Space space, const std::string& name) {
  std::lock_guard guard(mutex_);
  if (held_.contains({space, name}) && conn_ && conn_->is_open()) return true;
  CFX_RETURN_IF_ERROR(connect_locked());
  try {
    pqxx::nontransaction txn(*conn_);
    const bool got =
        txn.exec_params1("SELECT pg_try_advisory_lock($1, hashtext($2))", space_id(space), name)[0].as<bool>();
    if (got) held_.insert({space, name});
    return got;
  } catch (const std::exception& e) {
    drop_connection_locked();
    return Status::unavailable(std::string("advisory lock on ") + name + ": " + e.what());
  }
}

Status PgLocks::lock(Space space, const std::string& name, std::chrono::milliseconds wait) {
  const auto deadline = std::chrono::steady_clock::now() + wait;
  // Short first pauses: a message of the same session usually ends soon.
  std::chrono::milliseconds pause{10};
  for (;;) {
    auto got = try_lock(space, name);
    if (!got) return got.error();
    if (*got) return Status::ok();
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      return Status::unavailable(name + " is busy on another server for longer than " + std::to_string(wait.count()) +
                                 " ms");
    }
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(pause, deadline - now));
    pause = std::min(pause * 2, std::chrono::milliseconds(200));
  }
}

void PgLocks::unlock(Space space, const std::string& name) {
  std::lock_guard guard(mutex_);
  if (held_.erase({space, name}) == 0 || !conn_) return;
  try {
    pqxx::nontransaction txn(*conn_);
    txn.exec_params("SELECT pg_advisory_unlock($1, hashtext($2))", space_id(space), name);
  } catch (const std::exception&) {
    drop_connection_locked();  // the locks went with the connection
  }
}

Result<bool> PgLocks::holds(Space space, const std::string& name) {
  std::lock_guard guard(mutex_);
  if (!held_.contains({space, name})) return false;
  if (!conn_ || !conn_->is_open()) {
    drop_connection_locked();
    return false;
  }
  try {
    pqxx::nontransaction txn(*conn_);
    // A two-key advisory lock is (classid, objid, objsubid 2) in pg_locks.
    const bool held = txn.exec_params1(
                             "SELECT count(*) > 0 FROM pg_locks WHERE locktype = 'advisory' AND granted"
                             " AND pid = pg_backend_pid() AND classid = $1::int4::oid"
                             " AND objid = hashtext($2)::oid AND objsubid = 2",
                             space_id(space), name)[0]
                          .as<bool>();
    if (!held) held_.erase({space, name});
    return held;
  } catch (const std::exception& e) {
    drop_connection_locked();
    return Status::unavailable(std::string("advisory lock on ") + name + ": " + e.what());
  }
}

}  // namespace conflux
