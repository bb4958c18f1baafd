// SimDevice against a scripted SyncML server (a Transport that decodes each
// message with the protocol library and answers as told): does the device
// run the packages in order, and does it catch every kind of wrong answer?
// The real servers are in test_loadgen.py; this is for what they never do.
#include "sim_device.h"

#include <gtest/gtest.h>

#include <map>

#include "common/base64.h"
#include "common/digest.h"

namespace conflux::loadgen {
namespace {

using protocol::Command;
using protocol::CommandKind;
using protocol::Message;

// What the scripted server does; tests change one knob each.
struct Script {
  int alert_status = 200;
  int server_alert = 0;  // 0: the code the device asked for
  std::map<CommandKind, int> item_status = {
      {CommandKind::kAdd, 201}, {CommandKind::kReplace, 200}, {CommandKind::kDelete, 200}};
  bool skip_first_replace_status = false;
  size_t server_adds = 0;                   // sent in package 4
  std::string nonce_b64;                    // non-empty: demand syncml:auth-md5 with this nonce
  std::string next_nonce_b64 = "bmV4dA==";  // "next", given with the 212
};

// What the scripted server saw.
struct Seen {
  std::vector<Message> messages;
  std::vector<std::optional<std::string>> alert_last;  // Last of every sync Alert
  size_t sync_messages = 0, non_final_sync_messages = 0, changes = 0, map_items = 0;
  size_t refused = 0;
};

class ScriptedServer : public Transport {
 public:
  ScriptedServer(const Script& script, Seen& seen) : script_(script), seen_(seen) {}

  Result<HttpReply> post(const std::string&, const std::string&, const std::string& body) override {
    auto in = protocol::decode_xml(body);
    if (!in) return Status::internal("the device sent undecodable XML: " + in.error().message());
    seen_.messages.push_back(*in);
    Message out;
    out.hdr.ver_dtd = "1.2";
    out.hdr.ver_proto = "SyncML/1.2";
    out.hdr.session_id = in->hdr.session_id;
    out.hdr.msg_id = std::to_string(++msg_id_);
    out.hdr.source.loc_uri = "http://scripted/sync";
    out.hdr.target = in->hdr.source;
    out.hdr.resp_uri = "http://scripted/sync?s=" + in->hdr.session_id;
    uint32_t cmd_id = 0;
    auto status = [&](const std::string& cmd_ref, const std::string& name, int code) -> Command& {
      Command s;
      s.kind = CommandKind::kStatus;
      s.cmd_id = ++cmd_id;
      s.msg_ref = in->hdr.msg_id;
      s.cmd_ref = cmd_ref;
      s.cmd_name = name;
      s.code = code;
      out.commands.push_back(std::move(s));
      return out.commands.back();
    };

    Command& hdr = status("0", "SyncHdr", 200);
    if (in->hdr.cred) {
      if (!credentials_ok(*in)) {
        ++seen_.refused;
        hdr.code = 401;
        hdr.chal = protocol::Chal{};
        hdr.chal->meta.type = "syncml:auth-md5";
        hdr.chal->meta.next_nonce = script_.nonce_b64;
        out.final = true;
        return reply(out);
      }
      hdr.code = 212;
      if (!script_.nonce_b64.empty()) {
        hdr.chal = protocol::Chal{};
        hdr.chal->meta.type = "syncml:auth-md5";
        hdr.chal->meta.next_nonce = script_.next_nonce_b64;
      }
    }
    bool sync_final = false, map_final = false;
    for (const auto& c : in->commands) {
      switch (c.kind) {
        case CommandKind::kAlert: {
          if (c.code == 222) {
            status(std::to_string(c.cmd_id), "Alert", 200);
            break;
          }
          status(std::to_string(c.cmd_id), "Alert", script_.alert_status);
          seen_.alert_last.push_back(c.items.at(0).meta->anchor->last);
          Command alert;
          alert.kind = CommandKind::kAlert;
          alert.cmd_id = ++cmd_id;
          alert.code = script_.server_alert ? script_.server_alert : c.code;
          out.commands.push_back(std::move(alert));
          break;
        }
        case CommandKind::kPut: status(std::to_string(c.cmd_id), "Put", 200); break;
        case CommandKind::kSync: {
          ++seen_.sync_messages;
          if (!in->final) ++seen_.non_final_sync_messages;
          status(std::to_string(c.cmd_id), "Sync", 200);
          bool skipped = false;
          for (const auto& change : c.children) {
            ++seen_.changes;
            if (change.kind == CommandKind::kReplace && script_.skip_first_replace_status && !skipped) {
              skipped = true;
              continue;
            }
            status(std::to_string(change.cmd_id), protocol::command_name(change.kind),
                   script_.item_status.at(change.kind));
          }
          sync_final = in->final;
          break;
        }
        case CommandKind::kMap:
          seen_.map_items += c.map_items.size();
          status(std::to_string(c.cmd_id), "Map", 200);
          map_final = in->final;
          break;
        default: break;
      }
    }
    if (sync_final) {
      Command sync;
      sync.kind = CommandKind::kSync;
      sync.cmd_id = ++cmd_id;
      for (size_t i = 0; i < script_.server_adds; ++i) {
        Command add;
        add.kind = CommandKind::kAdd;
        add.cmd_id = ++cmd_id;
        protocol::Item item;
        item.source = protocol::LocRef{"srv" + std::to_string(i), {}};
        item.data_kind = protocol::DataKind::kText;
        item.data = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:S\r\nN:S;;;;\r\nEND:VCARD\r\n";
        add.items.push_back(std::move(item));
        sync.children.push_back(std::move(add));
      }
      out.commands.push_back(std::move(sync));
    }
    // Packages 2, 4 and 6 end with the device's final message.
    out.final = in->final || sync_final || map_final;
    return reply(out);
  }

