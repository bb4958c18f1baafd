// Tokens and ACLs in the Content Manager (seed FIG. 8): which token kind a
// user gets per datastore (the store's `access`, a per-user override, the
// kind asked for), the two back-end login modes (one service account for
// everyone, or each user's own credentials at the back end), and the
// unrestricted-read token whose every write is re-authenticated at the back
// end. The back end is a fake with accounts of its own in front of the
// in-memory adapter.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "caf/content_manager.h"
#include "common/clock.h"
#include "tests/caf/fake_account_directory.h"
#include "tests/caf/memory_adapter.h"
#include "tests/caf/sync_objs.h"
#include "tests/common/temp_dir.h"

namespace conflux::caf {
namespace {

using conflux::test::create;
using conflux::test::FakeAccountDirectory;
using conflux::test::MemoryAdapter;

// A back end with accounts of its own (kCapOwnAccounts): a password per user
// that the test can change or remove at any time, as a back-end
// administrator would. Items go to a MemoryAdapter. Counts logins and
// connections.
class OwnAccountsBackend final : public ContentAdapter {
 public:
  explicit OwnAccountsBackend(std::shared_ptr<MemoryAdapter> items) : items_(std::move(items)) {}

  void set_password(const std::string& user, const std::string& password) { passwords_[user] = password; }
  void remove_account(const std::string& user) { passwords_.erase(user); }
  void set_down(bool down) { down_ = down; }
  int verifications() const { return verifications_; }
  int connects() const { return connects_; }
  int disconnects() const { return disconnects_; }
  const std::string& last_connect_user() const { return last_connect_user_; }

  AdapterCaps caps() const override { return kCapOwnAccounts | items_->caps(); }
  Status verify_credentials(const std::string& database, const Credentials& creds) override {
    ++verifications_;
    if (down_) return Status::unavailable("back end down");
    auto it = passwords_.find(creds.user.str());
    if (it == passwords_.end() || it->second != creds.secret) return Status::unauthenticated("back end says no");
    return Status::ok();
  }
  Status begin_connect(const UserId& user, const Credentials* credentials) override {
    ++connects_;
    last_connect_user_ = credentials ? credentials->user.str() : "";
    return credentials ? verify_credentials("", *credentials) : Status::ok();
  }
  void end_connect(const UserId& user) override { ++disconnects_; }
  Result<Anchor> current_anchor(const StoreRef& store) override { return items_->current_anchor(store); }
  Result<ChangeSet> changes_since(const StoreRef& store, const Anchor& since) override {
    return items_->changes_since(store, since);
  }
  std::vector<ApplyResult> apply(const StoreRef& store, std::vector<SyncObj>&& batch) override {
    return items_->apply(store, std::move(batch));
  }
  Result<std::vector<SyncObj>> search(const StoreRef& store, const Query& query) override {
    return items_->search(store, query);
  }
  Result<ExecResult> execute(const StoreRef& store, const Command& command) override {
    return items_->execute(store, command);
  }

 private:
  const std::shared_ptr<MemoryAdapter> items_;
  std::map<std::string, std::string> passwords_;
  bool down_ = false;
  int verifications_ = 0;
  int connects_ = 0;
  int disconnects_ = 0;
  std::string last_connect_user_;
};

class OwnAccountsFactory final : public AdapterFactory {
 public:
  explicit OwnAccountsFactory(std::shared_ptr<OwnAccountsBackend> backend) : backend_(std::move(backend)) {}
  std::string kind() const override { return "own-accounts"; }
  Status validate(const StoreSettings&) const override { return Status::ok(); }
  Result<std::shared_ptr<ContentAdapter>> create(const StoreSettings&, const AdapterEnv&) override {
    return std::shared_ptr<ContentAdapter>(backend_);
  }

