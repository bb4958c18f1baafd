// The adapter conformance suite (adapters/conformance/) on every built-in
// adapter and on the C test plugin: one CTest entry per adapter and case,
// named "<adapter>/<case>". Adding an adapter is one Target class and one
// line in kTargets. The postgresql target is built into conformance_pg_test.
#include "adapters/conformance/conformance.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>

#include "adapters/plugin/plugin_adapter.h"
#include "adapters/sqlite/sqlite_adapter.h"
#include "adapters/vdir/vdir_adapter.h"
#include "common/digest.h"
#include "tests/common/temp_dir.h"
#ifdef CONFLUX_CONFORMANCE_POSTGRESQL
#include "adapters/postgresql/postgresql_adapter.h"
#include "tests/pg/pg_test_server.h"
#endif

namespace conflux::conformance {
namespace {

namespace fs = std::filesystem;

// The user the targets' back-end accounts know, and their password.
constexpr const char* kAccountUser = "conformance-bad-credentials";
constexpr const char* kAccountPassword = "right-password";

caf::StoreSettings contacts_store(const std::string& adapter) {
  caf::StoreSettings s;
  s.name = "contacts";
  s.adapter = adapter;
  s.content_type = "text/vcard";
  s.content_version = "3.0";
  return s;
}

// An accounts_file (caf/backend_accounts.h) holding kAccountUser.
[[maybe_unused]] std::string write_accounts(const std::string& dir) {
  const std::string path = dir + "/accounts";
  std::ofstream(path) << kAccountUser << ":" << md5_base64(std::string(kAccountUser) + ":" + kAccountPassword) << "\n";
  return path;
}

[[maybe_unused]] caf::Credentials account() {
  return caf::Credentials::with_password(UserId(kAccountUser), kAccountPassword);
}

// sqlite: down means another connection holds the write lock past the busy
// timeout, as a second node stuck in a transaction would.
class SqliteTarget final : public Target {
 public:
  explicit SqliteTarget(const std::string& dir) : dir_(dir), settings_(contacts_store("sqlite")) {
    settings_.options["file"] = dir + "/items.db";
    settings_.options["accounts_file"] = write_accounts(dir);
  }
  ~SqliteTarget() override { (void)bring_up(); }
  Result<std::shared_ptr<caf::ContentAdapter>> open() override { return factory_.create(settings_, {dir_}); }
  Status take_down() override {
    if (sqlite3_open(std::get<std::string>(settings_.options["file"]).c_str(), &locker_) != SQLITE_OK ||
        sqlite3_exec(locker_, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr) != SQLITE_OK) {
      return Status::internal(std::string("cannot lock the file: ") + sqlite3_errmsg(locker_));
    }
    return Status::ok();
  }
  Status bring_up() override {
    if (locker_ == nullptr) return Status::ok();
    sqlite3_exec(locker_, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(locker_);
    locker_ = nullptr;
    return Status::ok();
  }
  std::optional<caf::Credentials> good_credentials() override { return account(); }

 private:
  const std::string dir_;
  caf::StoreSettings settings_;
  adapters::SqliteAdapterFactory factory_;
  sqlite3* locker_ = nullptr;
};

// vdir: down means the root directory is gone (an unmounted share).
class VdirTarget final : public Target {
 public:
  explicit VdirTarget(const std::string& dir) : dir_(dir), settings_(contacts_store("vdir")) {
    fs::create_directories(dir + "/root");
    settings_.options["root"] = dir + "/root";
    settings_.options["accounts_file"] = write_accounts(dir);
  }
  Result<std::shared_ptr<caf::ContentAdapter>> open() override { return open_in(dir_ + "/main"); }
  Result<std::shared_ptr<caf::ContentAdapter>> open_other() override { return open_in(dir_ + "/other"); }
  Status take_down() override { return rename(dir_ + "/root", dir_ + "/root.unmounted"); }
  Status bring_up() override { return rename(dir_ + "/root.unmounted", dir_ + "/root"); }
  std::optional<caf::Credentials> good_credentials() override { return account(); }