 private:
  bool credentials_ok(const Message& in) const {
    const auto& cred = *in.hdr.cred;
    const std::string user = in.hdr.source.loc_name;
    if (script_.nonce_b64.empty()) return cred.meta.type == "syncml:auth-basic";
    const std::string& nonce_b64 = nonces_used_ == 0 ? script_.nonce_b64 : script_.next_nonce_b64;
    const std::string expected = md5_base64(md5_base64(user + ":pw") + ":" + base64_decode(nonce_b64).value_or(""));
    return cred.meta.type == "syncml:auth-md5" && cred.data == expected;
  }

  Result<HttpReply> reply(const Message& out) {
    if (out.commands.front().code == 212) ++nonces_used_;
    return HttpReply{200, protocol::kSyncMLXmlType, protocol::encode_xml(out)};
  }

  const Script& script_;
  Seen& seen_;
  uint32_t msg_id_ = 0;
  int nonces_used_ = 0;
};

class SimDeviceTest : public ::testing::Test {
 protected:
  SimDevice& device(AuthScheme auth = AuthScheme::kBasic, uint64_t max_msg_size = 150000) {
    DeviceConfig config;
    config.server_url = "http://scripted/sync";
    config.device_id = "dev-1";
    config.user = "u";
    config.password = "pw";
    config.auth = auth;
    config.max_msg_size = max_msg_size;
    device_ = std::make_unique<SimDevice>(config, std::make_unique<ScriptedServer>(script_, seen_));
    return *device_;
  }

  static SessionPlan slow_sync(size_t adds) {
    SessionPlan plan;
    plan.alert = plan.expected_server_alert = 201;
    for (size_t i = 0; i < adds; ++i) {
      plan.adds.emplace_back("c" + std::to_string(i),
                             "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Contact " + std::to_string(i) + "\r\nEND:VCARD\r\n");
    }
    plan.expected_from_server = 0;
    return plan;
  }

  static SessionPlan two_way() {
    SessionPlan plan = slow_sync(1);
    plan.alert = plan.expected_server_alert = 200;
    plan.replaces = {{"c0", "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Edited\r\nEND:VCARD\r\n"}};
    plan.deletes = {"c9"};
    return plan;
  }

