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
  EXPECT_FALSE(
      event_from_icalendar("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VTODO\r\nUID:t\r\nSUMMARY:x\r\n"
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

const char* kTask =
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VTODO\r\nUID:t-1\r\nDTSTAMP:20260101T000000Z\r\n"
    "SUMMARY:File taxes\r\nDUE;TZID=Europe/Berlin:20260430T170000\r\nSTATUS:IN-PROCESS\r\nPERCENT-COMPLETE:40\r\n"
    "PRIORITY:1\r\nCATEGORIES:home\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:x\r\nTRIGGER:-PT1H\r\n"
    "END:VALARM\r\nEND:VTODO\r\nEND:VCALENDAR\r\n";

TEST(JsCalendarTest, VTodoBecomesATaskAndAnEventIsNoTask) {
  auto task = task_from_icalendar(kTask);
  ASSERT_TRUE(task);
  EXPECT_EQ((*task)["@type"], "Task");
  EXPECT_EQ((*task)["uid"], "t-1");
  EXPECT_EQ((*task)["title"], "File taxes");
  EXPECT_EQ((*task)["due"], "2026-04-30T17:00:00");
  EXPECT_EQ((*task)["timeZone"], "Europe/Berlin");
  EXPECT_EQ((*task)["progress"], "in-process");
  EXPECT_EQ((*task)["percentComplete"], 40);
  EXPECT_EQ((*task)["priority"], 1);
  EXPECT_FALSE(task->contains("start"));
  EXPECT_FALSE(task_from_icalendar(kEvent));
}

TEST(JsCalendarTest, TaskUpdateEditsTheStoredTodoInPlace) {
  json task = *task_from_icalendar(kTask);
  task["taskListId"] = "default";  // as Task/get gives it
  task["progress"] = "completed";
  task["percentComplete"] = 100;
  task.erase("priority");
  std::vector<InvalidProperty> invalid;
  auto text = icalendar_from_task(task, kTask, invalid);
  ASSERT_TRUE(text) << (invalid.empty() ? "" : invalid[0].path);
  EXPECT_NE(text->find("CATEGORIES:home"), std::string::npos) << *text;  // not modelled: kept
  EXPECT_NE(text->find("BEGIN:VALARM"), std::string::npos) << *text;
  EXPECT_NE(text->find("STATUS:COMPLETED"), std::string::npos) << *text;
  EXPECT_NE(text->find("\r\nCOMPLETED:"), std::string::npos) << *text;
  EXPECT_EQ(text->find("PRIORITY"), std::string::npos) << *text;
  auto again = task_from_icalendar(*text);
  ASSERT_TRUE(again);
  EXPECT_EQ((*again)["due"], "2026-04-30T17:00:00");
  EXPECT_EQ((*again)["timeZone"], "Europe/Berlin");
  EXPECT_EQ((*again)["percentComplete"], 100);
}

TEST(JsCalendarTest, NewTaskAndInvalidTaskProperties) {
  std::vector<InvalidProperty> invalid;
  auto text = icalendar_from_task(
      json::parse(R"({"@type":"Task","title":"Call","due":"2026-05-01T00:00:00","showWithoutTime":true})"), "",
      invalid);
  ASSERT_TRUE(text);
  EXPECT_NE(text->find("BEGIN:VTODO"), std::string::npos) << *text;
  EXPECT_NE(text->find("DUE;VALUE=DATE:20260501"), std::string::npos) << *text;
  EXPECT_NE(text->find("UID:"), std::string::npos) << *text;

  EXPECT_FALSE(icalendar_from_task(
      json::parse(R"({"@type":"Event","due":"soon","progress":"done","percentComplete":120,"colour":1})"), "",
      invalid));
  std::vector<std::string> paths;
  for (const auto& p : invalid) paths.push_back(p.path);
  std::sort(paths.begin(), paths.end());
  EXPECT_EQ(paths, (std::vector<std::string>{"@type", "colour", "due", "percentComplete", "progress"}));
}

}  // namespace
}  // namespace conflux::portal
