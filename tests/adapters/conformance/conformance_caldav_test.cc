// The adapter conformance suite (adapters/conformance/) on the caldav
// adapter against a real Radicale 3.1.8 (Debian's python3-radicale), started
// by this test on a free loopback port with htpasswd logins and a temporary
// storage folder, as tests/integration/radicale.py starts it for the
// SyncEvolution tests. One Radicale serves every case (each case works as
// its own user, in its own address book); "backend_down" stops it and starts
// it again on the same port. An integration test (CTest label
// "integration"), not a unit test: it needs the Radicale package.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "adapters/caldav/caldav_adapter.h"
#include "adapters/caldav/dav_http.h"
#include "adapters/conformance/conformance.h"
#include "caf/adapter_wrapper.h"
#include "tests/common/temp_dir.h"

extern char** environ;

namespace conflux::conformance {
namespace {

namespace fs = std::filesystem;

constexpr const char* kService = "conflux";
constexpr const char* kServicePassword = "service-dav-pw";
// The user the suite's bad_credentials case logs in as, and their password.
constexpr const char* kAccountUser = "conformance-bad-credentials";
constexpr const char* kAccountPassword = "right-password";
constexpr const char* kCollection = "contacts";
// A guard against a Radicale that never comes up, not a performance bound.
constexpr auto kStartTimeout = std::chrono::seconds(120);

// The service account reads and writes every collection (it makes the
// users' address books); a user their own. Radicale's from_file rules, first
// match wins.
constexpr const char* kRights =
    "[service]\nuser: conflux\ncollection: .*\npermissions: RrWw\n\n"
    "[owner]\nuser: .+\ncollection: {user}(/.*)?\npermissions: RrWw\n\n"
    "[root]\nuser: .+\ncollection:\npermissions: R\n";

// One Radicale process; stop() and start() again keep its port.
class Radicale {
 public:
  explicit Radicale(fs::path root) : root_(std::move(root)) {
    fs::create_directories(root_ / "storage");
    std::ofstream(root_ / "users") << kService << ":" << kServicePassword << "\n"
                                   << kAccountUser << ":" << kAccountPassword << "\n";
    std::ofstream(root_ / "rights") << kRights;
  }
  ~Radicale() { stop(); }

