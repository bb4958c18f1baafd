// The preserving merge (fields a device cannot hold survive its update) and
// the hot path's structural check.
#include <gtest/gtest.h>

#include <libical/ical.h>

#include <fstream>
#include <sstream>

#include "data/calendar.h"
#include "data/contact.h"
#include "data/device_caps.h"

namespace conflux::data {
namespace {

using Strings = std::vector<std::string>;

std::unique_ptr<DataObject> object(std::string_view text, const Format& format) {
  auto o = parse(text, format);
  EXPECT_TRUE(o.has_value()) << o.error().to_string();
  return o.has_value() ? std::move(*o) : nullptr;
}

Strings values_of(const DataObject& o, std::string_view name) {
  Strings out;
  for (const auto& p : static_cast<const Contact&>(o).card().properties) {
    if (p.name == name) out.push_back(p.joined());
  }
  return out;
}

FormatCaps caps_of(Format format, std::initializer_list<std::pair<const char*, std::optional<uint32_t>>> props) {
  FormatCaps caps{std::move(format), {}};
  for (const auto& [name, max] : props) caps.properties[name] = PropertyCaps{max};
  return caps;
}

constexpr const char* kServerCard =
    "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ada Lovelace\r\nN:Lovelace;Ada;;;\r\nTEL;TYPE=CELL:+44 1\r\n"
    "ADR;TYPE=HOME:;;1 Home St;London;;;UK\r\nADR;TYPE=WORK:;;2 Work Rd;London;;;UK\r\n"
    "NOTE:Analyst\r\nBDAY:1815-12-10\r\nEND:VCARD\r\n";

// A phone's update: it changed the number and shows one address, no note.
constexpr const char* kPhoneUpdate =
    "BEGIN:VCARD\r\nVERSION:2.1\r\nN:Lovelace;Ada\r\nFN:Ada Lovelace\r\nTEL;CELL:+44 2\r\n"
    "ADR;HOME:;;1 Home St;London;;;UK\r\nBDAY:1815-12-10\r\nEND:VCARD\r\n";

TEST(KeepFieldsTest, PropertiesTheCtCapLacksAndAddressesBeyondMaxOccurSurvive) {
  auto server = object(kServerCard, Format::vcard30());
  auto update = object(kPhoneUpdate, Format::vcard21());
  const FormatCaps phone = caps_of(Format::vcard21(), {{"N", {}}, {"FN", {}}, {"TEL", {}}, {"ADR", 1}, {"BDAY", {}}});
  auto merged = keep_fields_device_cannot_hold(*update, *server, &phone);
  ASSERT_TRUE(merged.has_value()) << merged.error().to_string();
  EXPECT_EQ(values_of(**merged, "TEL"), Strings{"+44 2"});     // the device's change
  EXPECT_EQ(values_of(**merged, "NOTE"), Strings{"Analyst"});  // not in the CTCap: kept
  EXPECT_EQ(values_of(**merged, "ADR"), (Strings{";;1 Home St;London;;;UK", ";;2 Work Rd;London;;;UK"}));
  // Date-only stays date-only on the way to 3.0.
  auto text = (*merged)->write(Format::vcard30());
  ASSERT_TRUE(text.has_value());
  EXPECT_NE(text->find("BDAY:1815-12-10\r\n"), std::string::npos) << *text;
}

TEST(KeepFieldsTest, APropertyTheCtCapListsButTheUpdateLacksWasDeleted) {
  auto server = object(kServerCard, Format::vcard30());
  auto update = object(kPhoneUpdate, Format::vcard21());
  const FormatCaps phone =
      caps_of(Format::vcard21(), {{"N", {}}, {"FN", {}}, {"TEL", {}}, {"ADR", {}}, {"NOTE", {}}, {"BDAY", {}}});
  auto merged = keep_fields_device_cannot_hold(*update, *server, &phone);
  ASSERT_TRUE(merged.has_value());
  EXPECT_TRUE(values_of(**merged, "NOTE").empty());
  // ADR without MaxOccur: the device holds them all, so the one it dropped is gone.
  EXPECT_EQ(values_of(**merged, "ADR"), Strings{";;1 Home St;London;;;UK"});
}

TEST(KeepFieldsTest, WithoutCtCapServerFieldsTheUpdateLacksAreKept) {
  auto server = object(kServerCard, Format::vcard30());
  auto update = object(kPhoneUpdate, Format::vcard21());
  auto merged = keep_fields_device_cannot_hold(*update, *server, nullptr);
  ASSERT_TRUE(merged.has_value());
  EXPECT_EQ(values_of(**merged, "NOTE"), Strings{"Analyst"});
  // A property the update has replaces the server's instances.
  EXPECT_EQ(values_of(**merged, "TEL"), Strings{"+44 2"});
  EXPECT_EQ(values_of(**merged, "ADR"), Strings{";;1 Home St;London;;;UK"});
}

TEST(KeepFieldsTest, XWildcardCoversEveryXProperty) {
  auto server = object("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:A\r\nX-FOO:1\r\nNOTE:n\r\nEND:VCARD\r\n", Format::vcard30());
  auto update = object("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:A\r\nEND:VCARD\r\n", Format::vcard30());
  const FormatCaps caps = caps_of(Format::vcard30(), {{"FN", {}}, {"X-*", {}}});
  auto merged = keep_fields_device_cannot_hold(*update, *server, &caps);
  ASSERT_TRUE(merged.has_value());
  EXPECT_TRUE(values_of(**merged, "X-FOO").empty());     // listed through X-*: deleted
  EXPECT_EQ(values_of(**merged, "NOTE"), Strings{"n"});  // not listed: kept
}

TEST(KeepFieldsTest, AnEmptySlotOfAnUnlistedPropertyDoesNotDeleteIt) {
  auto server = object(kServerCard, Format::vcard30());
  auto update = object("BEGIN:VCARD\r\nVERSION:2.1\r\nFN:Ada Lovelace\r\nNOTE:\r\nEND:VCARD\r\n", Format::vcard21());
  auto merged = keep_fields_device_cannot_hold(*update, *server, nullptr);
  ASSERT_TRUE(merged.has_value());
  EXPECT_EQ(values_of(**merged, "NOTE"), Strings{"Analyst"});  // one NOTE: the empty slot gave way
  // Listed in the CTCap, the empty NOTE is the user's deletion.
  const FormatCaps caps = caps_of(Format::vcard21(), {{"FN", {}}, {"NOTE", {}}});
  merged = keep_fields_device_cannot_hold(*update, *server, &caps);
  ASSERT_TRUE(merged.has_value());
  EXPECT_EQ(values_of(**merged, "NOTE"), Strings{""});
}

TEST(KeepFieldsTest, KindsMustMatch) {
  auto server = object(kServerCard, Format::vcard30());
  auto note = object("hello", {"text/plain", ""});
  auto merged = keep_fields_device_cannot_hold(*note, *server, nullptr);
  ASSERT_FALSE(merged.has_value());
  EXPECT_EQ(merged.error().code(), StatusCode::kInvalidArgument);
}

TEST(KeepFieldsTest, EventKeepsPropertiesAndItsTimeZoneThroughAVcal10Device) {
  const char* server_text =
      "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n"
      "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\n"
      "TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
      "BEGIN:VEVENT\r\nUID:e1\r\nSUMMARY:Old\r\nDTSTART;TZID=Europe/Berlin:20240105T100000\r\n"
      "DTEND;TZID=Europe/Berlin:20240105T110000\r\nLOCATION:Room 1\r\nX-CONFLUX-TAG:keep\r\n"
      "END:VEVENT\r\nEND:VCALENDAR\r\n";
  const char* update_text =
      "BEGIN:VCALENDAR\r\nVERSION:1.0\r\nBEGIN:VEVENT\r\nUID:e1\r\nSUMMARY:New\r\n"
      "DTSTART:20240105T090000Z\r\nDTEND:20240105T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
  auto server = object(server_text, ical20_format());
  auto update = object(update_text, vcal10_format());
  const FormatCaps phone = caps_of(vcal10_format(), {{"UID", {}}, {"SUMMARY", {}}, {"DTSTART", {}}, {"DTEND", {}}});
  auto merged = keep_fields_device_cannot_hold(*update, *server, &phone);
  ASSERT_TRUE(merged.has_value()) << merged.error().to_string();
  auto text = (*merged)->write(ical20_format());
  ASSERT_TRUE(text.has_value());
  EXPECT_NE(text->find("SUMMARY:New"), std::string::npos) << *text;
  EXPECT_NE(text->find("LOCATION:Room 1"), std::string::npos) << *text;
  EXPECT_NE(text->find("X-CONFLUX-TAG:keep"), std::string::npos) << *text;
  EXPECT_EQ(text->find("SUMMARY:Old"), std::string::npos) << *text;
  EXPECT_EQ(text->find("Europe/Berlin:20240105T100000"), std::string::npos) << *text;  // DTSTART is the device's
}

TEST(KeepFieldsTest, AllDayEventStaysDateOnly) {
  const char* server_text =
      "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:d1\r\nSUMMARY:Day\r\n"
      "DTSTART;VALUE=DATE:20240301\r\nDTEND;VALUE=DATE:20240302\r\nDESCRIPTION:kept\r\n"
      "END:VEVENT\r\nEND:VCALENDAR\r\n";
  const char* update_text =
      "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//d//d//EN\r\nBEGIN:VEVENT\r\nUID:d1\r\nSUMMARY:Day off\r\n"
      "DTSTART;VALUE=DATE:20240301\r\nDTEND;VALUE=DATE:20240302\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
  auto merged = keep_fields_device_cannot_hold(*object(update_text, ical20_format()),
                                               *object(server_text, ical20_format()), nullptr);
  ASSERT_TRUE(merged.has_value());
  for (const Format& f : {ical20_format(), vcal10_format()}) {
    auto text = (*merged)->write(f);
    ASSERT_TRUE(text.has_value());
    auto back = object(*text, f);
    ASSERT_NE(back, nullptr);
    auto* main = const_cast<icalcomponent*>(static_cast<const CalendarItem&>(*back).main_component());
    EXPECT_EQ(icalcomponent_get_dtstart(main).is_date, 1) << f.to_string() << "\n" << *text;
    EXPECT_EQ(icaltime_as_ical_string(icalcomponent_get_dtstart(main)), std::string("20240301"));
    EXPECT_STREQ(icalcomponent_get_description(main), "kept");
  }
}

std::string read_data(const std::string& relative) {
  std::ifstream in(std::string(CONFLUX_TEST_DATA_DIR) + "/" + relative, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  EXPECT_FALSE(out.str().empty()) << relative;
  return out.str();
}

TEST(SniffFormatTest, TheDataVersionDecides) {
  auto f = sniff_format("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:A\r\nEND:VCARD\r\n", Format::vcard21());
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(*f, Format::vcard30());
  f = sniff_format("BEGIN:VCARD\nFN:A\nEND:VCARD\n", Format::vcard30());
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(*f, Format::vcard21());  // no VERSION: read as 2.1, as the parser does
  f = sniff_format("BEGIN:VCALENDAR\nVERSION:1.0\nBEGIN:VEVENT\nEND:VEVENT\nEND:VCALENDAR\n", ical20_format());
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(*f, vcal10_format());
  f = sniff_format("anything \xff", {"text/plain", ""});
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->mime_type, "text/plain");
}

TEST(SniffFormatTest, GoodCardsFromTheCorpusPass) {
  for (const char* file : {"vcard/syncevolution/eds_contact.vcf", "vcard/syncevolution/carddav.vcf",
                           "vcard/syncevolution/Google-CardDAV.vcf", "vcard/syncevolution/yahoo_contact.vcf"}) {
    std::string text = read_data(file);
    // Split into single cards: the check takes one object.
    size_t pos = 0;
    int cards = 0;
    while ((pos = text.find("BEGIN:VCARD", pos)) != std::string::npos) {
      size_t end = text.find("END:VCARD", pos);
      ASSERT_NE(end, std::string::npos);
      std::string card = text.substr(pos, end + 9 - pos) + "\r\n";
      if (card.find("VERSION:3.0") != std::string::npos) {
        auto f = sniff_format(card, Format::vcard30());
        EXPECT_TRUE(f.has_value()) << card << (f ? "" : f.error().to_string());
        ++cards;
      }
      pos = end;
    }
    EXPECT_GT(cards, 0) << file;
  }
}

TEST(SniffFormatTest, StructuralDamageNeedsTheParser) {
  for (std::string bad : {
           std::string("FN:A\r\nEND:VCARD\r\n"),                                   // no BEGIN
           std::string("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:A\r\n"),                  // no END
           std::string("BEGIN:VCARD\r\nVERSION:3.0\r\nEND:VCARD\r\nFN:B\r\n"),     // content after the card
           std::string("BEGIN:VCARD\r\nVERSION:3.0\r\nX/BAD:1\r\nEND:VCARD\r\n"),  // bad property name
           std::string("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:\xC3\r\nEND:VCARD\r\n"),  // not UTF-8
           std::string("BEGIN:VCARD\r\nVERSION:5.0\r\nEND:VCARD\r\n"),
       }) {
    auto f = sniff_format(bad, Format::vcard30());
    ASSERT_FALSE(f.has_value()) << bad;
    EXPECT_EQ(f.error().code(), StatusCode::kInvalidArgument);
  }
}

TEST(SniffFormatTest, EveryMalformedCorpusObjectNeedsTheParser) {
  for (const char* file : {"vcard/malformed/vcardfuzz485387226.vcf", "vcard/malformed/vcardfuzz486715154.vcf",
                           "vcard/malformed/vcardfuzz505903588.vcf"}) {
    EXPECT_FALSE(sniff_format(read_data(file), Format::vcard30()).has_value()) << file;
  }
  for (const char* file : {"badline.ics", "fuzz448717854.ics", "fuzz458943970.ics", "fuzz472865252.ics", "issue250.ics",
                           "issue251.ics", "poc-05.ics", "recur-errors.ics"}) {
    EXPECT_FALSE(sniff_format(read_data(std::string("ical/malformed/") + file), ical20_format()).has_value()) << file;
  }
}

}  // namespace
}  // namespace conflux::data
