#include <gtest/gtest.h>

#include "common/base64.h"
#include "data/file_object.h"

namespace conflux::data {
namespace {

const std::string kPng("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16);

std::string omads(const std::string& inner) { return "<File>" + inner + "</File>"; }

TEST(FileTest, OmadsFileWithBase64BodyAndAllFields) {
  std::string xml = omads(
      "<name>pic.png</name><created>20050101T120000Z</created><modified>20060101T080000Z</modified>"
      "<accessed>20070101T000000Z</accessed><attributes><h>false</h><s>false</s><a>true</a><w>true</w>"
      "<r>true</r><x>false</x></attributes><cttype>image/PNG</cttype><body enc=\"base64\">" +
      base64_encode(kPng) + "</body><size>16</size>");
  auto file = parse(xml, omads_file_format());
  ASSERT_TRUE(file.has_value()) << file.error().to_string();
  ASSERT_EQ((*file)->kind(), DataKind::kFile);
  const FileFields& f = static_cast<const File&>(**file).fields();
  EXPECT_EQ(f.name, "pic.png");
  EXPECT_EQ(f.content_type, "image/png");
  EXPECT_EQ(f.body, kPng);
  EXPECT_EQ(f.created, "20050101T120000Z");
  EXPECT_EQ(f.modified, "20060101T080000Z");
  EXPECT_EQ(f.accessed, "20070101T000000Z");
  EXPECT_EQ(f.attributes.size(), 6u);
  EXPECT_TRUE(f.attributes.at("a"));
  EXPECT_FALSE(f.attributes.at("h"));
  EXPECT_EQ(static_cast<const File&>(**file).size(), 16u);
  EXPECT_EQ((*file)->source_format(), omads_file_format());
}

TEST(FileTest, PlainTextBodyWithoutEncoding) {
  auto file =
      File::parse(omads("<name>a.txt</name><cttype>text/plain</cttype><body>x &lt; y</body>"), omads_file_format());
  ASSERT_TRUE(file.has_value()) << file.error().to_string();
  EXPECT_EQ((*file)->fields().body, "x < y");
}

TEST(FileTest, OmadsRoundTripKeepsEveryFieldAndExtensions) {
  std::string xml = omads(
      "<name>r\xC3\xA9sum\xC3\xA9.pdf</name><modified>20060101T080000Z</modified><attributes><h>true</h></attributes>"
      "<cttype>application/pdf</cttype><body enc=\"base64\">" +
      base64_encode(kPng) + "</body><Ext><XNam>X-rev</XNam><XVal>3</XVal></Ext>");
  auto file = File::parse(xml, omads_file_format());
  ASSERT_TRUE(file.has_value()) << file.error().to_string();
  ASSERT_EQ((*file)->fields().extensions.size(), 1u);
  auto out = (*file)->write(omads_file_format());
  ASSERT_TRUE(out.has_value());
  EXPECT_NE(out->find("<size>16</size>"), std::string::npos) << *out;
  auto again = File::parse(*out, omads_file_format());
  ASSERT_TRUE(again.has_value()) << again.error().to_string() << "\n" << *out;
  EXPECT_EQ((*again)->fields(), (*file)->fields());
}

TEST(FileTest, RawBytesOfAnyOtherType) {
  auto file = parse(kPng, Format{"image/png", ""});
  ASSERT_TRUE(file.has_value());
  ASSERT_EQ((*file)->kind(), DataKind::kFile);
  auto& f = static_cast<const File&>(**file);
  EXPECT_EQ(f.fields().body, kPng);
  EXPECT_EQ(f.fields().content_type, "image/png");
  EXPECT_TRUE(f.fields().name.empty());
  EXPECT_EQ(*f.write(Format{"image/png", ""}), kPng);
  EXPECT_EQ(*f.write(Format{"application/octet-stream", ""}), kPng);
  auto refused = f.write(Format{"text/plain", ""});
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), StatusCode::kInvalidArgument);
  // Raw -> OMA DS form -> raw keeps the bytes and the type.
  auto xml = f.write(omads_file_format());
  ASSERT_TRUE(xml.has_value());
  auto back = File::parse(*xml, omads_file_format());
  ASSERT_TRUE(back.has_value()) << back.error().to_string();
  EXPECT_EQ(*(*back)->write(Format{"image/png", ""}), kPng);
  EXPECT_EQ((*back)->fields().content_type, "image/png");
}

TEST(FileTest, SupportedFormatsAreTheOmadsFormAndTheBodyType) {
  auto file = File::parse("hello", Format{"text/plain", ""});
  ASSERT_TRUE(file.has_value());
  auto formats = (*file)->supported_formats();
  ASSERT_EQ(formats.size(), 2u);
  EXPECT_EQ(formats[0], omads_file_format());
  EXPECT_EQ(formats[1], (Format{"text/plain", ""}));
  for (const Format& f : formats) EXPECT_TRUE((*file)->write(f).has_value()) << f.to_string();
}

TEST(FileTest, BrokenOmadsFilesAreRejectedNamingTheElement) {
  struct Case {
    std::string xml;
    std::string says;
  };
  const Case cases[] = {
      {"<File><name>a</name>", "not XML"},
      {"<Folder><name>a</name></Folder>", "<Folder>"},
      {omads("<cttype>text/plain</cttype>"), "neither <name> nor <body>"},
      {omads("<name>a</name><body enc=\"base64\">***</body>"), "<body enc=\"base64\">"},
      {omads("<name>a</name><body>abc</body><size>4</size>"), "<size> says 4 bytes, <body> holds 3"},
      {omads("<name>a</name><size>-1</size>"), "<size>"},
      {omads("<name>a</name><attributes><q>true</q></attributes>"), "unknown flag <q>"},
      {omads("<name>a</name><attributes><h>yes</h></attributes>"), "<attributes><h>"},
      {"", "not XML"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.xml);
    auto file = parse(c.xml, omads_file_format());
    ASSERT_FALSE(file.has_value());
    EXPECT_EQ(file.error().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(file.error().message().find(c.says), std::string::npos) << file.error().message();
  }
}

TEST(FileTest, IdentityIsNameAndContent) {
  auto a = File::parse(omads("<name>Notes.TXT</name><body>one</body>"), omads_file_format());
  auto b = File::parse(omads("<name>notes.txt</name><modified>20200101T000000Z</modified><body>one</body>"),
                       omads_file_format());
  auto c = File::parse(omads("<name>notes.txt</name><body>two</body>"), omads_file_format());
  auto empty = File::parse("", Format{"application/octet-stream", ""});
  ASSERT_TRUE(a && b && c && empty);
  EXPECT_EQ((*a)->identity_key(), (*b)->identity_key());
  EXPECT_NE((*a)->identity_key(), (*c)->identity_key());
  EXPECT_EQ((*a)->identity_key().rfind("file:notes.txt|", 0), 0u) << (*a)->identity_key();
  EXPECT_EQ((*empty)->identity_key(), "");
}

TEST(FileTest, MergeKeepsOursAndFillsTheRest) {
  auto ours = File::parse(omads("<name>a.txt</name><attributes><h>true</h></attributes><body>ours</body>"),
                          omads_file_format());
  auto theirs = File::parse(omads("<name>b.txt</name><created>20010101T000000Z</created><attributes><h>false</h>"
                                  "<r>true</r></attributes><body>theirs</body><Ext>x</Ext>"),
                            omads_file_format());
  ASSERT_TRUE(ours && theirs);
  auto merged = merge(**ours, **theirs);
  ASSERT_TRUE(merged.has_value());
  const FileFields& m = static_cast<const File&>(**merged).fields();
  EXPECT_EQ(m.name, "a.txt");
  EXPECT_EQ(m.body, "ours");
  EXPECT_EQ(m.created, "20010101T000000Z");
  EXPECT_TRUE(m.attributes.at("h"));
  EXPECT_TRUE(m.attributes.at("r"));
  EXPECT_EQ(m.extensions, std::vector<std::string>{"<Ext>x</Ext>"});
  // Inputs unchanged.
  EXPECT_TRUE((*ours)->fields().created.empty());

  auto note = parse("text", Format{"text/plain", ""});
  ASSERT_TRUE(note.has_value());
  auto refused = (*ours)->merged_with(**note);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), StatusCode::kInvalidArgument);
}

TEST(FileTest, MergeTakesTheirBodyWhenOursHasNone) {
  auto ours = File::parse(omads("<name>a.bin</name>"), omads_file_format());
  auto theirs = File::parse(kPng, Format{"image/png", ""});
  ASSERT_TRUE(ours && theirs);
  auto merged = (*ours)->merged_with(**theirs);
  ASSERT_TRUE(merged.has_value());
  const FileFields& m = static_cast<const File&>(**merged).fields();
  EXPECT_EQ(m.body, kPng);
  EXPECT_EQ(m.content_type, "image/png");
  EXPECT_EQ(m.name, "a.bin");
}

TEST(FileTest, CloneIsEqualAndIndependent) {
  auto file = File::parse(omads("<name>a</name><body>b</body>"), omads_file_format());
  ASSERT_TRUE(file.has_value());
  auto copy = (*file)->clone();
  EXPECT_EQ(static_cast<const File&>(*copy).fields(), (*file)->fields());
  EXPECT_EQ(copy->source_format(), (*file)->source_format());
  EXPECT_NE(copy.get(), file->get());
}

}  // namespace
}  // namespace conflux::data