  Script script_;
  Seen seen_;
  std::unique_ptr<SimDevice> device_;
};

TEST_F(SimDeviceTest, AFaithfulServerPassesAndTheAnchorsAdvance) {
  SimDevice& d = device();
  SessionOutcome first = d.run_session(slow_sync(3));
  ASSERT_TRUE(first.ok) << first.error;
  EXPECT_EQ(first.items_sent, 3u);
  // Packages 1, 3 and 5: three requests, each timed.
  EXPECT_EQ(first.message_latencies.size(), 3u);
  SessionOutcome second = d.run_session(two_way());
  ASSERT_TRUE(second.ok) << second.error;
  ASSERT_EQ(seen_.alert_last.size(), 2u);
  EXPECT_FALSE(seen_.alert_last[0].has_value());  // a first sync has no Last
  // The second session's Last is the Next of the first.
  EXPECT_EQ(seen_.alert_last[1], seen_.messages.front().commands.back().items.at(0).meta->anchor->next);
}

TEST_F(SimDeviceTest, AnAddAnsweredWithAnErrorFailsTheSession) {
  script_.item_status[CommandKind::kAdd] = 500;
  SessionOutcome out = device().run_session(slow_sync(2));
  EXPECT_FALSE(out.ok);
  EXPECT_NE(out.error.find("Add c0: status 500, expected 201"), std::string::npos) << out.error;
}

TEST_F(SimDeviceTest, AMissingItemStatusFailsTheSession) {
  script_.skip_first_replace_status = true;
  SessionOutcome out = device().run_session(two_way());
  EXPECT_FALSE(out.ok);
  EXPECT_NE(out.error.find("no status for Replace c0"), std::string::npos) << out.error;
}

TEST_F(SimDeviceTest, TheWrongAlertStatusOrSyncTypeFailsTheSession) {
  SessionPlan refused = two_way();
  refused.expected_alert_status = 508;  // the server answers 200 instead
  SessionOutcome out = device().run_session(refused);
  EXPECT_FALSE(out.ok);
  EXPECT_NE(out.error.find("status 200, expected 508"), std::string::npos) << out.error;

  script_.server_alert = 200;  // a two-way where a slow sync was due
  out = device().run_session(slow_sync(1));
  EXPECT_FALSE(out.ok);
  EXPECT_NE(out.error.find("server Alert 200, expected 201"), std::string::npos) << out.error;
}

TEST_F(SimDeviceTest, ServerItemsAreCountedAnsweredAndMapped) {
  script_.server_adds = 4;
  SessionPlan plan = slow_sync(0);
  plan.expected_from_server = 4;
  SessionOutcome out = device().run_session(plan);
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.items_received, 4u);
  EXPECT_EQ(seen_.map_items, 4u);
  // The statuses for the server's Adds travel in package 5.
  size_t add_statuses = 0;
  for (const auto& c : seen_.messages.back().commands) {
    if (c.kind == CommandKind::kStatus && c.cmd_name == "Add") {
      EXPECT_EQ(c.code, 201);
      ++add_statuses;
    }
  }
  EXPECT_EQ(add_statuses, 4u);

  plan.expected_from_server = 3;
  out = device().run_session(plan);
  EXPECT_FALSE(out.ok);
  EXPECT_NE(out.error.find("the server sent 4 items, expected 3"), std::string::npos) << out.error;
}

TEST_F(SimDeviceTest, ABigPackageIsSplitUnderTheMaxMsgSize) {
  SessionOutcome out = device(AuthScheme::kBasic, 4000).run_session(slow_sync(200));
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(seen_.changes, 200u);
  EXPECT_GT(seen_.sync_messages, 5u);
  EXPECT_EQ(seen_.non_final_sync_messages, seen_.sync_messages - 1);
  for (const auto& m : seen_.messages) EXPECT_LE(protocol::encode_xml(m).size(), 4000u);
}

TEST_F(SimDeviceTest, Md5TakesTheNonceFromTheChallengeAndKeepsTheNextOne) {
  script_.nonce_b64 = base64_encode("first-nonce");
  SimDevice& d = device(AuthScheme::kMd5);
  SessionOutcome first = d.run_session(slow_sync(1));
  ASSERT_TRUE(first.ok) << first.error;
  EXPECT_EQ(seen_.refused, 1u);  // the try without a nonce
  SessionOutcome second = d.run_session(two_way());
  ASSERT_TRUE(second.ok) << second.error;
  EXPECT_EQ(seen_.refused, 1u);  // the nonce from the 212 was right at once
}

TEST_F(SimDeviceTest, WrongCredentialsFailTheSessionAfterTheChallenge) {
  script_.nonce_b64 = base64_encode("n");
  DeviceConfig config;
  config.server_url = "http://scripted/sync";
  config.device_id = "dev-1";
  config.user = "u";
  config.password = "not-pw";
  SimDevice d(config, std::make_unique<ScriptedServer>(script_, seen_));
  SessionOutcome out = d.run_session(slow_sync(1));
  EXPECT_FALSE(out.ok);
  EXPECT_NE(out.error.find("authentication refused with 401"), std::string::npos) << out.error;
  EXPECT_EQ(seen_.refused, 2u);  // once without the nonce, once with it: then it gives up
}

}  // namespace
}  // namespace conflux::loadgen
