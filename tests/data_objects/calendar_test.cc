// Focused Event/Task tests: time kinds, all-day dates through vCalendar 1.0
// under UTC-10 and UTC+13, RRULE conversions (SYNCML-REFERENCE §16
// examples), alarms, identity keys and merging.
#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>

#include "calendar_field_key.h"
#include "data/calendar.h"
#include "data/vcalendar.h"

namespace conflux::data {
namespace {

using testing::field_keys;

std::string ical(const std::string& body, const std::string& extra = "") {
  return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n" + extra + body + "END:VCALENDAR\r\n";
}

std::string vcal(const std::string& body, const std::string& head = "") {
  return "BEGIN:VCALENDAR\r\nVERSION:1.0\r\n" + head + body + "END:VCALENDAR\r\n";
}

std::unique_ptr<CalendarItem> must_parse(const std::string& text, const Format& f = ical20_format()) {
  auto item = CalendarItem::parse(text, f);
  EXPECT_TRUE(item.has_value()) << item.error().to_string() << "\n" << text;
  return item ? std::move(*item) : nullptr;
}

std::string prop_time(const CalendarItem& item, icalproperty_kind kind) {
  auto* main = const_cast<icalcomponent*>(item.main_component());
  icalproperty* p = icalcomponent_get_first_property(main, kind);
  return p ? normalised_time(p, main) : "";
}

std::unique_ptr<CalendarItem> via(const CalendarItem& item, const Format& f) {
  auto text = item.write(f);
  EXPECT_TRUE(text.has_value());
  return must_parse(*text, f);
}

const char kBerlin[] =
    "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\n"
    "DTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3\r\nEND:DAYLIGHT\r\nBEGIN:STANDARD\r\n"
    "TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nDTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\r\n"
    "END:STANDARD\r\nEND:VTIMEZONE\r\n";

TEST(CalendarTest, FloatingUtcAndTzidTimesKeepTheirInstant) {
  auto utc = must_parse(ical("BEGIN:VEVENT\r\nUID:a\r\nDTSTART:20260315T120000Z\r\nEND:VEVENT\r\n"));
  auto floating = must_parse(ical("BEGIN:VEVENT\r\nUID:b\r\nDTSTART:20260315T120000\r\nEND:VEVENT\r\n"));
  auto zoned = must_parse(
      ical("BEGIN:VEVENT\r\nUID:c\r\nDTSTART;TZID=Europe/Berlin:20260715T120000\r\nEND:VEVENT\r\n", kBerlin));
  EXPECT_EQ(prop_time(*utc, ICAL_DTSTART_PROPERTY), "utc:1773576000");
  EXPECT_EQ(prop_time(*floating, ICAL_DTSTART_PROPERTY), "local:20260315T120000");
  EXPECT_EQ(prop_time(*zoned, ICAL_DTSTART_PROPERTY), "utc:1784109600");  // 10:00Z, summer time
  for (const CalendarItem* item : {utc.get(), floating.get(), zoned.get()}) {
    auto back = via(*via(*item, vcal10_format()), ical20_format());
    EXPECT_EQ(prop_time(*back, ICAL_DTSTART_PROPERTY), prop_time(*item, ICAL_DTSTART_PROPERTY));
  }
}

TEST(CalendarTest, ZonedRecurrenceKeepsLocalTimeAcrossDstThroughVcal10) {
  auto item =
      must_parse(ical("BEGIN:VEVENT\r\nUID:w\r\nDTSTART;TZID=Europe/Berlin:20260316T093000\r\n"
                      "RRULE:FREQ=WEEKLY;COUNT=4\r\nEND:VEVENT\r\n",
                      kBerlin));
  auto text = item->write(vcal10_format());
  ASSERT_TRUE(text.has_value());
  EXPECT_NE(text->find("TZ:+01:00"), std::string::npos) << *text;
  EXPECT_NE(text->find("DAYLIGHT:TRUE;+02:00;20260329T020000;20261025T030000;;"), std::string::npos) << *text;
  EXPECT_NE(text->find("DTSTART:20260316T093000\r\n"), std::string::npos) << *text;
  auto back = must_parse(*text, vcal10_format());
  EXPECT_EQ(field_keys(*item), field_keys(*back));
}

class AllDayInTimeZone : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    const char* old = getenv("TZ");
    saved_ = old ? old : "";
    had_ = old != nullptr;
    setenv("TZ", GetParam(), 1);
    tzset();
  }
  void TearDown() override {
    if (had_)
      setenv("TZ", saved_.c_str(), 1);
    else
      unsetenv("TZ");
    tzset();
  }
  std::string saved_;
  bool had_ = false;
};

