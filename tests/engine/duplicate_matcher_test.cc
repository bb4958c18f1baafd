// Slow-sync duplicate detection by content and by identity.
#include <gtest/gtest.h>

#include "engine/duplicate_matcher.h"

namespace conflux::engine {
namespace {

caf::SyncObj stored(const std::string& guid, const std::string& type, const std::string& raw) {
  caf::SyncObj obj;
  obj.guid = Guid(guid);
  obj.content_type = type;
  obj.raw = raw;
  return obj;
}

std::string event(const std::string& uid, const std::string& extra) {
  return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:" + uid +
         "\r\nDTSTART:20250301T100000Z\r\nSUMMARY:Review\r\n" + extra + "END:VEVENT\r\nEND:VCALENDAR\r\n";
}

TEST(DuplicateMatcherTest, EventsMatchByUidAndMergeIntoTheServerVersion) {
  DuplicateMatcher matcher({stored("g1", "text/calendar", event("u1@example.org", "LOCATION:Room 4\r\n")),
                            stored("g2", "text/calendar", event("u2@example.org", ""))},
                           {});
  // The same event as a device rewrote it: other bytes, one field more.
  auto m = matcher.match(event("u1@example.org", "DESCRIPTION:agenda\r\n"), "text/calendar");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->guid, "g1");
  EXPECT_FALSE(m->identical);
  EXPECT_NE(m->merged_raw.find("LOCATION:Room 4"), std::string::npos) << m->merged_raw;
  EXPECT_NE(m->merged_raw.find("DESCRIPTION:agenda"), std::string::npos) << m->merged_raw;
  // Claimed now: the same UID again is a new item; another UID never matches.
  EXPECT_FALSE(matcher.match(event("u1@example.org", "DESCRIPTION:x\r\n"), "text/calendar").has_value());
  EXPECT_FALSE(matcher.match(event("u3@example.org", ""), "text/calendar").has_value());
}

TEST(DuplicateMatcherTest, NotesMatchOnlyByBytes) {
  DuplicateMatcher matcher({stored("n1", "text/plain", "Shopping\nmilk\n")}, {});
  EXPECT_FALSE(matcher.match("Shopping\neggs\n", "text/plain").has_value());
  auto same = matcher.match("Shopping\nmilk\n", "text/plain");
  ASSERT_TRUE(same.has_value());
  EXPECT_TRUE(same->identical);
}

std::string card(const std::string& fn, const std::string& lines) {
  return "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:" + fn + "\r\nN:" + fn + ";;;;\r\n" + lines + "END:VCARD\r\n";
}

// Issue #11 item 7: the identity is "name plus phone or e-mail", so a card
// whose phone changed is still the same contact when its e-mail is.
TEST(DuplicateMatcherTest, ContactWithChangedPhoneMatchesByNameAndEmail) {
  DuplicateMatcher matcher(
      {stored("c1", "text/vcard", card("Ada Lovelace", "TEL:+44 20 1111\r\nEMAIL:ada@example.org\r\n"))}, {});
  auto m = matcher.match(card("Ada Lovelace", "TEL:+44 20 2222\r\nEMAIL:Ada@Example.org\r\n"), "text/vcard");
  ASSERT_TRUE(m.has_value()) << "a changed phone doubled the contact";
  EXPECT_EQ(m->guid, "c1");
  EXPECT_NE(m->merged_raw.find("2222"), std::string::npos) << m->merged_raw;
}

TEST(DuplicateMatcherTest, ContactWithChangedEmailMatchesByNameAndPhone) {
  DuplicateMatcher matcher(
      {stored("c1", "text/vcard", card("Ada Lovelace", "TEL:+44 20 1111\r\nEMAIL:ada@example.org\r\n"))}, {});
  auto m = matcher.match(card("Ada Lovelace", "TEL:+44 (20) 1111\r\nEMAIL:ada@new.example\r\n"), "text/vcard");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->guid, "c1");
}

TEST(DuplicateMatcherTest, SameNameWithNothingElseInCommonIsAnotherContact) {
  DuplicateMatcher matcher(
      {stored("c1", "text/vcard", card("John Smith", "TEL:555 0100\r\nEMAIL:john@one.example\r\n"))}, {});
  EXPECT_FALSE(
      matcher.match(card("John Smith", "TEL:555 0199\r\nEMAIL:john@two.example\r\n"), "text/vcard").has_value());
  // The same phone under another name is another person too.
  EXPECT_FALSE(matcher.match(card("Jane Smith", "TEL:555 0100\r\n"), "text/vcard").has_value());
}

}  // namespace
}  // namespace conflux::engine