 private:
  Result<std::shared_ptr<caf::ContentAdapter>> open_in(const std::string& data_dir) {
    fs::create_directories(data_dir);
    return factory_.create(settings_, {data_dir});
  }
  static Status rename(const std::string& from, const std::string& to) {
    std::error_code ec;
    fs::rename(from, to, ec);
    return ec ? Status::internal(ec.message()) : Status::ok();
  }
  const std::string dir_;
  caf::StoreSettings settings_;
  adapters::VdirAdapterFactory factory_;
};

#ifdef CONFLUX_CONFORMANCE_POSTGRESQL
// postgresql: a customers-like table in a fresh database of the binary's
// test server (tests/pg/pg_test_server), with the change-log triggers. Down
// means the database refuses connections and its sessions are ended, as
// when it is shut down for maintenance.
class PostgresqlTarget final : public Target {
 public:
  explicit PostgresqlTarget(const std::string& dir) : dir_(dir), settings_(contacts_store("postgresql")) {
    auto server = test::PgTestServer::shared();
    if (!server) {
      setup_ = server.error();
      return;
    }
    auto uri = (*server)->create_database();
    if (!uri) {
      setup_ = uri.error();
      return;
    }
    database_ =
        uri->substr(std::string("postgresql:///").size(), uri->find('?') - std::string("postgresql:///").size());
    admin_uri_ = (*server)->uri("postgres");
    try {
      pqxx::connection conn(*uri);
      pqxx::nontransaction(conn).exec(
          "CREATE TABLE people (id SERIAL PRIMARY KEY, owner TEXT NOT NULL, family TEXT, given TEXT,"
          " mobile TEXT, note TEXT, created TIMESTAMPTZ NOT NULL DEFAULT now())");
    } catch (const std::exception& e) {
      setup_ = Status::unavailable(e.what());
    }
    settings_.options = {{"connection", *uri},         {"table", "people"},        {"key", "id"},
                         {"owner", "owner"},           {"field_family", "family"}, {"field_given", "given"},
                         {"field_tel_cell", "mobile"}, {"field_note", "note"},     {"install_triggers", true}};
  }
  ~PostgresqlTarget() override { (void)bring_up(); }
  Result<std::shared_ptr<caf::ContentAdapter>> open() override { return open_in(dir_ + "/main"); }
  Result<std::shared_ptr<caf::ContentAdapter>> open_other() override { return open_in(dir_ + "/other"); }
  Status take_down() override {
    down_ = true;
    return admin("ALTER DATABASE " + database_ + " ALLOW_CONNECTIONS false",
                 "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + database_ + "'");
  }
  Status bring_up() override {
    if (!down_) return Status::ok();
    down_ = false;
    return admin("ALTER DATABASE " + database_ + " ALLOW_CONNECTIONS true", "SELECT 1");
  }

 private:
  Result<std::shared_ptr<caf::ContentAdapter>> open_in(const std::string& data_dir) {
    CFX_RETURN_IF_ERROR(setup_);
    fs::create_directories(data_dir);
    CFX_RETURN_IF_ERROR(factory_.validate(settings_));
    return factory_.create(settings_, {data_dir});
  }
  Status admin(const std::string& first, const std::string& second) {
    try {
      pqxx::connection conn(admin_uri_);
      pqxx::nontransaction txn(conn);
      txn.exec(first);
      txn.exec(second);
      return Status::ok();
    } catch (const std::exception& e) {
      return Status::internal(e.what());
    }
  }
  const std::string dir_;
  caf::StoreSettings settings_;
  adapters::PostgresqlAdapterFactory factory_;
  Status setup_;
  std::string database_, admin_uri_;
  bool down_ = false;
};
#endif

// A plugin built from tests/plugins/memory_plugin.c: down while its
// down_file exists.
class PluginTarget final : public Target {
 public:
  PluginTarget(const std::string& dir, const std::string& plugin) : dir_(dir), settings_(contacts_store("plugin")) {
    settings_.options["plugin"] = std::string(CONFLUX_TEST_PLUGIN_DIR) + "/" + plugin + ".so";
    settings_.options["down_file"] = dir + "/down";
  }
  Result<std::shared_ptr<caf::ContentAdapter>> open() override { return open_in(dir_ + "/main"); }
  Result<std::shared_ptr<caf::ContentAdapter>> open_other() override { return open_in(dir_ + "/other"); }
  Status take_down() override {
    std::ofstream(dir_ + "/down") << "down\n";
    return Status::ok();
  }
  Status bring_up() override {
    fs::remove(dir_ + "/down");
    return Status::ok();
  }
  std::optional<caf::Credentials> good_credentials() override { return account(); }