TEST_P(AllDayInTimeZone, DatesNeverShift) {
  auto birthday =
      must_parse(ical("BEGIN:VEVENT\r\nUID:bd\r\nDTSTART;VALUE=DATE:19810101\r\nDTEND;VALUE=DATE:19810102\r\n"
                      "RRULE:FREQ=YEARLY\r\nSUMMARY:Birthday\r\nEND:VEVENT\r\n"));
  auto text = birthday->write(vcal10_format());
  ASSERT_TRUE(text.has_value());
  EXPECT_NE(text->find("DTSTART:19810101T000000\r\n"), std::string::npos) << *text;
  EXPECT_NE(text->find("DTEND:19810101T235959\r\n"), std::string::npos) << *text;
  EXPECT_NE(text->find("RRULE:YM1 1 #0\r\n"), std::string::npos) << *text;
  auto back = via(*must_parse(*text, vcal10_format()), ical20_format());
  EXPECT_EQ(prop_time(*back, ICAL_DTSTART_PROPERTY), "date:19810101");
  EXPECT_EQ(prop_time(*back, ICAL_DTEND_PROPERTY), "date:19810102");
  EXPECT_EQ(field_keys(*birthday), field_keys(*back));
  // A phone's all-day event (K770i birthday style, P800 T240000Z end).
  auto phone = must_parse(vcal("BEGIN:VEVENT\r\nDTSTART:20061222T000000\r\nDTEND:20061222T240000Z\r\n"
                               "SUMMARY:x\r\nEND:VEVENT\r\n",
                               "TZ:+13\r\n"),
                          vcal10_format());
  EXPECT_EQ(prop_time(*phone, ICAL_DTSTART_PROPERTY), "date:20061222");
  EXPECT_EQ(prop_time(*phone, ICAL_DTEND_PROPERTY), "date:20061223");
}

INSTANTIATE_TEST_SUITE_P(Zones, AllDayInTimeZone,
                         ::testing::Values("Pacific/Honolulu", "Pacific/Tongatapu", "Pacific/Kiritimati", "UTC"));

TEST(CalendarTest, Rrule10ToIcal) {
  auto rule = [](const char* r) {
    auto out = rrule_from_vcal10(r);
    return out ? *out : "error: " + out.error().message();
  };
  EXPECT_EQ(rule("W1 FR #9"), "FREQ=WEEKLY;INTERVAL=1;BYDAY=FR;COUNT=9");
  EXPECT_EQ(rule("YM1 #0"), "FREQ=YEARLY;INTERVAL=1");
  EXPECT_EQ(rule("MP1 1+ TH 21001231T000000"), "FREQ=MONTHLY;INTERVAL=1;BYDAY=1TH;UNTIL=21001231T000000");
  EXPECT_EQ(rule("MP1 1+ SU #2"), "FREQ=MONTHLY;INTERVAL=1;BYDAY=1SU;COUNT=2");
  EXPECT_EQ(rule("W1 TH 20060427T000000Z"), "FREQ=WEEKLY;INTERVAL=1;BYDAY=TH;UNTIL=20060427T000000Z");
  EXPECT_EQ(rule("D1"), "FREQ=DAILY;INTERVAL=1;COUNT=2");                        // no end = #2
  EXPECT_EQ(rule("W2 MO WE #3"), "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE;COUNT=6");  // counts intervals
  EXPECT_EQ(rule("MD1 1 15 LD #0"), "FREQ=MONTHLY;INTERVAL=1;BYMONTHDAY=1,15,-1");
  EXPECT_EQ(rule("YM1 6 12 #4"), "FREQ=YEARLY;INTERVAL=1;BYMONTH=6,12;COUNT=8");
  EXPECT_EQ(rule("YD1 100 #0"), "FREQ=YEARLY;INTERVAL=1;BYYEARDAY=100");
  EXPECT_EQ(rule("MP1 1+ 2- MO #1"), "FREQ=MONTHLY;INTERVAL=1;BYDAY=1MO,-2MO;COUNT=2");
  EXPECT_TRUE(rule("X9 #1").rfind("error", 0) == 0);
  EXPECT_TRUE(rule("W1 FOO #1").rfind("error", 0) == 0);
}

