// Tests for the SyncML WBXML codec: the Perl-encoded XML-WBXML-SyncML pairs
// and Buteo's binary message against their XML twins, WBXML round trips of
// every corpus message, exact size accounting, DevInf as an OPAQUE
// sub-document, and hostile input (libwbxml's crash files, every prefix and
// byte corruption of real messages, hand-made bad headers, lengths and tokens).
#include "protocol/wbxml_codec.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "protocol/devinf.h"
#include "protocol/xml_codec.h"

namespace {

using namespace conflux::protocol;
using Code = conflux::StatusCode;
namespace fs = std::filesystem;

const fs::path kDataDir = fs::path(CONFLUX_TEST_DATA_DIR);

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  EXPECT_FALSE(out.str().empty()) << "missing test data " << path;
  return out.str();
}

std::string syncml(const std::string& relative) { return read_file(kDataDir / "syncml" / relative); }

// A corpus message by its extension: .wbxml/.bin are WBXML, the rest XML.
conflux::Result<Message> decode_corpus(const std::string& relative) {
  bool is_wbxml = relative.ends_with(".wbxml") || relative.ends_with(".bin");
  return is_wbxml ? decode_wbxml(syncml(relative)) : decode_xml(syncml(relative));
}

// Every file under tests/data/<dir> with one of `extensions`, relative to
// that folder, sorted.
std::vector<std::string> files_in(const std::string& dir, std::initializer_list<const char*> extensions) {
  std::vector<std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(kDataDir / dir)) {
    if (!entry.is_regular_file()) continue;
    std::string ext = entry.path().extension().string();
    if (std::find(extensions.begin(), extensions.end(), ext) == extensions.end()) continue;
    files.push_back(fs::relative(entry.path(), kDataDir / dir).generic_string());
  }
  std::sort(files.begin(), files.end());
  EXPECT_FALSE(files.empty()) << "no test data under " << dir;
  return files;
}

// The model as text: encode_xml writes every field of a decoded Message and
// decode_xml(encode_xml(m)) == m (xml_codec_test), so equal models print
// equally and different ones differently. Binary item data (NUL bytes), which
// XML cannot carry, is compared directly where a test makes it.
std::string model(const Message& m) { return encode_xml(m); }

// Equal models, or a failure naming where their XML first differs.
::testing::AssertionResult same_model(const Message& a, const Message& b) {
  std::string x = model(a), y = model(b);
  if (x == y) return ::testing::AssertionSuccess();
  size_t at = std::mismatch(x.begin(), x.end(), y.begin(), y.end()).first - x.begin();
  size_t from = at < 80 ? 0 : at - 80;
  return ::testing::AssertionFailure() << "models differ at " << at << ":\n  " << x.substr(from, 200) << "\n  "
                                       << y.substr(from, 200);
}

#define DECODE_OR_FAIL(var, decoder, bytes)                                  \
  auto var##_result = decoder(bytes);                                        \
  ASSERT_TRUE(var##_result.has_value()) << var##_result.error().to_string(); \
  const Message& var = *var##_result

// What a WBXML round trip may change, by design:
// - WBXML has no way to say "this MetInf element has no namespace": a code
//   page is a namespace. An <Anchor> the XML sender left without xmlns
//   (Funambol's Outlook and Sync4j clients) therefore comes back with it.
// - OMA DM's DDF (<MgmtTree>, libwbxml's syncml_with_ddf-001.xml) has tokens
//   only on a DM code page a DS server does not speak: it travels as text.
Message as_wbxml_carries_it(Message m) {
  auto fix = [](std::string& data, const std::string& bare, const std::string& with_ns) {
    if (data.rfind(bare, 0) == 0) data = with_ns + data.substr(bare.size());
  };
  std::vector<Command*> todo;
  for (Command& c : m.commands) todo.push_back(&c);
  while (!todo.empty()) {
    Command* c = todo.back();
    todo.pop_back();
    for (Command& child : c->children) todo.push_back(&child);
    for (Item& item : c->items) {
      if (item.data_kind != DataKind::kXml) continue;
      if (item.data.rfind("<MgmtTree", 0) == 0) item.data_kind = DataKind::kText;
      fix(item.data, "<Anchor>", "<Anchor xmlns=\"syncml:metinf\">");
    }
  }
  return m;
}

// ---------------------------------------------------------------------------
// Building WBXML by hand

std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out += static_cast<char>(v);
  return out;
}

std::string str_i(const std::string& s) { return "\x03" + s + std::string(1, '\0'); }

// An element with content: token | 0x40, content, END.
std::string el(int token, const std::string& content) { return static_cast<char>(token | 0x40) + content + "\x01"; }

constexpr int kSyncML = 0x2D, kSyncHdr = 0x2C, kSyncBody = 0x2B, kVerDTD = 0x31, kVerProto = 0x32, kSessionID = 0x25,
              kMsgID = 0x1B, kTarget = 0x2E, kSource = 0x27, kLocURI = 0x17, kCmdID = 0x0B, kData = 0x0F, kItem = 0x14,
              kPut = 0x1F, kAlert = 0x06, kMeta = 0x1A, kAtomic = 0x08, kFinal = 0x12, kSourceParent = 0x39;

const std::string kHeader12 = bytes({0x03, 0xA4, 0x01, 0x6A, 0x00});

std::string sync_hdr(const std::string& dtd = "1.2") {
  return el(kSyncHdr, el(kVerDTD, str_i(dtd)) + el(kVerProto, str_i("SyncML/" + dtd)) + el(kSessionID, str_i("7")) +
                          el(kMsgID, str_i("1")) + el(kTarget, el(kLocURI, str_i("srv"))) +
                          el(kSource, el(kLocURI, str_i("dev"))));
}

// A whole SyncML 1.2 message around `body` (SyncBody content).
std::string wbxml_message(const std::string& body, const std::string& header = kHeader12) {
  return header + el(kSyncML, sync_hdr() + el(kSyncBody, body));
}

// <Put><CmdID>1</CmdID><Item><Data>` data_tokens `</Data></Item></Put>
std::string put_with_data(const std::string& data_tokens) {
  return el(kPut, el(kCmdID, str_i("1")) + el(kItem, el(kData, data_tokens)));
}

std::string opaque(const std::string& payload) {
  std::string out = "\xC3";
  uint32_t n = static_cast<uint32_t>(payload.size());
  std::string mb;
  do {
    mb.insert(mb.begin(), static_cast<char>((n & 0x7F) | (mb.empty() ? 0 : 0x80)));
    n >>= 7;
  } while (n);
  return out + mb + payload;
}

Message minimal_message(SyncMLVersion version = SyncMLVersion::k12) {
  Message m;
  m.version = version;
  m.hdr = SyncHdr{.ver_dtd = ver_dtd(version),
                  .ver_proto = ver_proto(version),
                  .session_id = "42",
                  .msg_id = "1",
                  .target = {"http://sync.example.org/sync", ""},
                  .source = {"IMEI:493005100592800", "alice"},
                  .resp_uri = "",
                  .no_resp = false,
                  .cred = std::nullopt,
                  .meta = std::nullopt};
  return m;
}

