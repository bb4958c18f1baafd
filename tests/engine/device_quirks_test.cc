// Device quirks: the rules file (parse, match, reload) and the quirks the
// engine consults, each seen in the engine's answers.
#include "engine/device_quirks.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "protocol/xml_codec.h"
#include "tests/common/temp_dir.h"
#include "tests/engine/engine_harness.h"

namespace conflux::engine {
namespace {

using test::alert;
using test::change;
using test::Device;
using test::hdr_status_code;
using test::sync_cmd;
using test::vcard;
using protocol::Command;
using protocol::CommandKind;
using protocol::Message;

const char* kRules = R"(
version = 1
[[rule]]
name = "all Acme phones: small messages"
man = "ACME*"
[rule.set]
max_msg_size = 20000

[[rule]]
name = "Acme Rocket 2.x: smaller still, no NumberOfChanges"
man = "acme*"
mod = "Rocket"
sw_v = "2.*"
[rule.set]
max_msg_size = 8000
send_number_of_changes = false

[[rule]]
name = "old clients without DevInf"
device_id = "sc-pim-*"
[rule.set]
send_number_of_changes = false

[[rule]]
name = "Outlook client that leaves out statuses"
device_id = "fol-*"
[rule.set]
missing_status_means_ok = true
)";

DeviceIdentity acme(const std::string& mod, const std::string& sw_v) {
  DeviceIdentity d;
  d.man = "Acme Corp";
  d.mod = mod;
  d.sw_v = sw_v;
  d.device_id = "IMEI:1";
  return d;
}

TEST(QuirkRules, MatchIsCaseInsensitiveGlobAndLaterRulesOverride) {
  auto rules = QuirkRules::parse(kRules, "test");
  ASSERT_TRUE(rules) << rules.error().to_string();
  EXPECT_EQ(rules->size(), 4u);

  DeviceQuirks rocket2 = rules->match(acme("Rocket", "2.1"));
  EXPECT_EQ(rocket2.max_msg_size, 8000u);
  EXPECT_FALSE(rocket2.send_number_of_changes);
  EXPECT_EQ(rocket2.matched_rules.size(), 2u);

  DeviceQuirks rocket3 = rules->match(acme("Rocket", "3.0"));
  EXPECT_EQ(rocket3.max_msg_size, 20000u);
  EXPECT_TRUE(rocket3.send_number_of_changes);

  DeviceIdentity other;
  other.man = "Patrick Ohly";
  other.mod = "SyncEvolution";
  other.device_id = "syncevolution-1234";
  DeviceQuirks none = rules->match(other);
  EXPECT_FALSE(none.max_msg_size.has_value());
  EXPECT_TRUE(none.send_number_of_changes);
  EXPECT_TRUE(none.matched_rules.empty());

  DeviceIdentity no_devinf;
  no_devinf.device_id = "sc-pim-4711";
  EXPECT_FALSE(rules->match(no_devinf).send_number_of_changes);
}

TEST(QuirkRules, ErrorsNameTheLineAndKey) {
  auto error_of = [](const std::string& text) {
    auto r = QuirkRules::parse(text, "q.toml");
    return r ? std::string("parsed") : r.error().message();
  };
  EXPECT_NE(error_of("[[rule]]\nname='x'\nman='a'\n[rule.set]\nmax_msg_size=9000\n").find("version: missing"),
            std::string::npos);
  EXPECT_NE(error_of("version = 2\n").find("q.toml:1: version: unsupported"), std::string::npos);
  EXPECT_NE(error_of("version = 1\n[[rule]]\nname='x'\nmodel='a'\n[rule.set]\nmax_msg_size=9000\n")
                .find("q.toml:4: rule[0].model: unknown key"),
            std::string::npos);
  EXPECT_NE(error_of("version = 1\n[[rule]]\nname='x'\nman='a'\n[rule.set]\nfast=true\n")
                .find("rule[0].set.fast: unknown quirk"),
            std::string::npos);
  EXPECT_NE(error_of("version = 1\n[[rule]]\nname='x'\nman='a'\n[rule.set]\nmax_msg_size='big'\n")
                .find("rule[0].set.max_msg_size: must be an integer"),
            std::string::npos);
  EXPECT_NE(error_of("version = 1\n[[rule]]\nname='x'\n[rule.set]\nmax_msg_size=9000\n").find("at least one pattern"),
            std::string::npos);
  EXPECT_NE(error_of("version = 1\nrule = [").find("q.toml:"), std::string::npos);
}

TEST(QuirkRules, TheShippedRulesFileParses) {
  auto book = DeviceQuirkBook::load(std::string(CONFLUX_TEST_DATA_DIR) + "/../../config/quirks.toml");
  ASSERT_TRUE(book) << book.error().to_string();
  DeviceIdentity pocket_pc;
  pocket_pc.device_id = "sc-pim-0123";
  EXPECT_FALSE((*book)->lookup(pocket_pc).send_number_of_changes);
  EXPECT_FALSE((*book)->lookup(pocket_pc).missing_status_means_ok);
  DeviceIdentity outlook;
  outlook.device_id = "fol-1234";
  EXPECT_TRUE((*book)->lookup(outlook).missing_status_means_ok);
}

TEST(DeviceQuirkBook, ReloadSwapsInTheEditedFileAndKeepsTheOldRulesOnError) {
  test::TempDir dir;
  const std::string path = (dir.path() / "quirks.toml").string();
  auto write = [&](const std::string& text) { std::ofstream(path, std::ios::trunc) << text; };
  write(kRules);
  auto book = DeviceQuirkBook::load(path);
  ASSERT_TRUE(book) << book.error().to_string();
  EXPECT_EQ((*book)->lookup(acme("Rocket", "2.0")).max_msg_size, 8000u);

  write("version = 1\n[[rule]]\nname = 'acme'\nman = 'acme*'\n[rule.set]\nmax_msg_size = 12000\n");
  // Nothing changes until reload() is called.
  EXPECT_EQ((*book)->lookup(acme("Rocket", "2.0")).max_msg_size, 8000u);
  ASSERT_TRUE((*book)->reload().is_ok());
  EXPECT_EQ((*book)->lookup(acme("Rocket", "2.0")).max_msg_size, 12000u);
  EXPECT_TRUE((*book)->lookup(acme("Rocket", "2.0")).send_number_of_changes);

  write("version = 1\n[[rule]]\nname = 'broken'\n");
  Status st = (*book)->reload();
  EXPECT_FALSE(st.is_ok());
  EXPECT_EQ((*book)->lookup(acme("Rocket", "2.0")).max_msg_size, 12000u);  // the old rules stay

  std::filesystem::remove(path);
  EXPECT_TRUE((*book)->reload().is_not_found());
  EXPECT_EQ((*book)->lookup(acme("Rocket", "2.0")).max_msg_size, 12000u);
}

TEST(DeviceQuirkBook, ABookWithoutAFileCannotReload) {
  auto book = DeviceQuirkBook::from_text(kRules);
  ASSERT_TRUE(book);
  EXPECT_EQ((*book)->reload().code(), conflux::StatusCode::kFailedPrecondition);
}

// --- the quirks the engine consults -------------------------------------------

class EngineQuirksTest : public test::EngineHarness {
 protected:
  void SetUp() override {
    test::EngineHarness::SetUp();
    auto book = DeviceQuirkBook::from_text(kRules);
    ASSERT_TRUE(book);
    options_.quirks = *book;
    restart_engine();
  }

