// Maps that name ids the server never sent, and messages after a session's
// end (engine/late_message.h, issue #17).
#include <gtest/gtest.h>

#include "tests/engine/engine_harness.h"

namespace conflux::test {
namespace {

using protocol::Command;
using protocol::CommandKind;

class LateMessageTest : public EngineHarness {};

// The session key of a reply's RespURI ("…?sid=KEY").
SessionKey key_of(const protocol::Message& reply) {
  const std::string& uri = reply.hdr.resp_uri;
  return SessionKey(uri.substr(uri.find("sid=") + 4));
}

std::vector<const Command*> map_statuses(const protocol::Message& m, int code) {
  std::vector<const Command*> out;
  for (const Command* s : find_statuses(m, "Map")) {
    if (s->code == code) out.push_back(s);
  }
  return out;
}

TEST_F(LateMessageTest, AMapRefusesAnIdNeverSentAloneAndMapsTheRest) {
  Device b(engine(), "IMEI:B");
  seed(b, 1);
  Device a(engine(), "IMEI:A");
  a.start_session();
  ASSERT_TRUE(a.send({alert(201, "contacts", std::nullopt, "1")}, true, true));
  auto pkg4 = a.send({sync_cmd("contacts", {})}, true);
  ASSERT_TRUE(pkg4) << pkg4.error().to_string();
  const Command* sync = find_command(pkg4->reply, CommandKind::kSync);
  ASSERT_NE(sync, nullptr);
  ASSERT_EQ(sync->children.size(), 1u);
  const Command& add = sync->children[0];
  const std::string guid = add.items.at(0).source->loc_uri;

  auto pkg6 = a.send({status_cmd(pkg4->reply.hdr.msg_id, add.cmd_id, "Add", 201),
                      map_cmd("contacts", {{guid, "1"}, {"never-sent", "2"}})},
                     true);
  ASSERT_TRUE(pkg6) << pkg6.error().to_string();
  ASSERT_EQ(map_statuses(pkg6->reply, 200).size(), 1u);
  auto refused = map_statuses(pkg6->reply, 404);
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0]->target_refs, std::vector<std::string>{"never-sent"});
  EXPECT_EQ(refused[0]->source_refs, std::vector<std::string>{"2"});
  EXPECT_TRUE(pkg6->session_ended);

  // The good MapItem is a map row; the refused one is not.
  auto rows = state_.map_entries(engine::DeviceStore{UserId("alice"), DeviceId("IMEI:A"), "contacts"});
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].guid.str(), guid);
  EXPECT_EQ((*rows)[0].luid.str(), "1");
}

TEST_F(LateMessageTest, AMessageAfterTheSessionsEndIsAnsweredNotRefused) {
  Device a(engine(), "IMEI:A");
  a.add(vcard("Person 0"));
  SyncRun run = a.sync(201);
  ASSERT_TRUE(run.completed);
  ASSERT_GE(run.replies.size(), 2u);
  // The device goes on using the RespURI it last had.
  a.set_key(key_of(run.replies[run.replies.size() - 2]));
  auto late =
      a.send({status_cmd(run.replies.back().hdr.msg_id, 0, "SyncHdr", 200), map_cmd("contacts", {{"never-sent", "7"}}),
              alert_next_message("contacts"), sync_cmd("contacts", {change(CommandKind::kAdd, "8", vcard("Late"))})},
             true);
  ASSERT_TRUE(late) << late.error().to_string();
  EXPECT_EQ(hdr_status_code(late->reply), 200);
  auto refused = map_statuses(late->reply, 404);
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0]->target_refs, std::vector<std::string>{"never-sent"});
  ASSERT_NE(find_status(late->reply, "Alert"), nullptr);
  EXPECT_EQ(find_status(late->reply, "Alert")->code, 200);
  // A change needs a running sync: refused, and not stored.
  ASSERT_NE(find_status(late->reply, "Sync"), nullptr);
  EXPECT_EQ(find_status(late->reply, "Sync")->code, 405);
  EXPECT_EQ(server_items(), 1u);
  EXPECT_TRUE(late->session_ended);
  EXPECT_TRUE(late->reply.final);
  EXPECT_TRUE(late->reply.hdr.resp_uri.empty());
}

// A message whose server died after the back end stored its Adds but before
// the session was saved comes again (to another node, or to the restarted
// server): its Adds are matched to what the first run stored, not stored twice.
TEST_F(LateMessageTest, AMessageRunAgainAfterItsServerDiedStoresItsAddsOnce) {
  Device a(engine(), "IMEI:A");
  seed(a, 2);
  a.start_session();
  auto pkg2 = a.send({alert(200, "contacts", a.last_anchor, "next")}, true, true);
  ASSERT_TRUE(pkg2) << pkg2.error().to_string();
  const Command* server_alert = find_command(pkg2->reply, CommandKind::kAlert);
  ASSERT_NE(server_alert, nullptr);
  ASSERT_EQ(server_alert->code, 200);  // two-way: Adds are not matched as a slow sync's are
  const SessionKey key = a.key();
  auto before = state_.load_session(SessionKey(key.str().substr(0, key.str().find('.'))));
  ASSERT_TRUE(before && before->has_value());
  const std::vector<Command> adds = {sync_cmd("contacts", {change(CommandKind::kAdd, "10", vcard("New One")),
                                                           change(CommandKind::kAdd, "11", vcard("New Two"))})};
  auto first = a.send(adds, true);
  ASSERT_TRUE(first) << first.error().to_string();
  ASSERT_EQ(server_items(), 4u);

  // What the server died with: the session as saved before the run, marked
  // running that message; the Adds in the back end, their map rows not.
  engine::SessionState died;
  ASSERT_TRUE(engine::deserialize(**before, died));
  died.running_msg_id = "2";  // the Adds' message: the second of this session
  const engine::DeviceStore where{UserId("alice"), DeviceId("IMEI:A"), "contacts"};
  ASSERT_TRUE(state_.remove_map(where, {Luid("10"), Luid("11")}).is_ok());
  ASSERT_TRUE(state_.save_session(died.key, engine::serialize(died)).is_ok());

  a.set_key(key);
  a.repeat_msg_id();
  auto again = a.send(adds, true);
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_EQ(code_for(again->reply, "Add", "10") / 100, 2);
  EXPECT_EQ(code_for(again->reply, "Add", "11") / 100, 2);
  EXPECT_EQ(server_items(), 4u);
  auto rows = state_.map_entries(where);
  ASSERT_TRUE(rows);
  EXPECT_EQ(rows->size(), 4u);
}

}  // namespace
}  // namespace conflux::test
