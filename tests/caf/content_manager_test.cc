// ContentManager: the router in front of every adapter. It must check user
// and token on every call before any back end is touched, and scope writes
// to the caller's user and datastore.
#include "caf/content_manager.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "tests/caf/fake_account_directory.h"
#include "tests/caf/memory_adapter.h"
#include "tests/caf/sync_objs.h"

namespace conflux::caf {
namespace {

using conflux::test::create;
using conflux::test::FakeAccountDirectory;
using conflux::test::MemoryAdapter;
using conflux::test::MemoryAdapterFactory;

class ContentManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    accounts_.add("alice", "secret");
    accounts_.add("bob", "hunter2");
    auto factory = std::make_unique<MemoryAdapterFactory>();
    adapter_ = factory->adapter();
    ASSERT_TRUE(registry_.add_factory(std::move(factory)).is_ok());
    for (const char* name : {"contacts", "calendar"}) {
      StoreSettings s;
      s.name = name;
      s.adapter = MemoryAdapterFactory::kKind;
      s.content_type = "text/vcard";
      ASSERT_TRUE(registry_.add_store(s, AdapterEnv{"/nonexistent"}).is_ok());
    }
  }

  Token login(const std::string& user, const std::string& password, TokenKind kind = TokenKind::kReadWrite) {
    auto token = manager_.authenticate(Credentials::with_password(UserId(user), password), kind);
    EXPECT_TRUE(token) << token.error().to_string();
    return token ? *token : Token{};
  }

  StoreRef ref(const std::string& user, const std::string& database, const Token& token) {
    return StoreRef{UserId(user), database, token};
  }

  ManualClock clock_{1'700'000'000};
  TokenService tokens_{std::string(32, 'k'), clock_, 3600};
  FakeAccountDirectory accounts_;
  BackendRegistry registry_;
  std::shared_ptr<MemoryAdapter> adapter_;
  ContentManager manager_{registry_, accounts_, tokens_, clock_};
};

TEST_F(ContentManagerTest, AuthenticateWithGoodPasswordIssuesTokenOfRequestedKind) {
  auto token = manager_.authenticate(Credentials::with_password(UserId("alice"), "secret"), TokenKind::kReadOnly);
  ASSERT_TRUE(token) << token.error().to_string();
  EXPECT_EQ(token->user, UserId("alice"));
  EXPECT_EQ(token->kind_for("contacts"), TokenKind::kReadOnly);
  EXPECT_EQ(token->kind_for("calendar"), TokenKind::kReadOnly);
  auto verified = tokens_.verify(token->value);
  ASSERT_TRUE(verified);
  EXPECT_EQ(verified->user, UserId("alice"));
}

TEST_F(ContentManagerTest, AuthenticateWithBadPasswordOrUnknownUserIsUnauthenticated) {
  auto wrong = manager_.authenticate(Credentials::with_password(UserId("alice"), "hunter2"), TokenKind::kReadWrite);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code(), StatusCode::kUnauthenticated);
  auto unknown = manager_.authenticate(Credentials::with_password(UserId("carol"), "secret"), TokenKind::kReadWrite);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code(), StatusCode::kUnauthenticated);
  auto nobody = manager_.authenticate(Credentials::with_password(UserId(""), ""), TokenKind::kReadWrite);
  ASSERT_FALSE(nobody);
  EXPECT_EQ(nobody.error().code(), StatusCode::kUnauthenticated);
}

TEST_F(ContentManagerTest, AuthenticatePassesDirectoryOutageOn) {
  accounts_.set_unavailable(true);
  auto token = manager_.authenticate(Credentials::with_password(UserId("alice"), "secret"), TokenKind::kReadWrite);
  ASSERT_FALSE(token);
  EXPECT_EQ(token.error().code(), StatusCode::kUnavailable);
}

TEST_F(ContentManagerTest, ApiTokenSpeaksForItsUserAndARevokedOneIsRefused) {
  accounts_.add_api_token("cfx_alice", "alice", /*read_only=*/false);
  accounts_.add_api_token("cfx_alice_ro", "alice", /*read_only=*/true);
  auto token = manager_.authenticate(Credentials::with_api_token("cfx_alice"), TokenKind::kReadWrite);
  ASSERT_TRUE(token) << token.error().to_string();
  EXPECT_EQ(token->user, UserId("alice"));
  EXPECT_EQ(token->kind_for("contacts"), TokenKind::kReadWrite);

  // A read-only API token narrows whatever the caller asks for.
  auto read_only = manager_.authenticate(Credentials::with_api_token("cfx_alice_ro"), TokenKind::kReadWrite);
  ASSERT_TRUE(read_only) << read_only.error().to_string();
  EXPECT_EQ(read_only->kind_for("contacts"), TokenKind::kReadOnly);

  accounts_.revoke_api_token("cfx_alice");
  auto revoked = manager_.authenticate(Credentials::with_api_token("cfx_alice"), TokenKind::kReadWrite);
  ASSERT_FALSE(revoked);
  EXPECT_EQ(revoked.error().code(), StatusCode::kUnauthenticated);
}