TEST(CalendarTest, RruleIcalTo10) {
  icaltimetype thu = icaltime_from_string("20060105T100000Z");
  auto rule = [&](const char* r, icaltimetype start) { return rrule_to_vcal10(r, start).value_or("none"); };
  EXPECT_EQ(rule("FREQ=WEEKLY;INTERVAL=1;BYDAY=TH;UNTIL=20060427T000000Z", thu), "W1 TH 20060427T000000Z");
  EXPECT_EQ(rule("FREQ=WEEKLY;COUNT=9", thu), "W1 TH #9");
  EXPECT_EQ(rule("FREQ=MONTHLY;BYDAY=1TH", thu), "MP1 1+ TH #0");
  EXPECT_EQ(rule("FREQ=MONTHLY;BYDAY=-1FR;COUNT=3", thu), "MP1 1- FR #3");
  EXPECT_EQ(rule("FREQ=MONTHLY;BYMONTHDAY=-1", thu), "MD1 1- #0");
  EXPECT_EQ(rule("FREQ=YEARLY", thu), "YM1 1 #0");
  EXPECT_EQ(rule("FREQ=DAILY;INTERVAL=3;COUNT=5", thu), "D3 #5");
  // 3 occurrences of a two-day week are not whole intervals: end date instead.
  EXPECT_EQ(rule("FREQ=WEEKLY;BYDAY=TH,FR;COUNT=3", thu), "W1 TH FR 20060112T100000Z");
  EXPECT_EQ(rule("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=-1", thu), "none");
  EXPECT_EQ(rule("FREQ=HOURLY", thu), "none");
}

TEST(CalendarTest, AlarmsBothWays) {
  auto item = must_parse(ical(
      "BEGIN:VEVENT\r\nUID:al\r\nDTSTART:20260315T120000Z\r\nSUMMARY:x\r\n"
      "BEGIN:VALARM\r\nACTION:AUDIO\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\n"
      "BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Go\r\nTRIGGER;VALUE=DATE-TIME:20260315T100000Z\r\nEND:VALARM\r\n"
      "END:VEVENT\r\n"));
  auto text = item->write(vcal10_format());
  ASSERT_TRUE(text.has_value());
  EXPECT_NE(text->find("AALARM:20260315T114500Z;;;\r\n"), std::string::npos) << *text;
  EXPECT_NE(text->find("DALARM:20260315T100000Z;;;Go\r\n"), std::string::npos) << *text;
  auto back = must_parse(*text, vcal10_format());
  EXPECT_EQ(field_keys(*item), field_keys(*back));
  // A phone's alarms in local time with TZ, snooze and repeat.
  auto phone = must_parse(vcal("BEGIN:VEVENT\r\nDTSTART:20060101T100000\r\nAALARM:20060101T090000;PT5M;2;\r\n"
                               "END:VEVENT\r\n",
                               "TZ:+01\r\n"),
                          vcal10_format());
  auto keys = field_keys(*phone);
  EXPECT_NE(std::find(keys.begin(), keys.end(), "VEVENT.VALARM=AUDIO@utc:1136102400"), keys.end());
}

