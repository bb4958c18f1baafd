#include "adapters/postgresql/event_row.h"

#include <gtest/gtest.h>
#include <libical/ical.h>

#include "data/calendar.h"

namespace conflux::adapters {
namespace {

const std::vector<std::string> kAll = {"summary", "location", "description", "start",
                                       "end",     "all_day",  "timezone",    "rrule"};

std::string calendar(const std::string& body) {
  return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n" + body + "END:VCALENDAR\r\n";
}

const std::string kBerlin =
    "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n"
    "BEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\n"
    "DTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3\r\nEND:DAYLIGHT\r\n"
    "BEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\n"
    "DTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\r\nEND:STANDARD\r\n"
    "END:VTIMEZONE\r\n";

const std::string kMeeting = calendar(kBerlin +
                                      "BEGIN:VEVENT\r\nUID:meet-1\r\nDTSTAMP:20260101T000000Z\r\n"
                                      "SUMMARY:Planning\r\nLOCATION:Room 4\r\nDESCRIPTION:Agenda: budget\r\n"
                                      "DTSTART;TZID=Europe/Berlin:20260715T100000\r\n"
                                      "DTEND;TZID=Europe/Berlin:20260715T113000\r\n"
                                      "RRULE:FREQ=WEEKLY;COUNT=4;BYDAY=WE\r\nCATEGORIES:Work\r\n"
                                      "END:VEVENT\r\n");

// The facts of the main event, as a device compares them.
std::string facts(const std::string& text) {
  auto item = data::CalendarItem::parse(text, data::ical20_format());
  EXPECT_TRUE(item.has_value()) << text;
  if (!item) return "";
  icalcomponent* main = const_cast<icalcomponent*>((*item)->main_component());
  std::string out;
  for (icalproperty_kind kind :
       {ICAL_SUMMARY_PROPERTY, ICAL_LOCATION_PROPERTY, ICAL_DESCRIPTION_PROPERTY, ICAL_DTSTART_PROPERTY,
        ICAL_DTEND_PROPERTY, ICAL_RRULE_PROPERTY, ICAL_UID_PROPERTY, ICAL_CATEGORIES_PROPERTY}) {
    for (icalproperty* p = icalcomponent_get_first_property(main, kind); p != nullptr;
         p = icalcomponent_get_next_property(main, kind)) {
      char* line = icalproperty_as_ical_string_r(p);
      out += line;
      icalmemory_free_buffer(line);
    }
  }
  return out;
}

TEST(EventRow, WallClockColumnsHoldTheLocalTimeAndTheZone) {
  EventMapping mapping(kAll, {}, data::ical20_format());
  auto row = mapping.to_row(kMeeting);
  ASSERT_TRUE(row.has_value()) << row.error().to_string();
  EXPECT_EQ(row->fields.at("summary"), "Planning");
  EXPECT_EQ(row->fields.at("description"), "Agenda: budget");
  EXPECT_EQ(row->fields.at("start"), "2026-07-15 10:00:00");
  EXPECT_EQ(row->fields.at("end"), "2026-07-15 11:30:00");
  EXPECT_EQ(row->fields.at("timezone"), "Europe/Berlin");
  EXPECT_EQ(row->fields.at("all_day"), "false");
  EXPECT_EQ(row->fields.at("rrule"), "FREQ=WEEKLY;COUNT=4;BYDAY=WE");
  EXPECT_NE(row->extra.find("UID:meet-1"), std::string::npos);
  EXPECT_EQ(row->extra.find("SUMMARY"), std::string::npos);
  auto back = mapping.to_item(*row);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(facts(*back), facts(kMeeting));
}

TEST(EventRow, TimestamptzColumnsHoldTheInstant) {
  EventMapping mapping(kAll, {"start", "end"}, data::ical20_format());
  auto row = mapping.to_row(kMeeting);
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->fields.at("start"), "2026-07-15 08:00:00");  // CEST is UTC+2
  EXPECT_EQ(row->fields.at("end"), "2026-07-15 09:30:00");
  auto back = mapping.to_item(*row);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(facts(*back), facts(kMeeting));
}

TEST(EventRow, ARowAnotherProgramWroteBecomesAnEvent) {
  EventMapping mapping(kAll, {}, data::ical20_format());
  MappedRow row;
  row.fields = {{"summary", "Dentist"},         {"start", "2026-03-02 15:00:00"},
                {"end", "2026-03-02 15:45:00"}, {"timezone", "America/New_York"},
                {"all_day", "false"},           {"location", "Main St; 5"}};
  row.name = "crm.appointments:7";
  auto text = mapping.to_item(row);
  ASSERT_TRUE(text.has_value()) << text.error().to_string();
  EXPECT_NE(text->find("UID:crm.appointments:7@conflux"), std::string::npos) << *text;
  EXPECT_NE(text->find("DTSTART;TZID=America/New_York:20260302T150000"), std::string::npos) << *text;
  EXPECT_NE(text->find("BEGIN:VTIMEZONE"), std::string::npos);
  EXPECT_NE(text->find("LOCATION:Main St\\; 5"), std::string::npos) << *text;
  auto again = mapping.to_row(*text);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->fields, row.fields);
}

