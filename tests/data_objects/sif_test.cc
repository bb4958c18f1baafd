// SIF (Funambol's formats): every SIF item of the recorded Funambol/Sync4j
// sessions reads and writes back to an equivalent item, and SIF meets vCard
// and iCalendar with its fields.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <pugixml.hpp>
#include <sstream>

#include "common/base64.h"
#include "data/calendar.h"
#include "data/contact.h"
#include "data/device_caps.h"
#include "data/note.h"
#include "data/sif.h"

namespace conflux::data {
namespace {

namespace fs = std::filesystem;

struct SifItem {
  std::string where;  // file and command, for messages
  std::string type;
  std::string bytes;
};

std::string child_text(const pugi::xml_node& node, const char* path) {
  return node.first_element_by_path(path).child_value();
}

// The SIF items of the recorded sessions (Add/Replace with a text/x-s4j-*
// type, base64 or plain).
std::vector<SifItem> corpus_items() {
  std::vector<SifItem> out;
  const fs::path root = fs::path(CONFLUX_TEST_DATA_DIR) / "syncml" / "horde-syncml";
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (e.path().extension() == ".xml") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    pugi::xml_document doc;
    if (!doc.load_file(file.c_str())) continue;
    for (const char* kind : {"Add", "Replace"}) {
      for (pugi::xpath_node cmd : doc.select_nodes((std::string("//") + kind).c_str())) {
        const std::string type = child_text(cmd.node(), "Meta/Type");
        if (!is_sif_type(type)) continue;
        for (pugi::xml_node item : cmd.node().children("Item")) {
          std::string data = item.child_value("Data");
          std::string format = child_text(item, "Meta/Format");
          if (format.empty()) format = child_text(cmd.node(), "Meta/Format");
          if (format == "b64") data = base64_decode(data).value_or("");
          out.push_back(
              {file.parent_path().filename().string() + "/" + file.filename().string() + " " + kind, type, data});
        }
      }
    }
  }
  return out;
}

// A SIF item's non-empty fields, as a SIF client reads them: booleans as
// 0/1, line ends as LF, Horde's WorkAddress* as the BusinessAddress* it
// stands for; fields that are no data left out (a disabled reminder's
// minutes, the pattern of a non-recurring item, the derived Duration).
std::map<std::string, std::string> sif_fields(const std::string& bytes) {
  pugi::xml_document doc;
  EXPECT_TRUE(doc.load_string(bytes.c_str())) << bytes;
  std::map<std::string, std::string> out;
  for (pugi::xml_node e : doc.document_element().children()) {
    if (e.first_child().type() == pugi::node_element) {
      std::string nested;
      for (pugi::xml_node d : e.children()) nested += std::string(d.name()) + "=" + d.child_value() + ";";
      if (!nested.empty()) out[e.name()] = nested;
      continue;
    }
    std::string value = e.child_value();
    if (value.empty()) continue;
    std::string name = e.name();
    if (name.rfind("WorkAddress", 0) == 0) name = "BusinessAddress" + name.substr(11);
    if (value == "False") value = "0";
    if (value == "True") value = "1";
    std::string lf;
    for (size_t i = 0; i < value.size(); ++i) {
      if (value[i] == '\r' && i + 1 < value.size() && value[i + 1] == '\n') continue;
      lf.push_back(value[i]);
    }
    out[name] = lf;
  }
  if (out.count("IsRecurring") && out["IsRecurring"] == "0") {
    for (const char* p : {"RecurrenceType", "Interval", "MonthOfYear", "DayOfMonth", "DayOfWeekMask", "Instance",
                          "PatternStartDate", "NoEndDate", "PatternEndDate", "Occurrences"}) {
      out.erase(p);
    }
  }
  if (!out.count("ReminderSet") || out["ReminderSet"] == "0") out.erase("ReminderMinutesBeforeStart");
  out.erase("Duration");
  return out;
}

// What the writer fills in for a field the item did not name: the SIF
// default, no data of its own.
bool is_default(const std::string& name, const std::string& value) {
  static const std::map<std::string, std::string> defaults = {
      {"Importance", "1"},  {"Sensitivity", "0"}, {"BusyStatus", "2"}, {"AllDayEvent", "0"},
      {"IsRecurring", "0"}, {"ReminderSet", "0"}, {"Complete", "0"},   {"Status", "0"}};
  auto it = defaults.find(name);
  return it != defaults.end() && it->second == value;
}

TEST(SifCorpusTest, EverySifItemWritesBackToAnEquivalentItem) {
  const auto items = corpus_items();
  ASSERT_GE(items.size(), 20u) << "the recorded sessions hold SIF items in every direction";
  std::map<std::string, int> per_type;
  for (const auto& item : items) {
    SCOPED_TRACE(item.where + " " + item.type + "\n" + item.bytes);
    auto object = parse(item.bytes, Format{item.type, ""});
    ASSERT_TRUE(object.has_value()) << object.error().to_string();
    EXPECT_EQ((*object)->source_format().mime_type, item.type);
    auto written = (*object)->write(Format{item.type, "1.0"});
    ASSERT_TRUE(written.has_value()) << written.error().to_string();
    SCOPED_TRACE("written:\n" + *written);
    const auto before = sif_fields(item.bytes);
    const auto after = sif_fields(*written);
    for (const auto& [name, value] : before) {
      auto it = after.find(name);
      ASSERT_NE(it, after.end()) << "lost field " << name;
      EXPECT_EQ(it->second, value) << "field " << name;
    }
    for (const auto& [name, value] : after) {
      if (!before.count(name)) {
        EXPECT_TRUE(is_default(name, value)) << "invented field " << name << "=" << value;
      }
    }
    ++per_type[item.type];
  }
  EXPECT_GT(per_type["text/x-s4j-sifc"], 0);
  EXPECT_GT(per_type["text/x-s4j-sife"], 0);
  EXPECT_GT(per_type["text/x-s4j-sifn"], 0);
}

TEST(SifTest, ContactReachesVcard30WithItsFieldsAndComesBack) {
  const std::string sif =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?><contact><FirstName>Anna</FirstName><LastName>M\xC3\xBCller</LastName>"
      "<FileAs>M\xC3\xBCller, Anna</FileAs><CompanyName>ACME</CompanyName><Department>R&amp;D</Department>"
      "<JobTitle>Engineer</JobTitle><Email1Address>anna@example.com</Email1Address>"
      "<Email3Address>a.mueller@acme.example</Email3Address><BusinessTelephoneNumber>+49 30 "
      "1234</BusinessTelephoneNumber>"
      "<MobileTelephoneNumber>+49 170 555</MobileTelephoneNumber><HomeFaxNumber>+49 30 999</HomeFaxNumber>"
      "<HomeAddressStreet>Hauptstr. 1</HomeAddressStreet><HomeAddressCity>Berlin</HomeAddressCity>"
      "<HomeAddressPostalCode>10115</HomeAddressPostalCode><Birthday>1980-02-29</Birthday>"
      "<Body>line one\r\nline two</Body><Categories>Business, VIP</Categories><Spouse>Bob</Spouse>"
      "<BillingInformation>cost centre 7</BillingInformation></contact>";
  auto contact = parse(sif, sif_contact_format());
  ASSERT_TRUE(contact.has_value()) << contact.error().to_string();
  auto vcard = (*contact)->write(Format::vcard30());
  ASSERT_TRUE(vcard.has_value());
  for (const char* line :
       {"FN:Müller\\, Anna", "N:Müller;Anna;;;", "ORG:ACME;R&D", "TITLE:Engineer",
        "EMAIL;TYPE=INTERNET:anna@example.com", "EMAIL;TYPE=INTERNET,WORK:a.mueller@acme.example",
        "TEL;TYPE=VOICE,WORK:+49 30 1234", "TEL;TYPE=CELL:+49 170 555", "TEL;TYPE=FAX,HOME:+49 30 999",
        "ADR;TYPE=HOME:;;Hauptstr. 1;Berlin;;10115;", "BDAY:1980-02-29", "NOTE:line one\\nline two",
        "CATEGORIES:Business,VIP", "X-EVOLUTION-SPOUSE:Bob", "X-SIF-BILLINGINFORMATION:cost centre 7"}) {
    EXPECT_NE(vcard->find(line), std::string::npos) << line << "\n" << *vcard;
  }
  // Through the vCard store and back to the SIF device: the same fields.
  auto stored = parse(*vcard, Format::vcard30());
  ASSERT_TRUE(stored.has_value());
  auto back = (*stored)->write(sif_contact_format());
  ASSERT_TRUE(back.has_value());
  auto before = sif_fields(sif);
  auto after = sif_fields(*back);
  before["Categories"] = "Business,VIP";  // the writer's spelling of the same list
  for (const auto& [name, value] : before) EXPECT_EQ(after[name], value) << name << "\n" << *back;
}

TEST(SifTest, RecurringEventWithReminderBecomesRruleAndAlarm) {
  const std::string sif =
      "<appointment><Subject>Standup</Subject><Location>Room 1</Location><Start>20240105T090000Z</Start>"
      "<End>20240105T091500Z</End><AllDayEvent>0</AllDayEvent><ReminderSet>1</ReminderSet>"
      "<ReminderMinutesBeforeStart>10</ReminderMinutesBeforeStart><IsRecurring>1</IsRecurring>"
      "<RecurrenceType>1</RecurrenceType><Interval>2</Interval><DayOfWeekMask>42</DayOfWeekMask>"
      "<NoEndDate>0</NoEndDate><Occurrences>6</Occurrences><BusyStatus>0</BusyStatus>"
      "<Exceptions><ExcludeDate>20240110T090000Z</ExcludeDate></Exceptions></appointment>";
  auto event = parse(sif, sif_event_format());
  ASSERT_TRUE(event.has_value()) << event.error().to_string();
  EXPECT_EQ((*event)->kind(), DataKind::kEvent);
  auto ical = (*event)->write(ical20_format());
  ASSERT_TRUE(ical.has_value());
  for (const char* line : {"SUMMARY:Standup", "LOCATION:Room 1", "DTSTART:20240105T090000Z", "DTEND:20240105T091500Z",
                           "RRULE:FREQ=WEEKLY;COUNT=6;INTERVAL=2;BYDAY=MO,WE,FR", "EXDATE:20240110T090000Z",
                           "TRANSP:TRANSPARENT", "BEGIN:VALARM", "TRIGGER:-PT10M"}) {
    EXPECT_NE(ical->find(line), std::string::npos) << line << "\n" << *ical;
  }
  auto stored = parse(*ical, ical20_format());
  ASSERT_TRUE(stored.has_value());
  auto back = (*stored)->write(sif_event_format());
  ASSERT_TRUE(back.has_value());
  auto f = sif_fields(*back);
  EXPECT_EQ(f["IsRecurring"], "1");
  EXPECT_EQ(f["RecurrenceType"], "1");
  EXPECT_EQ(f["Interval"], "2");
  EXPECT_EQ(f["DayOfWeekMask"], "42");
  EXPECT_EQ(f["Occurrences"], "6");
  EXPECT_EQ(f["ReminderMinutesBeforeStart"], "10");
  EXPECT_EQ(f["BusyStatus"], "0");
  EXPECT_EQ(f["Exceptions"], "ExcludeDate=20240110T090000Z;");
}

TEST(SifTest, AllDayEventNamesItsLastDayInSifAndTheDayAfterInIcalendar) {
  auto event = parse(
      "<appointment><Subject>Holiday</Subject><AllDayEvent>1</AllDayEvent><Start>2024-12-24</Start>"
      "<End>2024-12-26</End></appointment>",
      sif_event_format());
  ASSERT_TRUE(event.has_value()) << event.error().to_string();
  auto ical = (*event)->write(ical20_format());
  ASSERT_TRUE(ical.has_value());
  EXPECT_NE(ical->find("DTSTART;VALUE=DATE:20241224"), std::string::npos) << *ical;
  EXPECT_NE(ical->find("DTEND;VALUE=DATE:20241227"), std::string::npos) << *ical;
  auto back = (*event)->write(sif_event_format());
  ASSERT_TRUE(back.has_value());
  auto f = sif_fields(*back);
  EXPECT_EQ(f["Start"], "2024-12-24");
  EXPECT_EQ(f["End"], "2024-12-26");
  EXPECT_EQ(f["AllDayEvent"], "1");
}

TEST(SifTest, TaskAndNote) {
  auto task = parse(
      "<task><Subject>Report</Subject><DueDate>2024-03-01</DueDate><Complete>1</Complete>"
      "<DateCompleted>20240229T120000Z</DateCompleted><Importance>2</Importance></task>",
      sif_task_format());
  ASSERT_TRUE(task.has_value()) << task.error().to_string();
  EXPECT_EQ((*task)->kind(), DataKind::kTask);
  auto ical = (*task)->write(ical20_format());
  ASSERT_TRUE(ical.has_value());
  for (const char* line : {"BEGIN:VTODO", "SUMMARY:Report", "DUE;VALUE=DATE:20240301", "STATUS:COMPLETED",
                           "COMPLETED:20240229T120000Z", "PRIORITY:1"}) {
    EXPECT_NE(ical->find(line), std::string::npos) << line << "\n" << *ical;
  }
  EXPECT_FALSE((*task)->write(sif_event_format()).has_value()) << "a task is no appointment";

  auto note =
      parse("<note><Subject>Shopping</Subject><Body>milk\r\neggs</Body><Color>3</Color></note>", sif_note_format());
  ASSERT_TRUE(note.has_value()) << note.error().to_string();
  EXPECT_EQ(*(*note)->write(text_plain_format()), "milk\neggs");
  auto vnote = (*note)->write(vnote11_format());
  ASSERT_TRUE(vnote.has_value());
  auto back = parse(*vnote, vnote11_format());
  ASSERT_TRUE(back.has_value());
  auto f = sif_fields(*(*back)->write(sif_note_format()));
  EXPECT_EQ(f["Subject"], "Shopping");
  EXPECT_EQ(f["Body"], "milk\neggs");
  EXPECT_EQ(f["Color"], "3");
}

TEST(SifTest, UpdateKeepsWhatSifCannotHoldAndDeletesWhatItClears) {
  auto server = parse(
      "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Anna\r\nN:;Anna;;;\r\nTITLE:Boss\r\nGEO:52.5;13.4\r\n"
      "X-JABBER:anna@jabber.example\r\nEND:VCARD\r\n",
      Format::vcard30());
  ASSERT_TRUE(server.has_value());
  auto update = parse(
      "<contact><FirstName>Anna</FirstName><FileAs>Anna</FileAs><JobTitle></JobTitle>"
      "<MobileTelephoneNumber>123</MobileTelephoneNumber></contact>",
      sif_contact_format());
  ASSERT_TRUE(update.has_value());
  const FormatCaps caps = sif_caps(sif_contact_format().mime_type);
  auto merged = keep_fields_device_cannot_hold(**update, **server, &caps);
  ASSERT_TRUE(merged.has_value()) << merged.error().to_string();
  auto text = (*merged)->write(Format::vcard30());
  ASSERT_TRUE(text.has_value());
  EXPECT_NE(text->find("GEO:52.5;13.4"), std::string::npos) << *text;
  EXPECT_NE(text->find("X-JABBER:anna@jabber.example"), std::string::npos) << *text;
  EXPECT_NE(text->find("TEL;TYPE=CELL:123"), std::string::npos) << *text;
  EXPECT_EQ(text->find("TITLE"), std::string::npos) << "the SIF device cleared JobTitle\n" << *text;
}

TEST(SifTest, BrokenSifIsRefusedWithAReason) {
  auto broken = parse("<contact><FirstName>Anna</contact>", sif_contact_format());
  ASSERT_FALSE(broken.has_value());
  EXPECT_EQ(broken.error().code(), StatusCode::kInvalidArgument);
  auto wrong_root = parse("<note><Body>x</Body></note>", sif_contact_format());
  ASSERT_FALSE(wrong_root.has_value());
  EXPECT_NE(wrong_root.error().message().find("<note>"), std::string::npos) << wrong_root.error().message();
}

}  // namespace
}  // namespace conflux::data