Item data_item(DataKind kind, std::string data) {
  Item item;
  item.data_kind = kind;
  item.data = std::move(data);
  return item;
}

const std::string kAnchorXml = "<Anchor xmlns=\"syncml:metinf\"><Next>5</Next></Anchor>";

// A command of `kind` with `items`; a Status answers an Alert with 200.
Command command(CommandKind kind, uint32_t cmd_id, std::vector<Item> items = {}) {
  Command c;
  c.kind = kind;
  c.cmd_id = cmd_id;
  c.items = std::move(items);
  if (kind == CommandKind::kStatus) {
    c.msg_ref = "1";
    c.cmd_ref = "3";
    c.cmd_name = "Alert";
    c.code = 200;
  }
  return c;
}

// A message whose single Put carries `devinf_xml` the way decode_xml gives it.
Message devinf_put(SyncMLVersion version, const std::string& devinf_xml) {
  std::string body = devinf_xml;
  if (body.rfind("<?xml", 0) == 0) body = body.substr(body.find("?>") + 2);
  const std::string dtd = ver_dtd(version);
  std::string xml = "<SyncML xmlns=\"" + std::string(namespace_uri(version)) + "\"><SyncHdr><VerDTD>" + dtd +
                    "</VerDTD><VerProto>SyncML/" + dtd +
                    "</VerProto><SessionID>1</SessionID><MsgID>1</MsgID><Target><LocURI>srv</LocURI></Target>"
                    "<Source><LocURI>dev</LocURI></Source></SyncHdr><SyncBody><Put><CmdID>1</CmdID><Item><Source>"
                    "<LocURI>" +
                    devinf_uri(version) + "</LocURI></Source><Data>" + body +
                    "</Data></Item></Put><Final/></SyncBody></SyncML>";
  auto m = decode_xml(xml);
  EXPECT_TRUE(m.has_value()) << m.error().to_string();
  return m.has_value() ? *m : Message{};
}

size_t sum_of_sizes(const Message& m) {
  size_t total = encoded_wbxml_overhead(m);
  for (const Command& c : m.commands) total += encoded_wbxml_size(c, m.version);
  return total;
}

void expect_code(std::string_view input, Code code, const std::string& mentions = "", const DecodeLimits& limits = {}) {
  auto r = decode_wbxml(input, limits);
  ASSERT_FALSE(r.has_value()) << "decoded: " << model(*r);
  EXPECT_EQ(r.error().code(), code) << r.error().to_string();
  if (!mentions.empty()) {
    EXPECT_NE(r.error().message().find(mentions), std::string::npos) << r.error().to_string();
  }
}

// ---------------------------------------------------------------------------
// The corpus

// Twins per the corpus MANIFEST: XML-WBXML-SyncML's my-NNN.wbxml was made by
// the Perl encoder from syncml-NNN.xml; Buteo's basicbasetransport.bin is
// basicbasetransport.txt. libwbxml's wbxml2xml agrees (MANIFEST).
TEST(WbxmlCodecCorpus, EncodedMessagesDecodeLikeTheirXmlTwins) {
  std::vector<std::pair<std::string, std::string>> twins = {
      {"buteo-syncml/basicbasetransport.bin", "buteo-syncml/basicbasetransport.txt"}};
  for (const std::string& file : files_in("syncml/xml-wbxml-syncml", {".wbxml"})) {
    std::string number = file.substr(file.find("my-") + 3, 3);
    twins.emplace_back("xml-wbxml-syncml/" + file.substr(file.rfind('/') + 1),
                       "xml-wbxml-syncml/syncml-" + number + ".xml");
  }
  ASSERT_EQ(twins.size(), 12u);
  size_t equal = 0;
  for (const auto& [wbxml, xml] : twins) {
    SCOPED_TRACE(wbxml);
    auto from_xml = decode_xml(syncml(xml));
    auto from_wbxml = decode_wbxml(syncml(wbxml));
    if (!from_xml.has_value()) {
      // syncml-013/014 are SyncBody fragments without a SyncHdr.
      ASSERT_FALSE(from_wbxml.has_value()) << "XML twin fails: " << from_xml.error().to_string();
      EXPECT_EQ(from_wbxml.error().code(), Code::kInvalidArgument);
      EXPECT_EQ(from_wbxml.error().message(), from_xml.error().message());
      continue;
    }
    ASSERT_TRUE(from_wbxml.has_value()) << from_wbxml.error().to_string();
    EXPECT_TRUE(same_model(*from_xml, *from_wbxml));
    ++equal;
  }
  EXPECT_EQ(equal, 10u);
}

TEST(WbxmlCodecCorpus, PerlEncodedStatusWithAnchorAndAttributes) {
  // my-005 writes xmlns="syncml:metinf" as a LITERAL attribute from its
  // string table on Anchor, Mem and Type.
  DECODE_OR_FAIL(m, decode_wbxml, syncml("xml-wbxml-syncml/my-005.wbxml"));
  EXPECT_EQ(m.version, SyncMLVersion::k11);
  EXPECT_EQ(m.hdr.source.loc_uri, "IMEI:493005100592800");
  ASSERT_EQ(m.commands.size(), 3u);
  EXPECT_EQ(m.commands[0].code, 212);
  EXPECT_EQ(m.commands[0].source_refs, std::vector<std::string>{"http://www.syncml.org/sync-server"});
  const Item& anchor = m.commands[1].items.at(0);
  EXPECT_EQ(anchor.data_kind, DataKind::kXml);
  EXPECT_EQ(anchor.data, "<Anchor xmlns=\"syncml:metinf\"><Next>200005022T093223Z </Next></Anchor>");
  const Command& replace = m.commands[2].children.at(0);
  EXPECT_EQ(replace.meta->type, "text/x-vcard");
  EXPECT_EQ(replace.items.at(0).data_kind, DataKind::kText);
  EXPECT_TRUE(m.final);
}

TEST(WbxmlCodecCorpus, ButeoMessageWithBareSessionIdToken) {
  DECODE_OR_FAIL(m, decode_wbxml, syncml("buteo-syncml/basicbasetransport.bin"));
  EXPECT_EQ(m.version, SyncMLVersion::k12);
  EXPECT_EQ(m.hdr.session_id, "");  // 0x25: <SessionID/>
  EXPECT_EQ(m.hdr.target.loc_uri, "targetDevice");
  EXPECT_TRUE(m.commands.empty());
}

