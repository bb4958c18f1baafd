// Format negotiation: which format a device gets, and what a device's item
// becomes on its way into storage.
#include <gtest/gtest.h>

#include "engine/format_negotiation.h"

namespace conflux::engine {
namespace {

using protocol::StatusCode;

caf::StoreSettings contacts_store() {
  caf::StoreSettings s;
  s.name = "contacts";
  s.adapter = "sqlite";
  s.content_type = "text/vcard";
  s.content_version = "3.0";
  return s;
}

caf::StoreSettings calendar_store() {
  caf::StoreSettings s = contacts_store();
  s.name = "calendar";
  s.content_type = "text/calendar";
  s.content_version = "2.0";
  return s;
}

// A phone that prefers vCard 2.1 and holds N, FN, TEL and one ADR, no NOTE.
protocol::DevInf phone_devinf() {
  protocol::DevInf d;
  d.ver_dtd = "1.2";
  protocol::DevInfDataStore ds;
  ds.source_ref = "./Contacts";
  ds.rx_pref = {"text/x-vcard", "2.1"};
  ds.rx = {{"text/vcard", "3.0"}};
  ds.tx_pref = ds.rx_pref;
  protocol::CTCap cap;
  cap.type = {"text/x-vcard", "2.1"};
  for (const char* name : {"BEGIN", "END", "VERSION", "N", "FN", "TEL"}) cap.properties.push_back({name, {}, {}});
  cap.properties.push_back({"ADR", 1, {"TYPE"}});
  ds.ctcaps = {cap};
  protocol::DevInfDataStore cal;
  cal.source_ref = "./Calendar";
  cal.rx_pref = {"text/x-vcalendar", "1.0"};
  d.datastores = {ds, cal};
  return d;
}

constexpr const char* kStored =
    "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Jürgen Weiß\r\nN:Weiß;Jürgen;;;\r\nTEL;TYPE=CELL:+49 1\r\n"
    "ADR;TYPE=HOME:;;Hauptstr. 1;Berlin;;;DE\r\nADR;TYPE=WORK:;;Werkweg 2;Berlin;;;DE\r\n"
    "NOTE:Met at the fair\r\nEND:VCARD\r\n";

caf::SyncObj stored_item() {
  caf::SyncObj obj;
  obj.guid = Guid("g1");
  obj.content_type = "text/vcard";
  obj.raw = kStored;
  return obj;
}

auto no_server_version = [] { return std::optional<caf::SyncObj>(); };

TEST(FormatNegotiationTest, DeviceGetsItsRxPrefMatchedBySourceRef) {
  const protocol::DevInf devinf = phone_devinf();
  DeviceFormats contacts(contacts_store(), &devinf, "./contacts");  // SourceRef case and "./" do not matter
  ASSERT_TRUE(contacts.described());
  ASSERT_TRUE(contacts.preferred().has_value());
  EXPECT_EQ(*contacts.preferred(), data::Format::vcard21());
  DeviceFormats calendar(calendar_store(), &devinf, "Calendar");
  ASSERT_TRUE(calendar.preferred().has_value());
  EXPECT_EQ(calendar.preferred()->mime_type, "text/x-vcalendar");
}

TEST(FormatNegotiationTest, RxPrefOfAnotherKindFallsBackToAMatchingRx) {
  protocol::DevInf devinf = phone_devinf();
  devinf.datastores[0].rx_pref = {"text/calendar", "2.0"};  // nonsense for contacts
  DeviceFormats contacts(contacts_store(), &devinf, "./Contacts");
  ASSERT_TRUE(contacts.preferred().has_value());
  EXPECT_EQ(*contacts.preferred(), data::Format::vcard30());
}

TEST(FormatNegotiationTest, NoDevInfOrUnknownDatastoreSendsAsStored) {
  const protocol::DevInf devinf = phone_devinf();
  for (const DeviceFormats& formats : {DeviceFormats(contacts_store(), nullptr, "./Contacts"),
                                       DeviceFormats(contacts_store(), &devinf, "addressbook")}) {
    EXPECT_FALSE(formats.described());
    EXPECT_FALSE(formats.preferred().has_value());
    Delivered out = formats.to_device(stored_item());
    EXPECT_EQ(out.raw, kStored);
    EXPECT_EQ(out.content_type, "text/vcard");
  }
}

TEST(FormatNegotiationTest, A21DeviceGetsQuotedPrintableWithCharset) {
  const protocol::DevInf devinf = phone_devinf();
  DeviceFormats formats(contacts_store(), &devinf, "./Contacts");
  Delivered out = formats.to_device(stored_item());
  EXPECT_TRUE(out.problem.empty()) << out.problem;
  EXPECT_EQ(out.content_type, "text/x-vcard");
  EXPECT_NE(out.raw.find("VERSION:2.1\r\n"), std::string::npos) << out.raw;
  EXPECT_NE(out.raw.find("FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:J=C3=BCrgen Wei=C3=9F"), std::string::npos)
      << out.raw;
}

TEST(FormatNegotiationTest, ItemsInTheStorageFormatPassUntouched) {
  const protocol::DevInf devinf = phone_devinf();
  DeviceFormats formats(contacts_store(), &devinf, "./Contacts");
  // Odd but valid spelling the writer would change: stored byte for byte.
  const std::string sent = "BEGIN:VCARD\r\nVERSION:3.0\r\nfn:Zoe\r\nN:;Zoe;;;\r\nEND:VCARD\r\n";
  Ingested in = formats.to_storage(std::string(sent), "text/vcard", "L1", no_server_version);
  ASSERT_FALSE(in.refused) << in.reason;
  EXPECT_EQ(in.raw, sent);
  EXPECT_EQ(in.content_type, "text/vcard");
}

TEST(FormatNegotiationTest, StoredTypeFollowsTheDataNotTheLabel) {
  const protocol::DevInf devinf = phone_devinf();
  // Devices label 3.0 cards text/x-vcard; the card is stored as it is, typed text/vcard.
  const std::string sent = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Zoe\r\nN:;Zoe;;;\r\nEND:VCARD\r\n";
  for (const DeviceFormats& formats :
       {DeviceFormats(contacts_store(), &devinf, "./Contacts"), DeviceFormats(contacts_store(), nullptr, "x")}) {
    for (const char* label : {"text/x-vcard", "Text/X-vCard; charset=UTF-8"}) {
      Ingested in = formats.to_storage(std::string(sent), label, "L1", no_server_version);
      ASSERT_FALSE(in.refused) << label << ": " << in.reason;
      EXPECT_EQ(in.raw, sent);
      EXPECT_EQ(in.content_type, "text/vcard");
    }
  }
}

TEST(FormatNegotiationTest, A21ItemIsStoredAs30) {
  const protocol::DevInf devinf = phone_devinf();
  DeviceFormats formats(contacts_store(), &devinf, "./Contacts");
  Ingested in = formats.to_storage(
      "BEGIN:VCARD\r\nVERSION:2.1\r\nN:Weiss;Anna\r\n"
      "NOTE;ENCODING=QUOTED-PRINTABLE;CHARSET=ISO-8859-1:Gr=FC=DFe\r\nEND:VCARD\r\n",
      "text/x-vcard", "L1", no_server_version);
  ASSERT_FALSE(in.refused) << in.reason;
  EXPECT_EQ(in.content_type, "text/vcard");
  EXPECT_NE(in.raw.find("VERSION:3.0\r\n"), std::string::npos) << in.raw;
  EXPECT_NE(in.raw.find("NOTE:Grüße\r\n"), std::string::npos) << in.raw;
}

TEST(FormatNegotiationTest, UpdateKeepsWhatTheDeviceCannotHoldAndDropsWhatItDeleted) {
  const protocol::DevInf devinf = phone_devinf();
  DeviceFormats formats(contacts_store(), &devinf, "./Contacts");
  // The phone got one ADR and no NOTE; the user changed the number.
  const std::string update =
      "BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=UTF-8:Weiß;Jürgen\r\nFN;CHARSET=UTF-8:Jürgen Weiß\r\n"
      "TEL;CELL:+49 2\r\nADR;HOME:;;Hauptstr. 1;Berlin;;;DE\r\nEND:VCARD\r\n";
  int asked = 0;
  Ingested in = formats.to_storage(std::string(update), "text/x-vcard", "L1", [&] {
    ++asked;
    return std::optional<caf::SyncObj>(stored_item());
  });
  ASSERT_FALSE(in.refused) << in.reason;
  EXPECT_EQ(asked, 1);
  EXPECT_NE(in.raw.find("TEL;TYPE=CELL:+49 2"), std::string::npos) << in.raw;
  EXPECT_EQ(in.raw.find("+49 1"), std::string::npos) << in.raw;
  EXPECT_NE(in.raw.find("NOTE:Met at the fair"), std::string::npos) << in.raw;
  EXPECT_NE(in.raw.find("Werkweg 2"), std::string::npos) << in.raw;  // beyond MaxOccur 1

  // Now the CTCap lists NOTE: an update without it deleted it.
  protocol::DevInf lists_note = devinf;
  lists_note.datastores[0].ctcaps[0].properties.push_back({"NOTE", {}, {}});
  DeviceFormats strict(contacts_store(), &lists_note, "./Contacts");
  in = strict.to_storage(std::string(update), "text/x-vcard", "L1",
                         [] { return std::optional<caf::SyncObj>(stored_item()); });
  ASSERT_FALSE(in.refused) << in.reason;
  EXPECT_EQ(in.raw.find("NOTE"), std::string::npos) << in.raw;
}

TEST(FormatNegotiationTest, WrongKindIs415AndBrokenContentIs400) {
  const protocol::DevInf devinf = phone_devinf();
  for (const DeviceFormats& formats :
       {DeviceFormats(contacts_store(), &devinf, "./Contacts"), DeviceFormats(contacts_store(), nullptr, "x")}) {
    Ingested in = formats.to_storage("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "text/calendar", "L1", no_server_version);
    ASSERT_TRUE(in.refused);
    EXPECT_EQ(*in.refused, StatusCode::kUnsupportedMediaType);
    in = formats.to_storage("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:A\r\n", "text/vcard", "L1", no_server_version);
    ASSERT_TRUE(in.refused);
    EXPECT_EQ(*in.refused, StatusCode::kBadRequest);
    EXPECT_NE(in.reason.find("END:VCARD"), std::string::npos) << in.reason;
  }
}

TEST(FormatNegotiationTest, WithoutDevInfAGoodItemIsStoredAsSent) {
  DeviceFormats formats(contacts_store(), nullptr, "./Contacts");
  const std::string sent = "BEGIN:VCARD\r\nVERSION:2.1\r\nN:A;B\r\nEND:VCARD\r\n";
  Ingested in = formats.to_storage(std::string(sent), "text/x-vcard", "L1", [] {
    ADD_FAILURE() << "no merge without DevInf";
    return std::optional<caf::SyncObj>();
  });
  ASSERT_FALSE(in.refused) << in.reason;
  EXPECT_EQ(in.raw, sent);
  EXPECT_EQ(in.content_type, "text/x-vcard");
}

TEST(FormatNegotiationTest, StoresWithoutADataObjectPassBytes) {
  caf::StoreSettings files = contacts_store();
  files.content_type = "application/octet-stream";
  DeviceFormats formats(files, nullptr, "./files");
  Ingested in = formats.to_storage(std::string("\x00\x01", 2), "application/octet-stream", "L1", no_server_version);
  ASSERT_FALSE(in.refused);
  EXPECT_EQ(in.raw.size(), 2u);
}

TEST(FormatNegotiationTest, DatesStayDateOnlyOnTheWayToOlderFormats) {
  const protocol::DevInf devinf = phone_devinf();
  DeviceFormats contacts(contacts_store(), &devinf, "./Contacts");
  caf::SyncObj card = stored_item();
  card.raw = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ada\r\nN:;Ada;;;\r\nBDAY:1815-12-10\r\nEND:VCARD\r\n";
  Delivered out = contacts.to_device(card);
  EXPECT_NE(out.raw.find("BDAY:1815-12-10\r\n"), std::string::npos) << out.raw;

  DeviceFormats calendar(calendar_store(), &devinf, "./Calendar");
  caf::SyncObj event;
  event.guid = Guid("e1");
  event.content_type = "text/calendar";
  event.raw =
      "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:d1\r\nSUMMARY:Day\r\n"
      "DTSTART;VALUE=DATE:20240301\r\nDTEND;VALUE=DATE:20240302\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
  out = calendar.to_device(event);
  EXPECT_TRUE(out.problem.empty()) << out.problem;
  EXPECT_EQ(out.content_type, "text/x-vcalendar");
  EXPECT_NE(out.raw.find("VERSION:1.0"), std::string::npos) << out.raw;
  // vCalendar 1.0 has no DATE values: all-day is floating midnight to 23:59:59
  // (data/vcalendar.h), never UTC, so no zone can shift it to another day.
  EXPECT_NE(out.raw.find("DTSTART:20240301T000000\r\n"), std::string::npos) << out.raw;
  EXPECT_NE(out.raw.find("DTEND:20240301T235959\r\n"), std::string::npos) << out.raw;

  // And back: the phone's vCalendar 1.0 all-day event is stored date-only.
  Ingested in = calendar.to_storage(std::string(out.raw), "text/x-vcalendar", "L1", no_server_version);
  ASSERT_FALSE(in.refused) << in.reason;
  EXPECT_EQ(in.content_type, "text/calendar");
  EXPECT_NE(in.raw.find("DTSTART;VALUE=DATE:20240301"), std::string::npos) << in.raw;
}

}  // namespace
}  // namespace conflux::engine
