#include "adapters/postgresql/contact_row.h"

#include <gtest/gtest.h>

#include <set>
#include <tuple>

namespace conflux::adapters {
namespace {

const std::vector<std::string> kMapped = {"given",    "family",   "org",  "email_work", "tel",
                                          "tel_cell", "birthday", "note", "photo"};

std::string card(const std::string& body) { return "BEGIN:VCARD\r\nVERSION:3.0\r\n" + body + "END:VCARD\r\n"; }

const std::string kAda = card(
    "N:Lovelace;Ada;;;\r\nFN:Countess Ada\r\nTEL:+44 1\r\nTEL;TYPE=CELL:+44 2\r\nTEL;TYPE=WORK,FAX:+44 3\r\n"
    "EMAIL;TYPE=INTERNET,WORK:ada@example.org\r\nEMAIL;TYPE=INTERNET,HOME:ada@home.example\r\n"
    "ORG:Analytical Engines\r\nBDAY:1815-12-10\r\nNOTE:first programmer\r\nPHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQ\r\n"
    "CATEGORIES:Pioneers\r\nUID:ada-1\r\n");

// (name, TYPE values, values) of every property but VERSION: what a device sees.
std::multiset<std::tuple<std::string, std::set<std::string>, std::vector<std::string>>> content(
    const std::string& bytes) {
  auto parsed = data::parse_vcard(bytes);
  EXPECT_TRUE(parsed.has_value()) << bytes;
  std::multiset<std::tuple<std::string, std::set<std::string>, std::vector<std::string>>> out;
  if (!parsed) return out;
  for (const auto& p : parsed->properties) {
    auto types = p.types();
    std::vector<std::string> values = p.values;
    while (!values.empty() && values.back().empty()) values.pop_back();
    out.emplace(p.name, std::set<std::string>(types.begin(), types.end()), values);
  }
  return out;
}

TEST(ContactRow, MappedFieldsGoToColumnsTheRestToChildrenAndExtra) {
  auto row = contact_to_row(kAda, kMapped, /*has_children=*/true);
  ASSERT_TRUE(row.has_value()) << row.error().to_string();
  EXPECT_EQ(row->fields.at("family"), "Lovelace");
  EXPECT_EQ(row->fields.at("given"), "Ada");
  EXPECT_EQ(row->fields.at("tel"), "+44 1");
  EXPECT_EQ(row->fields.at("tel_cell"), "+44 2");
  EXPECT_EQ(row->fields.at("email_work"), "ada@example.org");
  EXPECT_EQ(row->fields.at("org"), "Analytical Engines");
  EXPECT_EQ(row->fields.at("birthday"), "1815-12-10");
  EXPECT_EQ(row->fields.at("photo"), std::string("\xff\xd8\xff\xe0\x00\x10", 6));
  EXPECT_EQ(row->children,
            (std::vector<ChildValue>{{"tel", "FAX,WORK", "+44 3"}, {"email", "HOME,INTERNET", "ada@home.example"}}));
  // Kept for the device: what no column holds.
  EXPECT_NE(row->extra.find("CATEGORIES:Pioneers"), std::string::npos);
  EXPECT_NE(row->extra.find("UID:ada-1"), std::string::npos);
  EXPECT_NE(row->extra.find("FN:Countess Ada"), std::string::npos);
  EXPECT_EQ(row->extra.find("\nN:"), std::string::npos) << row->extra;  // every part has a column
}

TEST(ContactRow, ReadingBackGivesTheDeviceWhatItSent) {
  auto row = contact_to_row(kAda, kMapped, true);
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(content(row_to_contact(*row, kMapped, data::VCardVersion::k30)), content(kAda));
}

TEST(ContactRow, WithoutAChildTableFurtherPhonesAreKeptInExtra) {
  auto row = contact_to_row(kAda, kMapped, false);
  ASSERT_TRUE(row.has_value());
  EXPECT_TRUE(row->children.empty());
  EXPECT_NE(row->extra.find("+44 3"), std::string::npos);
  EXPECT_EQ(content(row_to_contact(*row, kMapped, data::VCardVersion::k30)), content(kAda));
}

TEST(ContactRow, AKeptFnGivesWayWhenAnotherProgramRenamedTheRow) {
  auto row = contact_to_row(kAda, kMapped, true);
  ASSERT_TRUE(row.has_value());
  row->fields["given"] = "Augusta";
  const std::string out = row_to_contact(*row, kMapped, data::VCardVersion::k30);
  EXPECT_NE(out.find("FN:Augusta Lovelace"), std::string::npos) << out;
  EXPECT_EQ(out.find("Countess"), std::string::npos) << out;
  EXPECT_EQ(out.find("X-CONFLUX"), std::string::npos) << out;
}

TEST(ContactRow, PartsWithoutAColumnAndDatesWithoutAYearAreKept) {
  const std::string sent = card("N:Lovelace;Ada;Augusta;Lady;\r\nFN:Ada\r\nBDAY:--1210\r\n");
  auto row = contact_to_row(sent, kMapped, true);
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->fields.at("family"), "Lovelace");
  EXPECT_EQ(row->fields.count("birthday"), 0u);
  EXPECT_EQ(content(row_to_contact(*row, kMapped, data::VCardVersion::k30)), content(sent));
  // The columns win the parts they map.
  row->fields["family"] = "King";
  EXPECT_NE(row_to_contact(*row, kMapped, data::VCardVersion::k30).find("N:King;Ada;Augusta;Lady;"), std::string::npos);
}

TEST(ContactRow, ARowWrittenByAnotherProgramReadsAsAContact) {
  MappedRow row;
  row.fields = {{"given", "Ines"}, {"family", "Inserted"}, {"org", "Psql GmbH"}, {"tel_cell", "+49 1"}};
  const std::string out = row_to_contact(row, kMapped, data::VCardVersion::k30);
  EXPECT_EQ(content(out), content(card("N:Inserted;Ines;;;\r\nFN:Ines Inserted\r\nORG:Psql GmbH\r\n"
                                       "TEL;TYPE=CELL:+49 1\r\n")));
}

TEST(ContactRow, BrokenBytesAreRefused) {
  EXPECT_EQ(contact_to_row("not a vcard", kMapped, true).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace conflux::adapters