// Every message of tests/data/syncml, XML or WBXML: decode, encode as WBXML,
// decode that; the model must survive and the encoding be stable.
TEST(WbxmlCodecCorpus, EveryMessageSurvivesAWbxmlRoundTrip) {
  size_t round_trips = 0;
  for (const std::string& file : files_in("syncml", {".xml", ".txt", ".wbxml", ".bin"})) {
    SCOPED_TRACE(file);
    auto first = decode_corpus(file);
    if (!first.has_value()) continue;  // fragments; xml_codec_test lists them
    std::string encoded = encode_wbxml(*first);
    DECODE_OR_FAIL(second, decode_wbxml, encoded);
    EXPECT_TRUE(same_model(as_wbxml_carries_it(*first), second));
    EXPECT_EQ(encode_wbxml(second), encoded) << "encoding is not stable";
    ++round_trips;
  }
  EXPECT_GE(round_trips, 170u);
}

TEST(WbxmlCodecCorpus, CommandSizesAndOverheadAddUpToTheMessage) {
  for (const std::string& file : files_in("syncml", {".xml", ".txt", ".wbxml", ".bin"})) {
    SCOPED_TRACE(file);
    auto message = decode_corpus(file);
    if (!message.has_value()) continue;
    EXPECT_EQ(sum_of_sizes(*message), encode_wbxml(*message).size());
  }
}

// ---------------------------------------------------------------------------
// Encoding

TEST(WbxmlCodecEncode, HeaderPerSyncMLVersion) {
  std::string v11 = encode_wbxml(minimal_message(SyncMLVersion::k11));
  EXPECT_EQ(v11.substr(0, 13), bytes({0x02, 0x9F, 0x53, 0x6A, 0x00, 0x6D, 0x6C, 0x71, 0x03, '1', '.', '1', 0x00}));
  std::string v12 = encode_wbxml(minimal_message(SyncMLVersion::k12));
  EXPECT_EQ(v12.substr(0, 6), bytes({0x02, 0xA4, 0x01, 0x6A, 0x00, 0x6D}));
  std::string v10 = encode_wbxml(minimal_message(SyncMLVersion::k10));
  const std::string fpi = "-//SYNCML//DTD SyncML 1.0//EN";
  EXPECT_EQ(v10.substr(0, 5 + fpi.size() + 2),
            bytes({0x02, 0x00, 0x00, 0x6A, 0x1E}) + fpi + std::string(1, '\0') + "\x6D");
  for (const std::string& encoded : {v10, v11, v12}) {
    DECODE_OR_FAIL(back, decode_wbxml, encoded);
    EXPECT_EQ(back.hdr.session_id, "42");
  }
  DECODE_OR_FAIL(back10, decode_wbxml, v10);
  EXPECT_EQ(back10.version, SyncMLVersion::k10);
}

TEST(WbxmlCodecEncode, MetInfOnCodePageOneEmptyElementsAsBareTokens) {
  Message m = minimal_message();
  m.hdr.session_id = "";
  m.hdr.meta = Meta{};
  m.hdr.meta->max_msg_size = 20000;
  m.final = true;
  std::string out = encode_wbxml(m);
  // <SessionID/> is the bare token; Meta switches to page 1 for MaxMsgSize
  // (0x0C | content) and back to page 0 before SyncBody.
  EXPECT_NE(out.find(bytes({0x25, 0x5B})), std::string::npos);
  EXPECT_NE(out.find(bytes({0x5A, 0x00, 0x01, 0x4C, 0x03}) + "20000" + bytes({0x00, 0x01, 0x01})), std::string::npos);
  EXPECT_EQ(out.substr(out.size() - 8), bytes({0x01, 0x01, 0x00, 0x00, 0x6B, 0x12, 0x01, 0x01}));
  EXPECT_EQ(sum_of_sizes(m), out.size());
}

TEST(WbxmlCodecEncode, AnchorInStatusItemIsInlineMetInf) {
  Message m = minimal_message();
  m.commands.push_back(command(CommandKind::kStatus, 1, {data_item(DataKind::kXml, kAnchorXml)}));
  std::string out = encode_wbxml(m);
  // Item, Data, page 1, Anchor, Next "5", END, END, END (Data), END (Item).
  EXPECT_NE(out.find(bytes({0x54, 0x4F, 0x00, 0x01, 0x45, 0x4F, 0x03, '5', 0x00, 0x01, 0x01, 0x01, 0x01})),
            std::string::npos);
  DECODE_OR_FAIL(back, decode_wbxml, out);
  EXPECT_TRUE(same_model(m, back));
}

TEST(WbxmlCodecEncode, XmlDataWithoutTokensIsSentAsText) {
  Message m = minimal_message();
  const std::string frob = "<Frob a=\"1\">x</Frob>";
  m.commands.push_back(command(CommandKind::kPut, 1, {data_item(DataKind::kXml, frob)}));
  DECODE_OR_FAIL(back, decode_wbxml, encode_wbxml(m));
  EXPECT_EQ(back.commands.at(0).items.at(0).data_kind, DataKind::kText);
  EXPECT_EQ(back.commands[0].items[0].data, frob);
  EXPECT_EQ(sum_of_sizes(m), encode_wbxml(m).size());
}

TEST(WbxmlCodecEncode, BinaryItemDataTravelsAsOpaque) {
  const char jpeg_start[] = "\xFF\xD8\xFF\xE0\0\x10JFIF\0\x01\x01\0 \r\n\x02\x03 ";
  Item item = data_item(DataKind::kText, std::string(jpeg_start, sizeof jpeg_start - 1));
  item.source = LocRef{"photo.jpg", ""};
  item.meta = Meta{};
  item.meta->format = "bin";
  Command sync = command(CommandKind::kSync, 1);
  sync.children.push_back(command(CommandKind::kAdd, 2, {item}));
  Message m = minimal_message();
  m.commands.push_back(sync);

  std::string out = encode_wbxml(m);
  EXPECT_NE(out.find(bytes({0x4F, 0xC3, 20}) + item.data + "\x01"), std::string::npos);
  EXPECT_EQ(sum_of_sizes(m), out.size());
  DECODE_OR_FAIL(back, decode_wbxml, out);
  const Item& got = back.commands.at(0).children.at(0).items.at(0);
  EXPECT_EQ(got.data_kind, DataKind::kText);
  EXPECT_EQ(got.data, item.data);
  EXPECT_EQ(encode_wbxml(back), out);
}

// OPAQUE item data that is not UTF-8 but holds no NUL (here a broken WBXML
// DevInf in Results, found by fuzz_wbxml_decode) must go back as OPAQUE:
// as an inline string no reader would take it.
TEST(WbxmlCodecEncode, ItemDataThatIsNotUtf8TravelsAsOpaque) {
  Item item = data_item(DataKind::kText, "\x02\xA4\x03\x6A\xFF\x49\x2A\x01");
  Message m = minimal_message();
  m.commands.push_back(command(CommandKind::kResults, 1, {item}));

  std::string out = encode_wbxml(m);
  EXPECT_NE(out.find(bytes({0x4F, 0xC3, 8}) + item.data + "\x01"), std::string::npos);
  EXPECT_EQ(sum_of_sizes(m), out.size());
  DECODE_OR_FAIL(back, decode_wbxml, out);
  EXPECT_EQ(back.commands.at(0).items.at(0).data, item.data);
  EXPECT_EQ(encode_wbxml(back), out);
}

