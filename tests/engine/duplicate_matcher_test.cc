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

}  // namespace
}  // namespace conflux::engine
