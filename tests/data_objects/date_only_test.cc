// Dates that no time zone may touch (data objects issue, "dates and absence
// done right"): a birthday, an anniversary, an all-day event and a task due
// on a day keep their date through every format while the process runs in
// UTC-10 or UTC+13, the zones where a conversion through an instant moves a
// date by one day either way.
#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>

#include "data/calendar.h"
#include "data/calendar_time.h"
#include "data/contact.h"

namespace conflux::data {
namespace {

class DateOnlyInTimeZone : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    const char* old = getenv("TZ");
    had_ = old != nullptr;
    saved_ = old ? old : "";
    setenv("TZ", GetParam(), 1);
    tzset();
    // The zone must really be in force, or the test proves nothing.
    time_t noon = 12 * 3600;
    struct tm local;
    localtime_r(&noon, &local);
    ASSERT_NE(local.tm_hour, 12) << GetParam() << " is not installed (tzdata)";
  }
  void TearDown() override {
    if (had_) {
      setenv("TZ", saved_.c_str(), 1);
    } else {
      unsetenv("TZ");
    }
    tzset();
  }

 private:
  std::string saved_;
  bool had_ = false;
};

std::string digits(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c >= '0' && c <= '9') out.push_back(c);
  }
  return out;
}

// The date of the first property named one of `names`, as YYYYMMDD.
std::string card_date(const Contact& c, std::initializer_list<const char*> names) {
  for (const char* name : names) {
    if (const VCardProperty* p = c.card().first(name)) return digits(p->joined());
  }
  return "<missing>";
}

// Where an anniversary lives: 4.0 ANNIVERSARY, carried as
// X-VCARD4-ANNIVERSARY through 2.1/3.0 (vcard_write.cc); Evolution's
// X-ANNIVERSARY as it is.
const std::initializer_list<const char*> kAnniversary = {"ANNIVERSARY", "X-VCARD4-ANNIVERSARY", "X-ANNIVERSARY"};

std::unique_ptr<Contact> contact_via(const Contact& from, const Format& f) {
  auto text = from.write(f);
  EXPECT_TRUE(text.has_value());
  auto back = Contact::parse(*text);
  EXPECT_TRUE(back.has_value()) << back.error().to_string() << "\n" << *text;
  return back ? std::move(*back) : nullptr;
}

TEST_P(DateOnlyInTimeZone, BirthdayAndAnniversaryThroughEveryVcardVersion) {
  const char* cards[] = {
      "BEGIN:VCARD\r\nVERSION:2.1\r\nN:Doe;Ann\r\nBDAY:1981-01-01\r\nX-ANNIVERSARY:2010-06-15\r\nEND:VCARD\r\n",
      "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ann Doe\r\nN:Doe;Ann\r\nBDAY;VALUE=date:1981-01-01\r\n"
      "X-ANNIVERSARY:2010-06-15\r\nEND:VCARD\r\n",
      "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Ann Doe\r\nBDAY:19810101\r\nANNIVERSARY:20100615\r\nEND:VCARD\r\n",
  };
  const Format versions[] = {Format::vcard21(), Format::vcard30(), Format::vcard40()};
  for (const char* text : cards) {
    SCOPED_TRACE(text);
    auto card = Contact::parse(text);
    ASSERT_TRUE(card.has_value()) << card.error().to_string();
    for (const Format& first : versions) {
      for (const Format& second : versions) {
        SCOPED_TRACE(first.to_string() + " then " + second.to_string());
        auto there = contact_via(**card, first);
        ASSERT_NE(there, nullptr);
        auto back = contact_via(*there, second);
        ASSERT_NE(back, nullptr);
        EXPECT_EQ(card_date(*there, {"BDAY"}), "19810101");
        EXPECT_EQ(card_date(*back, {"BDAY"}), "19810101");
        EXPECT_EQ(card_date(*there, kAnniversary), "20100615");
        EXPECT_EQ(card_date(*back, kAnniversary), "20100615");
      }
    }
  }
}