TEST(WbxmlCodecEncode, AddedCommandGrowsTheMessageByItsEncodedSize) {
  Message m = devinf_put(SyncMLVersion::k12, syncml("buteo-syncml/devinf02.txt"));
  for (SyncMLVersion v : {SyncMLVersion::k10, SyncMLVersion::k11, SyncMLVersion::k12}) {
    m.version = v;
    size_t before = encode_wbxml(m).size();
    Item item;
    item.target = LocRef{"card", ""};
    item.meta = Meta{};
    item.meta->anchor = MetAnchor{"1", "2"};
    Command alert = command(CommandKind::kAlert, 9, {item});
    alert.code = 201;
    m.commands.push_back(alert);
    EXPECT_EQ(encode_wbxml(m).size() - before, encoded_wbxml_size(alert, v));
    EXPECT_EQ(sum_of_sizes(m), encode_wbxml(m).size());
    m.commands.pop_back();
  }
}

// ---------------------------------------------------------------------------
// DevInf as an OPAQUE sub-document

// Every command of the representation protocol, with the flags and
// references a server reads, survives both encodings (RepPro §"Commands").
Message every_command_message(SyncMLVersion version) {
  Message m = minimal_message(version);
  m.hdr.no_resp = true;
  auto item_with = [](const char* source, const char* target) {
    Item item;
    if (source) item.source = LocRef{source, ""};
    if (target) item.target = LocRef{target, ""};
    return item;
  };
  Command status = command(CommandKind::kStatus, 1);
  status.target_refs = {"contacts", "./other"};
  status.source_refs = {"L1", "L2"};
  status.chal = Chal{};
  status.chal->meta.type = "syncml:auth-md5";
  status.chal->meta.next_nonce = "MTIzNDU2Nzg=";
  Command alert = command(CommandKind::kAlert, 2, {item_with("./contacts", "contacts")});
  alert.code = 200;
  alert.cred = Cred{};
  alert.cred->meta.type = "syncml:auth-basic";
  alert.cred->data = "YWxpY2U6c2VjcmV0";
  Command add = command(CommandKind::kAdd, 5, {item_with("L1", nullptr)});
  add.no_resp = true;
  add.items[0].data_kind = DataKind::kText;
  add.items[0].data = "BEGIN:VCARD";
  Command del = command(CommandKind::kDelete, 6, {item_with("L2", nullptr)});
  del.archive = true;
  del.sft_del = true;
  Command copy = command(CommandKind::kCopy, 7, {item_with("L3", "g-3")});
  Command move = command(CommandKind::kMove, 8, {item_with("L4", nullptr)});
  if (version == SyncMLVersion::k12) move.items[0].target_parent = LocRef{"folder-2", ""};
  Command sequence = command(CommandKind::kSequence, 9);
  sequence.children = {command(CommandKind::kReplace, 10, {item_with("L5", nullptr)})};
  Command inner_atomic = command(CommandKind::kAtomic, 4);
  inner_atomic.no_resp = true;
  inner_atomic.children = {add, del, copy, sequence};
  if (version == SyncMLVersion::k12) inner_atomic.children.push_back(move);
  Command sync = command(CommandKind::kSync, 3);
  sync.target = LocRef{"contacts", ""};
  sync.source = LocRef{"./contacts", ""};
  sync.children = {inner_atomic};
  Command atomic = command(CommandKind::kAtomic, 11);
  atomic.children = {sync};
  Command exec = command(CommandKind::kExec, 12, {item_with(nullptr, "./bin/x")});
  Command search = command(CommandKind::kSearch, 13);
  search.target = LocRef{"contacts", ""};
  Command results = command(CommandKind::kResults, 14, {item_with("./devinf12", nullptr)});
  results.msg_ref = "1";
  results.cmd_ref = "2";
  results.target_refs = {"./devinf12"};
  results.source_refs = {"./devinf12"};
  m.commands = {status, alert, atomic, exec, search, results};
  m.final = true;
  return m;
}

TEST(CodecRoundTrip, EveryCommandFlagAndReferenceInXmlAndWbxml) {
  for (SyncMLVersion version : {SyncMLVersion::k10, SyncMLVersion::k11, SyncMLVersion::k12}) {
    SCOPED_TRACE(ver_dtd(version));
    const Message m = every_command_message(version);
    std::vector<std::pair<std::string, conflux::Result<Message>>> decoded;
    decoded.emplace_back("xml", decode_xml(encode_xml(m)));
    decoded.emplace_back("wbxml", decode_wbxml(encode_wbxml(m)));
    for (const auto& [encoding, back] : decoded) {
      SCOPED_TRACE(encoding);
      ASSERT_TRUE(back.has_value()) << back.error().to_string();
      EXPECT_TRUE(same_model(m, *back));
      // The same facts read directly, so the check does not rest on the XML printer alone.
      EXPECT_EQ(back->version, version);
      EXPECT_TRUE(back->hdr.no_resp);
      const Command& status = back->commands[0];
      EXPECT_EQ(status.target_refs, (std::vector<std::string>{"contacts", "./other"}));
      EXPECT_EQ(status.source_refs, (std::vector<std::string>{"L1", "L2"}));
      EXPECT_EQ(status.msg_ref, "1");
      EXPECT_EQ(status.cmd_ref, "3");
      ASSERT_TRUE(back->commands[1].cred.has_value());
      const Command& atomic = back->commands[2];
      ASSERT_EQ(atomic.kind, CommandKind::kAtomic);
      ASSERT_EQ(atomic.children.size(), 1u);
      const Command& inner = atomic.children[0].children.at(0);
      EXPECT_EQ(inner.kind, CommandKind::kAtomic);
      EXPECT_TRUE(inner.no_resp);
      ASSERT_GE(inner.children.size(), 4u);
      EXPECT_TRUE(inner.children[0].no_resp);
      EXPECT_TRUE(inner.children[1].archive);
      EXPECT_TRUE(inner.children[1].sft_del);
      EXPECT_EQ(inner.children[2].kind, CommandKind::kCopy);
      EXPECT_EQ(inner.children[3].children.at(0).kind, CommandKind::kReplace);
      if (version == SyncMLVersion::k12) {
        ASSERT_EQ(inner.children.size(), 5u);
        EXPECT_EQ(inner.children[4].items[0].target_parent->loc_uri, "folder-2");
      }
      EXPECT_EQ(back->commands[3].kind, CommandKind::kExec);
      EXPECT_EQ(back->commands[4].kind, CommandKind::kSearch);
      EXPECT_EQ(back->commands[5].cmd_ref, "2");
      EXPECT_EQ(back->commands[5].source_refs, std::vector<std::string>{"./devinf12"});
    }
  }
}

