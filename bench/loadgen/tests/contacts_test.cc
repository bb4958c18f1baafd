#include "contacts.h"

#include <gtest/gtest.h>

#include <set>

#include "common/utf8.h"
#include "data/vcard.h"

namespace conflux::loadgen {
namespace {

TEST(LoadgenContacts, SameSeedAndIndexGiveTheSameBytes) {
  EXPECT_EQ(make_contact(42, 7), make_contact(42, 7));
  EXPECT_NE(make_contact(42, 7), make_contact(43, 7));
  EXPECT_NE(make_contact(42, 7), make_contact(42, 8));
}

TEST(LoadgenContacts, EveryCardParsesAsVCard30WithAUniqueName) {
  std::set<std::string> names;
  for (uint64_t i = 0; i < 300; ++i) {
    const std::string text = make_contact(i, 1);
    ASSERT_TRUE(is_valid_utf8(text)) << i;
    auto card = data::parse_vcard(text);
    ASSERT_TRUE(card) << i << ": " << card.error().message() << "\n" << text;
    EXPECT_EQ(card->version, data::VCardVersion::k30);
    ASSERT_NE(card->first("FN"), nullptr);
    ASSERT_NE(card->first("N"), nullptr);
    ASSERT_NE(card->first("TEL"), nullptr);
    ASSERT_NE(card->first("EMAIL"), nullptr);
    EXPECT_TRUE(names.insert(card->first("FN")->values.at(0)).second) << "FN twice: " << i;
    EXPECT_EQ(card->first("PHOTO") != nullptr, i % 5 == 0) << i;
  }
}

TEST(LoadgenContacts, LinesAreFoldedAt75OctetsWithCrlf) {
  for (uint64_t i = 0; i < 50; ++i) {
    const std::string text = make_contact(i, 3);
    ASSERT_EQ(text.substr(text.size() - 2), "\r\n");
    size_t start = 0;
    for (size_t end; (end = text.find("\r\n", start)) != std::string::npos; start = end + 2) {
      EXPECT_LE(end - start, 75u) << text.substr(start, end - start);
    }
    for (size_t lf = text.find('\n'); lf != std::string::npos; lf = text.find('\n', lf + 1)) {
      ASSERT_TRUE(lf > 0 && text[lf - 1] == '\r') << "bare LF at " << lf;
    }
  }
}

TEST(LoadgenContacts, PhotoIsBinaryThatLooksLikeAJpeg) {
  auto card = data::parse_vcard(make_contact(10, 1));
  ASSERT_TRUE(card);
  const auto* photo = card->first("PHOTO");
  ASSERT_NE(photo, nullptr);
  ASSERT_EQ(photo->kind, data::ValueKind::kBinary);
  EXPECT_EQ(photo->values.at(0).substr(0, 3), std::string("\xff\xd8\xff"));
  EXPECT_GT(photo->values.at(0).size(), 200u);
}

TEST(LoadgenContacts, AnEditChangesTheNoteAndNothingElse) {
  const std::string before = make_contact(7, 1);
  const std::string after = edit_contact(before, 12);
  auto a = data::parse_vcard(before);
  auto b = data::parse_vcard(after);
  ASSERT_TRUE(a);
  ASSERT_TRUE(b) << b.error().message();
  ASSERT_NE(b->first("NOTE"), nullptr);
  EXPECT_EQ(b->first("NOTE")->values.at(0), "Edited on the device, revision 12");
  ASSERT_EQ(a->properties.size(), b->properties.size());
  for (size_t i = 0; i < a->properties.size(); ++i) {
    if (a->properties[i].name == "NOTE") continue;
    EXPECT_EQ(a->properties[i].name, b->properties[i].name);
    EXPECT_EQ(a->properties[i].values, b->properties[i].values) << a->properties[i].name;
  }
  // A second edit replaces the first note instead of adding one.
  auto twice = data::parse_vcard(edit_contact(after, 13));
  ASSERT_TRUE(twice);
  EXPECT_EQ(twice->first("NOTE")->values.at(0), "Edited on the device, revision 13");
  EXPECT_EQ(twice->properties.size(), a->properties.size());
}

}  // namespace
}  // namespace conflux::loadgen
