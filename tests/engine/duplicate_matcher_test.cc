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
  std::set<std::string> claimed;
  DuplicateMatcher matcher(ItemIndex({stored("g1", "text/calendar", event("u1@example.org", "LOCATION:Room 4\r\n")),
                                      stored("g2", "text/calendar", event("u2@example.org", ""))}),
                           claimed);
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
  std::set<std::string> claimed;
  DuplicateMatcher matcher(ItemIndex({stored("n1", "text/plain", "Shopping\nmilk\n")}), claimed);
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
  std::set<std::string> claimed;
  DuplicateMatcher matcher(
      ItemIndex({stored("c1", "text/vcard", card("Ada Lovelace", "TEL:+44 20 1111\r\nEMAIL:ada@example.org\r\n"))}),
      claimed);
  auto m = matcher.match(card("Ada Lovelace", "TEL:+44 20 2222\r\nEMAIL:Ada@Example.org\r\n"), "text/vcard");
  ASSERT_TRUE(m.has_value()) << "a changed phone doubled the contact";
  EXPECT_EQ(m->guid, "c1");
  EXPECT_NE(m->merged_raw.find("2222"), std::string::npos) << m->merged_raw;
}

TEST(DuplicateMatcherTest, ContactWithChangedEmailMatchesByNameAndPhone) {
  std::set<std::string> claimed;
  DuplicateMatcher matcher(
      ItemIndex({stored("c1", "text/vcard", card("Ada Lovelace", "TEL:+44 20 1111\r\nEMAIL:ada@example.org\r\n"))}),
      claimed);
  auto m = matcher.match(card("Ada Lovelace", "TEL:+44 (20) 1111\r\nEMAIL:ada@new.example\r\n"), "text/vcard");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->guid, "c1");
}

TEST(DuplicateMatcherTest, SameNameWithNothingElseInCommonIsAnotherContact) {
  std::set<std::string> claimed;
  DuplicateMatcher matcher(
      ItemIndex({stored("c1", "text/vcard", card("John Smith", "TEL:555 0100\r\nEMAIL:john@one.example\r\n"))}),
      claimed);
  EXPECT_FALSE(
      matcher.match(card("John Smith", "TEL:555 0199\r\nEMAIL:john@two.example\r\n"), "text/vcard").has_value());
  // The same phone under another name is another person too.
  EXPECT_FALSE(matcher.match(card("Jane Smith", "TEL:555 0100\r\n"), "text/vcard").has_value());
}

caf::ChangeSet changes(std::vector<caf::SyncObj> objs, const std::string& anchor) {
  caf::ChangeSet set;
  set.changes = std::move(objs);
  set.anchor = Anchor(anchor);
  return set;
}

caf::SyncObj deleted(const std::string& guid) {
  caf::SyncObj obj;
  obj.action = caf::Action::kDelete;
  obj.guid = Guid(guid);
  return obj;
}

// Issue #20 item 6: the index one message used serves the next after the
// store's changes since are folded in: adds, edits and deletes by others.
TEST(ItemIndexTest, FoldsInChangesSinceItsAnchor) {
  const std::string ada = card("Ada Lovelace", "EMAIL:ada@example.org\r\n");
  const std::string bob = card("Bob Dylan", "EMAIL:bob@example.org\r\n");
  const std::string dee = card("Dee Dee", "EMAIL:dee@example.org\r\n");
  ItemIndex index({stored("c1", "text/vcard", ada), stored("c2", "text/vcard", bob), stored("c0", "text/vcard", dee)},
                  Anchor("3"));
  std::set<std::string> claimed;
  {
    DuplicateMatcher first(std::move(index), claimed);
    // By identity, which indexes every item's keys: the fold below must keep them right.
    auto m = first.match(card("Dee Dee", "EMAIL:dee@example.org\r\nNOTE:x\r\n"), "text/vcard");
    ASSERT_TRUE(m.has_value());
    EXPECT_EQ(m->guid, "c0");
    index = std::move(first).release();
  }
  EXPECT_EQ(claimed, std::set<std::string>{"c0"}) << "the claim is the session's";

  // Another device edits Ada (c1), deletes Bob (c2) and adds Cy (c3).
  const std::string ada_edited = card("Ada Lovelace", "EMAIL:ada@example.org\r\nTEL:555 0100\r\n");
  const std::string cy = card("Cy Twombly", "EMAIL:cy@example.org\r\n");
  caf::SyncObj edit = stored("c1", "text/vcard", ada_edited);
  edit.action = caf::Action::kUpdate;
  index.fold_in(changes({edit, deleted("c2"), stored("c3", "text/vcard", cy)}, "6"));
  EXPECT_EQ(index.anchor().str(), "6");
  EXPECT_EQ(index.size(), 3u);
  EXPECT_EQ(index.item("c2"), nullptr);
  ASSERT_NE(index.item("c1"), nullptr);
  EXPECT_EQ(index.item("c1")->raw, ada_edited);

  DuplicateMatcher second(std::move(index), claimed);
  // Bob's bytes and identity keys went with the item: nothing matches him now.
  EXPECT_FALSE(second.match(bob, "text/vcard").has_value());
  auto twin = second.match(cy, "text/vcard");
  ASSERT_TRUE(twin.has_value()) << "an item added between messages is seen";
  EXPECT_EQ(twin->guid, "c3");
  EXPECT_TRUE(twin->identical);
  // Ada's old bytes are gone; her identity (indexed again on the edit) still matches.
  auto old = second.match(ada, "text/vcard");
  ASSERT_TRUE(old.has_value());
  EXPECT_EQ(old->guid, "c1");
  EXPECT_FALSE(old->identical);
}

