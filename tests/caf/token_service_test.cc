// TokenService: signed, expiring session tokens. Time comes from a
// ManualClock so expiry is tested without waiting.
#include "caf/token_service.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "common/base64.h"
#include "common/clock.h"

namespace conflux::caf {
namespace {

const std::string kKey(32, 'k');
const std::string kOtherKey(32, 'o');
constexpr int64_t kStart = 1'700'000'000;
constexpr int64_t kLifetime = 600;

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t pos; (pos = s.find('.', start)) != std::string::npos; start = pos + 1) {
    parts.push_back(s.substr(start, pos - start));
  }
  parts.push_back(s.substr(start));
  return parts;
}

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ".") + p;
  return out;
}

class TokenServiceTest : public ::testing::Test {
 protected:
  ManualClock clock_{kStart};
  TokenService tokens_{kKey, clock_, kLifetime};
};

TEST_F(TokenServiceTest, IssuedTokenVerifiesForEveryKind) {
  for (TokenKind kind : {TokenKind::kReadOnly, TokenKind::kReadWrite, TokenKind::kUnrestrictedRead}) {
    SCOPED_TRACE(token_kind_name(kind));
    Token token = tokens_.issue(UserId("alice"), kind);
    EXPECT_EQ(token.user, UserId("alice"));
    EXPECT_EQ(token.kind_for("contacts"), kind);
    auto verified = tokens_.verify(token.value);
    ASSERT_TRUE(verified) << verified.error().to_string();
    EXPECT_EQ(verified->user, UserId("alice"));
    EXPECT_EQ(verified->kind_for("contacts"), kind);
    EXPECT_EQ(verified->value, token.value);
  }
}

TEST_F(TokenServiceTest, PerStoreGrantsSurviveAndOthersAreRefused) {
  Token token = tokens_.issue(UserId("alice"), std::map<std::string, TokenKind>{
                                                   {"contacts", TokenKind::kReadOnly},
                                                   {"calendar", TokenKind::kUnrestrictedRead},
                                               });
  auto verified = tokens_.verify(token.value);
  ASSERT_TRUE(verified) << verified.error().to_string();
  EXPECT_EQ(verified->kind_for("contacts"), TokenKind::kReadOnly);
  EXPECT_EQ(verified->kind_for("calendar"), TokenKind::kUnrestrictedRead);
  EXPECT_EQ(verified->kind_for("notes"), std::nullopt);  // not granted: no access
}

TEST_F(TokenServiceTest, WireFormIsVersionUserGrantsExpirySignature) {
  Token token = tokens_.issue(UserId("alice"), TokenKind::kReadWrite);
  auto parts = split(token.value);
  ASSERT_EQ(parts.size(), 5u) << token.value;
  EXPECT_EQ(parts[0], "v2");
  EXPECT_EQ(base64_decode(parts[1]), "alice");
  EXPECT_EQ(base64_decode(parts[2]), "*=1");
  EXPECT_EQ(parts[3], std::to_string(kStart + kLifetime));
  EXPECT_EQ(parts[4].size(), 64u);  // hex HMAC-SHA256
}

TEST_F(TokenServiceTest, UserNamesWithAnyBytesSurvive) {
  // Dots, colons and non-ASCII must not break the dotted wire form.
  for (const std::string name : {"a.b.c", "user:with:colons", "j\xc3\xbcrgen@example.org", "x"}) {
    Token token = tokens_.issue(UserId(name), TokenKind::kReadOnly);
    auto verified = tokens_.verify(token.value);
    ASSERT_TRUE(verified) << name << ": " << verified.error().to_string();
    EXPECT_EQ(verified->user.str(), name);
  }
}

TEST_F(TokenServiceTest, TamperedSignatureIsRefused) {
  Token token = tokens_.issue(UserId("alice"), TokenKind::kReadWrite);
  auto parts = split(token.value);
  parts[4][0] = parts[4][0] == '0' ? '1' : '0';
  auto verified = tokens_.verify(join(parts));
  ASSERT_FALSE(verified);
  EXPECT_EQ(verified.error().code(), StatusCode::kUnauthenticated);

  parts = split(token.value);
  parts[4].pop_back();  // shorter signature
  EXPECT_EQ(tokens_.verify(join(parts)).error().code(), StatusCode::kUnauthenticated);
}

TEST_F(TokenServiceTest, TamperedUserIsRefused) {
  Token token = tokens_.issue(UserId("alice"), TokenKind::kReadWrite);
  auto parts = split(token.value);
  parts[1] = base64_encode("mallory");
  auto verified = tokens_.verify(join(parts));
  ASSERT_FALSE(verified);
  EXPECT_EQ(verified.error().code(), StatusCode::kUnauthenticated);
}

TEST_F(TokenServiceTest, TamperedKindIsRefused) {
  Token token = tokens_.issue(UserId("alice"), TokenKind::kReadOnly);
  auto parts = split(token.value);
  parts[2] = base64_encode("*=" + std::to_string(static_cast<int>(TokenKind::kReadWrite)));  // promote itself
  auto verified = tokens_.verify(join(parts));
  ASSERT_FALSE(verified);
  EXPECT_EQ(verified.error().code(), StatusCode::kUnauthenticated);
}

TEST_F(TokenServiceTest, TamperedExpiryIsRefused) {
  Token token = tokens_.issue(UserId("alice"), TokenKind::kReadWrite);
  auto parts = split(token.value);
  parts[3] = std::to_string(kStart + 100 * kLifetime);
  EXPECT_EQ(tokens_.verify(join(parts)).error().code(), StatusCode::kUnauthenticated);
}

TEST_F(TokenServiceTest, ExpiresAfterLifetime) {
  Token token = tokens_.issue(UserId("alice"), TokenKind::kReadWrite);
  clock_.advance(kLifetime - 1);
  EXPECT_TRUE(tokens_.verify(token.value));
  clock_.advance(1);
  auto expired = tokens_.verify(token.value);
  ASSERT_FALSE(expired);
  EXPECT_EQ(expired.error().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(expired.error().message().find("expired"), std::string::npos) << expired.error().message();
}

TEST_F(TokenServiceTest, TokenOfAnotherKeyIsRefused) {
  TokenService other(kOtherKey, clock_, kLifetime);
  Token foreign = other.issue(UserId("alice"), TokenKind::kReadWrite);
  EXPECT_TRUE(other.verify(foreign.value));
  auto verified = tokens_.verify(foreign.value);
  ASSERT_FALSE(verified);
  EXPECT_EQ(verified.error().code(), StatusCode::kUnauthenticated);
}

TEST_F(TokenServiceTest, NodesSharingTheKeyAcceptEachOthersTokens) {
  TokenService second_node(kKey, clock_, kLifetime);
  Token token = tokens_.issue(UserId("alice"), TokenKind::kReadWrite);
  EXPECT_TRUE(second_node.verify(token.value));
}

TEST_F(TokenServiceTest, MalformedValuesAreRefused) {
  for (const std::string value :
       {"", "garbage", "v1", "v1....", "v2.YWxpY2U=.1.9999999999.00", "v1.a.b.c.d.e", "v1.YWxpY2U=.x.9999999999.00"}) {
    auto verified = tokens_.verify(value);
    ASSERT_FALSE(verified) << value;
    EXPECT_EQ(verified.error().code(), StatusCode::kUnauthenticated) << value;
  }
}

}  // namespace
}  // namespace conflux::caf
