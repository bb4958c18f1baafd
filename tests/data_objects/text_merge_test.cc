// merge_free_text: two versions of a text a person wrote lose no words.
#include "data/text_merge.h"

#include <gtest/gtest.h>

namespace conflux::data {
namespace {

TEST(TextMergeTest, BothChangedKeepsBothTextsOursFirst) {
  EXPECT_EQ(merge_free_text("changed on A", "changed on B"), "changed on A\nchanged on B");
  EXPECT_EQ(merge_free_text("changed on B", "changed on A"), "changed on B\nchanged on A");
}

TEST(TextMergeTest, SameTextOrEmptySideKeepsOneCopy) {
  EXPECT_EQ(merge_free_text("Call  back", "call back"), "Call  back");
  EXPECT_EQ(merge_free_text("kept", ""), "kept");
  EXPECT_EQ(merge_free_text("", "kept"), "kept");
}

TEST(TextMergeTest, AnExtendedTextReplacesItsBeginning) {
  EXPECT_EQ(merge_free_text("Buy milk", "Buy milk and bread"), "Buy milk and bread");
  EXPECT_EQ(merge_free_text("Buy milk and bread", "Buy milk"), "Buy milk and bread");
}

TEST(TextMergeTest, OnlyLinesOursLacksAreAdded) {
  EXPECT_EQ(merge_free_text("first\nsecond", "first\r\nthird\n\nsecond"), "first\nsecond\nthird");
}

}  // namespace
}  // namespace conflux::data
