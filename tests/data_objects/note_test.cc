#include <gtest/gtest.h>

#include "data/note.h"

namespace conflux::data {
namespace {

TEST(NoteTest, PlainTextIsTheBody) {
  auto note = parse("Shopping\r\nmilk\r\n", text_plain_format());
  ASSERT_TRUE(note.has_value());
  EXPECT_EQ((*note)->kind(), DataKind::kNote);
  EXPECT_EQ((*note)->identity_key(), "note:shopping");
  EXPECT_EQ(*(*note)->write(text_plain_format()), "Shopping\nmilk\n");
}

TEST(NoteTest, VnoteQuotedPrintableAndCharset) {
  const char* text =
      "BEGIN:VNOTE\r\nVERSION:1.1\r\nBODY;ENCODING=QUOTED-PRINTABLE;CHARSET=UTF-8:=\r\n"
      "Teolog=0D=0ADager v=C3=A5r=\r\n tar\r\nSUMMARY;CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE:K=E4se\r\n"
      "DCREATED:20060927T202756Z\r\nLAST-MODIFIED:20061004T180306Z\r\nX-FOO:bar\\;baz\r\nEND:VNOTE\r\n";
  auto note = Note::parse(text, vnote11_format());
  ASSERT_TRUE(note.has_value()) << note.error().to_string();
  const NoteFields& f = (*note)->fields();
  EXPECT_EQ(f.body, "Teolog\nDager v\xC3\xA5r tar");
  EXPECT_EQ(f.summary, "K\xC3\xA4se");
  EXPECT_EQ(f.created, "20060927T202756Z");
  ASSERT_EQ(f.extra.size(), 1u);
  EXPECT_EQ(f.extra[0].second, "bar;baz");
  auto out = (*note)->write(vnote11_format());
  ASSERT_TRUE(out.has_value());
  EXPECT_NE(out->find("BODY;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:"), std::string::npos) << *out;
  auto again = Note::parse(*out, vnote11_format());
  ASSERT_TRUE(again.has_value()) << *out;
  EXPECT_EQ((*again)->fields(), f) << *out << "\n[" << (*again)->fields().body << "]";
}

TEST(NoteTest, MergeAndBadInput) {
  auto ours = Note::parse("BEGIN:VNOTE\r\nBODY:a\r\nEND:VNOTE\r\n", vnote11_format());
  auto theirs = Note::parse("BEGIN:VNOTE\r\nBODY:b\r\nSUMMARY:s\r\nEND:VNOTE\r\n", vnote11_format());
  ASSERT_TRUE(ours.has_value() && theirs.has_value());
  auto merged = (*ours)->merged_with(**theirs);
  ASSERT_TRUE(merged.has_value());
  auto* note = static_cast<const Note*>(merged->get());
  EXPECT_EQ(note->fields().body, "a");
  EXPECT_EQ(note->fields().summary, "s");
  for (const char* bad : {"BODY:x\r\n", "BEGIN:VNOTE\r\nBODY:x\r\n", "BEGIN:VNOTE\r\nno colon\r\nEND:VNOTE\r\n",
                          "BEGIN:VNOTE\r\nB/AD:x\r\nEND:VNOTE\r\n"}) {
    auto n = parse(bad, vnote11_format());
    ASSERT_FALSE(n.has_value()) << bad;
    EXPECT_EQ(n.error().code(), StatusCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace conflux::data
