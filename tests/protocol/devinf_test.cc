// Tests for DevInf parsing and writing: Buteo's DevInf 1.1/1.2 documents
// (tests/data/syncml/buteo-syncml), write→parse round trips, element order,
// and DevInf carried through the XML codec.
#include "protocol/devinf.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "protocol/xml_codec.h"

namespace {

using namespace conflux::protocol;
using Code = conflux::StatusCode;

std::string read_corpus(const std::string& relative) {
  std::ifstream in(std::filesystem::path(CONFLUX_TEST_DATA_DIR) / "syncml" / relative, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  EXPECT_FALSE(out.str().empty()) << "missing test data " << relative;
  return out.str();
}

// Field-by-field comparison; returns the first difference or "".
std::string diff_devinf(const DevInf& a, const DevInf& b) {
  auto ct = [](const ContentTypeRef& c) { return c.type + "/" + c.version; };
  auto cts = [&](const std::vector<ContentTypeRef>& v) {
    std::string s;
    for (const auto& c : v) s += ct(c) + ";";
    return s;
  };
  auto ints = [](const std::vector<int>& v) {
    std::string s;
    for (int i : v) s += std::to_string(i) + ",";
    return s;
  };
  std::vector<std::pair<std::string, std::pair<std::string, std::string>>> fields = {
      {"ver_dtd", {a.ver_dtd, b.ver_dtd}},
      {"man", {a.man, b.man}},
      {"mod", {a.mod, b.mod}},
      {"oem", {a.oem, b.oem}},
      {"fw_v", {a.fw_v, b.fw_v}},
      {"sw_v", {a.sw_v, b.sw_v}},
      {"hw_v", {a.hw_v, b.hw_v}},
      {"dev_id", {a.dev_id, b.dev_id}},
      {"dev_typ", {a.dev_typ, b.dev_typ}},
      {"utc", {std::to_string(a.utc), std::to_string(b.utc)}},
      {"support_large_objs", {std::to_string(a.support_large_objs), std::to_string(b.support_large_objs)}},
      {"support_number_of_changes",
       {std::to_string(a.support_number_of_changes), std::to_string(b.support_number_of_changes)}},
      {"datastores.size", {std::to_string(a.datastores.size()), std::to_string(b.datastores.size())}},
  };
  for (size_t i = 0; i < a.datastores.size() && i < b.datastores.size(); ++i) {
    const DevInfDataStore& x = a.datastores[i];
    const DevInfDataStore& y = b.datastores[i];
    std::string p = "datastores[" + std::to_string(i) + "].";
    auto guid = [](const std::optional<uint32_t>& g) { return g ? std::to_string(*g) : std::string("nullopt"); };
    fields.push_back({p + "source_ref", {x.source_ref, y.source_ref}});
    fields.push_back({p + "display_name", {x.display_name, y.display_name}});
    fields.push_back({p + "max_guid_size", {guid(x.max_guid_size), guid(y.max_guid_size)}});
    fields.push_back({p + "rx_pref", {ct(x.rx_pref), ct(y.rx_pref)}});
    fields.push_back({p + "rx", {cts(x.rx), cts(y.rx)}});
    fields.push_back({p + "tx_pref", {ct(x.tx_pref), ct(y.tx_pref)}});
    fields.push_back({p + "tx", {cts(x.tx), cts(y.tx)}});
    fields.push_back({p + "sync_types", {ints(x.sync_types), ints(y.sync_types)}});
  }
  for (const auto& [name, values] : fields) {
    if (values.first != values.second) return name + ": '" + values.first + "' != '" + values.second + "'";
  }
  return "";
}

DevInf server_devinf() {
  DevInf d;
  d.man = "Conflux";
  d.mod = "Conflux server";
  d.oem = "Example & Sons";
  d.sw_v = "0.1.0";
  d.dev_id = "http://sync.example.org/sync";
  d.dev_typ = "server";
  d.utc = true;
  d.support_large_objs = true;
  d.support_number_of_changes = true;
  DevInfDataStore contacts;
  contacts.source_ref = "contacts";
  contacts.display_name = "Contacts";
  contacts.max_guid_size = 64;
  contacts.rx_pref = {"text/vcard", "3.0"};
  contacts.rx = {{"text/x-vcard", "2.1"}};
  contacts.tx_pref = {"text/vcard", "3.0"};
  contacts.tx = {{"text/x-vcard", "2.1"}};
  contacts.sync_types = {1, 2, 3, 4, 5, 6, 7};
  DevInfDataStore notes;
  notes.source_ref = "notes";
  notes.rx_pref = {"text/plain", "1.0"};
  notes.tx_pref = {"text/plain", "1.0"};
  notes.sync_types = {1, 2};
  d.datastores = {contacts, notes};
  return d;
}

TEST(DevInfParse, ButeoDevInf11) {
  auto d = parse_devinf_xml(read_corpus("buteo-syncml/devinf01.txt"));
  ASSERT_TRUE(d.has_value()) << d.error().to_string();
  EXPECT_EQ(d->ver_dtd, "1.1");
  EXPECT_EQ(d->man, "FooManufacturer");
  EXPECT_EQ(d->mod, "FooModel");
  EXPECT_EQ(d->oem, "FooOEM");
  EXPECT_EQ(d->fw_v, "FwVersion");
  EXPECT_EQ(d->sw_v, "v 21.0.045");
  EXPECT_EQ(d->hw_v, "HwVersion");
  EXPECT_EQ(d->dev_id, "IMEI:356064034969473");
  EXPECT_EQ(d->dev_typ, "phone_Switch4");
  EXPECT_TRUE(d->utc);
  EXPECT_TRUE(d->support_large_objs);
  EXPECT_TRUE(d->support_number_of_changes);
  ASSERT_EQ(d->datastores.size(), 3u);

  const DevInfDataStore& contacts = d->datastores[0];
  EXPECT_EQ(contacts.source_ref, "./Contacts");
  EXPECT_EQ(contacts.max_guid_size, 8u);
  EXPECT_EQ(contacts.rx_pref.type, "text/x-vcard");
  EXPECT_EQ(contacts.rx_pref.version, "2.1");
  ASSERT_EQ(contacts.rx.size(), 1u);
  EXPECT_EQ(contacts.rx[0].type, "text/vcard");
  EXPECT_EQ(contacts.rx[0].version, "3.0");
  EXPECT_EQ(contacts.tx_pref.type, "text/x-vcard");
  EXPECT_TRUE(contacts.tx.empty());
  EXPECT_EQ(contacts.sync_types, (std::vector<int>{1, 2, 3, 5, 7}));

  EXPECT_EQ(d->datastores[1].source_ref, "./Calendar");
  EXPECT_EQ(d->datastores[1].rx_pref.type, "text/x-vcalendar");
  EXPECT_EQ(d->datastores[2].source_ref, "./Notepad");
  EXPECT_EQ(d->datastores[2].rx.at(0).type, "text/plain");
}

// Finds the property `name` of `cap`, or null.
const CTCapProperty* ctcap_property(const CTCap& cap, const std::string& name) {
  for (const auto& p : cap.properties) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

TEST(DevInfParse, ButeoDevInf11TopLevelCtCapIsAFlatList) {
  auto d = parse_devinf_xml(read_corpus("buteo-syncml/devinf01.txt"));
  ASSERT_TRUE(d.has_value()) << d.error().to_string();
  // One top-level CTCap element naming three types, each starting a new entry.
  ASSERT_EQ(d->ctcaps.size(), 3u);
  EXPECT_EQ(d->ctcaps[0].type.type, "text/x-vcard");
  EXPECT_EQ(d->ctcaps[1].type.type, "text/x-vcalendar");
  EXPECT_EQ(d->ctcaps[2].type.type, "text/plain");
  const CTCapProperty* adr = ctcap_property(d->ctcaps[0], "ADR");
  ASSERT_NE(adr, nullptr);
  EXPECT_EQ(adr->params, (std::vector<std::string>{"HOME", "WORK", "PREF"}));
  EXPECT_NE(ctcap_property(d->ctcaps[0], "NOTE"), nullptr);
  // Properties of one type do not leak into the next.
  EXPECT_EQ(ctcap_property(d->ctcaps[1], "ADR"), nullptr);
  EXPECT_NE(ctcap_property(d->ctcaps[1], "DTSTART"), nullptr);
  EXPECT_TRUE(d->datastores[0].ctcaps.empty());
}

TEST(DevInfParse, ButeoDevInf12CtCapProperties) {
  auto d = parse_devinf_xml(read_corpus("buteo-syncml/devinf02.txt"));
  ASSERT_TRUE(d.has_value()) << d.error().to_string();
  const DevInfDataStore& contacts = d->datastores[0];
  ASSERT_EQ(contacts.ctcaps.size(), 1u);
  EXPECT_EQ(contacts.ctcaps[0].type.type, "text/x-vcard");
  EXPECT_EQ(contacts.ctcaps[0].type.version, "2.1");
  const CTCapProperty* adr = ctcap_property(contacts.ctcaps[0], "ADR");
  ASSERT_NE(adr, nullptr);
  EXPECT_EQ(adr->params, std::vector<std::string>{"TYPE"});
  EXPECT_FALSE(adr->max_occur.has_value());
  ASSERT_EQ(d->datastores[1].ctcaps.size(), 1u);
  EXPECT_EQ(d->datastores[1].ctcaps[0].type.type, "text/x-vcalendar");
  EXPECT_NE(ctcap_property(d->datastores[1].ctcaps[0], "DTSTART"), nullptr);
  EXPECT_TRUE(d->ctcaps.empty());
}

TEST(DevInfParse, ButeoDevInf12WithCtCapInsideDataStores) {
  auto d = parse_devinf_xml(read_corpus("buteo-syncml/devinf02.txt"));
  ASSERT_TRUE(d.has_value()) << d.error().to_string();
  EXPECT_EQ(d->ver_dtd, "1.2");
  EXPECT_EQ(d->man, "FooManufacturer");
  EXPECT_EQ(d->mod, "FooModel");
  ASSERT_EQ(d->datastores.size(), 3u);
  const DevInfDataStore& contacts = d->datastores[0];
  EXPECT_EQ(contacts.source_ref, "./Contacts");
  EXPECT_EQ(contacts.rx_pref.type, "text/x-vcard");
  EXPECT_EQ(contacts.rx.at(0).type, "text/vcard");
  // CTCap and SupportHierarchicalSync are skipped; SyncCap before them is read.
  EXPECT_EQ(contacts.sync_types, (std::vector<int>{1, 2, 3, 5, 7}));
}

TEST(DevInfParse, PrefixedElementsAndCdata) {
  auto d = parse_devinf_xml(
      "<d:DevInf xmlns:d='syncml:devinf'><d:VerDTD>1.2</d:VerDTD><d:Man><![CDATA[A&B]]></d:Man>"
      "<d:DevID> id-1 </d:DevID><d:DevTyp>phone</d:DevTyp><d:DataStore><d:SourceRef>c</d:SourceRef>"
      "<d:MaxGUIDSize>junk</d:MaxGUIDSize><d:SyncCap><d:SyncType>1</d:SyncType><d:SyncType>x</d:SyncType>"
      "</d:SyncCap></d:DataStore><d:Ext><d:XNam>X</d:XNam></d:Ext></d:DevInf>");
  ASSERT_TRUE(d.has_value()) << d.error().to_string();
  EXPECT_EQ(d->man, "A&B");
  EXPECT_EQ(d->dev_id, "id-1");
  ASSERT_EQ(d->datastores.size(), 1u);
  EXPECT_FALSE(d->datastores[0].max_guid_size.has_value());  // unreadable: dropped
  EXPECT_EQ(d->datastores[0].sync_types, std::vector<int>{1});
}

TEST(DevInfParse, NotDevInfIsInvalidArgument) {
  for (const std::string& bad : {std::string(""), std::string("hello"), std::string("<SyncML/>"),
                                 std::string("<DevInf><Man>x</DevInf>"), read_corpus("buteo-syncml/syncml_init.txt")}) {
    auto d = parse_devinf_xml(bad);
    ASSERT_FALSE(d.has_value()) << bad;
    EXPECT_EQ(d.error().code(), Code::kInvalidArgument);
  }
}

TEST(DevInfWrite, Version12RoundTrip) {
  DevInf d = server_devinf();
  std::string xml = write_devinf_xml(d, SyncMLVersion::k12);
  auto back = parse_devinf_xml(xml);
  ASSERT_TRUE(back.has_value()) << back.error().to_string();
  d.ver_dtd = "1.2";
  EXPECT_EQ(diff_devinf(d, *back), "") << xml;
}

TEST(DevInfWrite, Version12CtCapPropertiesRoundTrip) {
  DevInf d = server_devinf();
  d.datastores[0].ctcaps = {
      CTCap{{"text/x-vcard", "2.1"}, {CTCapProperty{"N", std::nullopt, {}}, CTCapProperty{"ADR", 1, {"TYPE"}}}}};
  std::string xml = write_devinf_xml(d, SyncMLVersion::k12);
  auto back = parse_devinf_xml(xml);
  ASSERT_TRUE(back.has_value()) << back.error().to_string();
  ASSERT_EQ(back->datastores[0].ctcaps.size(), 1u) << xml;
  const CTCap& cap = back->datastores[0].ctcaps[0];
  EXPECT_EQ(cap.type.version, "2.1");
  ASSERT_EQ(cap.properties.size(), 2u);
  EXPECT_EQ(cap.properties[1].name, "ADR");
  EXPECT_EQ(cap.properties[1].max_occur, 1u);
  EXPECT_EQ(cap.properties[1].params, std::vector<std::string>{"TYPE"});
  EXPECT_FALSE(cap.properties[0].max_occur.has_value());
}

TEST(DevInfWrite, Version11RoundTrip) {
  for (SyncMLVersion v : {SyncMLVersion::k11, SyncMLVersion::k10}) {
    DevInf d = server_devinf();
    std::string xml = write_devinf_xml(d, v);
    EXPECT_EQ(xml.find("<CTCap>"), std::string::npos) << xml;
    auto back = parse_devinf_xml(xml);
    ASSERT_TRUE(back.has_value()) << back.error().to_string();
    d.ver_dtd = v == SyncMLVersion::k10 ? "1.0" : "1.1";
    if (v == SyncMLVersion::k10) {
      // DevInf 1.0 has no UTC, SupportLargeObjs or SupportNumberOfChanges.
      d.utc = d.support_large_objs = d.support_number_of_changes = false;
    }
    EXPECT_EQ(diff_devinf(d, *back), "") << xml;
  }
}

TEST(DevInfWrite, ButeoDocumentsSurviveWriteAndParse) {
  for (const char* file : {"buteo-syncml/devinf01.txt", "buteo-syncml/devinf02.txt"}) {
    SCOPED_TRACE(file);
    auto d = parse_devinf_xml(read_corpus(file));
    ASSERT_TRUE(d.has_value());
    SyncMLVersion v = d->ver_dtd == "1.2" ? SyncMLVersion::k12 : SyncMLVersion::k11;
    auto back = parse_devinf_xml(write_devinf_xml(*d, v));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(diff_devinf(*d, *back), "");
  }
}

size_t pos(const std::string& xml, const std::string& needle, size_t from = 0) {
  size_t p = xml.find(needle, from);
  EXPECT_NE(p, std::string::npos) << needle << " missing in " << xml;
  return p;
}

TEST(DevInfWrite, ElementOrderFollowsTheDtd) {
  std::string xml = write_devinf_xml(server_devinf(), SyncMLVersion::k12);
  EXPECT_EQ(xml.rfind("<DevInf xmlns=\"syncml:devinf\"><VerDTD>1.2</VerDTD><Man>Conflux</Man>", 0), 0u) << xml;
  EXPECT_NE(xml.find("<OEM>Example &amp; Sons</OEM>"), std::string::npos);
  const char* top[] = {"<VerDTD>",
                       "<Man>",
                       "<Mod>",
                       "<OEM>",
                       "<FwV",
                       "<SwV>",
                       "<HwV",
                       "<DevID>",
                       "<DevTyp>",
                       "<UTC",
                       "<SupportLargeObjs",
                       "<SupportNumberOfChanges",
                       "<DataStore>"};
  size_t last = 0;
  for (const char* tag : top) {
    size_t p = pos(xml, tag);
    EXPECT_GE(p, last) << tag;
    last = p;
  }
  // First DataStore: SourceRef, DisplayName, MaxGUIDSize, Rx-Pref, Rx, Tx-Pref, Tx, CTCap, SyncCap.
  size_t ds = pos(xml, "<DataStore>");
  const char* inner[] = {"<SourceRef>", "<DisplayName>", "<MaxGUIDSize>", "<Rx-Pref>", "<Rx>",
                         "<Tx-Pref>",   "<Tx>",          "<CTCap>",       "<SyncCap>"};
  last = ds;
  for (const char* tag : inner) {
    size_t p = pos(xml, tag, ds);
    EXPECT_GE(p, last) << tag;
    last = p;
  }
  EXPECT_NE(xml.find("<CTCap><CTType>text/vcard</CTType><VerCT>3.0</VerCT></CTCap>"), std::string::npos) << xml;
  // Each DataStore has its own CTCap in 1.2.
  EXPECT_NE(xml.find("<CTCap><CTType>text/plain</CTType><VerCT>1.0</VerCT></CTCap>"), std::string::npos) << xml;
  EXPECT_NE(xml.find("<SyncCap><SyncType>1</SyncType><SyncType>2</SyncType></SyncCap>"), std::string::npos);

  // 1.1: VerDTD 1.1; empty FwV/HwV left out; no CTCap.
  std::string v11 = write_devinf_xml(server_devinf(), SyncMLVersion::k11);
  EXPECT_NE(v11.find("<VerDTD>1.1</VerDTD>"), std::string::npos);
  EXPECT_EQ(v11.find("<FwV"), std::string::npos);
  EXPECT_EQ(v11.find("<CTCap"), std::string::npos);
}

TEST(DevInfWrite, TravelsThroughTheCodecAsXmlData) {
  Message m;
  m.version = SyncMLVersion::k12;
  m.hdr.session_id = "1";
  m.hdr.msg_id = "2";
  m.hdr.target = {"IMEI:1", ""};
  m.hdr.source = {"http://sync.example.org/sync", ""};
  Command results;
  results.kind = CommandKind::kResults;
  results.cmd_id = 3;
  results.msg_ref = "1";
  results.cmd_ref = "5";
  results.meta = Meta{};
  results.meta->type = "application/vnd.syncml-devinf+xml";
  Item item;
  item.source = LocRef{devinf_uri(SyncMLVersion::k12), ""};
  item.data_kind = DataKind::kXml;
  item.data = write_devinf_xml(server_devinf(), SyncMLVersion::k12);
  results.items.push_back(item);
  m.commands.push_back(results);
  m.final = true;

  auto decoded = decode_xml(encode_xml(m));
  ASSERT_TRUE(decoded.has_value()) << decoded.error().to_string();
  const Item& back = decoded->commands.at(0).items.at(0);
  EXPECT_EQ(back.source->loc_uri, "./devinf12");
  ASSERT_EQ(back.data_kind, DataKind::kXml);
  EXPECT_EQ(back.data, item.data);
  auto devinf = parse_devinf_xml(back.data);
  ASSERT_TRUE(devinf.has_value());
  DevInf expected = server_devinf();
  expected.ver_dtd = "1.2";
  EXPECT_EQ(diff_devinf(expected, *devinf), "");
}

}  // namespace