TEST(WbxmlCodecDevInf, Put12IsAWbxmlDevInfDocumentAndReadsBack) {
  DECODE_OR_FAIL(xml, decode_xml, syncml("buteo-syncml/transport_initrequest_nohdr.txt"));
  std::string out = encode_wbxml(xml);
  // Data with content, OPAQUE (length as mb_u_int32), then DevInf 1.2:
  // WBXML 1.2, public id 0x1203, UTF-8, empty string table, DevInf + content.
  size_t sub = out.find(bytes({0x02, 0xA4, 0x03, 0x6A, 0x00, 0x4A}));
  ASSERT_NE(sub, std::string::npos);
  ASSERT_GE(sub, 4u);
  EXPECT_EQ(out.substr(sub - 4, 2), bytes({0x4F, 0xC3}));
  EXPECT_EQ(out[sub - 2] & 0x80, 0x80);  // over 127 bytes: two length bytes

  DECODE_OR_FAIL(back, decode_wbxml, out);
  const Item& item = back.commands.at(0).items.at(0);
  ASSERT_EQ(item.data_kind, DataKind::kXml);
  EXPECT_EQ(item.data, xml.commands.at(0).items.at(0).data);
  auto devinf = parse_devinf_xml(item.data);
  ASSERT_TRUE(devinf.has_value()) << devinf.error().to_string();
  EXPECT_EQ(devinf->man, "Nokia");
  EXPECT_EQ(devinf->dev_id, "DeviceID");
  ASSERT_EQ(devinf->datastores.size(), 1u);
  EXPECT_EQ(devinf->datastores[0].sync_types, (std::vector<int>{1, 2, 3, 4, 5, 6, 7}));
}

TEST(WbxmlCodecDevInf, SizeIs0x1CIn11AndMaxSizeIn12) {
  // DevInf 1.1 (one CTCap with <Size>) in a SyncML 1.1 message.
  Message v11 = devinf_put(SyncMLVersion::k11, syncml("buteo-syncml/devinf01.txt"));
  std::string out11 = encode_wbxml(v11);
  size_t sub = out11.find(bytes({0x02, 0x9F, 0x54, 0x6A, 0x00, 0x4A}));
  ASSERT_NE(sub, std::string::npos);
  EXPECT_NE(out11.find('\x5C', sub), std::string::npos);  // Size with content
  DECODE_OR_FAIL(back11, decode_wbxml, out11);
  EXPECT_TRUE(same_model(v11, back11));

  // DevInf 1.2 (MaxSize in Property) in a SyncML 1.2 message.
  Message v12 = devinf_put(SyncMLVersion::k12, syncml("buteo-syncml/devinf02.txt"));
  std::string out12 = encode_wbxml(v12);
  ASSERT_NE(out12.find(bytes({0x02, 0xA4, 0x03, 0x6A, 0x00, 0x4A})), std::string::npos);
  DECODE_OR_FAIL(back12, decode_wbxml, out12);
  EXPECT_TRUE(same_model(v12, back12));
  EXPECT_NE(back12.commands.at(0).items.at(0).data.find("<MaxSize>"), std::string::npos);

  // The 1.1 document in a 1.2 message: DevInf 1.2 has no Size token, so the
  // sub-document names it in its string table (LITERAL).
  Message mixed = devinf_put(SyncMLVersion::k12, syncml("buteo-syncml/devinf01.txt"));
  std::string out_mixed = encode_wbxml(mixed);
  ASSERT_NE(out_mixed.find(bytes({0x02, 0xA4, 0x03, 0x6A, 0x05}) + "Size" + std::string(1, '\0')), std::string::npos);
  DECODE_OR_FAIL(back_mixed, decode_wbxml, out_mixed);
  EXPECT_TRUE(same_model(mixed, back_mixed));
  EXPECT_EQ(sum_of_sizes(mixed), out_mixed.size());
}

// libsynthesis writes the sub-document's public id as a string-table FPI
// without a terminating NUL (reference §13).
std::string libsynthesis_devinf(const std::string& body) {
  const std::string fpi = "-//SYNCML//DTD DevInf 1.2//EN";
  return bytes({0x02, 0x00, 0x00, 0x6A, static_cast<int>(fpi.size())}) + fpi + body;
}

TEST(WbxmlCodecDevInf, SubDocumentWithStringFpiDecodes) {
  constexpr int kDevInf = 0x0A, kDevInfVerDTD = 0x25, kMan = 0x11, kUTC = 0x28;
  std::string devinf = libsynthesis_devinf(el(kDevInf, el(kDevInfVerDTD, str_i("1.2")) + el(kMan, str_i("Synthesis")) +
                                                           std::string(1, static_cast<char>(kUTC))));
  DECODE_OR_FAIL(m, decode_wbxml, wbxml_message(put_with_data(opaque(devinf))));
  const Item& item = m.commands.at(0).items.at(0);
  ASSERT_EQ(item.data_kind, DataKind::kXml);
  EXPECT_EQ(item.data, "<DevInf xmlns=\"syncml:devinf\"><VerDTD>1.2</VerDTD><Man>Synthesis</Man><UTC/></DevInf>");
  auto parsed = parse_devinf_xml(item.data);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().to_string();
  EXPECT_EQ(parsed->man, "Synthesis");
  EXPECT_TRUE(parsed->utc);
}

TEST(WbxmlCodecDevInf, OpaqueThatIsNotAGoodDevInfStaysData) {
  constexpr int kDevInf = 0x0A, kMan = 0x11;
  const std::string cases[] = {
      libsynthesis_devinf(el(kDevInf, el(kMan, str_i("x")))).substr(0, 40),  // truncated
      libsynthesis_devinf(el(kDevInf, std::string(1, '\x3F'))),              // unknown token
      libsynthesis_devinf(el(kMan, str_i("x"))),                             // root is not DevInf
      bytes({0x02, 0xA4, 0x01, 0x6A, 0x00}) + el(kSyncML, ""),               // a SyncML document
      std::string("BEGIN:VCARD\r\nEND:VCARD\r\n"),                           // just data
  };
  for (const std::string& payload : cases) {
    SCOPED_TRACE(payload);
    DECODE_OR_FAIL(m, decode_wbxml, wbxml_message(put_with_data(opaque(payload))));
    const Item& item = m.commands.at(0).items.at(0);
    EXPECT_EQ(item.data_kind, DataKind::kText);
    EXPECT_EQ(item.data, payload);
  }
}

TEST(WbxmlCodecDevInf, SubDocumentCountsTowardsTheDepthLimit) {
  constexpr int kDevInf = 0x0A, kDataStore = 0x07, kSourceRef = 0x1D;
  std::string devinf = libsynthesis_devinf(el(kDevInf, el(kDataStore, el(kSourceRef, str_i("c")))));
  std::string message = wbxml_message(put_with_data(opaque(devinf)));
  // SyncML, SyncBody, Put, Item, Data: 5; DevInf, DataStore, SourceRef: 8.
  DecodeLimits limits;
  limits.max_depth = 8;
  DECODE_OR_FAIL(
      deep_enough, [&](const std::string& b) { return decode_wbxml(b, limits); }, message);
  EXPECT_EQ(deep_enough.commands.at(0).items.at(0).data_kind, DataKind::kXml);
  // One level less: the sub-document does not read, and stays opaque data.
  limits.max_depth = 7;
  DECODE_OR_FAIL(
      too_deep, [&](const std::string& b) { return decode_wbxml(b, limits); }, message);
  EXPECT_EQ(too_deep.commands.at(0).items.at(0).data_kind, DataKind::kText);
  EXPECT_EQ(too_deep.commands.at(0).items.at(0).data, devinf);
}

