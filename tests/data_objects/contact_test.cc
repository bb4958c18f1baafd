// Contact as a DataObject: format dispatch, identity keys, field-level merge.
#include <gtest/gtest.h>

#include "data/contact.h"
#include "data/data_object.h"

namespace conflux::data {
namespace {

using Strings = std::vector<std::string>;

std::unique_ptr<Contact> contact(std::string_view text) {
  auto c = Contact::parse(text);
  EXPECT_TRUE(c.has_value()) << c.error().to_string();
  return c.has_value() ? std::move(*c) : nullptr;
}

const Contact& as_contact(const DataObject& o) { return static_cast<const Contact&>(o); }

Strings values_of(const VCard& card, std::string_view name) {
  Strings out;
  for (const auto& p : card.properties) {
    if (p.name == name) out.push_back(p.joined());
  }
  return out;
}

TEST(DataObjectTest, ParseDispatchesOnType) {
  const char* text = "BEGIN:VCARD\nVERSION:3.0\nFN:A\nEND:VCARD\n";
  for (const Format& f : {Format::vcard21(), Format::vcard30(), Format{"text/directory", ""}}) {
    auto obj = parse(text, f);
    ASSERT_TRUE(obj.has_value()) << f.to_string();
    EXPECT_EQ((*obj)->kind(), DataKind::kContact);
    EXPECT_EQ((*obj)->source_format(), Format::vcard30());  // the data's VERSION wins
  }
  // Other kinds by type (their own tests cover them); any unknown type is
  // a file of raw bytes.
  const std::pair<Format, DataKind> kinds[] = {
      {{"application/vnd.omads-file+xml", ""}, DataKind::kFile},
      {{"application/vnd.conflux.record+json", ""}, DataKind::kRecord},
      {{"application/xml", ""}, DataKind::kXmlDocument},
      {{"text/xml", ""}, DataKind::kXmlDocument},
      {{"image/jpeg", ""}, DataKind::kFile},
      {{"text/x-s4j-sifc", ""}, DataKind::kContact},  // Funambol's SIF-C (data/sif.h)
      {{"application/x-unknown", ""}, DataKind::kFile},
  };
  const char* bodies[] = {"<File><name>a</name></File>",
                          R"({"table":"t","columns":[]})",
                          "<a/>",
                          "<a/>",
                          "\xff\xd8",
                          "<contact/>",
                          "<contact/>"};
  for (size_t i = 0; i < std::size(kinds); ++i) {
    auto obj = parse(bodies[i], kinds[i].first);
    ASSERT_TRUE(obj.has_value()) << kinds[i].first.to_string() << ": " << obj.error().to_string();
    EXPECT_EQ((*obj)->kind(), kinds[i].second) << kinds[i].first.to_string();
  }
}

TEST(DataObjectTest, BrokenOrDoubleItemIsInvalidArgument) {
  auto broken = parse("BEGIN:VCARD\nVERSION:3.0\nFN:A\n", Format::vcard30());
  ASSERT_FALSE(broken.has_value());
  EXPECT_EQ(broken.error().code(), StatusCode::kInvalidArgument);
  auto two = parse("BEGIN:VCARD\nFN:A\nEND:VCARD\nBEGIN:VCARD\nFN:B\nEND:VCARD\n", Format::vcard21());
  ASSERT_FALSE(two.has_value());
  EXPECT_EQ(two.error().code(), StatusCode::kInvalidArgument);
}

TEST(DataObjectTest, WriteSelectsVersionFromFormat) {
  auto c = contact("BEGIN:VCARD\nVERSION:2.1\nFN:A\nEND:VCARD\n");
  EXPECT_EQ(*c->write(Format::vcard21()), "BEGIN:VCARD\r\nVERSION:2.1\r\nFN:A\r\nEND:VCARD\r\n");
  EXPECT_EQ(*c->write(Format::vcard30()), "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:A\r\nEND:VCARD\r\n");
  EXPECT_EQ(*c->write({"text/vcard", ""}), "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:A\r\nEND:VCARD\r\n");
  EXPECT_EQ(*c->write(Format::vcard40()), "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:A\r\nEND:VCARD\r\n");
  auto bad = c->write({"text/calendar", "2.0"});
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(c->supported_formats().size(), 4u);  // the three vCard versions and SIF-C
}

TEST(ContactIdentityTest, NormalisedNamePlusFirstPhoneDigits) {
  auto a =
      contact("BEGIN:VCARD\nVERSION:3.0\nFN:  Anne   Smith \nTEL;TYPE=CELL:+49 (30) 1-2\nEMAIL:A@B.C\nEND:VCARD\n");
  EXPECT_EQ(a->identity_key(), "anne smith|493012");
  // Same person from a 2.1 phone: different spelling, same key.
  auto b = contact("BEGIN:VCARD\nVERSION:2.1\nFN;CHARSET=UTF-8:ANNE SMITH\nTEL;CELL;PREF:+49-30-12\nEND:VCARD\n");
  EXPECT_EQ(a->identity_key(), b->identity_key());
}

TEST(ContactIdentityTest, FallsBackToNAndEmail) {
  auto a = contact("BEGIN:VCARD\nVERSION:3.0\nN:Smith;Anne;;;\nEMAIL: Anne@Example.COM \nEND:VCARD\n");
  EXPECT_EQ(a->identity_key(), "smith anne|anne@example.com");
  auto empty_tel = contact("BEGIN:VCARD\nVERSION:2.1\nFN:X\nTEL;CELL:\nEMAIL;INTERNET:x@y\nEND:VCARD\n");
  EXPECT_EQ(empty_tel->identity_key(), "x|x@y");
  auto nothing = contact("BEGIN:VCARD\nVERSION:3.0\nNOTE:only a note\nEND:VCARD\n");
  EXPECT_EQ(nothing->identity_key(), "");
}

TEST(ContactMergeTest, SingleValuedOursWinsUnlessEmpty) {
  auto ours = contact("BEGIN:VCARD\nVERSION:3.0\nFN:Ours\nTITLE:\nBDAY:1970-01-01\nEND:VCARD\n");
  auto theirs = contact("BEGIN:VCARD\nVERSION:2.1\nFN:Theirs\nTITLE:Boss\nBDAY:19700102\nNOTE:new\nEND:VCARD\n");
  auto merged = merge(*ours, *theirs);
  ASSERT_TRUE(merged.has_value());
  const VCard& card = as_contact(**merged).card();
  EXPECT_EQ(values_of(card, "FN"), (Strings{"Ours"}));
  EXPECT_EQ(values_of(card, "TITLE"), (Strings{"Boss"}));
  EXPECT_EQ(values_of(card, "BDAY"), (Strings{"1970-01-01"}));
  EXPECT_EQ(values_of(card, "NOTE"), (Strings{"new"}));
  // Inputs unchanged.
  EXPECT_EQ(values_of(ours->card(), "TITLE"), (Strings{""}));
}

TEST(ContactMergeTest, NoteBothChangedKeepsBothTexts) {
  auto ours = contact("BEGIN:VCARD\nVERSION:3.0\nFN:A\nNOTE:changed on A\nEND:VCARD\n");
  auto theirs = contact("BEGIN:VCARD\nVERSION:3.0\nFN:A\nNOTE:changed on B\nEND:VCARD\n");
  auto merged = merge(*ours, *theirs);
  ASSERT_TRUE(merged.has_value());
  EXPECT_EQ(values_of(as_contact(**merged).card(), "NOTE"), (Strings{"changed on A\nchanged on B"}));
  auto same = merge(*ours, *ours);
  ASSERT_TRUE(same.has_value());
  EXPECT_EQ(values_of(as_contact(**same).card(), "NOTE"), (Strings{"changed on A"}));
}

TEST(ContactMergeTest, MultiValuedUnionByNormalisedValue) {
  auto ours = contact("BEGIN:VCARD\nVERSION:3.0\nFN:A\nTEL;TYPE=CELL:+49 30 123\nEMAIL:Anne@Example.com\nEND:VCARD\n");
  auto theirs = contact(
      "BEGIN:VCARD\nVERSION:2.1\nFN:A\nTEL;CELL;PREF:+4930123\nTEL;HOME:555\nEMAIL:anne@example.COM\n"
      "EMAIL:other@x\nADR;HOME:;;Main St;Town;;1;NO\nEND:VCARD\n");
  auto merged = ours->merged_with(*theirs);
  ASSERT_TRUE(merged.has_value());
  const VCard& card = as_contact(**merged).card();
  EXPECT_EQ(values_of(card, "TEL"), (Strings{"+49 30 123", "555"}));
  EXPECT_TRUE(card.first("TEL")->has_type("PREF"));  // theirs' TYPE united into ours
  EXPECT_EQ(values_of(card, "EMAIL"), (Strings{"Anne@Example.com", "other@x"}));
  EXPECT_EQ(values_of(card, "ADR"), (Strings{";;Main St;Town;;1;NO"}));
}

TEST(ContactMergeTest, GroupsMoveTogetherUnderAFreshName) {
  auto ours = contact("BEGIN:VCARD\nVERSION:3.0\nFN:A\nitem1.TEL:111\nitem1.X-ABLabel:work\nEND:VCARD\n");
  auto theirs = contact(
      "BEGIN:VCARD\nVERSION:3.0\nFN:A\nitem1.TEL:222\nitem1.X-ABLabel:lab\nitem2.TEL:111\n"
      "item2.X-ABLabel:work\nEND:VCARD\n");
  auto merged = ours->merged_with(*theirs);
  ASSERT_TRUE(merged.has_value());
  const VCard& card = as_contact(**merged).card();
  ASSERT_EQ(card.properties.size(), 5u);
  EXPECT_EQ(card.properties[3].group, "item2");
  EXPECT_EQ(card.properties[3].joined(), "222");
  EXPECT_EQ(card.properties[4].group, "item2");
  EXPECT_EQ(card.properties[4].joined(), "lab");
}

TEST(ContactMergeTest, OtherKindIsInvalidArgument) {
  class FakeNote : public DataObject {
   public:
    DataKind kind() const override { return DataKind::kNote; }
    Format source_format() const override { return {"text/plain", ""}; }
    std::vector<Format> supported_formats() const override { return {source_format()}; }
    Result<std::string> write(const Format&) const override { return std::string(); }
    std::string identity_key() const override { return ""; }
    Result<std::unique_ptr<DataObject>> merged_with(const DataObject&) const override {
      return Status::unimplemented("fake");
    }
    std::unique_ptr<DataObject> clone() const override { return std::make_unique<FakeNote>(); }
  };
  auto c = contact("BEGIN:VCARD\nFN:A\nEND:VCARD\n");
  auto merged = merge(*c, FakeNote());
  ASSERT_FALSE(merged.has_value());
  EXPECT_EQ(merged.error().code(), StatusCode::kInvalidArgument);
}

TEST(ContactMergeTest, CloneIsIndependentAndEqual) {
  auto c = contact("BEGIN:VCARD\nVERSION:2.1\nFN:A\nTEL:1\nEND:VCARD\n");
  auto copy = c->clone();
  EXPECT_EQ(*copy->write(Format::vcard30()), *c->write(Format::vcard30()));
}

}  // namespace
}  // namespace conflux::data
