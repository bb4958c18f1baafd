// BackendAccounts: the account file the embedded back ends check logins
// against when `accounts_file` is set.
#include "caf/backend_accounts.h"

#include <gtest/gtest.h>

#include "common/digest.h"
#include "tests/common/temp_dir.h"

namespace conflux::caf {
namespace {

class BackendAccountsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = tmp_.write("accounts", "# back-end accounts\n\nalice:" + md5_base64("alice:secret") +
                                       "\r\nbob:" + md5_base64("bob:hunter2") + "\n");
  }
  test::TempDir tmp_;
  std::string path_;
};

TEST_F(BackendAccountsTest, PasswordOfAListedUserPasses) {
  BackendAccounts accounts(path_);
  EXPECT_TRUE(accounts.verify(Credentials::with_password(UserId("alice"), "secret")).is_ok());
  EXPECT_TRUE(accounts.verify(Credentials::with_password(UserId("bob"), "hunter2")).is_ok());
}

TEST_F(BackendAccountsTest, WrongPasswordAndUnknownUserAreUnauthenticatedAlike) {
  BackendAccounts accounts(path_);
  EXPECT_EQ(accounts.verify(Credentials::with_password(UserId("alice"), "hunter2")).code(),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(accounts.verify(Credentials::with_password(UserId("carol"), "secret")).code(),
            StatusCode::kUnauthenticated);
  // A user name that is a prefix of a listed one is not that user.
  EXPECT_EQ(accounts.verify(Credentials::with_password(UserId("ali"), "secret")).code(), StatusCode::kUnauthenticated);
}

TEST_F(BackendAccountsTest, Md5DigestWithItsNoncePasses) {
  BackendAccounts accounts(path_);
  Credentials digest{UserId("alice"), md5_base64(md5_base64("alice:secret") + ":nonce-1"), CredentialScheme::kMd5Digest,
                     "nonce-1"};
  EXPECT_TRUE(accounts.verify(digest).is_ok());
  digest.nonce = "nonce-2";
  EXPECT_EQ(accounts.verify(digest).code(), StatusCode::kUnauthenticated);
}

TEST_F(BackendAccountsTest, EditsApplyAtTheNextCheckAndAMissingFileIsUnavailable) {
  BackendAccounts accounts(path_);
  tmp_.write("accounts", "bob:" + md5_base64("bob:hunter2") + "\n");
  EXPECT_EQ(accounts.verify(Credentials::with_password(UserId("alice"), "secret")).code(),
            StatusCode::kUnauthenticated);
  BackendAccounts missing(tmp_.file("nope"));
  EXPECT_EQ(missing.verify(Credentials::with_password(UserId("alice"), "secret")).code(), StatusCode::kUnavailable);
}

TEST(BackendAccountsPathTest, RelativeToTheDataDirectoryAndEmptyWhenUnset) {
  EXPECT_EQ(BackendAccounts::configured_path("", AdapterEnv{"/srv/conflux"}), "");
  EXPECT_EQ(BackendAccounts::configured_path("accounts.txt", AdapterEnv{"/srv/conflux"}), "/srv/conflux/accounts.txt");
  EXPECT_EQ(BackendAccounts::configured_path("/etc/conflux/accounts", AdapterEnv{"/srv/conflux"}),
            "/etc/conflux/accounts");
}

}  // namespace
}  // namespace conflux::caf