// A client item that matched nothing is written and comes back in the next
// fold_in with the identity keys its match computed: it matches by identity
// in the next message like any other item.
TEST(ItemIndexTest, AWrittenClientItemMatchesByIdentityInTheNextMessage) {
  std::set<std::string> claimed;
  const std::string eve = card("Eve Arden", "EMAIL:eve@example.org\r\n");
  ItemIndex index({stored("c0", "text/vcard", card("Dee Dee", "EMAIL:dee@example.org\r\n"))}, Anchor("1"));
  {
    DuplicateMatcher first(std::move(index), claimed);
    EXPECT_FALSE(first.match(eve, "text/vcard").has_value());
    index = std::move(first).release();
  }
  index.fold_in(changes({stored("c5", "text/vcard", eve)}, "2"));
  DuplicateMatcher second(std::move(index), claimed);
  auto m = second.match(card("Eve Arden", "EMAIL:eve@example.org\r\nNOTE:new\r\n"), "text/vcard");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->guid, "c5");
  EXPECT_FALSE(second.match(card("Dee Dee", "EMAIL:other@example.org\r\n"), "text/vcard").has_value());
}

TEST(ItemIndexTest, BytesOfAnEditedItemNoLongerMatchButItsNewBytesDo) {
  ItemIndex index({stored("n1", "text/plain", "milk\n")}, Anchor("1"));
  caf::SyncObj edit = stored("n1", "text/plain", "eggs\n");
  edit.action = caf::Action::kUpdate;
  index.fold_in(changes({edit}, "2"));
  std::set<std::string> claimed;
  DuplicateMatcher matcher(std::move(index), claimed);
  EXPECT_FALSE(matcher.match("milk\n", "text/plain").has_value());
  auto same = matcher.match("eggs\n", "text/plain");
  ASSERT_TRUE(same.has_value());
  EXPECT_EQ(same->guid, "n1");
}

// A claim made on one node is in the session's set, which another node
// (with an index of its own, read from the store) honours.
TEST(ItemIndexTest, ClaimsHoldForAnIndexReadAgain) {
  std::set<std::string> claimed;
  {
    DuplicateMatcher node_a(ItemIndex({stored("n1", "text/plain", "milk\n")}, Anchor("1")), claimed);
    ASSERT_TRUE(node_a.match("milk\n", "text/plain").has_value());
  }
  DuplicateMatcher node_b(ItemIndex({stored("n1", "text/plain", "milk\n")}, Anchor("1")), claimed);
  EXPECT_FALSE(node_b.match("milk\n", "text/plain").has_value());
}

TEST(ItemIndexCacheTest, TakeRemovesAndCapacityDropsTheLeastRecent) {
  ItemIndexCache cache(2);
  cache.put("s1", ItemIndex({}, Anchor("1")));
  cache.put("s2", ItemIndex({}, Anchor("2")));
  cache.put("s3", ItemIndex({}, Anchor("3")));
  EXPECT_FALSE(cache.take("s1").has_value()) << "beyond capacity";
  auto s2 = cache.take("s2");
  ASSERT_TRUE(s2.has_value());
  EXPECT_EQ(s2->anchor().str(), "2");
  EXPECT_FALSE(cache.take("s2").has_value()) << "one message uses an index at a time";
  EXPECT_TRUE(cache.take("s3").has_value());
}

}  // namespace
}  // namespace conflux::engine