 private:
  const std::shared_ptr<OwnAccountsBackend> backend_;
};

class AclTest : public ::testing::Test {
 protected:
  // "contacts" on the fake back end as `contacts`, "notes" on the plain
  // in-memory adapter (trusts Conflux's accounts), both without the cache.
  void start(StoreSettings contacts) {
    accounts_.add("alice", "conflux-pw");
    ASSERT_TRUE(registry_.add_factory(std::make_unique<OwnAccountsFactory>(backend_)).is_ok());
    ASSERT_TRUE(registry_.add_factory(std::make_unique<test::MemoryAdapterFactory>(items_)).is_ok());
    contacts.name = "contacts";
    contacts.adapter = "own-accounts";
    contacts.content_type = "text/vcard";
    ASSERT_TRUE(registry_.add_store(contacts, AdapterEnv{tmp_.path().string()}).is_ok());
    StoreSettings notes;
    notes.name = "notes";
    notes.adapter = test::MemoryAdapterFactory::kKind;
    notes.content_type = "text/plain";
    ASSERT_TRUE(registry_.add_store(notes, AdapterEnv{tmp_.path().string()}).is_ok());
    manager_ = std::make_unique<ContentManager>(registry_, accounts_, tokens_, clock_,
                                                ConnectionPoolOptions{.idle_seconds = 60, .max_connections = 8});
  }

  StoreSettings service_store() {
    StoreSettings s;
    s.login = BackendLogin::kService;
    s.service_user = "conflux-svc";
    s.service_password_file = tmp_.write("svc.secret", "svc-pw\n");
    backend_->set_password("conflux-svc", "svc-pw");
    return s;
  }

  StoreSettings per_user_store() {
    StoreSettings s;
    s.login = BackendLogin::kPerUser;
    return s;
  }

  StoreRef ref(const std::string& database, const Token& token, std::optional<Credentials> creds = std::nullopt) {
    return StoreRef{token.user, database, token, std::move(creds)};
  }