// ---------------------------------------------------------------------------
// Decoding rules

TEST(WbxmlCodecDecode, WbxmlVersionsPublicIdsAndCharsets) {
  const std::string body = el(kFinal, "");
  for (int version : {0x01, 0x02, 0x03}) {
    SCOPED_TRACE(version);
    DECODE_OR_FAIL(m, decode_wbxml, wbxml_message(body, bytes({version, 0xA4, 0x01, 0x6A, 0x00})));
    EXPECT_EQ(m.hdr.target.loc_uri, "srv");
  }
  // Public id as a string-table FPI, and public id 1 ("unknown").
  const std::string fpi = "-//SYNCML//DTD SyncML 1.2//EN";
  DECODE_OR_FAIL(by_fpi, decode_wbxml,
                 wbxml_message(body, bytes({0x03, 0x00, 0x00, 0x6A, 30}) + fpi + std::string(1, '\0')));
  EXPECT_EQ(by_fpi.version, SyncMLVersion::k12);
  DECODE_OR_FAIL(unknown_id, decode_wbxml, wbxml_message(body, bytes({0x03, 0x01, 0x6A, 0x00})));
  EXPECT_EQ(unknown_id.version, SyncMLVersion::k12);  // from VerDTD
  // Another charset (4 = ISO-8859-1) is fine while every string is ASCII.
  DECODE_OR_FAIL(latin1_ascii, decode_wbxml, wbxml_message(body, bytes({0x03, 0xA4, 0x01, 0x04, 0x00})));
  EXPECT_EQ(latin1_ascii.hdr.session_id, "7");
  expect_code(wbxml_message(put_with_data(str_i("caf\xE9")), bytes({0x03, 0xA4, 0x01, 0x04, 0x00})),
              Code::kInvalidArgument, "charset");
  expect_code(wbxml_message(body, bytes({0x03, 0xA4, 0x01, 0x04, 0x02, 0xE9, 0x00})), Code::kInvalidArgument,
              "charset");
  // UTF-8 text passes untouched.
  DECODE_OR_FAIL(utf8, decode_wbxml, wbxml_message(put_with_data(str_i("caf\xC3\xA9"))));
  EXPECT_EQ(utf8.commands.at(0).items.at(0).data, "caf\xC3\xA9");
}

TEST(WbxmlCodecDecode, StringTableEntityOpaqueAndLiteralText) {
  // String table "vcard\0srv\0"; LocURI by STR_T, data by STR_T + ENTITY
  // (U+00E9) + OPAQUE, a tag given as LITERAL.
  std::string header = bytes({0x03, 0xA4, 0x01, 0x6A, 10}) + std::string("vcard\0srv\0", 10);
  std::string hdr =
      el(kSyncHdr, el(kVerDTD, str_i("1.2")) + el(kVerProto, str_i("SyncML/1.2")) + el(kSessionID, str_i("7")) +
                       el(kMsgID, str_i("1")) + el(kTarget, el(kLocURI, bytes({0x83, 6}))) +
                       el(kSource, el(kLocURI, str_i("dev"))));
  std::string data = bytes({0x83, 0x00, 0x02, 0x81, 0x69}) + opaque("!") + str_i("?");
  std::string message = header + el(kSyncML, hdr + el(kSyncBody, put_with_data(data)));
  DECODE_OR_FAIL(m, decode_wbxml, message);
  EXPECT_EQ(m.hdr.target.loc_uri, "srv");
  EXPECT_EQ(m.commands.at(0).items.at(0).data, "vcard\xC3\xA9!?");

  // LITERAL 0x44 (with content) naming "srv": an unknown element, skipped
  // as decode_xml skips unknown elements.
  std::string with_literal = header + el(kSyncML, hdr + el(kSyncBody, bytes({0x44, 6}) + str_i("x") + "\x01"));
  DECODE_OR_FAIL(lit, decode_wbxml, with_literal);
  EXPECT_TRUE(lit.commands.empty());
}

TEST(WbxmlCodecDecode, SourceParentIsReadIn11Documents) {
  // Nokia sends the 1.2 token SourceParent (0x39) in SyncML 1.1.
  std::string item = el(kItem, el(kSource, el(kLocURI, str_i("a"))) + el(kSourceParent, el(kLocURI, str_i("p"))));
  std::string message = bytes({0x03, 0x9F, 0x53, 0x6A, 0x00}) +
                        el(kSyncML, sync_hdr("1.1") + el(kSyncBody, el(0x05, el(kCmdID, str_i("1")) + item)));
  DECODE_OR_FAIL(m, decode_wbxml, message);
  EXPECT_EQ(m.version, SyncMLVersion::k11);
  ASSERT_TRUE(m.commands.at(0).items.at(0).source_parent.has_value());
  EXPECT_EQ(m.commands[0].items[0].source_parent->loc_uri, "p");
}

TEST(WbxmlCodecDecode, MetInfWithOrWithoutPageSwitchBackAndXmlnsAttribute) {
  // Encoders differ: switch back to page 0 eagerly, or only when needed;
  // some add xmlns as an attribute too. All read the same.
  const std::string page0 = bytes({0x00, 0x00});
  const std::string type = bytes({0x00, 0x01, 0x53}) + str_i("text/vcard") + "\x01";
  const std::string xmlns_attr = bytes({0x00, 0x01, 0xD3, 0x04, 0x00, 0x83, 0x06, 0x01}) + str_i("text/vcard") + "\x01";
  const std::string table = std::string("xmlns\0syncml:metinf\0", 20);
  const std::string variants[][2] = {
      {kHeader12, el(kMeta, type + page0)},  // eager: back to page 0 inside Meta
      {kHeader12, el(kMeta, type) + page0},  // lazy: only before the next SyncML tag
      {bytes({0x03, 0xA4, 0x01, 0x6A, 20}) + table, el(kMeta, xmlns_attr) + page0},
  };
  for (const auto& [header, meta] : variants) {
    std::string put = el(kPut, el(kCmdID, str_i("1")) + meta + el(kItem, el(kData, str_i("x"))));
    DECODE_OR_FAIL(m, decode_wbxml, wbxml_message(put + std::string(1, static_cast<char>(kFinal)), header));
    EXPECT_EQ(m.commands.at(0).meta->type, "text/vcard");
    EXPECT_TRUE(m.final);
  }
}

