// MetInf Format: the three values SyncML defines, by name both ways.
#include <gtest/gtest.h>

#include "protocol/message.h"

namespace conflux::protocol {
namespace {

TEST(ItemFormatTest, EveryFormatReadsBackFromItsName) {
  for (ItemFormat format : {ItemFormat::kChr, ItemFormat::kB64, ItemFormat::kBin}) {
    EXPECT_EQ(parse_item_format(item_format_name(format)), format) << item_format_name(format);
  }
  EXPECT_STREQ(item_format_name(ItemFormat::kB64), "b64");
}

// The names are the wire's, lower case (MetInf DTD); anything else is not a
// Format SyncML defines.
TEST(ItemFormatTest, OtherValuesAreNoFormat) {
  for (const char* other : {"", "B64", "base64", "chr ", "text"}) {
    EXPECT_EQ(parse_item_format(other), std::nullopt) << other;
  }
}

}  // namespace
}  // namespace conflux::protocol
