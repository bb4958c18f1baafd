// vCard parsing rules, one test per rule (SYNCML-REFERENCE §16).
#include <gtest/gtest.h>

#include "data/vcard.h"

namespace conflux::data {
namespace {

using Strings = std::vector<std::string>;

VCard parse_ok(std::string_view text) {
  auto card = parse_vcard(text);
  EXPECT_TRUE(card.has_value()) << card.error().to_string();
  return card.has_value() ? *card : VCard{};
}

const VCardProperty& prop(const VCard& card, std::string_view name) {
  static const VCardProperty kMissing;
  const VCardProperty* p = card.first(name);
  EXPECT_NE(p, nullptr) << "no " << name;
  return p ? *p : kMissing;
}

Status parse_error(std::string_view text) {
  auto card = parse_vcards(text);
  EXPECT_FALSE(card.has_value());
  return card.has_value() ? Status::ok() : card.error();
}

TEST(VCardParseTest, QuotedPrintableSoftBreakInsideUtf8Sequence) {
  // gammu quoted-printable-new-line.vcf: the break splits "С" (D0 A1).
  VCard card = parse_ok(
      "BEGIN:VCARD\r\nVERSION:2.1\r\n"
      "N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:- PRIMA;=D0=9F=D0=9E=D0=A0=D0=9A==\r\nD0=A1\r\n"
      "TEL;CELL:+222\r\nEND:VCARD\r\n");
  EXPECT_EQ(prop(card, "N").values, (Strings{"- PRIMA", "ПОРКС"}));
  EXPECT_EQ(prop(card, "TEL").values, (Strings{"+222"}));
}

TEST(VCardParseTest, QuotedPrintableEndingInEmptyContinuationLine) {
  VCard card = parse_ok("BEGIN:VCARD\nVERSION:2.1\nNOTE;QUOTED-PRINTABLE:a=0D=0Ab=\n\nFN:x\nEND:VCARD\n");
  EXPECT_EQ(prop(card, "NOTE").values, (Strings{"a\nb"}));
  EXPECT_EQ(prop(card, "FN").values, (Strings{"x"}));
}

TEST(VCardParseTest, EqualsSignAtLineEndWithoutQuotedPrintableIsText) {
  VCard card = parse_ok("BEGIN:VCARD\nVERSION:2.1\nNOTE:ends with=\nTEL;WORK:5555\n 4444\nEND:VCARD\n");
  EXPECT_EQ(prop(card, "NOTE").values, (Strings{"ends with="}));
  EXPECT_EQ(prop(card, "TEL").values, (Strings{"5555 4444"}));  // 2.1 fold keeps the space
}

TEST(VCardParseTest, Iso88591AndWindows1252Charsets) {
  VCard card = parse_ok(
      "BEGIN:VCARD\r\nVERSION:2.1\r\n"
      "N;CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE:M=FCller;J=F6rg\r\n"
      "FN;CHARSET=iso-8859-1:M\xFCller\r\n"
      "NOTE;CHARSET=windows-1252:5 \x80\r\n"
      "TITLE:Gr\xFC\xDF"
      "e\r\n"  // no CHARSET, not UTF-8: read as windows-1252
      "END:VCARD\r\n");
  EXPECT_EQ(prop(card, "N").values, (Strings{"Müller", "Jörg"}));
  EXPECT_EQ(prop(card, "FN").values, (Strings{"Müller"}));
  EXPECT_EQ(prop(card, "NOTE").values, (Strings{"5 €"}));
  EXPECT_EQ(prop(card, "TITLE").values, (Strings{"Grüße"}));
  EXPECT_TRUE(card.first("FN")->param("CHARSET") == nullptr);  // decoded away
}

TEST(VCardParseTest, InvalidUtf8UnderCharsetUtf8FallsBackToWindows1252) {
  VCard card = parse_ok("BEGIN:VCARD\nVERSION:2.1\nFN;CHARSET=UTF-8:J\xF6rg\nEND:VCARD\n");
  EXPECT_EQ(prop(card, "FN").values, (Strings{"Jörg"}));
}

TEST(VCardParseTest, EmptyPropertiesAreKept) {
  VCard card = parse_ok("BEGIN:VCARD\nVERSION:2.1\nEMAIL;INTERNET;CHARSET=UTF-8:\nTEL;CELL:\nEND:VCARD\n");
  ASSERT_EQ(card.properties.size(), 2u);
  EXPECT_TRUE(card.properties[0].empty());
  EXPECT_EQ(card.properties[0].types(), (Strings{"INTERNET"}));
}

TEST(VCardParseTest, ValueBinaryIsImpliedByEncoding) {
  VCard card = parse_ok("BEGIN:VCARD\nVERSION:3.0\nLOGO;VALUE=binary;ENCODING=b;TYPE=PNG:aGk=\nEND:VCARD\n");
  EXPECT_EQ(prop(card, "LOGO").param("VALUE"), nullptr);
  EXPECT_EQ(prop(card, "LOGO").values, (Strings{"hi"}));
}

TEST(VCardParseTest, QuotedCharsetOnVcard30IsAccepted) {
  VCard card = parse_ok("BEGIN:VCARD\nVERSION:3.0\nTEL;CHARSET=\"utf-8\";TYPE=OTHER,VOICE:1300\nEND:VCARD\n");
  EXPECT_EQ(prop(card, "TEL").types(), (Strings{"OTHER", "VOICE"}));
}

TEST(VCardParseTest, UnknownCharsetFailsNamingLineAndProperty) {
  Status s = parse_error("BEGIN:VCARD\nVERSION:2.1\nFN;CHARSET=X-NOPE:abc\nEND:VCARD\n");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("line 3"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("FN"), std::string::npos) << s.message();
}

TEST(VCardParseTest, Unfolding30RemovesLineBreakAndOneWhitespace) {
  VCard card = parse_ok("BEGIN:VCARD\r\nVERSION:3.0\r\nNOTE:abc\r\n def\r\n\tghi\r\n  jkl\r\nEND:VCARD\r\n");
  EXPECT_EQ(prop(card, "NOTE").values, (Strings{"abcdefghi jkl"}));
}

TEST(VCardParseTest, LfOnlyInputAndVersionLast) {
  VCard card = parse_ok("BEGIN:VCARD\nFN:A\nNOTE:x\n y\nVERSION:3.0\nEND:VCARD\n");
  EXPECT_EQ(card.version, VCardVersion::k30);
  EXPECT_EQ(prop(card, "NOTE").values, (Strings{"xy"}));  // 3.0 rule chosen by the late VERSION
  EXPECT_EQ(card.first("VERSION"), nullptr);
}

TEST(VCardParseTest, BareTypeParamsInAnyOrderAndCase) {
  VCard card = parse_ok(
      "BEGIN:VCARD\nVERSION:2.1\nTEL;HOME;VOICE:1\ntel;pref;Type=cell:2\nTEL;TYPE=home;TYPE=fax:3\n"
      "TEL;TYPE=HOME,FAX:4\nEMAIL;INTERNET;PREF:a@b\nTEL;TYPE=\"home,fax\":5\nEND:VCARD\n");
  ASSERT_EQ(card.properties.size(), 6u);
  EXPECT_EQ(card.properties[5].types(), (Strings{"HOME", "FAX"}));
  EXPECT_EQ(card.properties[0].types(), (Strings{"HOME", "VOICE"}));
  EXPECT_EQ(card.properties[1].name, "TEL");
  EXPECT_EQ(card.properties[1].types(), (Strings{"PREF", "CELL"}));
  EXPECT_EQ(card.properties[2].types(), (Strings{"HOME", "FAX"}));
  EXPECT_EQ(card.properties[3].types(), (Strings{"HOME", "FAX"}));
  EXPECT_TRUE(card.properties[4].has_type("internet"));
}

TEST(VCardParseTest, Base64In21ContinuesUntilBlankLine) {
  // "hello world" in base64, split over unindented and indented lines.
  VCard card = parse_ok(
      "BEGIN:VCARD\r\nVERSION:2.1\r\nPHOTO;ENCODING=BASE64;TYPE=GIF:aGVsbG8g\r\nd29y\r\n  bGQ=\r\n\r\n"
      "FN:x\r\nEND:VCARD\r\n");
  const VCardProperty& photo = prop(card, "PHOTO");
  EXPECT_EQ(photo.kind, ValueKind::kBinary);
  EXPECT_EQ(photo.values, (Strings{"hello world"}));
  EXPECT_EQ(photo.types(), (Strings{"GIF"}));
  EXPECT_EQ(photo.param("ENCODING"), nullptr);
  EXPECT_EQ(prop(card, "FN").values, (Strings{"x"}));
}

TEST(VCardParseTest, Base64b30AndDataUri40) {
  VCard v3 = parse_ok("BEGIN:VCARD\nVERSION:3.0\nPHOTO;ENCODING=b;TYPE=image/jpeg:aGk=\nEND:VCARD\n");
  EXPECT_EQ(prop(v3, "PHOTO").values, (Strings{"hi"}));
  EXPECT_EQ(prop(v3, "PHOTO").types(), (Strings{"JPEG"}));
  VCard v4 = parse_ok("BEGIN:VCARD\nVERSION:4.0\nPHOTO:data:image/jpeg;base64,aGk=\nEND:VCARD\n");
  EXPECT_EQ(prop(v4, "PHOTO").kind, ValueKind::kBinary);
  EXPECT_EQ(prop(v4, "PHOTO").values, (Strings{"hi"}));
  EXPECT_EQ(prop(v4, "PHOTO").types(), (Strings{"JPEG"}));
  VCard uri = parse_ok("BEGIN:VCARD\nVERSION:4.0\nPHOTO:http://example.com/a.jpg\nEND:VCARD\n");
  EXPECT_EQ(prop(uri, "PHOTO").kind, ValueKind::kRaw);
  EXPECT_EQ(prop(uri, "PHOTO").values, (Strings{"http://example.com/a.jpg"}));
}

TEST(VCardParseTest, BadBase64FailsCleanly) {
  Status s = parse_error("BEGIN:VCARD\nVERSION:3.0\nPHOTO;ENCODING=b:***\nEND:VCARD\n");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("PHOTO"), std::string::npos);
}

TEST(VCardParseTest, StructuredValuesAndEscapes) {
  VCard card = parse_ok(
      "BEGIN:VCARD\nVERSION:3.0\nN:O\\;Brien;Anne\\,Marie;;;\nADR;TYPE=work:;;Main St\\n2;Town;;8002;NO\n"
      "NOTE:a\\\\b\\nc\\,d\\;e\\:f\\x\nCATEGORIES:one,two\\,three\nORG:My\\, Co;IT\nEND:VCARD\n");
  EXPECT_EQ(prop(card, "N").values, (Strings{"O;Brien", "Anne,Marie", "", "", ""}));
  EXPECT_EQ(prop(card, "ADR").values, (Strings{"", "", "Main St\n2", "Town", "", "8002", "NO"}));
  EXPECT_EQ(prop(card, "NOTE").values, (Strings{"a\\b\nc,d;e:f\\x"}));
  EXPECT_EQ(prop(card, "CATEGORIES").values, (Strings{"one", "two,three"}));
  EXPECT_EQ(prop(card, "ORG").values, (Strings{"My, Co", "IT"}));
  EXPECT_EQ(prop(card, "NOTE").raw, "a\\\\b\\nc\\,d\\;e\\:f\\x");
}

TEST(VCardParseTest, Vcard21CommasAreText) {
  VCard card = parse_ok("BEGIN:VCARD\r\nVERSION:2.1\r\nFN:Test,Contact\r\nORG:My,Company;IT\r\nEND:VCARD\r\n");
  EXPECT_EQ(prop(card, "FN").values, (Strings{"Test,Contact"}));
  EXPECT_EQ(prop(card, "ORG").values, (Strings{"My,Company", "IT"}));
}

TEST(VCardParseTest, LineBreaksNormalisedToLf) {
  VCard card = parse_ok("BEGIN:VCARD\nVERSION:2.1\nNOTE;ENCODING=QUOTED-PRINTABLE:a=0D=0Ab=0Dc\nEND:VCARD\n");
  EXPECT_EQ(prop(card, "NOTE").values, (Strings{"a\nb\nc"}));
}

TEST(VCardParseTest, GroupsAndXPropertiesKept) {
  VCard card = parse_ok(
      "BEGIN:VCARD\nVERSION:3.0\nitem1.TEL:+1 555\nitem1.X-ABLabel:_$!<Other>!$_\nX-Custom;X-PARAM=v:z\nEND:VCARD\n");
  ASSERT_EQ(card.properties.size(), 3u);
  EXPECT_EQ(card.properties[0].group, "item1");
  EXPECT_EQ(card.properties[1].group, "item1");
  EXPECT_EQ(card.properties[1].name, "X-ABLABEL");
  EXPECT_EQ(card.properties[1].values, (Strings{"_$!<Other>!$_"}));
  EXPECT_EQ(card.properties[2].param("X-PARAM")->values, (Strings{"v"}));
}

TEST(VCardParseTest, Vcard40TelUriAndGeo) {
  VCard card =
      parse_ok("BEGIN:VCARD\nVERSION:4.0\nTEL;VALUE=uri;TYPE=cell:tel:+1-555\nGEO:geo:37.38,-122.08\nEND:VCARD\n");
  EXPECT_EQ(prop(card, "TEL").values, (Strings{"+1-555"}));
  EXPECT_EQ(prop(card, "TEL").param("VALUE"), nullptr);
  EXPECT_EQ(prop(card, "GEO").values, (Strings{"37.38", "-122.08"}));
  VCard v21 = parse_ok("BEGIN:VCARD\nVERSION:2.1\nGEO:37.24,-17.87\nEND:VCARD\n");
  EXPECT_EQ(prop(v21, "GEO").values, (Strings{"37.24", "-17.87"}));
  VCard v30 = parse_ok("BEGIN:VCARD\nVERSION:3.0\nGEO:37.38;-122.08\nEND:VCARD\n");
  EXPECT_EQ(prop(v30, "GEO").values, (Strings{"37.38", "-122.08"}));
}

TEST(VCardParseTest, NestedAgentVcardIsKeptRaw) {
  VCard card = parse_ok(
      "BEGIN:VCARD\r\nVERSION:2.1\r\nN:Boss\r\nAGENT:\r\nBEGIN:VCARD\r\nVERSION:2.1\r\nN:Friday;Fred\r\n"
      "END:VCARD\r\nTEL:1\r\nEND:VCARD\r\n");
  EXPECT_EQ(prop(card, "AGENT").values, (Strings{"BEGIN:VCARD\nVERSION:2.1\nN:Friday;Fred\nEND:VCARD"}));
  EXPECT_EQ(prop(card, "TEL").values, (Strings{"1"}));
  EXPECT_EQ(card.version, VCardVersion::k21);
  // An empty AGENT is just an empty property.
  VCard empty = parse_ok("BEGIN:VCARD\nVERSION:2.1\nAGENT:\nTEL:1\nEND:VCARD\n");
  EXPECT_EQ(empty.properties.size(), 2u);
}

TEST(VCardParseTest, SeveralCardsInOneStream) {
  auto cards = parse_vcards("BEGIN:VCARD\nVERSION:3.0\nFN:a\nEND:VCARD\n\nBEGIN:VCARD\nVERSION:2.1\nFN:b\nEND:VCARD\n");
  ASSERT_TRUE(cards.has_value());
  ASSERT_EQ(cards->size(), 2u);
  EXPECT_EQ((*cards)[1].version, VCardVersion::k21);
  auto one = parse_vcard("BEGIN:VCARD\nFN:a\nEND:VCARD\nBEGIN:VCARD\nFN:b\nEND:VCARD\n");
  EXPECT_FALSE(one.has_value());
}

TEST(VCardParseTest, StructuralErrorsNameTheLine) {
  struct Case {
    const char* text;
    const char* expect;
  } cases[] = {
      {"BEGIN:VCARD\nVERSION:3.0\nFN:a\n", "line 1: BEGIN:VCARD without END:VCARD"},
      {"VERSION:3.0\nFN:a\nEND:VCARD\n", "line 1: content outside"},
      {"END:VCARD\n", "line 1: END:VCARD without BEGIN:VCARD"},
      {"BEGIN:VCARD\nVERSION:3.0\nFN a\nEND:VCARD\n", "line 3: no ':'"},
      {"BEGIN:VCARD\nVERSION:3.0\nF/N:a\nEND:VCARD\n", "line 3: invalid property name"},
      {"BEGIN:VCARD\nVERSION:5.0\nEND:VCARD\n", "line 2: unsupported VERSION"},
      {"BEGIN:VCARD\nVERSION:3.0\nFN;ENCODING=UUENCODE:a\nEND:VCARD\n", "line 3: property FN: unsupported ENCODING"},
      {"", "no BEGIN:VCARD"},
      {"\r\n\r\n", "no BEGIN:VCARD"},
  };
  for (const auto& c : cases) {
    Status s = parse_error(c.text);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << c.text;
    EXPECT_NE(s.message().find(c.expect), std::string::npos) << s.message();
  }
}

TEST(VCardParseTest, BinaryGarbageFailsWithoutCrash) {
  std::string junk = "BEGIN:VCARD\n";
  for (int i = 0; i < 256; ++i) junk.push_back(static_cast<char>(i));
  junk += "\nEND:VCARD\n";
  Status s = parse_error(junk);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace conflux::data