  // pkg 1 of a slow sync with a Put of `man`/`mod`/`sw_v`'s DevInf.
  void start_with_devinf(Device& d, const std::string& man, const std::string& mod, const std::string& sw_v) {
    Command put;
    put.kind = CommandKind::kPut;
    protocol::Item item;
    item.source = protocol::LocRef{"./devinf12", {}};
    item.data_kind = protocol::DataKind::kXml;
    item.data = "<DevInf xmlns=\"syncml:devinf\"><VerDTD>1.2</VerDTD><Man>" + man + "</Man><Mod>" + mod +
                "</Mod><SwV>" + sw_v + "</SwV><DevID>" + d.id() + "</DevID><DevTyp>phone</DevTyp></DevInf>";
    put.items.push_back(std::move(item));
    d.start_session();
    auto p1 = d.send({put, alert(201, "contacts", std::nullopt, "1")}, true, true);
    ASSERT_TRUE(p1) << p1.error().to_string();
    ASSERT_EQ(hdr_status_code(p1->reply), 212);
  }

  // Our pkg-4 messages for pkg 3 = an empty Sync, following Alert 222 until Final.
  std::vector<Message> server_package(Device& d) {
    std::vector<Message> out;
    auto m = d.send({sync_cmd("contacts", {})}, true);
    while (m) {
      out.push_back(m->reply);
      if (m->reply.final) break;
      m = d.send({test::alert_next_message("contacts")}, true);
    }
    return out;
  }

  // Ten contacts on the server, from another device.
  void seed_server() {
    Device other(*engine_, "IMEI:seed");
    for (int i = 0; i < 10; ++i) other.add(vcard("Person " + std::to_string(i) + std::string(300, 'x')));
    ASSERT_TRUE(other.sync(201).completed);
  }