TEST(WbxmlCodecDecode, LayoutWhitespaceIsDroppedAsInXml) {
  DECODE_OR_FAIL(m, decode_wbxml, wbxml_message(put_with_data(str_i("  \r\n")) + str_i("\n")));
  EXPECT_EQ(m.commands.at(0).items.at(0).data_kind, DataKind::kText);
  EXPECT_EQ(m.commands[0].items[0].data, "");
  DECODE_OR_FAIL(o, decode_wbxml, wbxml_message(put_with_data(opaque("  "))));
  EXPECT_EQ(o.commands.at(0).items.at(0).data, "  ");  // OPAQUE is data
}

// ---------------------------------------------------------------------------
// Malformed and hostile input

TEST(WbxmlCodecMalformed, LibwbxmlFuzzFilesGiveAStatus) {
  const std::vector<std::string> files = files_in("malformed/libwbxml-fuzz", {".wbxml"});
  ASSERT_EQ(files.size(), 3u);
  for (const std::string& file : files) {
    SCOPED_TRACE(file);
    const std::string fuzz = read_file(kDataDir / "malformed/libwbxml-fuzz" / file);
    expect_code(fuzz, Code::kInvalidArgument);  // their headers already fail
    // The same bytes as the body of a valid SyncML header, from every offset,
    // so the token reader sees them too.
    for (size_t start = 0; start < fuzz.size(); ++start) {
      auto r = decode_wbxml(kHeader12 + fuzz.substr(start));
      ASSERT_FALSE(r.has_value()) << "decoded from offset " << start;
    }
  }
}

// A message with every construct: MetInf, Anchor data, DevInf sub-document,
// binary data, empty elements.
std::string rich_message() {
  auto decoded = decode_xml(syncml("buteo-syncml/transport_initrequest_nohdr.txt"));
  EXPECT_TRUE(decoded.has_value());
  Message m = decoded.has_value() ? *decoded : Message{};
  std::vector<Item> items = {data_item(DataKind::kXml, kAnchorXml), data_item(DataKind::kText, std::string("a\0b", 3))};
  m.commands.push_back(command(CommandKind::kStatus, 9, std::move(items)));
  return encode_wbxml(m);
}

TEST(WbxmlCodecMalformed, EveryPrefixOfARealMessageIsRejected) {
  for (const std::string& full : {syncml("xml-wbxml-syncml/my-010.wbxml"), syncml("xml-wbxml-syncml/my-005.wbxml"),
                                  syncml("buteo-syncml/basicbasetransport.bin"), rich_message()}) {
    ASSERT_TRUE(decode_wbxml(full).has_value());
    for (size_t len = 0; len < full.size(); ++len) {
      auto r = decode_wbxml(std::string_view(full).substr(0, len));
      ASSERT_FALSE(r.has_value()) << "prefix of " << len << " bytes decoded";
      EXPECT_EQ(r.error().code(), Code::kInvalidArgument) << r.error().to_string();
    }
  }
}

TEST(WbxmlCodecMalformed, CorruptingAnyByteNeverCrashes) {
  for (const std::string& full : {syncml("xml-wbxml-syncml/my-009.wbxml"), rich_message()}) {
    size_t failures = 0;
    for (size_t at = 0; at < full.size(); ++at) {
      for (int value : {0x00, 0x01, 0xC3, 0xFF}) {  // SWITCH_PAGE/NUL, END, OPAQUE, all bits
        std::string bad = full;
        bad[at] = static_cast<char>(value);
        auto r = decode_wbxml(bad);  // a Message or a Status; ASan/UBSan watch
        if (!r.has_value()) ++failures;
      }
    }
    EXPECT_GT(failures, 0u);
  }
}

TEST(WbxmlCodecMalformed, BadHeaders) {
  expect_code("", Code::kInvalidArgument, "empty");
  expect_code(bytes({0x03}), Code::kInvalidArgument, "truncated");
  expect_code(bytes({0x00, 0xA4, 0x01, 0x6A, 0x00}) + el(kSyncML, ""), Code::kInvalidArgument, "version");
  expect_code(bytes({0x04, 0xA4, 0x01, 0x6A, 0x00}) + el(kSyncML, ""), Code::kInvalidArgument, "version");
  expect_code(bytes({0x03, 0x04, 0x6A, 0x00}) + el(kSyncML, ""), Code::kInvalidArgument, "neither SyncML");
  expect_code(bytes({0x03, 0xA4, 0x03, 0x6A, 0x00}) + el(0x0A, ""), Code::kInvalidArgument, "DevInf");
  expect_code(bytes({0x03, 0x00, 0x00, 0x6A, 0x05}) + "-//X\0" + el(kSyncML, ""), Code::kInvalidArgument,
              "neither SyncML");
  // String table longer than the input; FPI index past the table.
  expect_code(bytes({0x03, 0xA4, 0x01, 0x6A, 0x8F, 0xFF, 0xFF, 0xFF, 0x7F}), Code::kInvalidArgument,
              "runs past the end");
  expect_code(bytes({0x03, 0x00, 0x09, 0x6A, 0x02, 'a', 0x00}) + el(kSyncML, ""), Code::kInvalidArgument,
              "out of range");
}

TEST(WbxmlCodecMalformed, BadMultiByteIntegers) {
  // Six continuation bytes; a value over 32 bits; one that ends with the input.
  expect_code(bytes({0x03, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0x6A, 0x00}), Code::kInvalidArgument,
              "longer than 5 bytes");
  expect_code(bytes({0x03, 0xA4, 0x01, 0x90, 0x80, 0x80, 0x80, 0x00, 0x00}), Code::kInvalidArgument, "exceeds 32 bits");
  expect_code(bytes({0x03, 0xA4, 0x81}), Code::kInvalidArgument, "truncated");
  expect_code(wbxml_message(put_with_data(bytes({0x02, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F}))), Code::kInvalidArgument,
              "exceeds 32 bits");
}

TEST(WbxmlCodecMalformed, LengthsAndIndexesPastTheirEnd) {
  // OPAQUE of 4 GiB - 1 bytes in a short message.
  expect_code(wbxml_message(put_with_data(bytes({0xC3, 0x8F, 0xFF, 0xFF, 0xFF, 0x7F}) + "abc")), Code::kInvalidArgument,
              "runs past the end");
  // STR_T with an empty string table; LITERAL tag and attribute name likewise.
  expect_code(wbxml_message(put_with_data(bytes({0x83, 0x05}))), Code::kInvalidArgument, "out of range");
  expect_code(wbxml_message(bytes({0x44, 0x00, 0x01})), Code::kInvalidArgument, "out of range");
  expect_code(wbxml_message(bytes({0x86, 0x04, 0x00, 0x01})), Code::kInvalidArgument, "out of range");
  // STR_I without its NUL at the very end.
  std::string cut = wbxml_message(put_with_data(str_i("x")));
  expect_code(cut.substr(0, cut.find("x") + 1), Code::kInvalidArgument, "NUL");
}

