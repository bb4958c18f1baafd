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

const char* kJournal =
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
    "BEGIN:VTIMEZONE\r\nTZID:Pacific/Honolulu\r\nBEGIN:STANDARD\r\nTZOFFSETFROM:-1000\r\nTZOFFSETTO:-1000\r\n"
    "TZNAME:HST\r\nDTSTART:19700101T000000\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
    "BEGIN:VJOURNAL\r\nUID:j1@example.org\r\nDTSTAMP:20240101T101010Z\r\n"
    "DTSTART;TZID=Pacific/Honolulu:20240301T090000\r\nSUMMARY:Minutes\r\n"
    "DESCRIPTION:1. Budget\\, reviewed\\n2. K\xC3\xA4se\r\nDESCRIPTION:second part\r\n"
    "CREATED:20240101T000000Z\r\nLAST-MODIFIED:20240102T000000Z\r\nCLASS:PRIVATE\r\n"
    "CATEGORIES:Work\r\nX-EVOLUTION-FLAG:1\r\nEND:VJOURNAL\r\nEND:VCALENDAR\r\n";

TEST(NoteTest, VjournalMapsToTheNoteFields) {
  EXPECT_TRUE(holds_only_journals(kJournal));
  auto obj = parse(kJournal, Format{"text/calendar", "2.0"});
  ASSERT_TRUE(obj.has_value()) << obj.error().to_string();
  ASSERT_EQ((*obj)->kind(), DataKind::kNote);
  EXPECT_EQ((*obj)->source_format(), vjournal_format());
  const NoteFields& f = static_cast<const Note&>(**obj).fields();
  EXPECT_EQ(f.body, "1. Budget, reviewed\n2. K\xC3\xA4se");
  EXPECT_EQ(f.summary, "Minutes");
  EXPECT_EQ(f.created, "20240101T000000Z");
  EXPECT_EQ(f.last_modified, "20240102T000000Z");
  using Extra = std::pair<std::string, std::string>;
  EXPECT_EQ(f.extra, (std::vector<Extra>{{"CLASS", "PRIVATE"}, {"CATEGORIES", "Work"}, {"X-EVOLUTION-FLAG", "1"}}));
  ASSERT_EQ(f.journal_only.size(), 4u);  // UID, DTSTAMP, DTSTART, the second DESCRIPTION
  EXPECT_EQ(f.journal_zones.size(), 1u);
  EXPECT_EQ((*obj)->identity_key(), "note:1. budget, reviewed");
}

TEST(NoteTest, VjournalRoundTripsInItsOwnFormat) {
  auto note = Note::parse(kJournal, vjournal_format());
  ASSERT_TRUE(note.has_value()) << note.error().to_string();
  auto out = (*note)->write(vjournal_format());
  ASSERT_TRUE(out.has_value());
  EXPECT_NE(out->find("BEGIN:VJOURNAL"), std::string::npos);
  EXPECT_NE(out->find("TZID:Pacific/Honolulu"), std::string::npos) << *out;
  auto again = Note::parse(*out, vjournal_format());
  ASSERT_TRUE(again.has_value()) << again.error().to_string() << "\n" << *out;
  EXPECT_EQ((*again)->fields(), (*note)->fields()) << *out;
}

TEST(NoteTest, VjournalThroughVnoteKeepsWhatVnoteHolds) {
  auto note = Note::parse(kJournal, vjournal_format());
  ASSERT_TRUE(note.has_value());
  auto vnote = (*note)->write(vnote11_format());
  ASSERT_TRUE(vnote.has_value());
  auto there = Note::parse(*vnote, vnote11_format());
  ASSERT_TRUE(there.has_value()) << there.error().to_string() << "\n" << *vnote;
  auto back_text = (*there)->write(vjournal_format());
  ASSERT_TRUE(back_text.has_value());
  auto back = Note::parse(*back_text, vjournal_format());
  ASSERT_TRUE(back.has_value()) << back.error().to_string() << "\n" << *back_text;
  NoteFields want = (*note)->fields();
  want.journal_only.clear();  // UID, DTSTAMP, DTSTART: vNote cannot hold them
  want.journal_zones.clear();
  EXPECT_EQ((*back)->fields(), want) << *vnote << "\n" << *back_text;
}

TEST(NoteTest, VnoteBecomesAVjournal) {
  auto note = Note::parse(
      "BEGIN:VNOTE\r\nVERSION:1.1\r\nBODY:Call Bob\\; then Ann\r\nSUMMARY:Calls\r\nDCREATED:20060927T202756Z\r\n"
      "CLASS:PUBLIC\r\nEND:VNOTE\r\n",
      vnote11_format());
  ASSERT_TRUE(note.has_value());
  auto ical = (*note)->write(vjournal_format());
  ASSERT_TRUE(ical.has_value());
  EXPECT_NE(ical->find("CREATED:20060927T202756Z"), std::string::npos) << *ical;
  auto journal = parse(*ical, Format{"text/calendar", ""});
  ASSERT_TRUE(journal.has_value()) << journal.error().to_string() << "\n" << *ical;
  ASSERT_EQ((*journal)->kind(), DataKind::kNote);
  EXPECT_EQ(static_cast<const Note&>(**journal).fields(), (*note)->fields()) << *ical;
}

TEST(NoteTest, CalendarDataWithEventsIsNotAJournal) {
  EXPECT_FALSE(holds_only_journals("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nEND:VEVENT\r\nBEGIN:VJOURNAL\r\n"));
  EXPECT_FALSE(holds_only_journals("BEGIN:VCALENDAR\r\nBEGIN:VTODO\r\nEND:VTODO\r\nEND:VCALENDAR\r\n"));
  auto two = Note::parse(std::string(kJournal) + kJournal, vjournal_format());
  ASSERT_FALSE(two.has_value());
  EXPECT_EQ(two.error().code(), StatusCode::kInvalidArgument);
  auto none = Note::parse("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n", vjournal_format());
  ASSERT_FALSE(none.has_value());
  EXPECT_NE(none.error().message().find("no VJOURNAL"), std::string::npos);
  auto all = Note::parse_journals(std::string(kJournal) + kJournal);
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(all->size(), 2u);
}

}  // namespace
}  // namespace conflux::data