TEST(EventRow, AllDayEventsAndUtcTimes) {
  EventMapping mapping(kAll, {"start", "end"}, data::ical20_format());
  const std::string holiday = calendar(
      "BEGIN:VEVENT\r\nUID:h\r\nSUMMARY:Holiday\r\nDTSTART;VALUE=DATE:20261224\r\n"
      "DTEND;VALUE=DATE:20261227\r\nEND:VEVENT\r\n");
  auto row = mapping.to_row(holiday);
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->fields.at("all_day"), "true");
  EXPECT_EQ(row->fields.at("start"), "2026-12-24 00:00:00");
  EXPECT_EQ(row->fields.at("end"), "2026-12-27 00:00:00");
  EXPECT_EQ(row->fields.count("timezone"), 0u);
  EXPECT_EQ(facts(*mapping.to_item(*row)), facts(holiday));

  const std::string call =
      calendar("BEGIN:VEVENT\r\nUID:c\r\nSUMMARY:Call\r\nDTSTART:20260110T090000Z\r\nEND:VEVENT\r\n");
  row = mapping.to_row(call);
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->fields.at("start"), "2026-01-10 09:00:00");
  EXPECT_EQ(facts(*mapping.to_item(*row)), facts(call));
}

TEST(EventRow, WhatNoColumnTakesStaysInExtra) {
  // No all_day column: the dates of an all-day event stay as sent.
  EventMapping mapping({"summary", "start", "end"}, {}, data::ical20_format());
  const std::string holiday = calendar(
      "BEGIN:VEVENT\r\nUID:h\r\nSUMMARY;LANGUAGE=de:Feiertag\r\nDTSTART;VALUE=DATE:20261224\r\nEND:VEVENT\r\n");
  auto row = mapping.to_row(holiday);
  ASSERT_TRUE(row.has_value());
  EXPECT_TRUE(row->fields.empty());
  EXPECT_EQ(facts(*mapping.to_item(*row)), facts(holiday));
}

TEST(EventRow, TasksAndBrokenBytesAreRefused) {
  EventMapping mapping(kAll, {}, data::ical20_format());
  EXPECT_FALSE(mapping.to_row(calendar("BEGIN:VTODO\r\nUID:t\r\nSUMMARY:Task\r\nEND:VTODO\r\n")).has_value());
  EXPECT_FALSE(mapping.to_row("not a calendar").has_value());
}

TEST(EventRow, VCalendarDevicesGetVCalendar) {
  EventMapping mapping(kAll, {"start", "end"}, data::vcal10_format());
  MappedRow row;
  row.fields = {{"summary", "Lunch"}, {"start", "2026-05-05 11:00:00"}, {"end", "2026-05-05 12:00:00"}};
  auto text = mapping.to_item(row);
  ASSERT_TRUE(text.has_value()) << text.error().to_string();
  EXPECT_NE(text->find("VERSION:1.0"), std::string::npos) << *text;
  auto again = mapping.to_row(*text);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->fields.at("start"), "2026-05-05 11:00:00");
  EXPECT_EQ(again->fields.at("summary"), "Lunch");
}

}  // namespace
}  // namespace conflux::adapters