TEST_F(ContentManagerTest, ReadWriteTokenReadsAndWrites) {
  Token token = login("alice", "secret");
  auto results = manager_.apply(ref("alice", "contacts", token), {create("BEGIN:VCARD\r\nFN:A\r\nEND:VCARD\r\n")});
  ASSERT_EQ(results.size(), 1u);
  ASSERT_TRUE(results[0].status.is_ok()) << results[0].status.to_string();
  EXPECT_EQ(results[0].outcome, ApplyOutcome::kCreated);
  EXPECT_FALSE(results[0].guid.empty());

  auto anchor = manager_.current_anchor(ref("alice", "contacts", token));
  ASSERT_TRUE(anchor);
  EXPECT_EQ(*anchor, results[0].anchor);
  auto changes = manager_.changes_since(ref("alice", "contacts", token), Anchor());
  ASSERT_TRUE(changes);
  ASSERT_EQ(changes->changes.size(), 1u);
  EXPECT_EQ(changes->changes[0].guid, results[0].guid);
  auto found = manager_.search(ref("alice", "contacts", token), Query{});
  ASSERT_TRUE(found);
  EXPECT_EQ(found->size(), 1u);
  auto count = manager_.execute(ref("alice", "contacts", token), Command{"count", {}});
  ASSERT_TRUE(count) << count.error().to_string();
  EXPECT_EQ(count->output, "1");
}

