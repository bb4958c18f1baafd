#include "portal/jscontact.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace conflux::portal {
namespace {

using nlohmann::json;

data::VCard parse(const std::string& text) {
  auto card = data::parse_vcard(text);
  EXPECT_TRUE(card.has_value()) << card.error().to_string();
  return card ? *card : data::VCard{};
}

const char* kCard =
    "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:u-1\r\nFN:Dr. Ada King Lovelace\r\nN:Lovelace;Ada;King;Dr.;\r\n"
    "TEL;TYPE=CELL,PREF:+44 20 1234\r\nTEL;TYPE=WORK,VOICE:+44 20 9999\r\nEMAIL;TYPE=HOME:ada@example.org\r\n"
    "ADR;TYPE=WORK:;;12 St James's Sq;London;;SW1Y 4JH;UK\r\nORG:Analytical Engines;Research\r\n"
    "TITLE:Countess\r\nNOTE:first programmer\r\nBDAY:1815-12-10\r\nPHOTO;ENCODING=b;TYPE=JPEG:AAEC\r\n"
    "X-EVOLUTION-FILE-AS:Lovelace\\, Ada\r\nEND:VCARD\r\n";

TEST(JsContactTest, VCardBecomesACardAsRfc9555Says) {
  json card = card_from_vcard(parse(kCard));
  EXPECT_EQ(card["@type"], "Card");
  EXPECT_EQ(card["uid"], "u-1");
  EXPECT_EQ(card["name"]["full"], "Dr. Ada King Lovelace");
  EXPECT_EQ(card["name"]["components"],
            json::parse(R"([{"kind":"surname","value":"Lovelace"},{"kind":"given","value":"Ada"},
                            {"kind":"given2","value":"King"},{"kind":"title","value":"Dr."}])"));
  EXPECT_EQ(card["phones"]["p1"], json::parse(R"({"number":"+44 20 1234","features":{"mobile":true},"pref":1})"));
  EXPECT_EQ(card["phones"]["p2"],
            json::parse(R"({"number":"+44 20 9999","features":{"voice":true},"contexts":{"work":true}})"));
  EXPECT_EQ(card["emails"]["e1"], json::parse(R"({"address":"ada@example.org","contexts":{"private":true}})"));
  EXPECT_EQ(card["addresses"]["a1"]["components"],
            json::parse(R"([{"kind":"name","value":"12 St James's Sq"},{"kind":"locality","value":"London"},
                            {"kind":"postcode","value":"SW1Y 4JH"},{"kind":"country","value":"UK"}])"));
  EXPECT_EQ(card["organizations"]["o1"], json::parse(R"({"name":"Analytical Engines","units":[{"name":"Research"}]})"));
  EXPECT_EQ(card["titles"]["t1"]["name"], "Countess");
  EXPECT_EQ(card["notes"]["n1"]["note"], "first programmer");
  EXPECT_EQ(card["anniversaries"]["k1"],
            json::parse(R"({"kind":"birth","date":{"@type":"PartialDate","year":1815,"month":12,"day":10}})"));
}

TEST(JsContactTest, RoundTripKeepsWhatTheSubsetDoesNotModel) {
  const data::VCard base = parse(kCard);
  json card = card_from_vcard(base);
  card["notes"]["n1"]["note"] = "changed";
  card.erase("titles");
  std::vector<InvalidProperty> invalid;
  auto back = vcard_from_card(card, base, invalid);
  ASSERT_TRUE(back) << (invalid.empty() ? "" : invalid[0].path);
  const std::string text = data::write_vcard(*back, data::VCardVersion::k30);
  EXPECT_NE(text.find("NOTE:changed"), std::string::npos) << text;
  EXPECT_EQ(text.find("TITLE"), std::string::npos) << text;
  EXPECT_NE(text.find("PHOTO"), std::string::npos) << text;                // not modelled: kept
  EXPECT_NE(text.find("X-EVOLUTION-FILE-AS"), std::string::npos) << text;  // not modelled: kept
  // And reading it again gives the same card.
  EXPECT_EQ(card_from_vcard(parse(text)), card);
}

TEST(JsContactTest, InvalidPropertiesAreNamedByPath) {
  json card = json::parse(R"({"@type":"Card","name":{"full":"X"},"phones":{"p1":{"number":42}},
                              "emails":{"e1":{"contexts":{"work":true}}},"colour":"blue","example.com:x":1,
                              "anniversaries":{"k1":{"kind":"birth","date":{"@type":"PartialDate","month":13,"day":1}}}})");
  std::vector<InvalidProperty> invalid;
  EXPECT_FALSE(vcard_from_card(card, data::VCard{}, invalid));
  std::vector<std::string> paths;
  for (const auto& p : invalid) paths.push_back(p.path);
  std::sort(paths.begin(), paths.end());
  EXPECT_EQ(paths, (std::vector<std::string>{"anniversaries/k1/date", "anniversaries/k1/date/month", "colour",
                                             "emails/e1/address", "phones/p1/number"}));
}

}  // namespace
}  // namespace conflux::portal
