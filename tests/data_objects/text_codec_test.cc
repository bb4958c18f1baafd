// Quoted-printable, charsets and UTF-8 helpers behind the vCard codec.
#include "data/text_codec.h"

#include <gtest/gtest.h>

namespace conflux::data {
namespace {

TEST(TextCodecTest, QuotedPrintableDecode) {
  EXPECT_EQ(qp_decode("Zden=C4=9Bk"), "Zden\xC4\x9Bk");
  EXPECT_EQ(qp_decode("a=\r\nb=\nc"), "abc");     // soft breaks
  EXPECT_EQ(qp_decode("=D0="), "\xD0");           // trailing soft break
  EXPECT_EQ(qp_decode("1=2 =zz ="), "1=2 =zz ");  // stray '=' kept
  EXPECT_EQ(qp_decode("=c3=a4"), "\xC3\xA4");     // lower-case hex
}

TEST(TextCodecTest, QuotedPrintableEncode) {
  EXPECT_EQ(qp_encode("a b=c\n\xC3\xA4 ", 70), "a b=3Dc=0D=0A=C3=A4=20");
  std::string long_text(200, '\xC3');
  std::string out = qp_encode(long_text, 20);
  size_t start = 0;
  while (start < out.size()) {
    size_t end = out.find("=\r\n", start);
    std::string line = out.substr(start, end == std::string::npos ? std::string::npos : end - start);
    EXPECT_LE(line.size(), 75u);
    EXPECT_EQ(line.size() % 3, 0u);  // escapes never split
    if (end == std::string::npos) break;
    start = end + 3;
  }
  EXPECT_EQ(qp_decode(out), long_text);
}

TEST(TextCodecTest, Utf8Validity) {
  EXPECT_TRUE(is_valid_utf8("plain ä € 😀"));
  EXPECT_FALSE(is_valid_utf8("\xFC"));
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));      // overlong
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));  // surrogate
  EXPECT_FALSE(is_valid_utf8("\xE2\x82"));      // cut short
}

TEST(TextCodecTest, Utf8PrefixNeverSplitsASequence) {
  std::string s = "ab€";  // € is 3 octets at 2..4
  EXPECT_EQ(utf8_prefix_length(s, 3), 2u);
  EXPECT_EQ(utf8_prefix_length(s, 4), 2u);
  EXPECT_EQ(utf8_prefix_length(s, 5), 5u);
  EXPECT_EQ(utf8_prefix_length(s, 10), 5u);
}

TEST(TextCodecTest, CharsetConversion) {
  EXPECT_EQ(*to_utf8("M\xFCller", "ISO-8859-1"), "Müller");
  EXPECT_EQ(*to_utf8("\x80", "windows-1252"), "€");
  EXPECT_EQ(*to_utf8("\x80", "ANSI"), "€");
  EXPECT_EQ(*to_utf8("ok", "utf-8"), "ok");
  EXPECT_FALSE(to_utf8("\xFC", "UTF-8").has_value());
  auto unknown = to_utf8("x", "NO-SUCH-CHARSET");
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace conflux::data
