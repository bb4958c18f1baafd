// The user store suite: every UserAccounts implementation must pass it.
// Instantiated with SqliteStores (sqlite_state_store_test.cc) and PgStores
// (pg_store_test.cc).
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "common/digest.h"
#include "store/user_accounts.h"

namespace conflux::store {
namespace user_suite {

template <typename Stores>
class UserStoreSuite : public ::testing::Test {
 protected:
  void SetUp() override { reopen(); }

  void reopen() {
    users_.reset();
    auto opened = stores_.open();
    ASSERT_TRUE(opened.is_ok()) << opened.to_string();
    auto users = stores_.users([] { return int64_t{1'700'000'000}; });
    ASSERT_TRUE(users) << users.error().to_string();
    users_ = std::move(*users);
  }

  std::vector<std::string> names() {
    auto listed = users_->list();
    EXPECT_TRUE(listed) << listed.error().to_string();
    return listed ? *listed : std::vector<std::string>{};
  }

  std::string stored_hash(const std::string& user) {
    auto row = stores_.user_row(user);
    EXPECT_TRUE(row) << row.error().to_string();
    if (!row) return {};
    EXPECT_EQ(row->second, 1'700'000'000);
    return row->first;
  }

  Stores stores_;
  std::unique_ptr<UserAccounts> users_;
};

TYPED_TEST_SUITE_P(UserStoreSuite);

TYPED_TEST_P(UserStoreSuite, AddListAndVerify) {
  ASSERT_TRUE(this->users_->add(UserId("bob"), "hunter2").is_ok());
  ASSERT_TRUE(this->users_->add(UserId("alice"), "s3cret").is_ok());
  EXPECT_EQ(this->names(), (std::vector<std::string>{"alice", "bob"}));

  EXPECT_TRUE(this->users_->verify_password(UserId("alice"), "s3cret").is_ok());
  EXPECT_TRUE(this->users_->verify_password(UserId("bob"), "hunter2").is_ok());

  Status wrong = this->users_->verify_password(UserId("alice"), "hunter2");
  Status unknown = this->users_->verify_password(UserId("carol"), "s3cret");
  EXPECT_EQ(wrong.code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(unknown.code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(wrong.message(), unknown.message());  // callers must not learn which
  EXPECT_EQ(this->users_->verify_password(UserId("alice"), "").code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(this->users_->verify_password(UserId(""), "x").code(), StatusCode::kUnauthenticated);
}

TYPED_TEST_P(UserStoreSuite, StoresAnArgon2idHashNotThePassword) {
  ASSERT_TRUE(this->users_->add(UserId("alice"), "correct horse").is_ok());
  const std::string hash = this->stored_hash("alice");
  EXPECT_EQ(hash.rfind("$argon2id$", 0), 0u) << hash;
  EXPECT_EQ(hash.find("correct horse"), std::string::npos);

  // The same password twice gives two hashes (random salt).
  ASSERT_TRUE(this->users_->add(UserId("bob"), "correct horse").is_ok());
  EXPECT_NE(this->stored_hash("bob"), hash);
}

// syncml:auth-md5: B64(MD5(B64(MD5(user:password)) ":" nonce)), worked
// example from the SyncML reference (user/password syncmltest, nonce 12345678).
TYPED_TEST_P(UserStoreSuite, VerifiesSyncmlMd5Digests) {
  ASSERT_TRUE(this->users_->add(UserId("syncmltest"), "syncmltest").is_ok());
  EXPECT_TRUE(this->users_->verify_md5_digest(UserId("syncmltest"), "12345678", "vJKaU326dTpqlTpORIpC/A==").is_ok());
  EXPECT_EQ(this->users_->verify_md5_digest(UserId("syncmltest"), "87654321", "vJKaU326dTpqlTpORIpC/A==").code(),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(this->users_->verify_md5_digest(UserId("nobody"), "12345678", "vJKaU326dTpqlTpORIpC/A==").code(),
            StatusCode::kUnauthenticated);
  // A new password changes the MD5 secret too.
  ASSERT_TRUE(this->users_->set_password(UserId("syncmltest"), "changed").is_ok());
  EXPECT_EQ(this->users_->verify_md5_digest(UserId("syncmltest"), "12345678", "vJKaU326dTpqlTpORIpC/A==").code(),
            StatusCode::kUnauthenticated);
}

TYPED_TEST_P(UserStoreSuite, Md5SecretIsTheBase64OfMd5OfUserAndPassword) {
  ASSERT_TRUE(this->users_->add(UserId("syncmltest"), "syncmltest").is_ok());
  auto secret = this->users_->md5_secret(UserId("syncmltest"));
  ASSERT_TRUE(secret) << secret.error().to_string();
  EXPECT_EQ(*secret, md5_base64("syncmltest:syncmltest"));
  EXPECT_EQ(this->users_->md5_secret(UserId("nobody")).error().code(), StatusCode::kNotFound);
}

TYPED_TEST_P(UserStoreSuite, AddRejectsDuplicatesBadNamesAndEmptyPasswords) {
  ASSERT_TRUE(this->users_->add(UserId("alice"), "pw").is_ok());
  EXPECT_EQ(this->users_->add(UserId("alice"), "other").code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(this->users_->verify_password(UserId("alice"), "pw").is_ok());  // unchanged

  for (const std::string& bad :
       {std::string(""), std::string(65, 'a'), std::string("a b"), std::string("a/b"), std::string("a:b"),
        std::string("\xc3\xa4"), std::string("a\0b", 3), std::string("."), std::string("..")}) {
    EXPECT_EQ(this->users_->add(UserId(bad), "pw").code(), StatusCode::kInvalidArgument) << "name: " << bad;
  }
  EXPECT_TRUE(this->users_->add(UserId("A.b_c@d-9"), "pw").is_ok());
  EXPECT_TRUE(this->users_->add(UserId(std::string(64, 'z')), "pw").is_ok());
  EXPECT_EQ(this->users_->add(UserId("carol"), "").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(this->names(), (std::vector<std::string>{"A.b_c@d-9", "alice", std::string(64, 'z')}));
}

TYPED_TEST_P(UserStoreSuite, SetPassword) {
  ASSERT_TRUE(this->users_->add(UserId("alice"), "old").is_ok());
  ASSERT_TRUE(this->users_->set_password(UserId("alice"), "new").is_ok());
  EXPECT_EQ(this->users_->verify_password(UserId("alice"), "old").code(), StatusCode::kUnauthenticated);
  EXPECT_TRUE(this->users_->verify_password(UserId("alice"), "new").is_ok());
  EXPECT_EQ(this->users_->set_password(UserId("bob"), "x").code(), StatusCode::kNotFound);
  EXPECT_EQ(this->users_->set_password(UserId("alice"), "").code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(this->users_->verify_password(UserId("alice"), "new").is_ok());
}

TYPED_TEST_P(UserStoreSuite, Remove) {
  ASSERT_TRUE(this->users_->add(UserId("alice"), "pw").is_ok());
  ASSERT_TRUE(this->users_->add(UserId("bob"), "pw").is_ok());
  ASSERT_TRUE(this->users_->remove(UserId("alice")).is_ok());
  EXPECT_EQ(this->users_->remove(UserId("alice")).code(), StatusCode::kNotFound);
  EXPECT_EQ(this->users_->verify_password(UserId("alice"), "pw").code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(this->names(), (std::vector<std::string>{"bob"}));
  // The name is free again.
  EXPECT_TRUE(this->users_->add(UserId("alice"), "pw2").is_ok());
}

TYPED_TEST_P(UserStoreSuite, AccessOverridesPerDatastoreSurviveReopenAndGoWithTheAccount) {
  ASSERT_TRUE(this->users_->add(UserId("alice"), "pw").is_ok());
  EXPECT_TRUE(this->users_->access_overrides(UserId("alice"))->empty());
  ASSERT_TRUE(this->users_->set_access(UserId("alice"), "contacts", caf::TokenKind::kReadOnly).is_ok());
  ASSERT_TRUE(this->users_->set_access(UserId("alice"), "calendar", caf::TokenKind::kUnrestrictedRead).is_ok());
  ASSERT_TRUE(this->users_->set_access(UserId("alice"), "contacts", caf::TokenKind::kReadWrite).is_ok());  // replaces
  // A per-user back end's user needs no Conflux account for an override.
  ASSERT_TRUE(this->users_->set_access(UserId("bruno"), "contacts", caf::TokenKind::kReadOnly).is_ok());
  this->reopen();
  auto alice = this->users_->access_overrides(UserId("alice"));
  ASSERT_TRUE(alice) << alice.error().to_string();
  EXPECT_EQ(*alice, (std::map<std::string, caf::TokenKind>{{"calendar", caf::TokenKind::kUnrestrictedRead},
                                                           {"contacts", caf::TokenKind::kReadWrite}}));
  ASSERT_TRUE(this->users_->set_access(UserId("alice"), "calendar", std::nullopt).is_ok());  // back to the store's
  EXPECT_EQ(this->users_->access_overrides(UserId("alice"))->size(), 1u);
  ASSERT_TRUE(this->users_->remove(UserId("alice")).is_ok());
  EXPECT_TRUE(this->users_->access_overrides(UserId("alice"))->empty());
  EXPECT_EQ(this->users_->access_overrides(UserId("bruno"))->size(), 1u);
  EXPECT_EQ(this->users_->set_access(UserId("bad name"), "contacts", caf::TokenKind::kReadOnly).code(),
            StatusCode::kInvalidArgument);
}

TYPED_TEST_P(UserStoreSuite, AccountsSurviveReopen) {
  ASSERT_TRUE(this->users_->add(UserId("alice"), "pw").is_ok());
  this->reopen();  // migrations run again: must be a no-op
  EXPECT_EQ(this->names(), (std::vector<std::string>{"alice"}));
  EXPECT_TRUE(this->users_->verify_password(UserId("alice"), "pw").is_ok());
}

TYPED_TEST_P(UserStoreSuite, IsAnAccountDirectory) {
  ASSERT_TRUE(this->users_->add(UserId("alice"), "pw").is_ok());
  caf::AccountDirectory& directory = *this->users_;
  EXPECT_TRUE(directory.verify_password(UserId("alice"), "pw").is_ok());
  EXPECT_EQ(directory.verify_password(UserId("alice"), "nope").code(), StatusCode::kUnauthenticated);
}

TYPED_TEST_P(UserStoreSuite, ApiTokensAreKeptHashedListedAndRevoked) {
  ASSERT_TRUE(this->users_->add(UserId("alice"), "pw").is_ok());
  ASSERT_TRUE(this->users_->add(UserId("bob"), "pw").is_ok());
  auto made = this->users_->create_api_token(UserId("alice"), "backup script", /*read_only=*/false);
  ASSERT_TRUE(made) << made.error().to_string();
  auto reader = this->users_->create_api_token(UserId("alice"), "dashboard", /*read_only=*/true);
  ASSERT_TRUE(reader) << reader.error().to_string();
  auto bobs = this->users_->create_api_token(UserId("bob"), "phone", false);
  ASSERT_TRUE(bobs) << bobs.error().to_string();
  EXPECT_EQ(made->token.rfind("cfx_", 0), 0u);
  EXPECT_NE(made->token, reader->token);
  EXPECT_EQ(made->info.created_at, 1'700'000'000);

  // The token is not in the database, only its hash.
  auto rows = this->stores_.api_token_rows();
  ASSERT_TRUE(rows) << rows.error().to_string();
  EXPECT_NE(rows->find("backup script"), std::string::npos);
  EXPECT_EQ(rows->find(made->token.substr(4)), std::string::npos);

  auto holder = this->users_->verify_api_token(made->token);
  ASSERT_TRUE(holder) << holder.error().to_string();
  EXPECT_EQ(holder->user, UserId("alice"));
  EXPECT_FALSE(holder->read_only);
  auto read_only = this->users_->verify_api_token(reader->token);
  ASSERT_TRUE(read_only);
  EXPECT_TRUE(read_only->read_only);
  EXPECT_EQ(this->users_->verify_api_token("cfx_" + std::string(64, '0')).error().code(), StatusCode::kUnauthenticated);

  auto alices = this->users_->api_tokens(UserId("alice"));
  ASSERT_TRUE(alices) << alices.error().to_string();
  ASSERT_EQ(alices->size(), 2u);
  EXPECT_EQ((*alices)[0].id, made->info.id);
  EXPECT_EQ((*alices)[0].name, "backup script");
  EXPECT_TRUE((*alices)[1].read_only);
  auto everyone = this->users_->api_tokens(std::nullopt);
  ASSERT_TRUE(everyone);
  EXPECT_EQ(everyone->size(), 3u);

  ASSERT_TRUE(this->users_->revoke_api_token(made->info.id).is_ok());
  EXPECT_EQ(this->users_->verify_api_token(made->token).error().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(this->users_->revoke_api_token(made->info.id).code(), StatusCode::kNotFound);
  EXPECT_TRUE(this->users_->verify_api_token(reader->token));

  // Bad input, and an unknown user, make no token.
  EXPECT_EQ(this->users_->create_api_token(UserId("carol"), "x", false).error().code(), StatusCode::kNotFound);
  EXPECT_EQ(this->users_->create_api_token(UserId("alice"), "", false).error().code(), StatusCode::kInvalidArgument);

  // The tokens survive a restart and go with the account.
  this->reopen();
  EXPECT_TRUE(this->users_->verify_api_token(reader->token));
  ASSERT_TRUE(this->users_->remove(UserId("alice")).is_ok());
  EXPECT_EQ(this->users_->verify_api_token(reader->token).error().code(), StatusCode::kUnauthenticated);
  ASSERT_TRUE(this->users_->add(UserId("alice"), "pw2").is_ok());
  EXPECT_FALSE(this->users_->verify_api_token(reader->token));
  EXPECT_TRUE(this->users_->verify_api_token(bobs->token));
}

TYPED_TEST_P(UserStoreSuite, UnreadableDirectoryIsUnavailable) {
  ASSERT_TRUE(this->stores_.drop_users_table().is_ok());
  EXPECT_EQ(this->users_->verify_password(UserId("alice"), "pw").code(), StatusCode::kUnavailable);
}

REGISTER_TYPED_TEST_SUITE_P(UserStoreSuite, AddListAndVerify, StoresAnArgon2idHashNotThePassword,
                            VerifiesSyncmlMd5Digests, Md5SecretIsTheBase64OfMd5OfUserAndPassword,
                            AddRejectsDuplicatesBadNamesAndEmptyPasswords, SetPassword, Remove,
                            AccessOverridesPerDatastoreSurviveReopenAndGoWithTheAccount, AccountsSurviveReopen,
                            IsAnAccountDirectory, ApiTokensAreKeptHashedListedAndRevoked,
                            UnreadableDirectoryIsUnavailable);

}  // namespace user_suite
}  // namespace conflux::store