  Status start() {
    const std::string host = "127.0.0.1:" + std::to_string(port_);
    const std::string storage = (root_ / "storage").string(), users = (root_ / "users").string(),
                      rights = (root_ / "rights").string(), log = (root_ / "radicale.log").string();
    std::vector<std::string> args = {"/usr/bin/python3",
                                     "-m",
                                     "radicale",
                                     "--config",
                                     "",
                                     "--server-hosts",
                                     host,
                                     "--storage-filesystem-folder",
                                     storage,
                                     "--auth-type",
                                     "htpasswd",
                                     "--auth-htpasswd-filename",
                                     users,
                                     "--auth-htpasswd-encryption",
                                     "plain",
                                     "--auth-delay",
                                     "0",
                                     "--rights-type",
                                     "from_file",
                                     "--rights-file",
                                     rights,
                                     "--web-type",
                                     "none",
                                     "--server-max-connections",
                                     "32",
                                     "--logging-level",
                                     "info"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const auto log_offset = fs::exists(log) ? fs::file_size(log) : 0;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    const int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) return Status::internal("cannot start Radicale: " + std::string(strerror(rc)));

    static const std::regex listening(R"(Listening on '\[127\.0\.0\.1\]:(\d+)')");
    const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
    for (;;) {
      std::ifstream in(log);
      in.seekg(static_cast<std::streamoff>(log_offset));
      std::stringstream text;
      text << in.rdbuf();
      std::smatch m;
      const std::string s = text.str();
      if (std::regex_search(s, m, listening) && s.find("Radicale server ready") != std::string::npos) {
        port_ = std::stoi(m[1]);
        return Status::ok();
      }
      int wstatus = 0;
      if (waitpid(pid_, &wstatus, WNOHANG) == pid_) {
        pid_ = 0;
        return Status::internal("Radicale exited: " + s.substr(s.size() > 2000 ? s.size() - 2000 : 0));
      }
      if (std::chrono::steady_clock::now() > deadline) {
        stop();
        return Status::internal("Radicale did not start: " + s);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

  void stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
    pid_ = 0;
  }

  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  const fs::path& root() const { return root_; }

 private:
  const fs::path root_;
  pid_t pid_ = 0;
  int port_ = 0;  // 0 until the first start: Radicale picks a free one
};

// The address book of every user the suite works as exists before the
// adapter sees the user, as an administrator (or the user's DAV client)
// would have made it: MKCOL of the principal, then an extended MKCOL
// (RFC 5689) of the address book, by the service account.
class ProvisioningAdapter final : public caf::AdapterWrapper {
 public:
  ProvisioningAdapter(std::shared_ptr<caf::ContentAdapter> base, std::string base_url)
      : AdapterWrapper(std::move(base)), base_url_(std::move(base_url)), http_(adapters::DavHttpOptions{}) {}

  Result<Anchor> current_anchor(const caf::StoreRef& store) override {
    CFX_RETURN_IF_ERROR(provision(store.user));
    return base().current_anchor(store);
  }
  Result<caf::ChangeSet> changes_since(const caf::StoreRef& store, const Anchor& since) override {
    CFX_RETURN_IF_ERROR(provision(store.user));
    return base().changes_since(store, since);
  }
  std::vector<caf::ApplyResult> apply(const caf::StoreRef& store, std::vector<caf::SyncObj>&& batch) override {
    if (Status st = provision(store.user); !st.is_ok()) {
      std::vector<caf::ApplyResult> failed(batch.size());
      for (auto& r : failed) r.status = st;
      return failed;
    }
    return base().apply(store, std::move(batch));
  }
  Result<std::vector<caf::SyncObj>> search(const caf::StoreRef& store, const caf::Query& query) override {
    CFX_RETURN_IF_ERROR(provision(store.user));
    return base().search(store, query);
  }

 private:
  Status provision(const UserId& user) {
    std::lock_guard lock(mutex_);
    if (done_.count(user.str())) return Status::ok();
    const adapters::DavLogin service{kService, kServicePassword};
    const std::string principal = base_url_ + "/" + user.str() + "/";
    auto r = http_.request("MKCOL", principal, service, {}, "");
    if (!r) return r.error();
    if (r->status != 201 && r->status != 405) return adapters::http_status_error("MKCOL " + principal, *r);
    const std::string body =
        "<?xml version=\"1.0\"?><D:mkcol xmlns:D=\"DAV:\" xmlns:C=\"urn:ietf:params:xml:ns:carddav\"><D:set>"
        "<D:prop><D:resourcetype><D:collection/><C:addressbook/></D:resourcetype></D:prop></D:set></D:mkcol>";
    r = http_.request("MKCOL", principal + kCollection + "/", service, {"Content-Type: application/xml; charset=utf-8"},
                      body);
    if (!r) return r.error();
    if (r->status != 201) return adapters::http_status_error("MKCOL " + principal + kCollection + "/", *r);
    done_.insert(user.str());
    return Status::ok();
  }

  const std::string base_url_;
  const adapters::DavHttp http_;
  std::mutex mutex_;
  std::set<std::string> done_;  // guarded by mutex_
};

Radicale* radicale = nullptr;  // started once for every case (RadicaleEnvironment)

class RadicaleEnvironment final : public ::testing::Environment {
 public:
  void SetUp() override {
    radicale = new Radicale(dir_.path() / "radicale");
    Status started = radicale->start();
    ASSERT_TRUE(started.is_ok()) << started.to_string();
  }
  void TearDown() override {
    delete radicale;
    radicale = nullptr;
  }

 private:
  test::TempDir dir_{"conflux-conformance-radicale"};
};

// caldav: a store at {base}/{user}/contacts/ with the service login; down
// means Radicale is stopped.
class CaldavTarget final : public Target {
 public:
  explicit CaldavTarget(const std::string& dir) : dir_(dir) {
    std::ofstream(dir + "/service.pw") << kServicePassword << "\n";
    settings_.name = "contacts";
    settings_.adapter = adapters::CaldavAdapterFactory::kKind;
    settings_.content_type = "text/vcard";
    settings_.content_version = "3.0";
    settings_.login = caf::BackendLogin::kService;
    settings_.service_user = kService;
    settings_.service_password_file = dir + "/service.pw";
    settings_.options["collection_url"] = radicale->base_url() + "/{user}/" + kCollection + "/";
    settings_.options["server_quirks"] = "radicale";
  }
  ~CaldavTarget() override { (void)bring_up(); }

  Result<std::shared_ptr<caf::ContentAdapter>> open() override { return open_in(dir_ + "/main"); }
  Result<std::shared_ptr<caf::ContentAdapter>> open_other() override { return open_in(dir_ + "/other"); }
  Status take_down() override {
    radicale->stop();
    down_ = true;
    return Status::ok();
  }
  Status bring_up() override {
    if (!down_) return Status::ok();
    down_ = false;
    return radicale->start();
  }
  std::optional<caf::Credentials> good_credentials() override {
    return caf::Credentials::with_password(UserId(kAccountUser), kAccountPassword);
  }

 private:
  Result<std::shared_ptr<caf::ContentAdapter>> open_in(const std::string& data_dir) {
    fs::create_directories(data_dir);
    CFX_RETURN_IF_ERROR(factory_.validate(settings_));
    auto adapter = factory_.create(settings_, {data_dir});
    if (!adapter) return adapter.error();
    return std::shared_ptr<caf::ContentAdapter>(
        std::make_shared<ProvisioningAdapter>(std::move(*adapter), radicale->base_url()));
  }

  const std::string dir_;
  caf::StoreSettings settings_;
  adapters::CaldavAdapterFactory factory_;
  bool down_ = false;
};

class CaldavConformance : public ::testing::TestWithParam<size_t> {};

TEST_P(CaldavConformance, Passes) {
  const Case& c = cases()[GetParam()];
  test::TempDir dir;
  CaldavTarget target(dir.path().string());
  const Verdict v = run_case(c, target);
  EXPECT_NE(v.outcome, Outcome::kFailed) << "caldav fails " << c.name << ": " << v.detail;
  if (v.outcome == Outcome::kSkipped) std::cout << "skipped: " << v.detail << "\n";
}

INSTANTIATE_TEST_SUITE_P(Radicale, CaldavConformance, ::testing::Range<size_t>(0, cases().size()),
                         [](const auto& case_info) { return cases()[case_info.param].name; });

// Beyond the suite, what only a DAV server does: an item another client put
// with a UID that the device then sends as new (Radicale: 409
// no-uid-conflict, naming no href) updates that item; nothing is doubled.
TEST(CaldavAgainstRadicale, ACreateOfAUidTheServerHoldsUpdatesThatItem) {
  test::TempDir dir;
  CaldavTarget target(dir.path().string());
  auto adapter = target.open();
  ASSERT_TRUE(adapter.has_value()) << adapter.status().to_string();
  caf::StoreRef store;
  store.user = UserId("uid-conflict");
  store.database = kCollection;
  ASSERT_TRUE((*adapter)->current_anchor(store).has_value());  // makes the address book

  const adapters::DavHttp http{adapters::DavHttpOptions{}};
  const adapters::DavLogin service{kService, kServicePassword};
  const std::string href = radicale->base_url() + "/uid-conflict/contacts/from-davx5.vcf";
  auto card = [](const std::string& note) {
    return "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:shared-uid-1\r\nN:Twice;Ada;;;\r\nFN:Ada Twice\r\nNOTE:" + note +
           "\r\nEND:VCARD\r\n";
  };
  auto put = http.request("PUT", href, service, {"Content-Type: text/vcard", "If-None-Match: *"}, card("by DAVx5"));
  ASSERT_TRUE(put.has_value() && put->status == 201) << (put ? put->body : put.error().to_string());
  auto before = (*adapter)->current_anchor(store);
  ASSERT_TRUE(before.has_value());

  std::vector<caf::SyncObj> batch(1);
  batch[0].action = caf::Action::kCreate;
  batch[0].content_type = "text/vcard";
  batch[0].raw = card("by the phone");
  auto results = (*adapter)->apply(store, std::move(batch));
  ASSERT_EQ(results.size(), 1u);
  ASSERT_TRUE(results[0].status.is_ok()) << results[0].status.to_string();
  EXPECT_EQ(results[0].outcome, caf::ApplyOutcome::kUpdated);
  EXPECT_EQ(results[0].guid.str(), "from-davx5");

  auto got = http.request("GET", href, service, {}, "");
  ASSERT_TRUE(got.has_value() && got->status == 200);
  EXPECT_NE(got->body.find("by the phone"), std::string::npos) << got->body;
  auto all = (*adapter)->search(store, caf::Query{});
  ASSERT_TRUE(all.has_value());
  ASSERT_EQ(all->size(), 1u) << "the item is doubled";
  auto changes = (*adapter)->changes_since(store, *before);
  ASSERT_TRUE(changes.has_value());
  ASSERT_EQ(changes->changes.size(), 1u);
  EXPECT_EQ(changes->changes[0].action, caf::Action::kUpdate);
}

// Within one sync session (one token) the adapter lists once; an item
// another client changed meanwhile meets the If-Match of our update (412):
// kAborted, and the session's next call sees the server's version, which the
// engine's conflict policy then weighs (settle_lost_races).
TEST(CaldavAgainstRadicale, AnUpdateOverAnotherClientsChangeIsAbortedAndTheNextCallSeesIt) {
  test::TempDir dir;
  CaldavTarget target(dir.path().string());
  auto adapter = target.open();
  ASSERT_TRUE(adapter.has_value()) << adapter.status().to_string();
  caf::StoreRef session;
  session.user = UserId("lost-race");
  session.database = kCollection;
  session.session = "session-1";  // as the engine names each sync session: one listing serves it
  auto card = [](const std::string& note) {
    return "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:race-1\r\nN:Race;Ada;;;\r\nFN:Ada Race\r\nNOTE:" + note +
           "\r\nEND:VCARD\r\n";
  };
  std::vector<caf::SyncObj> create(1);
  create[0].action = caf::Action::kCreate;
  create[0].content_type = "text/vcard";
  create[0].raw = card("first");
  auto created = (*adapter)->apply(session, std::move(create));
  ASSERT_TRUE(created.size() == 1 && created[0].status.is_ok());
  const Guid guid = created[0].guid;
  auto anchor = (*adapter)->current_anchor(session);
  ASSERT_TRUE(anchor.has_value());

  const adapters::DavHttp http{adapters::DavHttpOptions{}};
  const adapters::DavLogin service{kService, kServicePassword};
  const std::string href = radicale->base_url() + "/lost-race/contacts/" + guid.str() + ".vcf";
  auto put = http.request("PUT", href, service, {"Content-Type: text/vcard"}, card("by Thunderbird"));
  ASSERT_TRUE(put.has_value() && put->status == 201) << (put ? put->body : put.error().to_string());

  std::vector<caf::SyncObj> update(1);
  update[0].action = caf::Action::kUpdate;
  update[0].guid = guid;
  update[0].content_type = "text/vcard";
  update[0].raw = card("by the phone");
  auto updated = (*adapter)->apply(session, std::move(update));
  ASSERT_EQ(updated.size(), 1u);
  EXPECT_EQ(updated[0].status.code(), StatusCode::kAborted) << updated[0].status.to_string();

  // The other client's change is a change now, within the same session.
  auto changes = (*adapter)->changes_since(session, *anchor);
  ASSERT_TRUE(changes.has_value()) << changes.status().to_string();
  ASSERT_EQ(changes->changes.size(), 1u);
  EXPECT_EQ(changes->changes[0].action, caf::Action::kUpdate);
  EXPECT_NE(changes->changes[0].raw.find("by Thunderbird"), std::string::npos) << changes->changes[0].raw;
  auto got = http.request("GET", href, service, {}, "");
  ASSERT_TRUE(got.has_value() && got->status == 200);
  EXPECT_EQ(got->body.find("by the phone"), std::string::npos) << "the refused update reached the server";
}

[[maybe_unused]] const auto* const kEnvironment = ::testing::AddGlobalTestEnvironment(new RadicaleEnvironment);

}  // namespace
}  // namespace conflux::conformance
