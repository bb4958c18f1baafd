#include "portal/jscalendar.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace conflux::portal {
namespace {

using nlohmann::json;

const char* kEvent =
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:e-1\r\nDTSTAMP:20260101T000000Z\r\n"
    "DTSTART;TZID=Europe/Berlin:20260410T090000\r\nDTEND;TZID=Europe/Berlin:20260410T103000\r\n"
    "SUMMARY:Planning\r\nLOCATION:Room 4\r\nRRULE:FREQ=WEEKLY;COUNT=3\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

TEST(JsCalendarTest, VEventBecomesAnEvent) {
  auto event = event_from_icalendar(kEvent);
  ASSERT_TRUE(event);
  EXPECT_EQ((*event)["@type"], "Event");
  EXPECT_EQ((*event)["uid"], "e-1");
  EXPECT_EQ((*event)["title"], "Planning");
  EXPECT_EQ((*event)["start"], "2026-04-10T09:00:00");
  EXPECT_EQ((*event)["timeZone"], "Europe/Berlin");
  EXPECT_EQ((*event)["duration"], "PT1H30M");
  EXPECT_EQ((*event)["locations"]["l1"]["name"], "Room 4");
}

TEST(JsCalendarTest, ATaskIsNotAnEvent) {
  EXPECT_FALSE(event_from_icalendar("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VTODO\r\nUID:t\r\nSUMMARY:x\r\n"
                                    "END:VTODO\r\nEND:VCALENDAR\r\n"));
}

TEST(JsCalendarTest, UpdateEditsTheStoredEventInPlace) {
  json event = *event_from_icalendar(kEvent);
  event["title"] = "Moved";
  event["start"] = "2026-04-11T14:00:00";
  event["timeZone"] = "Etc/UTC";
  event["duration"] = "PT2H";
  std::vector<InvalidProperty> invalid;
  auto text = icalendar_from_event(event, kEvent, invalid);
  ASSERT_TRUE(text);
  EXPECT_NE(text->find("RRULE:FREQ=WEEKLY;COUNT=3"), std::string::npos) << *text;  // not modelled: kept
  auto again = event_from_icalendar(*text);
  ASSERT_TRUE(again);
  EXPECT_EQ((*again)["title"], "Moved");
  EXPECT_EQ((*again)["start"], "2026-04-11T14:00:00");
  EXPECT_EQ((*again)["timeZone"], "Etc/UTC");
  EXPECT_EQ((*again)["duration"], "PT2H");
}

TEST(JsCalendarTest, AllDayAndInvalidProperties) {
  std::vector<InvalidProperty> invalid;
  auto text = icalendar_from_event(
      json::parse(R"({"@type":"Event","title":"Holiday","start":"2026-05-01T00:00:00","showWithoutTime":true})"), "",
      invalid);
  ASSERT_TRUE(text);
  EXPECT_NE(text->find("DTSTART;VALUE=DATE:20260501"), std::string::npos) << *text;
  EXPECT_EQ((*event_from_icalendar(*text))["showWithoutTime"], true);

  EXPECT_FALSE(icalendar_from_event(json::parse(R"({"start":"tomorrow","duration":"soon","where":"x"})"), "", invalid));
  std::vector<std::string> paths;
  for (const auto& p : invalid) paths.push_back(p.path);
  std::sort(paths.begin(), paths.end());
  EXPECT_EQ(paths, (std::vector<std::string>{"duration", "start", "where"}));
}

}  // namespace
}  // namespace conflux::portal