std::unique_ptr<CalendarItem> item_via(const CalendarItem& from, const Format& f) {
  auto text = from.write(f);
  EXPECT_TRUE(text.has_value());
  auto back = CalendarItem::parse(*text, f);
  EXPECT_TRUE(back.has_value()) << back.error().to_string() << "\n" << *text;
  return back ? std::move(*back) : nullptr;
}

std::string item_time(const CalendarItem& item, icalproperty_kind kind) {
  auto* main = const_cast<icalcomponent*>(item.main_component());
  icalproperty* p = icalcomponent_get_first_property(main, kind);
  return p ? normalised_time(p, main) : "<missing>";
}

void expect_dates_through_both_formats(const CalendarItem& item, icalproperty_kind start_kind, const std::string& start,
                                       icalproperty_kind end_kind, const std::string& end) {
  EXPECT_EQ(item_time(item, start_kind), start);
  EXPECT_EQ(item_time(item, end_kind), end);
  for (const Format& f : {ical20_format(), vcal10_format()}) {
    SCOPED_TRACE("via " + f.to_string());
    auto there = item_via(item, f);
    ASSERT_NE(there, nullptr);
    for (const Format& g : {ical20_format(), vcal10_format()}) {
      auto back = item_via(*there, g);
      ASSERT_NE(back, nullptr);
      EXPECT_EQ(item_time(*back, start_kind), start) << "then " << g.to_string();
      EXPECT_EQ(item_time(*back, end_kind), end) << "then " << g.to_string();
    }
  }
}

TEST_P(DateOnlyInTimeZone, AllDayEventsThroughIcalendarAndVcalendar) {
  const char* ical =
      "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:ad\r\nSUMMARY:Holiday\r\n"
      "DTSTART;VALUE=DATE:20261231\r\nDTEND;VALUE=DATE:20270102\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
  auto event = CalendarItem::parse(ical, ical20_format());
  ASSERT_TRUE(event.has_value()) << event.error().to_string();
  expect_dates_through_both_formats(**event, ICAL_DTSTART_PROPERTY, "date:20261231", ICAL_DTEND_PROPERTY,
                                    "date:20270102");
  // Phones in UTC-10 and UTC+13 sending an all-day event their way: local
  // midnight to 23:59:59 under their TZ line.
  for (const char* tz : {"TZ:-10\r\n", "TZ:+13\r\n"}) {
    SCOPED_TRACE(tz);
    std::string vcal = std::string("BEGIN:VCALENDAR\r\nVERSION:1.0\r\n") + tz +
                       "BEGIN:VEVENT\r\nSUMMARY:Birthday\r\nDTSTART:19810101T000000\r\nDTEND:19810101T235959\r\n"
                       "RRULE:YM1 1 #0\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    auto phone = CalendarItem::parse(vcal, vcal10_format());
    ASSERT_TRUE(phone.has_value()) << phone.error().to_string();
    expect_dates_through_both_formats(**phone, ICAL_DTSTART_PROPERTY, "date:19810101", ICAL_DTEND_PROPERTY,
                                      "date:19810102");
  }
}

TEST_P(DateOnlyInTimeZone, TaskDueOnADay) {
  const char* ical =
      "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VTODO\r\nUID:td\r\nSUMMARY:Taxes\r\n"
      "DTSTART;VALUE=DATE:20270101\r\nDUE;VALUE=DATE:20270131\r\nEND:VTODO\r\nEND:VCALENDAR\r\n";
  auto task = CalendarItem::parse(ical, ical20_format());
  ASSERT_TRUE(task.has_value()) << task.error().to_string();
  ASSERT_EQ((*task)->kind(), DataKind::kTask);
  expect_dates_through_both_formats(**task, ICAL_DTSTART_PROPERTY, "date:20270101", ICAL_DUE_PROPERTY, "date:20270131");
}

// Both the zone names and the fixed-offset Etc zones (POSIX sign: Etc/GMT+10
// is UTC-10).
INSTANTIATE_TEST_SUITE_P(Zones, DateOnlyInTimeZone,
                         ::testing::Values("Pacific/Honolulu", "Pacific/Tongatapu", "Etc/GMT+10", "Etc/GMT-13"));

}  // namespace
}  // namespace conflux::data
