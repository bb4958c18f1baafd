// vCard writers and the conversion rules between 2.1, 3.0 and 4.0.
#include <gtest/gtest.h>

#include "data/text_codec.h"
#include "data/vcard.h"
#include "field_key.h"

namespace conflux::data {
namespace {

using Strings = std::vector<std::string>;

VCard parse_ok(std::string_view text) {
  auto card = parse_vcard(text);
  EXPECT_TRUE(card.has_value()) << card.error().to_string() << "\n" << text;
  return card.has_value() ? *card : VCard{};
}

Strings physical_lines(const std::string& text) {
  Strings lines;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find("\r\n", pos);
    EXPECT_NE(end, std::string::npos) << "every line ends in CRLF";
    if (end == std::string::npos) break;
    lines.push_back(text.substr(pos, end - pos));
    pos = end + 2;
  }
  return lines;
}

VCardProperty text_prop(std::string name, std::string value) {
  VCardProperty p;
  p.name = std::move(name);
  p.kind = value_kind_for(p.name);
  p.values = {std::move(value)};
  return p;
}

TEST(VCardWriteTest, Folds30And40At75OctetsWithoutSplittingUtf8) {
  std::string note;
  for (int i = 0; i < 60; ++i) note += "ä€😀";  // 2-, 3- and 4-octet sequences
  VCard card;
  card.properties.push_back(text_prop("NOTE", note));
  for (VCardVersion v : {VCardVersion::k30, VCardVersion::k40}) {
    std::string out = write_vcard(card, v);
    for (const auto& line : physical_lines(out)) {
      EXPECT_LE(line.size(), 75u);
      EXPECT_TRUE(is_valid_utf8(line)) << line;
    }
    EXPECT_EQ(parse_ok(out).first("NOTE")->values, (Strings{note}));
  }
}

TEST(VCardWriteTest, Vcard21UsesQuotedPrintableForNonAsciiAndNewlines) {
  VCard card;
  card.properties.push_back(text_prop("FN", "Zdeněk Žák"));
  card.properties.push_back(text_prop("NOTE", "line one\nline two"));
  card.properties.push_back(text_prop("TITLE", "plain"));
  std::string out = write_vcard(card, VCardVersion::k21);
  EXPECT_NE(out.find("FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Zden=C4=9Bk =C5=BD=C3=A1k\r\n"), std::string::npos)
      << out;
  EXPECT_NE(out.find("NOTE;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:line one=0D=0Aline two\r\n"), std::string::npos);
  EXPECT_NE(out.find("TITLE:plain\r\n"), std::string::npos);
  VCard back = parse_ok(out);
  EXPECT_EQ(testing::field_keys(back), testing::field_keys(card));
}

TEST(VCardWriteTest, Vcard21LongQuotedPrintableUsesSoftBreaks) {
  std::string note;
  for (int i = 0; i < 80; ++i) note += "č";
  VCard card;
  card.properties.push_back(text_prop("NOTE", note));
  std::string out = write_vcard(card, VCardVersion::k21);
  for (const auto& line : physical_lines(out)) EXPECT_LE(line.size(), 76u) << line;
  EXPECT_EQ(parse_ok(out).first("NOTE")->values, (Strings{note}));
}

TEST(VCardWriteTest, Vcard21FoldsOnlyBeforeWhitespace) {
  std::string note;
  for (int i = 0; i < 30; ++i) note += "word" + std::to_string(i) + " ";
  std::string unbreakable(120, 'x');
  VCard card;
  card.properties.push_back(text_prop("NOTE", note));
  card.properties.push_back(text_prop("X-LONG", unbreakable));
  std::string out = write_vcard(card, VCardVersion::k21);
  EXPECT_NE(out.find("X-LONG:" + unbreakable + "\r\n"), std::string::npos);  // no place to fold
  for (const auto& line : physical_lines(out)) {
    if (line.rfind("X-LONG", 0) != 0) {
      EXPECT_LE(line.size(), 75u) << line;
    }
  }
  EXPECT_EQ(parse_ok(out).first("NOTE")->values, (Strings{note}));
}

TEST(VCardWriteTest, ParametersPerVersion) {
  VCard card =
      parse_ok("BEGIN:VCARD\nVERSION:3.0\nTEL;TYPE=HOME,VOICE:+1 555\nEMAIL;TYPE=INTERNET,PREF:a@b.c\nEND:VCARD\n");
  std::string v21 = write_vcard(card, VCardVersion::k21);
  EXPECT_NE(v21.find("TEL;HOME;VOICE:+1 555\r\n"), std::string::npos) << v21;
  EXPECT_NE(v21.find("EMAIL;INTERNET;PREF:a@b.c\r\n"), std::string::npos);
  std::string v30 = write_vcard(card, VCardVersion::k30);
  EXPECT_NE(v30.find("TEL;TYPE=HOME,VOICE:+1 555\r\n"), std::string::npos) << v30;
  std::string v40 = write_vcard(card, VCardVersion::k40);
  EXPECT_NE(v40.find("TEL;TYPE=home,voice:+1 555\r\n"), std::string::npos) << v40;  // a space: no tel: URI
  EXPECT_NE(v40.find("EMAIL;TYPE=internet;PREF=1:a@b.c\r\n"), std::string::npos) << v40;
  // And back: PREF=1 is TYPE=PREF again.
  EXPECT_TRUE(parse_ok(write_vcard(parse_ok(v40), VCardVersion::k30)).properties[1].has_type("PREF"));
}

TEST(VCardWriteTest, Vcard40TelAsUri) {
  VCard card = parse_ok("BEGIN:VCARD\nVERSION:2.1\nTEL;CELL:+49-30-123\nEND:VCARD\n");
  std::string v40 = write_vcard(card, VCardVersion::k40);
  EXPECT_NE(v40.find("TEL;TYPE=cell;VALUE=uri:tel:+49-30-123\r\n"), std::string::npos) << v40;
  EXPECT_NE(write_vcard(parse_ok(v40), VCardVersion::k21).find("TEL;CELL:+49-30-123\r\n"), std::string::npos);
}

TEST(VCardWriteTest, EscapingIn30) {
  VCard card;
  card.properties.push_back(text_prop("NOTE", "a,b;c\\d\ne"));
  VCardProperty n;
  n.name = "N";
  n.kind = ValueKind::kStructured;
  n.values = {"O;Brien", "Anne,Marie", "", "", ""};
  card.properties.push_back(n);
  std::string out = write_vcard(card, VCardVersion::k30);
  EXPECT_NE(out.find("NOTE:a\\,b\\;c\\\\d\\ne\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("N:O\\;Brien;Anne\\,Marie;;;\r\n"), std::string::npos) << out;
  std::string v21 = write_vcard(card, VCardVersion::k21);
  EXPECT_NE(v21.find("N:O\\;Brien;Anne,Marie;;;\r\n"), std::string::npos) << v21;
  for (VCardVersion v : {VCardVersion::k21, VCardVersion::k30, VCardVersion::k40}) {
    EXPECT_EQ(testing::field_keys(parse_ok(write_vcard(card, v))), testing::field_keys(card));
  }
}

TEST(VCardWriteTest, Vcard21BackslashesOnlyEscapedWhereAmbiguous) {
  VCard card;
  card.properties.push_back(text_prop("NOTE", "C:\\path\\new"));
  std::string v21 = write_vcard(card, VCardVersion::k21);
  EXPECT_NE(v21.find("NOTE:C:\\path\\\\new\r\n"), std::string::npos) << v21;  // "\n" would read as newline
  EXPECT_EQ(parse_ok(v21).first("NOTE")->values, (Strings{"C:\\path\\new"}));
}

TEST(VCardWriteTest, PhotoEncodingsPerVersion) {
  VCard card = parse_ok("BEGIN:VCARD\nVERSION:3.0\nPHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQ\nEND:VCARD\n");
  std::string v21 = write_vcard(card, VCardVersion::k21);
  EXPECT_NE(v21.find("PHOTO;ENCODING=BASE64;TYPE=JPEG:\r\n /9j/4AAQ\r\n\r\n"), std::string::npos) << v21;
  std::string v30 = write_vcard(card, VCardVersion::k30);
  EXPECT_NE(v30.find("PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQ\r\n"), std::string::npos) << v30;
  std::string v40 = write_vcard(card, VCardVersion::k40);
  EXPECT_NE(v40.find("PHOTO:data:image/jpeg;base64,/9j/4AAQ\r\n"), std::string::npos) << v40;
  for (const std::string& text : {v21, v30, v40}) {
    EXPECT_EQ(testing::field_keys(parse_ok(text)), testing::field_keys(card)) << text;
  }
  VCard url = parse_ok("BEGIN:VCARD\nVERSION:3.0\nPHOTO;VALUE=uri:http://x/y.jpg\nEND:VCARD\n");
  EXPECT_NE(write_vcard(url, VCardVersion::k21).find("PHOTO;VALUE=URL:http://x/y.jpg\r\n"), std::string::npos);
  EXPECT_NE(write_vcard(url, VCardVersion::k40).find("PHOTO;VALUE=uri:http://x/y.jpg\r\n"), std::string::npos);
}

TEST(VCardWriteTest, Vcard40HasNoCharsetOrEncoding) {
  VCard card = parse_ok(
      "BEGIN:VCARD\nVERSION:2.1\nN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=C3=9C;=C3=84\n"
      "PHOTO;ENCODING=BASE64;TYPE=PNG:iVBO\n\nEND:VCARD\n");
  std::string v40 = write_vcard(card, VCardVersion::k40);
  EXPECT_EQ(v40.find("CHARSET"), std::string::npos) << v40;
  EXPECT_EQ(v40.find("ENCODING"), std::string::npos) << v40;
  EXPECT_NE(v40.find("N:Ü;Ä\r\n"), std::string::npos) << v40;
  EXPECT_NE(v40.find("PHOTO:data:image/png;base64,iVBO\r\n"), std::string::npos) << v40;
}

TEST(VCardWriteTest, Vcard40OnlyPropertiesSurviveATripDown) {
  VCard card =
      parse_ok("BEGIN:VCARD\nVERSION:4.0\nFN:A\nKIND:individual\nGENDER:M;boy\nANNIVERSARY:20090808\nEND:VCARD\n");
  std::string v30 = write_vcard(card, VCardVersion::k30);
  EXPECT_NE(v30.find("X-VCARD4-KIND:individual\r\n"), std::string::npos) << v30;
  EXPECT_NE(v30.find("X-VCARD4-GENDER:M;boy\r\n"), std::string::npos) << v30;
  EXPECT_NE(v30.find("X-VCARD4-ANNIVERSARY:20090808\r\n"), std::string::npos) << v30;
  std::string v21 = write_vcard(parse_ok(v30), VCardVersion::k21);
  std::string back = write_vcard(parse_ok(v21), VCardVersion::k40);
  EXPECT_NE(back.find("\r\nKIND:individual\r\n"), std::string::npos) << back;
  EXPECT_NE(back.find("\r\nGENDER:M;boy\r\n"), std::string::npos) << back;
  EXPECT_EQ(testing::field_keys(parse_ok(back)), testing::field_keys(card));
}

TEST(VCardWriteTest, PropertiesDroppedIn40SurviveATripUp) {
  VCard card = parse_ok(
      "BEGIN:VCARD\nVERSION:3.0\nFN:A\nLABEL;TYPE=HOME:1 Main St\\nTown\nCLASS:PRIVATE\nMAILER:x\nEND:VCARD\n");
  std::string v40 = write_vcard(card, VCardVersion::k40);
  EXPECT_NE(v40.find("X-VCARD3-LABEL;TYPE=home:1 Main St\\nTown\r\n"), std::string::npos) << v40;
  EXPECT_NE(v40.find("X-VCARD3-CLASS:PRIVATE\r\n"), std::string::npos) << v40;
  std::string back = write_vcard(parse_ok(v40), VCardVersion::k30);
  EXPECT_NE(back.find("\r\nLABEL;TYPE=HOME:1 Main St\\nTown\r\n"), std::string::npos) << back;
  EXPECT_EQ(testing::field_keys(parse_ok(back)), testing::field_keys(card));
}

TEST(VCardWriteTest, GeoPerVersion) {
  VCard card = parse_ok("BEGIN:VCARD\nVERSION:3.0\nGEO:37.386013;-122.082932\nEND:VCARD\n");
  EXPECT_NE(write_vcard(card, VCardVersion::k21).find("GEO:37.386013,-122.082932\r\n"), std::string::npos);
  EXPECT_NE(write_vcard(card, VCardVersion::k30).find("GEO:37.386013;-122.082932\r\n"), std::string::npos);
  EXPECT_NE(write_vcard(card, VCardVersion::k40).find("GEO:geo:37.386013,-122.082932\r\n"), std::string::npos);
}

TEST(VCardWriteTest, GroupsUnknownAndXPropertiesRoundTrip) {
  const char* text =
      "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:A\r\nitem1.TEL;TYPE=pref:+1 555\r\nitem1.X-ABLabel:_$!<Other>!$_\r\n"
      "item2.X-ABRELATEDNAMES:Bob\r\nX-EVOLUTION-FILE-AS:A\\, B\r\nX-FOO;X-BAR=baz:q\r\nFUTURE-PROP:v\r\nEND:VCARD\r\n";
  VCard card = parse_ok(text);
  for (VCardVersion v : {VCardVersion::k21, VCardVersion::k30, VCardVersion::k40}) {
    std::string out = write_vcard(card, v);
    VCard back = parse_ok(out);
    EXPECT_EQ(testing::field_keys(back), testing::field_keys(card)) << out;
    EXPECT_EQ(back.first("X-FOO")->param("X-BAR")->values, (Strings{"baz"}));
    EXPECT_NE(out.find("item1.X-ABLABEL:_$!<Other>!$_\r\n"), std::string::npos) << out;
  }
}

TEST(VCardWriteTest, NestedAgentWrittenPerVersion) {
  VCard card = parse_ok(
      "BEGIN:VCARD\r\nVERSION:2.1\r\nN:Boss\r\nAGENT:\r\nBEGIN:VCARD\r\nVERSION:2.1\r\nN:Friday;Fred\r\n"
      "END:VCARD\r\nEND:VCARD\r\n");
  std::string v21 = write_vcard(card, VCardVersion::k21);
  EXPECT_NE(v21.find("AGENT:\r\nBEGIN:VCARD\r\nVERSION:2.1\r\nN:Friday;Fred\r\nEND:VCARD\r\nEND:VCARD\r\n"),
            std::string::npos)
      << v21;
  std::string v30 = write_vcard(card, VCardVersion::k30);
  EXPECT_NE(v30.find("AGENT:BEGIN:VCARD\\nVERSION:2.1\\nN:Friday\\;Fred\\nEND:VCARD\r\n"), std::string::npos) << v30;
  EXPECT_EQ(testing::field_keys(parse_ok(v21)), testing::field_keys(card));
  EXPECT_EQ(testing::field_keys(parse_ok(v30)), testing::field_keys(card));
}

TEST(VCardWriteTest, VersionComesRightAfterBegin) {
  VCard card = parse_ok("BEGIN:VCARD\nFN:A\nVERSION:3.0\nEND:VCARD\n");
  EXPECT_EQ(write_vcard(card, VCardVersion::k40), "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:A\r\nEND:VCARD\r\n");
}

// 2.1 writes TYPE values bare; one that is not a name would not read back
// as the same value (docs/FUZZING.md F6).
TEST(VCardWriteTest, Vcard21WritesATypeThatIsNoNameAsAParameter) {
  VCard card = parse_ok("BEGIN:VCARD\r\nVERSION:3.0\r\nTEL;TYPE=\"MY CELL\",HOME:1\r\nEND:VCARD\r\n");
  std::string text = write_vcard(card, VCardVersion::k21);
  EXPECT_NE(text.find("TEL;TYPE=MY CELL;HOME:1\r\n"), std::string::npos) << text;
  VCard back = parse_ok(text);
  ASSERT_NE(back.first("TEL"), nullptr);
  EXPECT_EQ(back.first("TEL")->types(), (Strings{"MY CELL", "HOME"}));
  EXPECT_EQ(write_vcard(back, VCardVersion::k21), text);
}

// 2.1 has no quoting: a parameter value holding a separator or a quote is
// left out, not quoted, so what is written reads back as the same card and
// never ends the property's name early (docs/FUZZING.md F11).
TEST(VCardWriteTest, Vcard21LeavesOutParameterValuesItCannotWrite) {
  VCard card = parse_ok(
      "BEGIN:VCARD\r\nVERSION:3.0\r\nNOTE;X-A=\"a:b\",plain;X-B=\"c;d\";LANGUAGE=de:Gr\u00fc\u00dfe\r\n"
      "END:VCARD\r\n");
  std::string text = write_vcard(card, VCardVersion::k21);
  EXPECT_NE(text.find("\r\nNOTE;X-A=plain;LANGUAGE=de;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Gr=C3=BC="),
            std::string::npos)
      << text;
  VCard back = parse_ok(text);
  ASSERT_NE(back.first("NOTE"), nullptr);
  EXPECT_EQ(back.first("NOTE")->values.at(0), "Gr\u00fc\u00dfe");
  EXPECT_EQ(write_vcard(back, VCardVersion::k21), text);
}

// 4.0 has no ENCODING parameter: a binary value of a property that is not a
// media one (PHOTO, LOGO, SOUND, KEY) goes out as its base64 text, which
// reads back and writes again the same (docs/FUZZING.md F6).
TEST(VCardWriteTest, Vcard40WritesBinaryOfANonMediaPropertyAsBase64Text) {
  VCard card = parse_ok("BEGIN:VCARD\r\nVERSION:3.0\r\nX-BLOB;ENCODING=b:AAEC\r\nEND:VCARD\r\n");
  std::string text = write_vcard(card, VCardVersion::k40);
  EXPECT_NE(text.find("X-BLOB:AAEC\r\n"), std::string::npos) << text;
  EXPECT_EQ(write_vcard(parse_ok(text), VCardVersion::k40), text);
}

}  // namespace
}  // namespace conflux::data
