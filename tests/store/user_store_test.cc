#include "store/user_store.h"

#include <gtest/gtest.h>

#include <map>

#include <filesystem>

#include "common/base64.h"
#include "common/digest.h"
#include "tests/common/temp_dir.h"

namespace conflux::store {
namespace {

namespace fs = std::filesystem;

using conflux::test::TempDir;

class UserStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { reopen(); }

  void reopen() {
    users_.reset();
    db_.reset();
    auto db = SqliteDb::open(dir_.file("conflux.db"));
    ASSERT_TRUE(db) << db.error().to_string();
    db_ = std::move(*db);
    auto users = UserStore::open(db_, [] { return int64_t{1'700'000'000}; });
    ASSERT_TRUE(users) << users.error().to_string();
    users_ = std::move(*users);
  }

  std::vector<std::string> names() {
    auto listed = users_->list();
    EXPECT_TRUE(listed) << listed.error().to_string();
    return listed ? *listed : std::vector<std::string>{};
  }

  std::string stored_hash(const std::string& user) {
    auto st = db_->prepare("SELECT password_hash, created_at FROM users WHERE name = ?1");
    EXPECT_TRUE(st);
    if (!st) return {};
    st->bind(1, user);
    auto row = st->step();
    EXPECT_TRUE(row && *row);
    if (!row || !*row) return {};
    EXPECT_EQ(st->column_int64(1), 1'700'000'000);
    return st->column_text(0);
  }

  TempDir dir_;
  std::shared_ptr<SqliteDb> db_;
  std::unique_ptr<UserStore> users_;
};

TEST_F(UserStoreTest, AddListAndVerify) {
  ASSERT_TRUE(users_->add(UserId("bob"), "hunter2").is_ok());
  ASSERT_TRUE(users_->add(UserId("alice"), "s3cret").is_ok());
  EXPECT_EQ(names(), (std::vector<std::string>{"alice", "bob"}));

  EXPECT_TRUE(users_->verify_password(UserId("alice"), "s3cret").is_ok());
  EXPECT_TRUE(users_->verify_password(UserId("bob"), "hunter2").is_ok());

  Status wrong = users_->verify_password(UserId("alice"), "hunter2");
  Status unknown = users_->verify_password(UserId("carol"), "s3cret");
  EXPECT_EQ(wrong.code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(unknown.code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(wrong.message(), unknown.message());  // callers must not learn which
  EXPECT_EQ(users_->verify_password(UserId("alice"), "").code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(users_->verify_password(UserId(""), "x").code(), StatusCode::kUnauthenticated);
}

TEST_F(UserStoreTest, StoresAnArgon2idHashNotThePassword) {
  ASSERT_TRUE(users_->add(UserId("alice"), "correct horse").is_ok());
  const std::string hash = stored_hash("alice");
  EXPECT_EQ(hash.rfind("$argon2id$", 0), 0u) << hash;
  EXPECT_EQ(hash.find("correct horse"), std::string::npos);

  // The same password twice gives two hashes (random salt).
  ASSERT_TRUE(users_->add(UserId("bob"), "correct horse").is_ok());
  EXPECT_NE(stored_hash("bob"), hash);
}

// syncml:auth-md5: B64(MD5(B64(MD5(user:password)) ":" nonce)), worked
// example from the SyncML reference (user/password syncmltest, nonce 12345678).
TEST_F(UserStoreTest, VerifiesSyncmlMd5Digests) {
  ASSERT_TRUE(users_->add(UserId("syncmltest"), "syncmltest").is_ok());
  EXPECT_TRUE(users_->verify_md5_digest(UserId("syncmltest"), "12345678", "vJKaU326dTpqlTpORIpC/A==").is_ok());
  EXPECT_EQ(users_->verify_md5_digest(UserId("syncmltest"), "87654321", "vJKaU326dTpqlTpORIpC/A==").code(),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(users_->verify_md5_digest(UserId("nobody"), "12345678", "vJKaU326dTpqlTpORIpC/A==").code(),
            StatusCode::kUnauthenticated);
  // A new password changes the MD5 secret too.
  ASSERT_TRUE(users_->set_password(UserId("syncmltest"), "changed").is_ok());
  EXPECT_EQ(users_->verify_md5_digest(UserId("syncmltest"), "12345678", "vJKaU326dTpqlTpORIpC/A==").code(),
            StatusCode::kUnauthenticated);
}

TEST_F(UserStoreTest, Md5SecretIsTheBase64OfMd5OfUserAndPassword) {
  ASSERT_TRUE(users_->add(UserId("syncmltest"), "syncmltest").is_ok());
  auto secret = users_->md5_secret(UserId("syncmltest"));
  ASSERT_TRUE(secret) << secret.error().to_string();
  EXPECT_EQ(*secret, md5_base64("syncmltest:syncmltest"));
  EXPECT_EQ(users_->md5_secret(UserId("nobody")).error().code(), StatusCode::kNotFound);
}

TEST_F(UserStoreTest, AddRejectsDuplicatesBadNamesAndEmptyPasswords) {
  ASSERT_TRUE(users_->add(UserId("alice"), "pw").is_ok());
  EXPECT_EQ(users_->add(UserId("alice"), "other").code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(users_->verify_password(UserId("alice"), "pw").is_ok());  // unchanged

  for (const std::string& bad : {std::string(""), std::string(65, 'a'), std::string("a b"), std::string("a/b"),
                                std::string("a:b"), std::string("\xc3\xa4"), std::string("a\0b", 3), std::string("."),
                                std::string("..")}) {
    EXPECT_EQ(users_->add(UserId(bad), "pw").code(), StatusCode::kInvalidArgument) << "name: " << bad;
  }
  EXPECT_TRUE(users_->add(UserId("A.b_c@d-9"), "pw").is_ok());
  EXPECT_TRUE(users_->add(UserId(std::string(64, 'z')), "pw").is_ok());
  EXPECT_EQ(users_->add(UserId("carol"), "").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(names(), (std::vector<std::string>{"A.b_c@d-9", "alice", std::string(64, 'z')}));
}

TEST_F(UserStoreTest, SetPassword) {
  ASSERT_TRUE(users_->add(UserId("alice"), "old").is_ok());
  ASSERT_TRUE(users_->set_password(UserId("alice"), "new").is_ok());
  EXPECT_EQ(users_->verify_password(UserId("alice"), "old").code(), StatusCode::kUnauthenticated);
  EXPECT_TRUE(users_->verify_password(UserId("alice"), "new").is_ok());
  EXPECT_EQ(users_->set_password(UserId("bob"), "x").code(), StatusCode::kNotFound);
  EXPECT_EQ(users_->set_password(UserId("alice"), "").code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(users_->verify_password(UserId("alice"), "new").is_ok());
}

TEST_F(UserStoreTest, Remove) {
  ASSERT_TRUE(users_->add(UserId("alice"), "pw").is_ok());
  ASSERT_TRUE(users_->add(UserId("bob"), "pw").is_ok());
  ASSERT_TRUE(users_->remove(UserId("alice")).is_ok());
  EXPECT_EQ(users_->remove(UserId("alice")).code(), StatusCode::kNotFound);
  EXPECT_EQ(users_->verify_password(UserId("alice"), "pw").code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(names(), (std::vector<std::string>{"bob"}));
  // The name is free again.
  EXPECT_TRUE(users_->add(UserId("alice"), "pw2").is_ok());
}

TEST_F(UserStoreTest, AccessOverridesPerDatastoreSurviveReopenAndGoWithTheAccount) {
  ASSERT_TRUE(users_->add(UserId("alice"), "pw").is_ok());
  EXPECT_TRUE(users_->access_overrides(UserId("alice"))->empty());
  ASSERT_TRUE(users_->set_access(UserId("alice"), "contacts", caf::TokenKind::kReadOnly).is_ok());
  ASSERT_TRUE(users_->set_access(UserId("alice"), "calendar", caf::TokenKind::kUnrestrictedRead).is_ok());
  ASSERT_TRUE(users_->set_access(UserId("alice"), "contacts", caf::TokenKind::kReadWrite).is_ok());  // replaces
  // A per-user back end's user needs no Conflux account for an override.
  ASSERT_TRUE(users_->set_access(UserId("bruno"), "contacts", caf::TokenKind::kReadOnly).is_ok());
  reopen();
  auto alice = users_->access_overrides(UserId("alice"));
  ASSERT_TRUE(alice) << alice.error().to_string();
  EXPECT_EQ(*alice, (std::map<std::string, caf::TokenKind>{{"calendar", caf::TokenKind::kUnrestrictedRead},
                                                           {"contacts", caf::TokenKind::kReadWrite}}));
  ASSERT_TRUE(users_->set_access(UserId("alice"), "calendar", std::nullopt).is_ok());  // back to the store's
  EXPECT_EQ(users_->access_overrides(UserId("alice"))->size(), 1u);
  ASSERT_TRUE(users_->remove(UserId("alice")).is_ok());
  EXPECT_TRUE(users_->access_overrides(UserId("alice"))->empty());
  EXPECT_EQ(users_->access_overrides(UserId("bruno"))->size(), 1u);
  EXPECT_EQ(users_->set_access(UserId("bad name"), "contacts", caf::TokenKind::kReadOnly).code(),
            StatusCode::kInvalidArgument);
}

TEST_F(UserStoreTest, AccountsSurviveReopen) {
  ASSERT_TRUE(users_->add(UserId("alice"), "pw").is_ok());
  reopen();  // migrations run again: must be a no-op
  EXPECT_EQ(names(), (std::vector<std::string>{"alice"}));
  EXPECT_TRUE(users_->verify_password(UserId("alice"), "pw").is_ok());
}

TEST_F(UserStoreTest, IsAnAccountDirectory) {
  ASSERT_TRUE(users_->add(UserId("alice"), "pw").is_ok());
  caf::AccountDirectory& directory = *users_;
  EXPECT_TRUE(directory.verify_password(UserId("alice"), "pw").is_ok());
  EXPECT_EQ(directory.verify_password(UserId("alice"), "nope").code(), StatusCode::kUnauthenticated);
}

TEST_F(UserStoreTest, UnreadableDirectoryIsUnavailable) {
  ASSERT_TRUE(db_->exec("DROP TABLE users").is_ok());
  EXPECT_EQ(users_->verify_password(UserId("alice"), "pw").code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace conflux::store