TEST(WbxmlCodecMalformed, UnknownTokensPagesAndAttributes) {
  const std::pair<std::string, std::string> cases[] = {
      {bytes({0x30}), "unknown tag 0x30"},  // page 0 gap
      {bytes({0x7F, 0x01}), "unknown tag 0x3F"},
      {bytes({0x00, 0x01, 0x3F}), "unknown tag 0x3F on code page 1"},
      {bytes({0x00, 0x02}), "code page 2"},                                 // e.g. DM's DDF
      {bytes({0x40, 'x', 0x00}), "extension or PI"},                        // EXT_I_0
      {bytes({0x80, 0x01}), "extension or PI"},                             // EXT_T_0
      {bytes({0xC0}), "extension or PI"},                                   // EXT_0
      {bytes({0x43, 0x01}), "extension or PI"},                             // PI
      {bytes({0x86, 0x85, 0x01}), "attribute token 0x85"},                  // Alert with an attribute token
      {bytes({0x86, 0x03, 'v', 0x00, 0x01}), "without a name"},             // value before any name
      {put_with_data(bytes({0x02, 0x00})), "not a character"},              // ENTITY 0
      {put_with_data(bytes({0x02, 0x83, 0xB0, 0x00})), "not a character"},  // U+D800
      {put_with_data(bytes({0x02, 0xC4, 0x80, 0x00})), "not a character"},  // U+110000
      {el(kAlert, el(kCmdID, opaque(std::string("1\0", 2)))), "binary data (NUL or not UTF-8) in <CmdID>"},
      {el(kAlert, el(kCmdID, opaque(std::string("1\xff", 2)))), "binary data (NUL or not UTF-8) in <CmdID>"},
      {put_with_data(opaque(std::string("a\0", 2)) + el(kMeta, "")), "beside binary data"},
  };
  for (const auto& [body, mentions] : cases) {
    SCOPED_TRACE(mentions);
    expect_code(wbxml_message(body), Code::kInvalidArgument, mentions);
  }
  // Attributes with string-table names must be XML names and appear once.
  std::string table = std::string("a b\0id\0", 7);
  std::string header = bytes({0x03, 0xA4, 0x01, 0x6A, 7}) + table;
  expect_code(wbxml_message(bytes({0x86, 0x04, 0x00, 0x01, 0x01}), header), Code::kInvalidArgument, "not an XML name");
  expect_code(wbxml_message(bytes({0x86, 0x04, 0x04, 0x04, 0x04, 0x01, 0x01}), header), Code::kInvalidArgument,
              "given twice");
  DECODE_OR_FAIL(ok, decode_wbxml,
                 wbxml_message(el(kAlert | 0x80, std::string("\x04\x04\x03v\x00\x01", 6) + el(kCmdID, str_i("1")) +
                                                     el(kData, str_i("200"))),
                               header));
  EXPECT_EQ(ok.commands.at(0).code, 200);
}

TEST(WbxmlCodecMalformed, StructureAroundTheRoot) {
  expect_code(kHeader12, Code::kInvalidArgument, "no root element");
  expect_code(kHeader12 + "\x01", Code::kInvalidArgument, "END outside");
  expect_code(kHeader12 + str_i("x") + el(kSyncML, ""), Code::kInvalidArgument, "outside the root");
  expect_code(wbxml_message("") + "\x12", Code::kInvalidArgument, "after the root");
  expect_code(kHeader12 + el(kSyncML, el(kSyncBody, "")), Code::kInvalidArgument, "no SyncHdr");
  expect_code(kHeader12 + el(kSyncHdr, ""), Code::kInvalidArgument, "not <SyncML>");
  expect_code(kHeader12 + el(kSyncML, sync_hdr()), Code::kInvalidArgument, "no SyncBody");
  expect_code(wbxml_message(el(kAlert, el(kCmdID, str_i("x")))), Code::kInvalidArgument, "CmdID");
}

TEST(WbxmlCodecLimits, DepthBombStopsAtTheLimit) {
  // 1 MB of nested Atomic tokens, no END: rejected at depth 33, quickly.
  std::string bomb = kHeader12 + "\x6D" + sync_hdr() + "\x6B" + std::string(1000000, static_cast<char>(kAtomic | 0x40));
  expect_code(bomb, Code::kResourceExhausted, "nesting");
  DecodeLimits limits;
  limits.max_depth = 3;  // SyncML, SyncHdr, Target, LocURI
  expect_code(wbxml_message(""), Code::kResourceExhausted, "nesting", limits);
}

TEST(WbxmlCodecLimits, ElementsCommandsAndBytes) {
  std::string adds;
  for (int i = 1; i <= 60; ++i) adds += el(0x05, el(kCmdID, str_i(std::to_string(i))));
  std::string message = wbxml_message(el(0x2A, el(kCmdID, str_i("100")) + adds));
  DecodeLimits limits;
  limits.max_elements = 100;
  expect_code(message, Code::kResourceExhausted, "elements", limits);
  limits = {};
  limits.max_commands = 50;
  expect_code(message, Code::kResourceExhausted, "commands", limits);
  limits.max_commands = 61;
  EXPECT_TRUE(decode_wbxml(message, limits).has_value());
  limits.max_bytes = message.size() - 1;
  expect_code(message, Code::kResourceExhausted, "exceeds", limits);
  limits.max_bytes = message.size();
  EXPECT_TRUE(decode_wbxml(message, limits).has_value());
}

TEST(WbxmlCodecLimits, StringTableCannotAmplifyText) {
  // 1000-byte string-table entry, referenced 5000 times by 2-byte STR_T:
  // 10 kB of input that would decode to 5 MB of text.
  std::string table = std::string(1000, 'a') + std::string(1, '\0');
  std::string header = bytes({0x03, 0xA4, 0x01, 0x6A, 0x87, 0x69}) + table;  // 1001 = 0x07 0x69
  std::string refs;
  for (int i = 0; i < 5000; ++i) refs += bytes({0x83, 0x00});
  std::string message = wbxml_message(put_with_data(refs), header);
  ASSERT_LT(message.size(), 20000u);
  expect_code(message, Code::kResourceExhausted, "text decodes to more than");
  // The same bytes referenced a few times are fine.
  DECODE_OR_FAIL(m, decode_wbxml, wbxml_message(put_with_data(bytes({0x83, 0x00, 0x83, 0x00})), header));
  EXPECT_EQ(m.commands.at(0).items.at(0).data.size(), 2000u);
}

TEST(WbxmlCodecLimits, AttributeCountIsCapped) {
  std::string table, attributes;
  for (int i = 0; i < 20; ++i) {
    attributes += bytes({0x04, static_cast<int>(table.size())}) + str_i("v");
    table += "a" + std::to_string(i) + std::string(1, '\0');
  }
  std::string header = bytes({0x03, 0xA4, 0x01, 0x6A, static_cast<int>(table.size())}) + table;
  expect_code(wbxml_message(bytes({0x86}) + attributes + "\x01", header), Code::kResourceExhausted, "attributes");
}

}  // namespace
