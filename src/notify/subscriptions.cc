#include "notify/subscriptions.h"

#include <openssl/rand.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <utility>

#include "common/base64.h"
#include "notify/schema.h"

namespace conflux::notify {
namespace {

// The datastores column: a JSON array of names.
std::string datastores_text(const std::vector<std::string>& datastores) { return nlohmann::json(datastores).dump(); }

std::vector<std::string> datastores_from(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  std::vector<std::string> out;
  if (!j.is_array()) return out;
  for (const auto& name : j) {
    if (name.is_string()) out.push_back(name.get<std::string>());
  }
  return out;
}

constexpr const char* kColumns = "id, user_name, datastores, url, secret, created_at";

UserSubscription from_sqlite(const SqliteStatement& st) {
  return {st.column_text(0), st.column_text(1), datastores_from(st.column_text(2)),
          st.column_text(3), st.column_text(4), st.column_int64(5)};
}

class SqliteSubscriptions final : public SubscriptionStore {
 public:
  explicit SqliteSubscriptions(std::shared_ptr<SqliteDb> db) : db_(std::move(db)) {}

  Status add(const UserSubscription& s) override {
    auto st = db_->prepare(
        "INSERT INTO webhook_subscriptions(id, user_name, datastores, url, secret, created_at)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    if (!st) return st.error().with_context("subscription add");
    st->bind(1, s.id).bind(2, s.user).bind(3, datastores_text(s.datastores)).bind(4, s.url).bind(5, s.secret);
    st->bind(6, s.created_at);
    return st->run().status().with_context("subscription add");
  }

  Result<std::vector<UserSubscription>> of_user(const std::string& user) override {
    auto st = db_->prepare(std::string("SELECT ") + kColumns +
                           " FROM webhook_subscriptions WHERE user_name = ?1 ORDER BY seq");
    if (!st) return st.error().with_context("subscriptions of user");
    st->bind(1, user);
    std::vector<UserSubscription> out;
    for (;;) {
      auto row = st->step();
      if (!row) return row.error().with_context("subscriptions of user");
      if (!*row) return out;
      out.push_back(from_sqlite(*st));
    }
  }

  Result<std::optional<UserSubscription>> find(const std::string& id) override {
    auto st = db_->prepare(std::string("SELECT ") + kColumns + " FROM webhook_subscriptions WHERE id = ?1");
    if (!st) return st.error().with_context("subscription find");
    st->bind(1, id);
    auto row = st->step();
    if (!row) return row.error().with_context("subscription find");
    if (!*row) return std::optional<UserSubscription>();
    return std::optional<UserSubscription>(from_sqlite(*st));
  }

  Result<bool> remove(const std::string& user, const std::string& id) override {
    auto st = db_->prepare("DELETE FROM webhook_subscriptions WHERE id = ?1 AND user_name = ?2");
    if (!st) return st.error().with_context("subscription remove");
    st->bind(1, id).bind(2, user);
    auto changed = st->run();
    if (!changed) return changed.error().with_context("subscription remove");
    return *changed > 0;
  }

 private:
  const std::shared_ptr<SqliteDb> db_;
};

#define SUBSCRIPTION_COLUMNS "id, user_name, datastores, url, secret, created_at"

UserSubscription from_pg(const pqxx::row& row) {
  return {row[0].c_str(), row[1].c_str(), datastores_from(row[2].c_str()),
          row[3].c_str(), row[4].c_str(), row[5].as<int64_t>()};
}

class PgSubscriptions final : public SubscriptionStore {
 public:
  explicit PgSubscriptions(std::shared_ptr<PgDb> db) : db_(std::move(db)) {}

  Status add(const UserSubscription& s) override {
    return db_->transact("subscription add", [&](pqxx::work& txn) {
      txn.exec_prepared("subscription_add", s.id, s.user, datastores_text(s.datastores), s.url, s.secret, s.created_at);
      return Status::ok();
    });
  }

  Result<std::vector<UserSubscription>> of_user(const std::string& user) override {
    return db_->transact("subscriptions of user", [&](pqxx::work& txn) -> Result<std::vector<UserSubscription>> {
      std::vector<UserSubscription> out;
      for (const auto& row : txn.exec_prepared("subscriptions_of_user", user)) out.push_back(from_pg(row));
      return out;
    });
  }

  Result<std::optional<UserSubscription>> find(const std::string& id) override {
    return db_->transact("subscription find", [&](pqxx::work& txn) -> Result<std::optional<UserSubscription>> {
      const pqxx::result rows = txn.exec_prepared("subscription_find", id);
      if (rows.empty()) return std::optional<UserSubscription>();
      return std::optional<UserSubscription>(from_pg(rows[0]));
    });
  }

  Result<bool> remove(const std::string& user, const std::string& id) override {
    return db_->transact("subscription remove", [&](pqxx::work& txn) -> Result<bool> {
      return txn.exec_prepared("subscription_remove", id, user).affected_rows() > 0;
    });
  }

 private:
  const std::shared_ptr<PgDb> db_;
};

}  // namespace

bool UserSubscription::covers(const std::string& event_user, const std::string& datastore) const {
  return event_user == user && std::find(datastores.begin(), datastores.end(), datastore) != datastores.end();
}

std::string new_subscription_id() { return "ws_" + random_hex(16); }

std::string new_subscription_secret() {
  unsigned char key[32];
  if (RAND_bytes(key, sizeof key) != 1) std::abort();  // no randomness: no secret may be made
  return "whsec_" + base64_encode(std::string_view(reinterpret_cast<const char*>(key), sizeof key));
}

Result<std::unique_ptr<SubscriptionStore>> open_subscriptions(const std::shared_ptr<SqliteDb>& sqlite,
                                                              const std::shared_ptr<PgDb>& pg) {
  if (pg) {
    CFX_RETURN_IF_ERROR(pg->migrate("notify", pg_schema()));
    pg->prepare("subscription_add",
                "INSERT INTO webhook_subscriptions(id, user_name, datastores, url, secret, created_at)"
                " VALUES ($1, $2, $3, $4, $5, $6)");
    pg->prepare("subscriptions_of_user",
                "SELECT " SUBSCRIPTION_COLUMNS " FROM webhook_subscriptions WHERE user_name = $1 ORDER BY seq");
    pg->prepare("subscription_find", "SELECT " SUBSCRIPTION_COLUMNS " FROM webhook_subscriptions WHERE id = $1");
    pg->prepare("subscription_remove", "DELETE FROM webhook_subscriptions WHERE id = $1 AND user_name = $2");
    return std::unique_ptr<SubscriptionStore>(new PgSubscriptions(pg));
  }
  if (!sqlite) return Status::invalid_argument("subscriptions: no database");
  CFX_RETURN_IF_ERROR(sqlite->migrate("notify", sqlite_schema()));
  return std::unique_ptr<SubscriptionStore>(new SqliteSubscriptions(sqlite));
}

}  // namespace conflux::notify
