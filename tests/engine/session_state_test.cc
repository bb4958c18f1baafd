// Session state survives a trip through the state store byte for byte, and a
// blob this version cannot read is refused, never half-read.
#include "engine/session_state.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <string>

namespace conflux::engine {
namespace {

using protocol::CommandKind;

SessionState full_state() {
  SessionState s;
  s.key = SessionKey("0123456789abcdef0123456789abcdef");
  s.device = DeviceId("IMEI:35-1234");
  s.client_session_id = "17";
  s.version = protocol::SyncMLVersion::k11;
  s.phase = Phase::kServerSync;
  s.server_msg_id = 4;
  s.last_client_msg_id = "5";
  s.authenticated = true;
  s.auth_failures = 1;
  s.user = UserId("alice");
  s.token = "v1.YWxpY2U=.1.1700003600.abcdef";
  s.client_max_msg_size = 150000;

  DatastoreState d;
  d.server_uri = "contacts";
  d.client_uri = "./Contacts";
  d.sync_type = protocol::SyncType::kSlow;
  d.client_last = "41";
  d.client_next = "42";
  d.server_next = Anchor("99");
  d.content_type = "text/vcard";
  d.client_sync_seen = true;
  d.server_sync_sent = true;
  d.slow_seen_luids = {"1", "2", "3"};
  d.outgoing = {Outgoing{CommandKind::kAdd, Guid("g1"), Luid()}, Outgoing{CommandKind::kReplace, Guid("g2"), Luid("7")},
                Outgoing{CommandKind::kDelete, Guid("g3"), Luid("8")}};
  d.awaiting_status[CommandRef{"3", "5"}] = {SentItem{CommandKind::kAdd, Guid("g4"), Luid(), Anchor("97")}};
  d.awaiting_status[CommandRef{"3", "6"}] = {SentItem{CommandKind::kReplace, Guid("g5"), Luid("9"), Anchor("98")},
                                             SentItem{CommandKind::kDelete, Guid("g6"), Luid("10"), Anchor()}};
  d.awaiting_map["g4"] = Anchor("97");
  d.counts.client_adds = 1;
  d.counts.client_updates = 2;
  d.counts.client_deletes = 3;
  d.counts.client_errors = 4;
  d.counts.server_adds = 5;
  d.counts.server_updates = 6;
  d.counts.server_deletes = 7;
  d.prepared = true;
  d.resumed = true;
  d.unacknowledged_adds = {"g4"};
  d.rejected_guids = {"g7"};
  d.partial = PartialItem{CommandKind::kReplace, "12", "text/x-s4j-sifc", protocol::ItemFormat::kB64, 300, "QkVH"};
  d.problems = {ItemProblem{ItemProblem::Direction::kFromDevice, "11", 400, "add failed"},
                ItemProblem{ItemProblem::Direction::kToDevice, "g7", 415, "refused by the device"}};
  s.datastores.push_back(d);
  s.suspended = true;

  DatastoreState notes;
  notes.server_uri = "notes";
  notes.client_uri = "./Notes";
  s.datastores.push_back(notes);
  return s;
}

void expect_same(const DatastoreState& a, const DatastoreState& b) {
  EXPECT_EQ(a.server_uri, b.server_uri);
  EXPECT_EQ(a.client_uri, b.client_uri);
  EXPECT_EQ(a.sync_type, b.sync_type);
  EXPECT_EQ(a.client_last, b.client_last);
  EXPECT_EQ(a.client_next, b.client_next);
  EXPECT_EQ(a.server_next, b.server_next);
  EXPECT_EQ(a.content_type, b.content_type);
  EXPECT_EQ(a.client_sync_seen, b.client_sync_seen);
  EXPECT_EQ(a.server_sync_sent, b.server_sync_sent);
  EXPECT_EQ(a.slow_seen_luids, b.slow_seen_luids);
  EXPECT_EQ(a.slow_claimed_guids, b.slow_claimed_guids);
  ASSERT_EQ(a.outgoing.size(), b.outgoing.size());
  for (size_t i = 0; i < a.outgoing.size(); ++i) {
    EXPECT_EQ(a.outgoing[i].kind, b.outgoing[i].kind);
    EXPECT_EQ(a.outgoing[i].guid, b.outgoing[i].guid);
    EXPECT_EQ(a.outgoing[i].luid, b.outgoing[i].luid);
  }
  ASSERT_EQ(a.awaiting_status.size(), b.awaiting_status.size());
  for (const auto& [ref, items] : a.awaiting_status) {
    ASSERT_TRUE(b.awaiting_status.count(ref)) << ref.str();
    const auto& other = b.awaiting_status.at(ref);
    ASSERT_EQ(items.size(), other.size());
    for (size_t i = 0; i < items.size(); ++i) {
      EXPECT_EQ(items[i].kind, other[i].kind);
      EXPECT_EQ(items[i].guid, other[i].guid);
      EXPECT_EQ(items[i].luid, other[i].luid);
      EXPECT_EQ(items[i].anchor, other[i].anchor);
    }
  }
  EXPECT_EQ(a.awaiting_map, b.awaiting_map);
  ASSERT_EQ(a.partial.has_value(), b.partial.has_value());
  if (a.partial) {
    EXPECT_EQ(a.partial->kind, b.partial->kind);
    EXPECT_EQ(a.partial->luid, b.partial->luid);
    EXPECT_EQ(a.partial->type, b.partial->type);
    EXPECT_EQ(a.partial->format, b.partial->format);
    EXPECT_EQ(a.partial->declared_size, b.partial->declared_size);
    EXPECT_EQ(a.partial->data, b.partial->data);
  }
  EXPECT_EQ(a.prepared, b.prepared);
  EXPECT_EQ(a.resumed, b.resumed);
  EXPECT_EQ(a.unacknowledged_adds, b.unacknowledged_adds);
  EXPECT_EQ(a.rejected_guids, b.rejected_guids);
  ASSERT_EQ(a.problems.size(), b.problems.size());
  for (size_t i = 0; i < a.problems.size(); ++i) {
    EXPECT_EQ(a.problems[i].direction, b.problems[i].direction);
    EXPECT_EQ(a.problems[i].item, b.problems[i].item);
    EXPECT_EQ(a.problems[i].status, b.problems[i].status);
    EXPECT_EQ(a.problems[i].what, b.problems[i].what);
  }
  EXPECT_EQ(a.counts.client_adds, b.counts.client_adds);
  EXPECT_EQ(a.counts.client_updates, b.counts.client_updates);
  EXPECT_EQ(a.counts.client_deletes, b.counts.client_deletes);
  EXPECT_EQ(a.counts.client_errors, b.counts.client_errors);
  EXPECT_EQ(a.counts.server_adds, b.counts.server_adds);
  EXPECT_EQ(a.counts.server_updates, b.counts.server_updates);
  EXPECT_EQ(a.counts.server_deletes, b.counts.server_deletes);
}

TEST(SessionStateTest, RoundTripKeepsEveryField) {
  const SessionState in = full_state();
  SessionState out;
  ASSERT_TRUE(deserialize(serialize(in), out));
  EXPECT_EQ(out.key, in.key);
  EXPECT_EQ(out.device, in.device);
  EXPECT_EQ(out.client_session_id, in.client_session_id);
  EXPECT_EQ(out.version, in.version);
  EXPECT_EQ(out.phase, in.phase);
  EXPECT_EQ(out.server_msg_id, in.server_msg_id);
  EXPECT_EQ(out.last_client_msg_id, in.last_client_msg_id);
  EXPECT_EQ(out.authenticated, in.authenticated);
  EXPECT_EQ(out.auth_failures, in.auth_failures);
  EXPECT_EQ(out.user, in.user);
  EXPECT_EQ(out.token, in.token);
  EXPECT_EQ(out.client_max_msg_size, in.client_max_msg_size);
  EXPECT_EQ(out.suspended, in.suspended);
  ASSERT_EQ(out.datastores.size(), 2u);
  expect_same(in.datastores[0], out.datastores[0]);
  expect_same(in.datastores[1], out.datastores[1]);
  // Serialising again gives the same bytes.
  EXPECT_EQ(serialize(out), serialize(in));
}

TEST(SessionStateTest, RoundTripOfAFreshSession) {
  SessionState in;
  in.key = SessionKey("k");
  SessionState out;
  ASSERT_TRUE(deserialize(serialize(in), out));
  EXPECT_EQ(out.key, in.key);
  EXPECT_EQ(out.phase, Phase::kInit);
  EXPECT_FALSE(out.authenticated);
  EXPECT_TRUE(out.datastores.empty());
}

TEST(SessionStateTest, DeserializeReplacesPreviousDatastores) {
  SessionState out = full_state();
  SessionState small;
  small.key = SessionKey("k");
  ASSERT_TRUE(deserialize(serialize(small), out));
  EXPECT_TRUE(out.datastores.empty());
}

TEST(SessionStateTest, Utf8AndSpecialCharactersSurvive) {
  SessionState in;
  in.key = SessionKey("k");
  in.user = UserId("j\xc3\xbcrgen \"the\" \\ user");
  in.device = DeviceId("syncevolution-\xe2\x9c\x93");
  SessionState out;
  ASSERT_TRUE(deserialize(serialize(in), out));
  EXPECT_EQ(out.user, in.user);
  EXPECT_EQ(out.device, in.device);
}

TEST(SessionStateTest, InvalidUtf8FromADeviceIsReplacedNotThrown) {
  SessionState in = full_state();
  in.datastores[0].slow_seen_luids.insert(std::string("bad\xff\xfe"));
  SessionState out;
  ASSERT_TRUE(deserialize(serialize(in), out));
  EXPECT_EQ(out.datastores[0].slow_seen_luids.size(), in.datastores[0].slow_seen_luids.size());
}

TEST(SessionStateTest, RejectsGarbage) {
  const std::string good = serialize(full_state());
  for (const std::string& blob : {std::string(), std::string("not json"), std::string("[]"), std::string("42"),
                                  std::string("{}"), std::string("{\"format\":2}"), std::string("{\"format\":1}"),
                                  good.substr(0, good.size() / 2), std::string("\xff\xfe\x00", 3)}) {
    SessionState out;
    EXPECT_FALSE(deserialize(blob, out)) << blob;
  }
}

TEST(SessionStateTest, RejectsAnotherFormatVersion) {
  std::string blob = serialize(full_state());
  const std::string v1 = "\"format\":1";
  auto pos = blob.find(v1);
  ASSERT_NE(pos, std::string::npos) << blob;
  blob.replace(pos, v1.size(), "\"format\":2");
  SessionState out;
  EXPECT_FALSE(deserialize(blob, out));
}

TEST(SessionStateTest, RejectsWrongFieldTypes) {
  std::string blob = serialize(full_state());
  const std::string field = "\"authenticated\":true";
  auto pos = blob.find(field);
  ASSERT_NE(pos, std::string::npos) << blob;
  blob.replace(pos, field.size(), "\"authenticated\":\"yes\"");
  SessionState out;
  EXPECT_FALSE(deserialize(blob, out));

  // A packed record with a field missing, or one not ended.
  std::string bad_outgoing = serialize(full_state());
  const std::string outgoing = "\"outgoing\":\"";
  pos = bad_outgoing.find(outgoing);
  ASSERT_NE(pos, std::string::npos);
  bad_outgoing.insert(pos + outgoing.size(), "3\\n");
  EXPECT_FALSE(deserialize(bad_outgoing, out));
  std::string unended = serialize(full_state());
  const std::string seen = "\"slow_seen\":\"1\\n2\\n3\\n\"";
  pos = unended.find(seen);
  ASSERT_NE(pos, std::string::npos) << unended;
  unended.replace(pos, seen.size(), "\"slow_seen\":\"1\\n2\"");
  ASSERT_TRUE(nlohmann::json::accept(unended));
  EXPECT_FALSE(deserialize(unended, out)) << unended;
}

// Issue #20 item 6: the collections that grow with the store are packed into
// one string each; ids from devices may hold the separators.
TEST(SessionStateTest, PackedCollectionsKeepSeparatorsAndEmptyIds) {
  SessionState in = full_state();
  DatastoreState& d = in.datastores[0];
  d.slow_seen_luids = {"a\tb", "c\nd", "e\\f", "", "\\n", "tail\\"};
  d.slow_claimed_guids = {"g1", "g\t2"};
  d.outgoing.push_back(Outgoing{CommandKind::kReplace, Guid("g\\9"), Luid("x\ty\n")});
  d.awaiting_map["g\n"] = Anchor("1\t2");
  d.awaiting_map[""] = Anchor();
  SessionState out;
  ASSERT_TRUE(deserialize(serialize(in), out));
  ASSERT_EQ(out.datastores.size(), 2u);
  expect_same(in.datastores[0], out.datastores[0]);
  expect_same(in.datastores[1], out.datastores[1]);
}

// Sessions saved before the packing (one JSON value per item) still load:
// a node upgraded mid-session picks them up.
TEST(SessionStateTest, ReadsCollectionsSavedAsJsonArrays) {
  const SessionState in = full_state();
  nlohmann::json j = nlohmann::json::parse(serialize(in));
  nlohmann::json& d = j["datastores"][0];
  d["slow_seen"] = in.datastores[0].slow_seen_luids;
  d["slow_claimed"] = nlohmann::json::array({"g8"});
  nlohmann::json outgoing = nlohmann::json::array();
  for (const auto& o : in.datastores[0].outgoing) {
    outgoing.push_back({static_cast<int>(o.kind), o.guid.str(), o.luid.str()});
  }
  d["outgoing"] = outgoing;
  d["awaiting_map"] = {{"g4", "97"}};
  SessionState out;
  ASSERT_TRUE(deserialize(j.dump(), out));
  SessionState expected = in;
  expected.datastores[0].slow_claimed_guids = {"g8"};
  expect_same(expected.datastores[0], out.datastores[0]);
}

// The key of a command awaiting its Status is "MsgID:CmdID"; a saved session
// with another key is damaged and refused, not half read.
TEST(SessionStateTest, RejectsAnAwaitingStatusKeyThatNamesNoCommand) {
  for (const std::string bad : {"35", ":5", "3:", ""}) {
    std::string blob = serialize(full_state());
    const std::string key = "\"3:5\"";
    auto pos = blob.find(key);
    ASSERT_NE(pos, std::string::npos) << blob;
    blob.replace(pos, key.size(), "\"" + bad + "\"");
    SessionState out;
    bool ok = true;
    EXPECT_NO_THROW(ok = deserialize(blob, out)) << bad;
    EXPECT_FALSE(ok) << bad;
  }
}

TEST(SessionStateTest, CommandRefReadsBackWhatItWrites) {
  const CommandRef ref{"12", "7"};
  EXPECT_EQ(ref.str(), "12:7");
  EXPECT_EQ(CommandRef::parse(ref.str()), ref);
  EXPECT_EQ(CommandRef::parse("12"), std::nullopt);
  EXPECT_LT((CommandRef{"2", "9"}), (CommandRef{"3", "1"}));
}

// A format field of the wrong type must be refused like any other garbage:
// deserialize() is on the per-message path, where nothing may throw
// (STYLE.md "Errors"). Separate test, so the failure names the cause.
TEST(SessionStateTest, RejectsFormatOfWrongTypeWithoutThrowing) {
  for (const std::string blob : {"{\"format\":\"1\"}", "{\"format\":null}", "{\"format\":[1]}"}) {
    SessionState out;
    bool ok = false;
    EXPECT_NO_THROW(ok = deserialize(blob, out)) << blob;
    EXPECT_FALSE(ok) << blob;
  }
}

TEST(SessionStateTest, FindDatastoreByEitherUri) {
  SessionState s = full_state();
  ASSERT_NE(s.find_by_server_uri("contacts"), nullptr);
  EXPECT_EQ(s.find_by_server_uri("contacts")->client_uri, "./Contacts");
  ASSERT_NE(s.find_by_client_uri("./Notes"), nullptr);
  EXPECT_EQ(s.find_by_client_uri("./Notes")->server_uri, "notes");
  EXPECT_EQ(s.find_by_server_uri("./Contacts"), nullptr);
  EXPECT_EQ(s.find_by_client_uri("calendar"), nullptr);
}

TEST(SessionStateTest, SyncTypeDirections) {
  DatastoreState d;
  // SYNCML-REFERENCE §4: which side sends changes in each sync type.
  using protocol::SyncType;
  const struct {
    SyncType type;
    bool server_sends;
    bool client_sends;
  } cases[] = {{SyncType::kTwoWay, true, true},
               {SyncType::kSlow, true, true},
               {SyncType::kOneWayFromClient, false, true},
               {SyncType::kRefreshFromClient, false, true},
               {SyncType::kOneWayFromServer, true, false},
               {SyncType::kRefreshFromServer, true, false}};
  for (const auto& c : cases) {
    d.sync_type = c.type;
    const char* name = protocol::sync_type_name(c.type);
    EXPECT_EQ(d.server_sends(), c.server_sends) << name;
    EXPECT_EQ(d.client_sends(), c.client_sends) << name;
    EXPECT_EQ(d.is_slow(), c.type == SyncType::kSlow) << name;
  }
}

TEST(SessionStateTest, PhaseNames) {
  EXPECT_STREQ(phase_name(Phase::kInit), "init");
  EXPECT_STREQ(phase_name(Phase::kClientSync), "client-sync");
  EXPECT_STREQ(phase_name(Phase::kServerSync), "server-sync");
  EXPECT_STREQ(phase_name(Phase::kMapping), "mapping");
  EXPECT_STREQ(phase_name(Phase::kDone), "done");
}

}  // namespace
}  // namespace conflux::engine