// A TZID the system's time zone database knows takes the database's zone,
// not the item's VTIMEZONE (libical would expand that anew for every item:
// seconds for São Paulo's history, docs/FUZZING.md F9); any other TZID
// keeps its VTIMEZONE.
TEST(CalendarTest, KnownTzidUsesTheTimeZoneDatabaseOthersTheirVtimezone) {
  const std::string fixed_plus_five =
      "BEGIN:STANDARD\r\nDTSTART:19700101T000000\r\nTZOFFSETFROM:+0500\r\nTZOFFSETTO:+0500\r\nEND:STANDARD\r\n";
  auto item_in = [&](const std::string& tzid) {
    return must_parse(
        ical("BEGIN:VEVENT\r\nUID:z\r\nDTSTART;TZID=" + tzid + ":20170704T120000\r\nSUMMARY:x\r\nEND:VEVENT\r\n",
             "BEGIN:VTIMEZONE\r\nTZID:" + tzid + "\r\n" + fixed_plus_five + "END:VTIMEZONE\r\n"));
  };
  // The database's São Paulo: -03:00, with daylight time in 2017.
  auto known = item_in("America/Sao_Paulo")->write(vcal10_format());
  ASSERT_TRUE(known.has_value());
  EXPECT_NE(known->find("TZ:-03:00\r\n"), std::string::npos) << *known;
  EXPECT_NE(known->find("DAYLIGHT:TRUE;-02:00;20171015T000000;"), std::string::npos) << *known;
  // A zone only the item defines: its own fixed +05:00.
  auto own = item_in("Office-Time")->write(vcal10_format());
  ASSERT_TRUE(own.has_value());
  EXPECT_NE(own->find("TZ:+05:00\r\nBEGIN:VEVENT"), std::string::npos) << *own;
}

// iCalendar wants a DESCRIPTION on a DISPLAY alarm, vCalendar's DALARM may
// leave the text out: both directions fill in the same default, so such an
// alarm does not change on its next round trip (docs/FUZZING.md F5).
TEST(CalendarTest, DisplayAlarmWithoutTextGetsTheSameDefaultBothWays) {
  auto item =
      must_parse(ical("BEGIN:VEVENT\r\nUID:al\r\nDTSTART:20260315T120000Z\r\nSUMMARY:x\r\n"
                      "BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER;VALUE=DATE-TIME:20260315T100000Z\r\nEND:VALARM\r\n"
                      "END:VEVENT\r\n"));
  auto first = item->write(vcal10_format());
  ASSERT_TRUE(first.has_value());
  EXPECT_NE(first->find("DALARM:20260315T100000Z;;;Reminder\r\n"), std::string::npos) << *first;
  auto again = must_parse(*first, vcal10_format())->write(vcal10_format());
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*again, *first);
}

TEST(CalendarTest, TasksKeepDueDatesAndStatus) {
  auto task = must_parse(vcal("BEGIN:VTODO\r\nSUMMARY:t\r\nDUE:20080831T000000\r\nSTATUS:NEEDS ACTION\r\n"
                              "PRIORITY:1\r\nEND:VTODO\r\n"),
                         vcal10_format());
  EXPECT_EQ(task->kind(), DataKind::kTask);
  EXPECT_EQ(prop_time(*task, ICAL_DUE_PROPERTY), "date:20080831");
  auto back = via(*via(*task, ical20_format()), vcal10_format());
  EXPECT_EQ(field_keys(*task), field_keys(*back));
  auto text = task->write(vcal10_format());
  EXPECT_NE(text->find("STATUS:NEEDS ACTION"), std::string::npos) << *text;
}

