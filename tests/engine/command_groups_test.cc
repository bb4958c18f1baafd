// Atomic, Sequence, Copy, Move, Exec, Search, soft delete, archive, NoResp,
// the references every Status carries, credentials on a datastore's Alert
// and SyncML 1.0: the engine over a real ContentManager and an in-memory
// back end.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "protocol/devinf.h"
#include "tests/engine/engine_harness.h"

namespace conflux::engine {
namespace {

using conflux::test::alert;
using conflux::test::basic_cred;
using conflux::test::change;
using conflux::test::Device;
using conflux::test::find_status;
using conflux::test::find_statuses;
using conflux::test::hdr_status_code;
using conflux::test::sync_cmd;
using conflux::test::SyncRun;
using conflux::test::vcard;
using protocol::Command;
using protocol::CommandKind;
using protocol::Message;

class CommandGroupsTest : public conflux::test::EngineHarness {
 protected:
  // A device holding `names` on both sides after a completed slow sync; its
  // LUIDs in `luids_`, in the order of `names`.
  void seed(Device& d, const std::vector<std::string>& names) {
    for (const auto& n : names) luids_.push_back(d.add(vcard(n)));
    ASSERT_TRUE(d.sync(201).completed);
  }

  // Starts a two-way session of `d` and leaves it waiting for pkg 3.
  void open_session(Device& d) {
    d.start_session();
    auto p1 = d.send({alert(200, "contacts", d.last_anchor, "next-1")}, true, true);
    ASSERT_TRUE(p1) << p1.error().to_string();
    ASSERT_EQ(hdr_status_code(p1->reply), 212);
    const Command* st = find_status(p1->reply, "Alert");
    ASSERT_NE(st, nullptr);
    ASSERT_EQ(st->code, 200);
  }

  Message send_sync(Device& d, std::vector<Command> children) {
    auto out = d.send({sync_cmd("contacts", std::move(children))}, true);
    EXPECT_TRUE(out) << out.error().to_string();
    return out ? out->reply : Message{};
  }

  std::set<std::string> mapped_luids(const Device& d) {
    auto entries = state_.map_entries(DeviceStore{UserId("alice"), DeviceId(d.id()), "contacts"});
    EXPECT_TRUE(entries);
    std::set<std::string> luids;
    for (const auto& e : *entries) luids.insert(e.luid.str());
    return luids;
  }

  static Command group(CommandKind kind, std::vector<Command> children) {
    Command c;
    c.kind = kind;
    c.children = std::move(children);
    return c;
  }

  // An Add without Data: refused 412 without touching the back end.
  static Command incomplete_add(const std::string& luid) {
    Command c = change(CommandKind::kAdd, luid, "");
    c.items[0].data_kind = protocol::DataKind::kNone;
    return c;
  }