 private:
  Result<std::shared_ptr<caf::ContentAdapter>> open_in(const std::string& data_dir) {
    fs::create_directories(data_dir);
    if (auto st = factory_.validate(settings_); !st.is_ok()) return st;
    return factory_.create(settings_, {data_dir});
  }
  const std::string dir_;
  caf::StoreSettings settings_;
  adapters::PluginAdapterFactory factory_;
};

struct TargetKind {
  const char* name;
  std::function<std::unique_ptr<Target>(const std::string& dir)> make;
};

#ifdef CONFLUX_CONFORMANCE_POSTGRESQL
// Its own binary and one CTest entry (conformance_pg_test): one PostgreSQL
// server for every case.
const TargetKind kTargets[] = {
    {"postgresql", [](const std::string& dir) { return std::make_unique<PostgresqlTarget>(dir); }},
};
#else
const TargetKind kTargets[] = {
    {"sqlite", [](const std::string& dir) { return std::make_unique<SqliteTarget>(dir); }},
    {"vdir", [](const std::string& dir) { return std::make_unique<VdirTarget>(dir); }},
    {"memory_plugin", [](const std::string& dir) { return std::make_unique<PluginTarget>(dir, "memory_plugin"); }},
};
#endif

class Conformance : public ::testing::TestWithParam<std::tuple<size_t, size_t>> {};

TEST_P(Conformance, Passes) {
  const TargetKind& kind = kTargets[std::get<0>(GetParam())];
  const Case& c = cases()[std::get<1>(GetParam())];
  test::TempDir dir;
  auto target = kind.make(dir.path().string());
  const Verdict v = run_case(c, *target);
  EXPECT_NE(v.outcome, Outcome::kFailed) << kind.name << " fails " << c.name << ": " << v.detail;
  if (v.outcome == Outcome::kSkipped) std::cout << "skipped: " << v.detail << "\n";
}

INSTANTIATE_TEST_SUITE_P(EveryAdapter, Conformance,
                         ::testing::Combine(::testing::Range<size_t>(0, std::size(kTargets)),
                                            ::testing::Range<size_t>(0, cases().size())),
                         [](const auto& case_info) {
                           return std::string(kTargets[std::get<0>(case_info.param)].name) + "_" +
                                  cases()[std::get<1>(case_info.param)].name;
                         });

#ifndef CONFLUX_CONFORMANCE_POSTGRESQL
// The suite must tell a broken adapter from a good one, naming what it broke.
TEST(ConformanceOfABrokenPlugin, NamesTheCasesItFails) {
  test::TempDir dir;
  PluginTarget target(dir.path().string(), "broken_plugin");
  std::vector<std::string> failed;
  for (const auto& c : cases()) {
    if (run_case(c, target).outcome == Outcome::kFailed) failed.push_back(c.name);
  }
  EXPECT_EQ(failed, (std::vector<std::string>{"delete", "changes_since_anchor", "item_5mb"}));
}
#endif

}  // namespace
}  // namespace conflux::conformance