TEST(CalendarTest, IdentityKeyAndMerge) {
  auto ours =
      must_parse(ical("BEGIN:VEVENT\r\nDTSTART:20260315T120000Z\r\nSUMMARY:Team  Lunch\r\n"
                      "CATEGORIES:A\r\nEND:VEVENT\r\n"));
  EXPECT_EQ(ours->identity_key(), "at:utc:1773576000|team lunch");
  auto theirs =
      must_parse(ical("BEGIN:VEVENT\r\nUID:x\r\nDTSTART:20260315T130000Z\r\nSUMMARY:Other\r\n"
                      "LOCATION:Here\r\nCATEGORIES:B\r\nEND:VEVENT\r\n"));
  EXPECT_EQ(theirs->identity_key(), "uid:x");
  auto merged = ours->merged_with(*theirs);
  ASSERT_TRUE(merged.has_value());
  auto text = (*merged)->write(ical20_format());
  EXPECT_NE(text->find("SUMMARY:Team  Lunch"), std::string::npos);
  EXPECT_EQ(text->find("SUMMARY:Other"), std::string::npos);
  EXPECT_NE(text->find("LOCATION:Here"), std::string::npos);
  EXPECT_NE(text->find("CATEGORIES:B"), std::string::npos);
  EXPECT_NE(text->find("UID:x"), std::string::npos);
  EXPECT_NE(text->find("DTSTART:20260315T120000Z"), std::string::npos);
}

TEST(CalendarTest, MergeKeepsBothDescriptions) {
  auto ours =
      must_parse(ical("BEGIN:VEVENT\r\nUID:d\r\nDTSTART:20260315T120000Z\r\nDESCRIPTION:Bring slides\r\n"
                      "END:VEVENT\r\n"));
  auto theirs =
      must_parse(ical("BEGIN:VEVENT\r\nUID:d\r\nDTSTART:20260315T120000Z\r\nDESCRIPTION:Room 4\r\n"
                      "END:VEVENT\r\n"));
  auto merged = ours->merged_with(*theirs);
  ASSERT_TRUE(merged.has_value());
  auto text = (*merged)->write(ical20_format());
  ASSERT_TRUE(text.has_value());
  EXPECT_NE(text->find("DESCRIPTION:Bring slides\\nRoom 4"), std::string::npos) << *text;
}

TEST(CalendarTest, BadInputIsInvalidArgument) {
  for (const char* bad :
       {"", "garbage", "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n", "BEGIN:VEVENT\r\nUID:x\r\nEND:VEVENT\r\n",
        "BEGIN:VCALENDAR\r\nVERSION:1.0\r\nBEGIN:VEVENT\r\n",
        "BEGIN:VCALENDAR\r\nVERSION:1.0\r\nBEGIN:VEVENT\r\nRRULE:W1 XX\r\nX "
        "BAD:1\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"}) {
    for (const Format& f : {ical20_format(), vcal10_format()}) {
      auto item = parse(bad, f);
      ASSERT_FALSE(item.has_value()) << bad;
      EXPECT_EQ(item.error().code(), StatusCode::kInvalidArgument);
    }
  }
}

TEST(CalendarTest, BrokenStructureFailsNamingTheLine) {
  using namespace std::string_view_literals;  // "..."sv keeps the NUL byte below
  struct Case {
    std::string_view text;
    const char* says;
  };
  const Case cases[] = {
      {"BEGIN:VEVENT\r\nUID:x\r\nEND:VEVENT\r\n"sv, "line 1: BEGIN:VEVENT outside a VCALENDAR"},
      {"UID:x\r\n"sv, "line 1: UID outside a VCALENDAR"},
      {"BEGIN:VCALENDAR\r\nBEGIN:VEVNT\r\nEND:VEVNT\r\nEND:VCALENDAR\r\n"sv, "line 2: BEGIN of an unknown component"},
      {"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nEND:VTODO\r\nEND:VCALENDAR\r\n"sv,
       "line 3: END:VTODO where END:VEVENT belongs"},
      {"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\n"sv, "line 3: VEVENT is not closed"},
      {"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\nEND:VCALENDAR\r\n"sv, "line 3: END:VCALENDAR without BEGIN"},
      {"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:a\0b\r\n"sv, "line 3: NUL byte"},
      {"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nX-A/B:1\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"sv,
       "line 3: bad property name 'X-A/B'"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.text));
    auto item = CalendarItem::parse(c.text, ical20_format());
    ASSERT_FALSE(item.has_value());
    EXPECT_EQ(item.error().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(item.error().message().find(c.says), std::string::npos) << item.error().message();
  }
  // A missing final END:VCALENDAR alone is tolerated (Horde's exdate.ics).
  auto lenient = CalendarItem::parse(
      "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:x\r\n"
      "DTSTART:20260101T100000Z\r\nEND:VEVENT\r\n",
      ical20_format());
  EXPECT_TRUE(lenient.has_value()) << lenient.error().to_string();
}