  test::TempDir tmp_;
  ManualClock clock_{1'700'000'000};
  TokenService tokens_{std::string(32, 'k'), clock_, 3600};
  FakeAccountDirectory accounts_;
  std::shared_ptr<MemoryAdapter> items_ = std::make_shared<MemoryAdapter>();
  std::shared_ptr<OwnAccountsBackend> backend_ = std::make_shared<OwnAccountsBackend>(items_);
  BackendRegistry registry_;
  std::unique_ptr<ContentManager> manager_;
};

TEST_F(AclTest, ServiceLoginChecksTheUserAtConfluxAndTheServiceAccountAtTheBackEnd) {
  start(service_store());
  auto token = manager_->authenticate(Credentials::with_password(UserId("alice"), "conflux-pw"), TokenKind::kReadWrite);
  ASSERT_TRUE(token) << token.error().to_string();
  EXPECT_EQ(token->kind_for("contacts"), TokenKind::kReadWrite);
  EXPECT_EQ(backend_->verifications(), 1);  // the service account, not alice

  auto written = manager_->apply(ref("contacts", *token), {create("BEGIN:VCARD\r\nFN:A\r\nEND:VCARD\r\n")});
  ASSERT_TRUE(written.at(0).status.is_ok()) << written[0].status.to_string();
  EXPECT_EQ(backend_->last_connect_user(), "conflux-svc");  // CAF connects as the service account

  // A wrong Conflux password gets nothing, whatever the back end would say.
  auto wrong = manager_->authenticate(Credentials::with_password(UserId("alice"), "svc-pw"), TokenKind::kReadWrite);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code(), StatusCode::kUnauthenticated);
}

TEST_F(AclTest, ServiceAccountRefusedByTheBackEndClosesOnlyThatStore) {
  start(service_store());
  backend_->set_password("conflux-svc", "rotated");
  auto token = manager_->authenticate(Credentials::with_password(UserId("alice"), "conflux-pw"), TokenKind::kReadWrite);
  ASSERT_TRUE(token) << token.error().to_string();
  EXPECT_EQ(token->kind_for("contacts"), std::nullopt);
  EXPECT_EQ(token->kind_for("notes"), TokenKind::kReadWrite);
  EXPECT_EQ(manager_->current_anchor(ref("contacts", *token)).error().code(), StatusCode::kPermissionDenied);
}

TEST_F(AclTest, ServiceAccountUncheckableWhileTheBackEndIsDownBlocksOnlyUncachedStores) {
  StoreSettings cached = service_store();
  cached.cache.enabled = true;
  start(cached);
  backend_->set_down(true);
  auto token = manager_->authenticate(Credentials::with_password(UserId("alice"), "conflux-pw"), TokenKind::kReadWrite);
  ASSERT_TRUE(token) << token.error().to_string();
  EXPECT_EQ(token->kind_for("contacts"), TokenKind::kReadWrite);  // the cache serves meanwhile
  // Conflux's own accounts still decide.
  EXPECT_FALSE(manager_->authenticate(Credentials::with_password(UserId("alice"), "wrong"), TokenKind::kReadWrite));
}

TEST_F(AclTest, ServiceAccountUncheckableWithoutCacheClosesThatStore) {
  start(service_store());
  backend_->set_down(true);
  auto token = manager_->authenticate(Credentials::with_password(UserId("alice"), "conflux-pw"), TokenKind::kReadWrite);
  ASSERT_TRUE(token) << token.error().to_string();
  EXPECT_EQ(token->kind_for("contacts"), std::nullopt);
  EXPECT_EQ(token->kind_for("notes"), TokenKind::kReadWrite);
}

TEST_F(AclTest, PerUserLoginIsDecidedByTheBackEndAlone) {
  start(per_user_store());
  backend_->set_password("bob", "backend-pw");  // bob has no Conflux account
  auto bob = manager_->authenticate(Credentials::with_password(UserId("bob"), "backend-pw"), TokenKind::kReadWrite);
  ASSERT_TRUE(bob) << bob.error().to_string();
  EXPECT_EQ(bob->kind_for("contacts"), TokenKind::kReadWrite);
  EXPECT_EQ(bob->kind_for("notes"), std::nullopt);  // Conflux does not know bob

  // alice is known to Conflux, not to the back end: no contacts for her.
  auto alice = manager_->authenticate(Credentials::with_password(UserId("alice"), "conflux-pw"), TokenKind::kReadWrite);
  ASSERT_TRUE(alice) << alice.error().to_string();
  EXPECT_EQ(alice->kind_for("contacts"), std::nullopt);
  EXPECT_EQ(alice->kind_for("notes"), TokenKind::kReadWrite);

  auto nobody = manager_->authenticate(Credentials::with_password(UserId("bob"), "wrong"), TokenKind::kReadWrite);
  ASSERT_FALSE(nobody);
  EXPECT_EQ(nobody.error().code(), StatusCode::kUnauthenticated);
}

TEST_F(AclTest, TokenKindFollowsStoreAccessThenUserOverrideThenTheKindAskedFor) {
  StoreSettings contacts = service_store();
  contacts.access = TokenKind::kReadOnly;
  start(contacts);
  const auto login = [&](TokenKind asked) {
    auto token = manager_->authenticate(Credentials::with_password(UserId("alice"), "conflux-pw"), asked);
    EXPECT_TRUE(token);
    return token ? *token : Token{};
  };
  EXPECT_EQ(login(TokenKind::kReadWrite).kind_for("contacts"), TokenKind::kReadOnly);
  EXPECT_EQ(login(TokenKind::kReadWrite).kind_for("notes"), TokenKind::kReadWrite);

  accounts_.set_access("alice", "contacts", TokenKind::kUnrestrictedRead);
  EXPECT_EQ(login(TokenKind::kReadWrite).kind_for("contacts"), TokenKind::kUnrestrictedRead);
  EXPECT_EQ(login(TokenKind::kReadOnly).kind_for("contacts"), TokenKind::kReadOnly);  // never more than asked

  // A reload that opens the store: the next login gets it; the override stays.
  contacts.name = "notes";
  contacts.access = TokenKind::kReadOnly;
  manager_->set_store_access({contacts});
  EXPECT_EQ(manager_->store_access("notes"), TokenKind::kReadOnly);
  EXPECT_EQ(login(TokenKind::kReadWrite).kind_for("notes"), TokenKind::kReadOnly);
  EXPECT_EQ(login(TokenKind::kReadWrite).kind_for("contacts"), TokenKind::kUnrestrictedRead);
}

TEST_F(AclTest, ReadOnlyTokenNeverWritesEvenWithCredentials) {
  StoreSettings contacts = per_user_store();
  contacts.access = TokenKind::kReadOnly;
  start(contacts);
  backend_->set_password("bob", "backend-pw");
  const Credentials creds = Credentials::with_password(UserId("bob"), "backend-pw");
  auto token = manager_->authenticate(creds, TokenKind::kReadWrite);
  ASSERT_TRUE(token);
  auto results = manager_->apply(ref("contacts", *token, creds), {create("x")});
  EXPECT_EQ(results.at(0).status.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(items_->live_count(UserId("bob"), "contacts"), 0u);
}

TEST_F(AclTest, UnrestrictedReadWritesOnlyWhileTheBackEndAcceptsTheCredentialsAgain) {
  StoreSettings contacts = per_user_store();
  contacts.access = TokenKind::kUnrestrictedRead;
  start(contacts);
  backend_->set_password("bob", "backend-pw");
  const Credentials creds = Credentials::with_password(UserId("bob"), "backend-pw");
  auto token = manager_->authenticate(creds, TokenKind::kReadWrite);
  ASSERT_TRUE(token);
  ASSERT_EQ(token->kind_for("contacts"), TokenKind::kUnrestrictedRead);

  // Reads need only the token.
  EXPECT_TRUE(manager_->changes_since(ref("contacts", *token), Anchor()));
  // A write without credentials is refused before the back end is asked.
  const int before = backend_->verifications();
  EXPECT_EQ(manager_->apply(ref("contacts", *token), {create("a")}).at(0).status.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(backend_->verifications(), before);
  // With them, the back end is asked again for every write.
  auto ok = manager_->apply(ref("contacts", *token, creds), {create("b")});
  ASSERT_TRUE(ok.at(0).status.is_ok()) << ok[0].status.to_string();
  EXPECT_EQ(backend_->verifications(), before + 1);
  // Someone else's credentials do not lend bob a write.
  backend_->set_password("carol", "carol-pw");
  EXPECT_EQ(
      manager_->apply(ref("contacts", *token, Credentials::with_password(UserId("carol"), "carol-pw")), {create("c")})
          .at(0)
          .status.code(),
      StatusCode::kPermissionDenied);

  // The back end's administrator locks bob out: the token still reads, the
  // next write is refused and nothing is written.
  backend_->remove_account("bob");
  EXPECT_TRUE(manager_->search(ref("contacts", *token), Query{}));
  auto refused = manager_->apply(ref("contacts", *token, creds), {create("d")});
  EXPECT_EQ(refused.at(0).status.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(items_->live_raws(UserId("bob"), "contacts"), std::vector<std::string>{"b"});
}

TEST_F(AclTest, UnrestrictedReadInServiceModeReChecksTheUserAtConflux) {
  StoreSettings contacts = service_store();
  contacts.access = TokenKind::kUnrestrictedRead;
  start(contacts);
  const Credentials creds = Credentials::with_password(UserId("alice"), "conflux-pw");
  auto token = manager_->authenticate(creds, TokenKind::kReadWrite);
  ASSERT_TRUE(token);
  ASSERT_TRUE(manager_->apply(ref("contacts", *token, creds), {create("a")}).at(0).status.is_ok());

  accounts_.add("alice", "changed");  // the password changed since login
  EXPECT_EQ(manager_->apply(ref("contacts", *token, creds), {create("b")}).at(0).status.code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(items_->live_count(UserId("alice"), "contacts"), 1u);
}

TEST_F(AclTest, StoresWithoutCacheConnectOncePerUserAndReuseTheConnection) {
  start(service_store());
  const Credentials creds = Credentials::with_password(UserId("alice"), "conflux-pw");
  auto token = manager_->authenticate(creds, TokenKind::kReadWrite);
  ASSERT_TRUE(token);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(manager_->current_anchor(ref("contacts", *token)));
  EXPECT_EQ(backend_->connects(), 1);
  EXPECT_EQ(manager_->connections().open_connections(), 1u);  // contacts only so far

  clock_.advance(61);  // idle past the pool's limit: the next call connects anew
  ASSERT_TRUE(manager_->current_anchor(ref("contacts", *token)));
  EXPECT_EQ(backend_->disconnects(), 1);
  EXPECT_EQ(backend_->connects(), 2);
}

}  // namespace
}  // namespace conflux::caf