  std::vector<std::string> luids_;
};

// --- Atomic (RepPro §"Atomic"; SYNCML-REFERENCE §3, §5: 507, 216) ----------

TEST_F(CommandGroupsTest, AtomicInsideSyncThatSucceedsIs200AndKeepsItsWrites) {
  Device a(*engine_, "IMEI:A");
  seed(a, {"Ann", "Ben"});
  open_session(a);
  Message m = send_sync(a, {group(CommandKind::kAtomic, {change(CommandKind::kAdd, "N1", vcard("Cid")),
                                                         change(CommandKind::kReplace, luids_[0], vcard("Ann Two"))})});
  const Command* atomic = find_status(m, "Atomic");
  ASSERT_NE(atomic, nullptr);
  EXPECT_EQ(atomic->code, 200);
  EXPECT_EQ(code_for(m, "Add", "N1"), 201);
  EXPECT_EQ(code_for(m, "Replace", luids_[0]), 200);
  EXPECT_EQ(sorted_server(), (std::vector<std::string>{vcard("Ann Two"), vcard("Ben"), vcard("Cid")}));
}

TEST_F(CommandGroupsTest, FailedAtomicInsideSyncRollsBackAddReplaceAndDelete) {
  Device a(*engine_, "IMEI:A");
  seed(a, {"Ann", "Ben"});
  const auto before = sorted_server();
  open_session(a);
  Message m =
      send_sync(a, {group(CommandKind::kAtomic, {change(CommandKind::kAdd, "N1", vcard("Cid")),
                                                 change(CommandKind::kReplace, luids_[0], vcard("Ann Two")),
                                                 change(CommandKind::kDelete, luids_[1]), incomplete_add("N2")})});
  const Command* atomic = find_status(m, "Atomic");
  ASSERT_NE(atomic, nullptr);
  EXPECT_EQ(atomic->code, 507);
  EXPECT_EQ(code_for(m, "Add", "N1"), 216);
  EXPECT_EQ(code_for(m, "Replace", luids_[0]), 216);
  EXPECT_EQ(code_for(m, "Delete", luids_[1]), 216);
  EXPECT_EQ(code_for(m, "Add", "N2"), 412);  // the failing one keeps its own code
  EXPECT_EQ(sorted_server(), before);
  // The added item left no map row; the deleted one came back under a new
  // GUID and is unmapped, so the device receives it again.
  EXPECT_EQ(mapped_luids(a), (std::set<std::string>{luids_[0]}));
}

// An unrestricted-read token writes only with the message's credentials
// (content_adapter.h); the undo of a failed Atomic is a write like the ones
// it undoes and must carry them too.
TEST_F(CommandGroupsTest, FailedAtomicRollsBackUnderAnUnrestrictedReadToken) {
  Device a(*engine_, "IMEI:A");
  seed(a, {"Ann", "Ben"});
  const auto before = sorted_server();
  accounts_.set_access("alice", "contacts", caf::TokenKind::kUnrestrictedRead);
  open_session(a);  // its messages carry credentials, so its writes are allowed
  auto m =
      a.send({sync_cmd("contacts",
                       {group(CommandKind::kAtomic, {change(CommandKind::kAdd, "N1", vcard("Cid")),
                                                     change(CommandKind::kReplace, luids_[0], vcard("Ann Two")),
                                                     change(CommandKind::kDelete, luids_[1]), incomplete_add("N2")})})},
             true, true);
  ASSERT_TRUE(m) << m.error().to_string();
  ASSERT_NE(find_status(m->reply, "Atomic"), nullptr);
  EXPECT_EQ(find_status(m->reply, "Atomic")->code, 507);
  EXPECT_EQ(code_for(m->reply, "Add", "N1"), 216);  // not 516: every write was undone
  EXPECT_EQ(code_for(m->reply, "Replace", luids_[0]), 216);
  EXPECT_EQ(code_for(m->reply, "Delete", luids_[1]), 216);
  EXPECT_EQ(sorted_server(), before);
}

TEST_F(CommandGroupsTest, FailedTopLevelAtomicRollsBackItsSyncAndAnswers216) {
  Device a(*engine_, "IMEI:A");
  seed(a, {"Ann"});
  const auto before = sorted_server();
  open_session(a);
  Command atomic = group(CommandKind::kAtomic,
                         {sync_cmd("contacts", {change(CommandKind::kAdd, "N1", vcard("Cid")), incomplete_add("N2")})});
  auto out = a.send({atomic}, true);
  ASSERT_TRUE(out);
  const Message& m = out->reply;
  EXPECT_EQ(find_status(m, "Atomic")->code, 507);
  EXPECT_EQ(find_status(m, "Sync")->code, 216);
  EXPECT_EQ(code_for(m, "Add", "N1"), 216);
  EXPECT_EQ(code_for(m, "Add", "N2"), 412);
  EXPECT_EQ(sorted_server(), before);
}

TEST_F(CommandGroupsTest, AtomicWhoseBackEndFailsIs507WithTheBackEndsCode) {
  Device a(*engine_, "IMEI:A");
  seed(a, {"Ann"});
  open_session(a);
  faulty_->fail_apply(true);
  Message m = send_sync(a, {group(CommandKind::kAtomic, {change(CommandKind::kAdd, "N3", vcard("Dan"))})});
  faulty_->fail_apply(false);
  EXPECT_EQ(find_status(m, "Atomic")->code, 507);
  EXPECT_EQ(code_for(m, "Add", "N3"), 503);
  EXPECT_EQ(sorted_server(), std::vector<std::string>{vcard("Ann")});
}

TEST_F(CommandGroupsTest, WritesDoneBeforeTheBackEndRefusedAChildAreUndone) {
  Device a(*engine_, "IMEI:A");
  seed(a, {"Ann", "Ben"});
  const auto before = sorted_server();
  open_session(a);
  faulty_->fail_items([](const caf::SyncObj& obj) { return obj.raw.find("Refused") != std::string::npos; });
  Message m = send_sync(a, {group(CommandKind::kAtomic, {change(CommandKind::kAdd, "N1", vcard("Cid")),
                                                         change(CommandKind::kReplace, luids_[0], vcard("Ann Two")),
                                                         change(CommandKind::kDelete, luids_[1]),
                                                         change(CommandKind::kAdd, "N2", vcard("Refused"))})});
  faulty_->fail_items(nullptr);
  EXPECT_EQ(find_status(m, "Atomic")->code, 507);
  EXPECT_EQ(code_for(m, "Add", "N1"), 216);
  EXPECT_EQ(code_for(m, "Replace", luids_[0]), 216);
  EXPECT_EQ(code_for(m, "Delete", luids_[1]), 216);
  EXPECT_EQ(code_for(m, "Add", "N2"), 503);
  EXPECT_EQ(sorted_server(), before);
}

TEST_F(CommandGroupsTest, AnUndoThatFailsIs516) {
  Device a(*engine_, "IMEI:A");
  seed(a, {"Ann"});
  open_session(a);
  // The back end refuses the second Add and every delete, so the first
  // Add cannot be undone.
  faulty_->fail_items([](const caf::SyncObj& obj) {
    return obj.action == caf::Action::kDelete || obj.raw.find("Refused") != std::string::npos;
  });
  Message m = send_sync(a, {group(CommandKind::kAtomic, {change(CommandKind::kAdd, "N1", vcard("Cid")),
                                                         change(CommandKind::kAdd, "N2", vcard("Refused"))})});
  faulty_->fail_items(nullptr);
  EXPECT_EQ(find_status(m, "Atomic")->code, 507);
  EXPECT_EQ(code_for(m, "Add", "N1"), 516);
  EXPECT_EQ(code_for(m, "Add", "N2"), 503);
}

// --- Sequence --------------------------------------------------------------

TEST_F(CommandGroupsTest, SequenceStopsAtTheFirstFailureAndCancelsTheRest) {
  Device a(*engine_, "IMEI:A");
  seed(a, {});
  open_session(a);
  Message m =
      send_sync(a, {group(CommandKind::kSequence, {change(CommandKind::kAdd, "N1", vcard("Ann")), incomplete_add("N2"),
                                                   change(CommandKind::kAdd, "N3", vcard("Ben"))})});
  EXPECT_EQ(find_status(m, "Sequence")->code, 200);
  EXPECT_EQ(code_for(m, "Add", "N1"), 201);
  EXPECT_EQ(code_for(m, "Add", "N2"), 412);
  EXPECT_EQ(code_for(m, "Add", "N3"), 514);
  EXPECT_EQ(sorted_server(), std::vector<std::string>{vcard("Ann")});
}

// --- Copy, Move, Exec, Search -----------------------------------------------

TEST_F(CommandGroupsTest, CopyMakesANewItemWithTheSourcesDataWhichTheDeviceReceives) {
  Device a(*engine_, "IMEI:A");
  seed(a, {"Ann"});
  open_session(a);
  Command copy = change(CommandKind::kCopy, luids_[0], "");
  copy.items[0].data_kind = protocol::DataKind::kNone;
  Command unknown = change(CommandKind::kCopy, "NOPE", "");
  unknown.items[0].data_kind = protocol::DataKind::kNone;
  Message m = send_sync(a, {copy, unknown});
  EXPECT_EQ(code_for(m, "Copy", luids_[0]), 201);
  EXPECT_EQ(code_for(m, "Copy", "NOPE"), 404);
  EXPECT_EQ(sorted_server(), (std::vector<std::string>{vcard("Ann"), vcard("Ann")}));
  // Our Sync in the same answer carries the copy to the device as an Add.
  const Command* ours = nullptr;
  for (const auto& c : m.commands) {
    if (c.kind == CommandKind::kSync) ours = &c;
  }
  ASSERT_NE(ours, nullptr);
  ASSERT_EQ(ours->children.size(), 1u);
  EXPECT_EQ(ours->children[0].kind, CommandKind::kAdd);
}

TEST_F(CommandGroupsTest, MoveInAFlatStoreExecAndSearchAre406) {
  Device a(*engine_, "IMEI:A");
  seed(a, {"Ann"});
  open_session(a);
  Command move = change(CommandKind::kMove, luids_[0], "");
  move.items[0].target_parent = protocol::LocRef{"folder-2", {}};
  Command exec;
  exec.kind = CommandKind::kExec;
  exec.items.push_back(protocol::Item{});
  Command search;
  search.kind = CommandKind::kSearch;
  auto out = a.send({sync_cmd("contacts", {move}), exec, search}, true);
  ASSERT_TRUE(out);
  EXPECT_EQ(code_for(out->reply, "Move", luids_[0]), 406);
  EXPECT_EQ(find_status(out->reply, "Exec")->code, 406);
  EXPECT_EQ(find_status(out->reply, "Search")->code, 406);
  EXPECT_EQ(sorted_server(), std::vector<std::string>{vcard("Ann")});
}

// --- Delete flags ------------------------------------------------------------

TEST_F(CommandGroupsTest, SoftDeleteKeepsTheItemAndItIsNotSentBack) {
  Device a(*engine_, "IMEI:A");
  seed(a, {"Ann", "Ben"});
  open_session(a);
  Command soft = change(CommandKind::kDelete, luids_[0]);
  soft.sft_del = true;
  Message m = send_sync(a, {soft});
  EXPECT_EQ(code_for(m, "Delete", luids_[0]), 200);
  EXPECT_EQ(sorted_server(), (std::vector<std::string>{vcard("Ann"), vcard("Ben")}));
  EXPECT_EQ(mapped_luids(a).count(luids_[0]), 1u);
  // That session is abandoned; the next one sends nothing back either.
  SyncRun next = a.sync(200);
  ASSERT_TRUE(next.completed);
  EXPECT_TRUE(next.received.empty());
}

TEST_F(CommandGroupsTest, DeleteWithArchiveDeletesAndSays210) {
  Device a(*engine_, "IMEI:A");
  seed(a, {"Ann", "Ben"});
  open_session(a);
  Command archived = change(CommandKind::kDelete, luids_[0]);
  archived.archive = true;
  Message m = send_sync(a, {archived});
  EXPECT_EQ(code_for(m, "Delete", luids_[0]), 210);
  EXPECT_EQ(sorted_server(), std::vector<std::string>{vcard("Ben")});
}

// --- NoResp and the references of every Status (SYNCML-REFERENCE §3) --------

TEST_F(CommandGroupsTest, NoRespCommandsAreDoneButNotAnswered) {
  Device a(*engine_, "IMEI:A");
  seed(a, {});
  open_session(a);
  Command quiet = change(CommandKind::kAdd, "N1", vcard("Ann"));
  quiet.no_resp = true;
  Message m = send_sync(a, {quiet, change(CommandKind::kAdd, "N2", vcard("Ben"))});
  EXPECT_EQ(code_for(m, "Add", "N1"), -1);
  EXPECT_EQ(code_for(m, "Add", "N2"), 201);
  EXPECT_EQ(sorted_server(), (std::vector<std::string>{vcard("Ann"), vcard("Ben")}));
  // CmdIDs stay 1, 2, 3 … with no gap where the unsent status would be.
  std::vector<uint32_t> ids;
  for (const auto& c : m.commands) ids.push_back(c.cmd_id);
  std::vector<uint32_t> sorted = ids;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < sorted.size(); ++i) EXPECT_EQ(sorted[i], i + 1);
}

TEST_F(CommandGroupsTest, EveryStatusNamesTheCommandItAnswers) {
  Device a(*engine_, "IMEI:A");
  seed(a, {"Ann", "Ben"});
  open_session(a);
  std::vector<Command> request = {
      sync_cmd("contacts",
               {change(CommandKind::kAdd, "N1", vcard("Cid")), change(CommandKind::kReplace, luids_[0], vcard("Ann 2")),
                group(CommandKind::kAtomic, {change(CommandKind::kDelete, luids_[1])}),
                group(CommandKind::kSequence, {change(CommandKind::kAdd, "N2", vcard("Dan"))})})};
  auto out = a.send(request, true);
  ASSERT_TRUE(out);
  const Message& m = out->reply;

  // The request as the engine saw it: CmdIDs are given by Device::send in
  // document order (Sync 1, Add 2, Replace 3, Atomic 4, Delete 5, Sequence 6, Add 7).
  struct Expected {
    std::string name;
    std::string source_ref;  // of the item, or the Sync's Source
    std::string target_ref;
  };
  const std::map<std::string, Expected> by_ref = {{"1", {"Sync", "./contacts", "contacts"}},
                                                  {"2", {"Add", "N1", ""}},
                                                  {"3", {"Replace", luids_[0], ""}},
                                                  {"4", {"Atomic", "", ""}},
                                                  {"5", {"Delete", luids_[1], ""}},
                                                  {"6", {"Sequence", "", ""}},
                                                  {"7", {"Add", "N2", ""}}};
  ASSERT_FALSE(m.commands.empty());
  EXPECT_EQ(m.commands[0].cmd_ref, "0");
  EXPECT_EQ(m.commands[0].cmd_name, "SyncHdr");
  std::set<uint32_t> ids;
  std::set<std::string> answered;
  for (const auto& c : m.commands) {
    EXPECT_TRUE(ids.insert(c.cmd_id).second) << "CmdID " << c.cmd_id << " twice";
    if (c.kind != CommandKind::kStatus || c.cmd_ref == "0") continue;
    EXPECT_EQ(c.msg_ref, "2");
    auto it = by_ref.find(c.cmd_ref);
    ASSERT_NE(it, by_ref.end()) << "Status for unknown CmdRef " << c.cmd_ref;
    EXPECT_EQ(c.cmd_name, it->second.name);
    if (!it->second.source_ref.empty()) {
      EXPECT_EQ(c.source_refs, std::vector<std::string>{it->second.source_ref});
    }
    if (!it->second.target_ref.empty()) {
      EXPECT_EQ(c.target_refs, std::vector<std::string>{it->second.target_ref});
    }
    EXPECT_LT(c.code, 300) << c.cmd_name << " " << c.cmd_ref;
    answered.insert(c.cmd_ref);
  }
  EXPECT_EQ(answered.size(), by_ref.size());
  // Statuses come in the order of the commands they answer (RepPro §"Status").
  std::vector<int> order;
  for (const auto& c : m.commands) {
    if (c.kind == CommandKind::kStatus && c.cmd_ref != "0") order.push_back(std::stoi(c.cmd_ref));
  }
  EXPECT_TRUE(std::is_sorted(order.begin(), order.end()));
}

// --- credentials on a datastore's Alert (RepPro §"Cred") ---------------------

TEST_F(CommandGroupsTest, WrongCredentialsOnOneAlertRefuseOnlyThatDatastore) {
  Device a(*engine_, "IMEI:A");
  a.start_session();
  Command contacts = alert(201, "contacts", std::nullopt, "1");
  contacts.cred = basic_cred("alice", "wrong");
  Command calendar = alert(201, "calendar", std::nullopt, "1");
  calendar.cred = basic_cred("alice", "secret");
  auto out = a.send({contacts, calendar}, true, true);
  ASSERT_TRUE(out);
  EXPECT_EQ(hdr_status_code(out->reply), 212);
  const auto alerts = find_statuses(out->reply, "Alert");
  ASSERT_EQ(alerts.size(), 2u);
  EXPECT_EQ(alerts[0]->code, 401);
  EXPECT_EQ(alerts[0]->target_refs, std::vector<std::string>{"contacts"});
  EXPECT_EQ(alerts[1]->code, 200);
  // Only the calendar goes on: our Alert is for it alone, and a Sync for
  // the refused datastore is answered 404.
  int our_alerts = 0;
  for (const auto& c : out->reply.commands) {
    if (c.kind != CommandKind::kAlert) continue;
    ++our_alerts;
    EXPECT_EQ(c.items[0].source->loc_uri, "calendar");
  }
  EXPECT_EQ(our_alerts, 1);
  // The calendar is text/calendar: an event, which it stores.
  const std::string event =
      "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:c1\r\n"
      "DTSTAMP:20240301T090000Z\r\nDTSTART:20240301T100000Z\r\nSUMMARY:Ben\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
  auto p3 = a.send({sync_cmd("contacts", {change(CommandKind::kAdd, "N1", vcard("Ann"))}),
                    sync_cmd("calendar", {change(CommandKind::kAdd, "C1", event, "text/calendar")})},
                   true);
  ASSERT_TRUE(p3);
  const auto syncs = find_statuses(p3->reply, "Sync");
  ASSERT_EQ(syncs.size(), 2u);
  EXPECT_EQ(syncs[0]->code, 404);
  EXPECT_EQ(syncs[1]->code, 200);
  EXPECT_EQ(memory_->live_count(UserId("alice"), "contacts"), 0u);
  EXPECT_EQ(memory_->live_count(UserId("alice"), "calendar"), 1u);
}

TEST_F(CommandGroupsTest, AnotherUsersCredentialsOnAnAlertAre401) {
  Device a(*engine_, "IMEI:A");
  a.start_session();
  Command contacts = alert(201, "contacts", std::nullopt, "1");
  contacts.cred = basic_cred("bob", "hunter2");  // right for bob, but this is alice's session
  auto out = a.send({contacts}, true, true);
  ASSERT_TRUE(out);
  EXPECT_EQ(find_status(out->reply, "Alert")->code, 401);
}

// --- SyncML 1.0 (SYNCML-REFERENCE §2, §8, §11) ------------------------------

TEST_F(CommandGroupsTest, SyncML10ClientIsAnsweredIn10AndAskedForBasicAuth) {
  auto message = [](const std::string& msg_id, std::vector<Command> commands, bool with_cred) {
    Message m;
    m.version = protocol::SyncMLVersion::k10;
    m.hdr.ver_dtd = "1.0";
    m.hdr.ver_proto = "SyncML/1.0";
    m.hdr.session_id = "1";
    m.hdr.msg_id = msg_id;
    m.hdr.target = protocol::LocRef{test::kServerUrl, {}};
    m.hdr.source = protocol::LocRef{"IMEI:10", "alice"};
    if (with_cred) m.hdr.cred = basic_cred("alice", "secret");
    uint32_t id = 0;
    for (auto& c : commands) c.cmd_id = ++id;
    m.commands = std::move(commands);
    m.final = true;
    return m;
  };
  Command get;
  get.kind = CommandKind::kGet;
  protocol::Item target;
  target.target = protocol::LocRef{"./devinf10", {}};
  get.items.push_back(target);

  Inbound where;
  where.base_url = test::kServerUrl;
  auto first = engine_->handle(message("1", {alert(201, "contacts", std::nullopt, "1")}, false), where);
  ASSERT_TRUE(first) << first.error().to_string();
  EXPECT_EQ(first->reply.version, protocol::SyncMLVersion::k10);
  EXPECT_EQ(first->reply.hdr.ver_dtd, "1.0");
  EXPECT_EQ(first->reply.hdr.ver_proto, "SyncML/1.0");
  EXPECT_NE(first->encoded.find("SYNCML:SYNCML1.0"), std::string::npos);
  ASSERT_EQ(hdr_status_code(first->reply), 407);
  // A 1.0 MD5 digest needs the clear password, which is not kept: basic it is.
  EXPECT_EQ(first->reply.commands[0].chal->meta.type, "syncml:auth-basic");

  // Nothing is kept for a message that did not authenticate (issue #11): no
  // RespURI, so the client sends its credentials as a new first message.
  EXPECT_TRUE(first->reply.hdr.resp_uri.empty());
  auto second = engine_->handle(message("2", {alert(201, "contacts", std::nullopt, "1"), get}, true), where);
  ASSERT_TRUE(second) << second.error().to_string();
  EXPECT_EQ(hdr_status_code(second->reply), 212);
  EXPECT_EQ(find_status(second->reply, "Alert")->code, 200);
  const Command* results = nullptr;
  for (const auto& c : second->reply.commands) {
    if (c.kind == CommandKind::kResults) results = &c;
  }
  ASSERT_NE(results, nullptr);
  EXPECT_EQ(results->items[0].source->loc_uri, "./devinf10");
  auto devinf = protocol::parse_devinf_xml(results->items[0].data);
  ASSERT_TRUE(devinf) << devinf.error().to_string();
  EXPECT_EQ(devinf->ver_dtd, "1.0");
  EXPECT_EQ(results->items[0].data.find("SupportLargeObjs"), std::string::npos);  // a DevInf 1.1 element
}

}  // namespace
}  // namespace conflux::engine