TEST(CalendarTest, CalendarFileHoldsEveryItemInOneVcalendarWithEachTimeZoneOnce) {
  const std::string berlin =
      "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\n"
      "TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n";
  auto weekly = must_parse(
      ical("BEGIN:VEVENT\r\nUID:w\r\nDTSTART;TZID=Europe/Berlin:20261207T093000\r\nRRULE:FREQ=WEEKLY\r\n"
           "SUMMARY:Weekly\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:w\r\n"
           "RECURRENCE-ID;TZID=Europe/Berlin:20261214T093000\r\nDTSTART;TZID=Europe/Berlin:20261214T110000\r\n"
           "SUMMARY:Moved\r\nEND:VEVENT\r\n",
           berlin));
  auto other = must_parse(
      ical("BEGIN:VEVENT\r\nUID:o\r\nDTSTART;TZID=Europe/Berlin:20261208T150000\r\nSUMMARY:Other\r\nEND:VEVENT\r\n",
           berlin));
  auto task = must_parse(ical("BEGIN:VTODO\r\nUID:t\r\nSUMMARY:Task\r\nEND:VTODO\r\n"));
  ASSERT_TRUE(weekly && other && task);

  const std::string file = write_calendar_file({weekly.get(), other.get(), task.get()});
  auto count = [&](const std::string& what) {
    size_t n = 0;
    for (size_t at = file.find(what); at != std::string::npos; at = file.find(what, at + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count("BEGIN:VCALENDAR"), 1u);
  EXPECT_EQ(count("BEGIN:VTIMEZONE"), 1u);
  EXPECT_EQ(count("BEGIN:VEVENT"), 3u);
  EXPECT_EQ(count("BEGIN:VTODO"), 1u);
  auto back = CalendarItem::parse_all(file, ical20_format());
  ASSERT_TRUE(back) << back.error().to_string();
  ASSERT_EQ(back->size(), 3u);  // the exception stays with its event
  EXPECT_EQ(*(*back)[0]->write(ical20_format()), *weekly->write(ical20_format()));
  EXPECT_EQ(*(*back)[1]->write(ical20_format()), *other->write(ical20_format()));
  EXPECT_EQ(*(*back)[2]->write(ical20_format()), *task->write(ical20_format()));
}

// RFC 5545 allows CLASS and STATUS tokens beyond the ones it names; libical
// 3.0 lost them whenever it copied an item (docs/FUZZING.md F10).
TEST(CalendarTest, UnknownClassAndStatusTokensSurviveEveryConversion) {
  const std::string ical =
      "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:u1\r\n"
      "DTSTAMP:20240101T000000Z\r\nDTSTART:20240101T100000Z\r\nSUMMARY:s\r\nCLASS:R\r\n"
      "STATUS:X-WAITING\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
  auto items = CalendarItem::parse_all(ical, ical20_format());
  ASSERT_TRUE(items) << items.error().to_string();
  ASSERT_EQ(items->size(), 1U);
  for (const Format& format : {ical20_format(), vcal10_format()}) {
    auto written = items->front()->write(format);
    ASSERT_TRUE(written) << written.error().to_string();
    EXPECT_NE(written->find("CLASS:R\r\n"), std::string::npos) << *written;
    auto again = CalendarItem::parse(*written, format);
    ASSERT_TRUE(again) << again.error().to_string();
    auto rewritten = (*again)->clone()->write(format);
    ASSERT_TRUE(rewritten);
    EXPECT_EQ(*rewritten, *written);
  }
  auto written = items->front()->write(ical20_format());
  EXPECT_NE(written->find("STATUS:X-WAITING\r\n"), std::string::npos) << *written;
}

// iCalendar is UTF-8; bytes that are not are read as windows-1252 (else
// ISO-8859-1, which takes any byte), so what is written — also as vCalendar
// 1.0, which declares CHARSET=UTF-8 — reads back (docs/FUZZING.md F12).
TEST(CalendarTest, ICalendarThatIsNotUtf8IsReadAsWindows1252) {
  const std::string ical =
      "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:u1\r\n"
      "DTSTAMP:20240101T000000Z\r\nDTSTART:20240101T100000Z\r\nSUMMARY:Caf\xe9 \x80 \x9d\r\n"
      "ATTENDEE:mailto:c@example.\x9d\x96m\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
  auto item = CalendarItem::parse(ical, ical20_format());
  ASSERT_TRUE(item) << item.error().to_string();
  // 0x9D is no windows-1252 character: the whole text is read as ISO-8859-1.
  auto written = (*item)->write(ical20_format());
  ASSERT_TRUE(written);
  EXPECT_NE(written->find("SUMMARY:Caf\u00e9 \u0080 \u009d"), std::string::npos) << *written;
  for (const Format& format : {ical20_format(), vcal10_format()}) {
    auto out = (*item)->write(format);
    ASSERT_TRUE(out) << out.error().to_string();
    auto again = CalendarItem::parse(*out, format);
    ASSERT_TRUE(again) << format.mime_type << ": " << again.error().to_string() << "\n" << *out;
    EXPECT_EQ(*(*again)->write(format), *out);
  }
  // UTF-8 folded inside a character (as libical writes it) is UTF-8.
  auto folded = CalendarItem::parse(
      "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:u3\r\n"
      "DTSTAMP:20240101T000000Z\r\nDTSTART:20240101T100000Z\r\nSUMMARY:a \xe2\x80\r\n \x93 b\r\nEND:VEVENT\r\n"
      "END:VCALENDAR\r\n",
      ical20_format());
  ASSERT_TRUE(folded);
  EXPECT_NE((*folded)->write(ical20_format())->find("SUMMARY:a \u2013 b"), std::string::npos);
  auto cp1252 = CalendarItem::parse(
      "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:u2\r\n"
      "DTSTAMP:20240101T000000Z\r\nDTSTART:20240101T100000Z\r\nSUMMARY:5 \x80\r\nEND:VEVENT\r\n"
      "END:VCALENDAR\r\n",
      ical20_format());
  ASSERT_TRUE(cp1252);
  EXPECT_NE((*cp1252)->write(ical20_format())->find("SUMMARY:5 \u20ac"), std::string::npos);
}

// A property name folded across lines is checked whole, as libical reads it:
// a bad one is refused, a good one is accepted (docs/FUZZING.md F13).
TEST(CalendarTest, APropertyNameFoldedAcrossLinesIsCheckedWhole) {
  const std::string head =
      "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:u1\r\n"
      "DTSTAMP:20240101T000000Z\r\nDTSTART:20240101T100000Z\r\n";
  const std::string tail = "END:VEVENT\r\nEND:VCALENDAR\r\n";
  auto bad = CalendarItem::parse(head + "X-MOZ\r\n \xc3\xb6ILLA-UNITS:1\r\n" + tail, ical20_format());
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("bad property name 'X-MOZ\u00f6ILLA-UNITS'"), std::string::npos)
      << bad.error().to_string();
  auto good = CalendarItem::parse(head + "X-MOZ\r\n ILLA-UNITS:1\r\nSUMM\r\n ARY:s\r\n" + tail, ical20_format());
  ASSERT_TRUE(good) << good.error().to_string();
  EXPECT_NE((*good)->write(ical20_format())->find("X-MOZILLA-UNITS:1\r\n"), std::string::npos);
}

}  // namespace
}  // namespace conflux::data