  static const Command* our_sync(const Message& m) {
    for (const auto& c : m.commands) {
      if (c.kind == CommandKind::kSync) return &c;
    }
    return nullptr;
  }
};

TEST_F(EngineQuirksTest, MaxMsgSizeQuirkCapsWhatTheDeviceAnnounced) {
  seed_server();
  // The device announces 1 MB; its rule says 8000 bytes.
  Device rocket(*engine_, "IMEI:rocket");
  rocket.max_msg_size = 1'000'000;
  start_with_devinf(rocket, "ACME Corp", "Rocket", "2.4");
  auto messages = server_package(rocket);
  ASSERT_GT(messages.size(), 1u);  // ten 300-byte contacts do not fit in 8000 bytes
  for (const auto& m : messages) EXPECT_LE(protocol::encode_xml(m).size(), 8000u);

  // The same device model with other software: no cap, one message.
  Device rocket3(*engine_, "IMEI:rocket3");
  rocket3.max_msg_size = 1'000'000;
  start_with_devinf(rocket3, "ACME Corp", "Rocket", "3.0");
  EXPECT_EQ(server_package(rocket3).size(), 1u);
}

TEST_F(EngineQuirksTest, MaxMsgSizeQuirkHoldsInLaterSessionsFromTheStoredDevInf) {
  seed_server();
  Device rocket(*engine_, "IMEI:rocket");
  rocket.max_msg_size = 1'000'000;
  start_with_devinf(rocket, "ACME Corp", "Rocket", "2.4");
  server_package(rocket);
  // A new session without a Put: the DevInf stored last time decides.
  rocket.start_session();
  auto p1 = rocket.send({alert(201, "contacts", std::nullopt, "2")}, true, true);
  ASSERT_TRUE(p1);
  auto messages = server_package(rocket);
  ASSERT_GT(messages.size(), 1u);
  for (const auto& m : messages) EXPECT_LE(protocol::encode_xml(m).size(), 8000u);
}

TEST_F(EngineQuirksTest, NumberOfChangesIsLeftOutForDevicesThatRejectIt) {
  seed_server();
  Device rocket(*engine_, "IMEI:rocket");
  start_with_devinf(rocket, "ACME Corp", "Rocket", "2.4");
  const Command* sync = our_sync(server_package(rocket).at(0));
  ASSERT_NE(sync, nullptr);
  EXPECT_FALSE(sync->number_of_changes.has_value());

  Device plain(*engine_, "IMEI:plain");
  start_with_devinf(plain, "Patrick Ohly", "SyncEvolution", "2.0");
  sync = our_sync(server_package(plain).at(0));
  ASSERT_NE(sync, nullptr);
  EXPECT_EQ(sync->number_of_changes, 10u);

  // Matched by device id when there is no DevInf at all.
  Device pocket(*engine_, "sc-pim-77");
  pocket.start_session();
  ASSERT_TRUE(pocket.send({alert(201, "contacts", std::nullopt, "1")}, true, true));
  sync = our_sync(server_package(pocket).at(0));
  ASSERT_NE(sync, nullptr);
  EXPECT_FALSE(sync->number_of_changes.has_value());
}

TEST_F(EngineQuirksTest, MissingStatusesCountAsAcknowledgedOnlyForDevicesThatLeaveThemOut) {
  // (device id, user, whether a change it gave no status for comes again)
  for (const auto& [id, user, password, resent] :
       {std::tuple{"fol-outlook-1", "alice", "secret", false}, std::tuple{"IMEI:strict", "bob", "hunter2", true}}) {
    SCOPED_TRACE(id);
    Device d(*engine_, id, "contacts", user, password);
    d.add(vcard("Ann"));
    ASSERT_TRUE(d.sync(201).completed);
    // Another device of the user changes the contact on the server.
    Device other(*engine_, std::string("other-") + id, "contacts", user, password);
    ASSERT_TRUE(other.sync(201).completed);
    other.edit(other.luid_of(vcard("Ann")), vcard("Ann Two"));
    ASSERT_TRUE(other.sync(200).completed);

    // d receives the Replace and ends its session without a Status for it.
    d.start_session();
    ASSERT_TRUE(d.send({alert(200, "contacts", d.last_anchor, "n2")}, true, true));
    auto pkg4 = d.send({sync_cmd("contacts", {})}, true);
    ASSERT_TRUE(pkg4);
    const Command* sync = our_sync(pkg4->reply);
    ASSERT_NE(sync, nullptr);
    ASSERT_EQ(sync->children.size(), 1u);
    EXPECT_EQ(sync->children[0].kind, CommandKind::kReplace);
    auto pkg6 = d.send({}, true);
    ASSERT_TRUE(pkg6);
    EXPECT_TRUE(pkg6->session_ended);
    d.last_anchor = "n2";

    test::SyncRun next = d.sync(200);
    ASSERT_TRUE(next.completed);
    EXPECT_EQ(next.received.size(), resent ? 1u : 0u);
  }
}

}  // namespace
}  // namespace conflux::engine