TEST_F(ContentManagerTest, RefusesCallsWithoutUser) {
  Token token = login("alice", "secret");
  const StoreRef no_user = ref("", "contacts", token);
  EXPECT_EQ(manager_.current_anchor(no_user).error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(manager_.changes_since(no_user, Anchor()).error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(manager_.search(no_user, Query{}).error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(manager_.execute(no_user, Command{"count", {}}).error().code(), StatusCode::kInvalidArgument);
  auto results = manager_.apply(no_user, {create("x"), create("y")});
  ASSERT_EQ(results.size(), 2u);
  for (const auto& r : results) EXPECT_EQ(r.status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(adapter_->live_count(UserId("alice"), "contacts"), 0u);
  EXPECT_EQ(adapter_->live_count(UserId(""), "contacts"), 0u);
}

TEST_F(ContentManagerTest, TokenOfAnotherUserIsPermissionDenied) {
  Token bobs = login("bob", "hunter2");
  const StoreRef as_alice = ref("alice", "contacts", bobs);
  EXPECT_EQ(manager_.current_anchor(as_alice).error().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(manager_.changes_since(as_alice, Anchor()).error().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(manager_.search(as_alice, Query{}).error().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(manager_.execute(as_alice, Command{"count", {}}).error().code(), StatusCode::kPermissionDenied);
  auto results = manager_.apply(as_alice, {create("bob writes into alice")});
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(adapter_->live_count(UserId("alice"), "contacts"), 0u);
  EXPECT_EQ(adapter_->live_count(UserId("bob"), "contacts"), 0u);
}

TEST_F(ContentManagerTest, GarbageOrForgedTokenIsUnauthenticated) {
  for (const std::string value : {"", "garbage", "v1.YWxpY2U=.1.9999999999.deadbeef"}) {
    SCOPED_TRACE(value);
    const StoreRef r = ref("alice", "contacts", Token{value, UserId("alice"), {{"contacts", TokenKind::kReadWrite}}});
    EXPECT_EQ(manager_.current_anchor(r).error().code(), StatusCode::kUnauthenticated);
    EXPECT_EQ(manager_.search(r, Query{}).error().code(), StatusCode::kUnauthenticated);
    auto results = manager_.apply(r, {create("x")});
    ASSERT_EQ(results.size(), 1u);
    EXPECT_EQ(results[0].status.code(), StatusCode::kUnauthenticated);
  }
  EXPECT_EQ(adapter_->live_count(UserId("alice"), "contacts"), 0u);
}

TEST_F(ContentManagerTest, ExpiredTokenIsUnauthenticated) {
  Token token = login("alice", "secret");
  clock_.advance(3600);
  EXPECT_EQ(manager_.current_anchor(ref("alice", "contacts", token)).error().code(), StatusCode::kUnauthenticated);
}

TEST_F(ContentManagerTest, TheCarriedTokenFieldsAreNotTrusted) {
  // Only the signed value counts: a read-only token relabelled read-write in
  // the struct still cannot write.
  Token token = login("alice", "secret", TokenKind::kReadOnly);
  token.grants["contacts"] = TokenKind::kReadWrite;
  auto results = manager_.apply(ref("alice", "contacts", token), {create("x")});
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status.code(), StatusCode::kPermissionDenied);
}

TEST_F(ContentManagerTest, UnknownDatastoreIsNotFound) {
  Token token = login("alice", "secret");
  const StoreRef r = ref("alice", "movies", token);
  EXPECT_EQ(manager_.current_anchor(r).error().code(), StatusCode::kNotFound);
  EXPECT_EQ(manager_.changes_since(r, Anchor()).error().code(), StatusCode::kNotFound);
  EXPECT_EQ(manager_.search(r, Query{}).error().code(), StatusCode::kNotFound);
  EXPECT_EQ(manager_.execute(r, Command{"count", {}}).error().code(), StatusCode::kNotFound);
  auto results = manager_.apply(r, {create("x")});
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status.code(), StatusCode::kNotFound);
  EXPECT_EQ(adapter_->live_count(UserId("alice"), "movies"), 0u);
}

TEST_F(ContentManagerTest, ReadOnlyTokensReadButCannotApplyOrExecute) {
  Token rw = login("alice", "secret");
  auto written = manager_.apply(ref("alice", "contacts", rw), {create("existing")});
  ASSERT_TRUE(written.at(0).status.is_ok());

  for (TokenKind kind : {TokenKind::kReadOnly, TokenKind::kUnrestrictedRead}) {
    SCOPED_TRACE(token_kind_name(kind));
    Token ro = login("alice", "secret", kind);
    const StoreRef r = ref("alice", "contacts", ro);
    EXPECT_TRUE(manager_.current_anchor(r));
    auto changes = manager_.changes_since(r, Anchor());
    ASSERT_TRUE(changes);
    EXPECT_EQ(changes->changes.size(), 1u);
    auto found = manager_.search(r, Query{});
    ASSERT_TRUE(found);
    EXPECT_EQ(found->size(), 1u);

    auto results = manager_.apply(r, {create("new"), create("newer")});
    ASSERT_EQ(results.size(), 2u);
    for (const auto& res : results) EXPECT_EQ(res.status.code(), StatusCode::kPermissionDenied);
    EXPECT_EQ(manager_.execute(r, Command{"count", {}}).error().code(), StatusCode::kPermissionDenied);
  }
  EXPECT_EQ(adapter_->live_count(UserId("alice"), "contacts"), 1u);
}

TEST_F(ContentManagerTest, ApplyStampsCallersUserAndDatastore) {
  Token token = login("alice", "secret");
  SyncObj sneaky = create("claims to be bob's calendar entry");
  sneaky.user = UserId("bob");
  sneaky.database = "calendar";
  auto results = manager_.apply(ref("alice", "contacts", token), {std::move(sneaky)});
  ASSERT_EQ(results.size(), 1u);
  ASSERT_TRUE(results[0].status.is_ok()) << results[0].status.to_string();

  EXPECT_EQ(adapter_->live_count(UserId("alice"), "contacts"), 1u);
  EXPECT_EQ(adapter_->live_count(UserId("bob"), "calendar"), 0u);
  EXPECT_EQ(adapter_->live_count(UserId("bob"), "contacts"), 0u);
  EXPECT_EQ(adapter_->live_count(UserId("alice"), "calendar"), 0u);
  auto stored = adapter_->find(UserId("alice"), "contacts", results[0].guid);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->user, UserId("alice"));
  EXPECT_EQ(stored->database, "contacts");
}

TEST_F(ContentManagerTest, UsersAreIsolated) {
  Token alice = login("alice", "secret");
  Token bob = login("bob", "hunter2");
  ASSERT_TRUE(manager_.apply(ref("alice", "contacts", alice), {create("alice's")}).at(0).status.is_ok());
  auto bobs_view = manager_.search(ref("bob", "contacts", bob), Query{});
  ASSERT_TRUE(bobs_view);
  EXPECT_TRUE(bobs_view->empty());
}

TEST_F(ContentManagerTest, DatabasesListsConfiguredStores) {
  auto names = manager_.databases();
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"calendar", "contacts"}));
}

}  // namespace
}  // namespace conflux::caf
