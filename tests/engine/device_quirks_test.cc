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

using protocol::Command;
using protocol::CommandKind;
using protocol::Message;
using test::alert;
using test::change;
using test::Device;
using test::hdr_status_code;
using test::sync_cmd;
using test::vcard;

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
  // A success code would tell the device its refused change was stored.
  for (const char* bad : {"200", "201", "600", "'500'"}) {
    EXPECT_NE(
        error_of(std::string("version = 1\n[[rule]]\nname='x'\nman='a'\n[rule.set]\ndenied_write_status=") + bad + "\n")
            .find("rule[0].set.denied_write_status: must be an error status, 400 to 599"),
        std::string::npos)
        << bad;
  }
}

TEST(QuirkRules, DeniedWriteStatusIsDs12sPermissionDeniedUnlessARuleSetsIt) {
  auto rules = QuirkRules::parse(
      "version = 1\n[[rule]]\nname = 'x'\nman = 'Abort*'\n[rule.set]\ndenied_write_status = 500\n", "q.toml");
  ASSERT_TRUE(rules) << rules.error().to_string();
  DeviceIdentity plain;
  plain.man = "Plain";
  EXPECT_EQ(rules->match(plain).denied_write_status, protocol::StatusCode::kPermissionDenied);
  EXPECT_EQ(protocol::to_int(DeviceQuirks{}.denied_write_status), 425);
  DeviceIdentity aborts;
  aborts.man = "Aborting Phones";
  EXPECT_EQ(protocol::to_int(rules->match(aborts).denied_write_status), 500);
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

// What SyncEvolution 2.0 (Debian) sends in its DevInf, as stored by the
// server in tests/integration/test_acl_reload.py.
DeviceIdentity syncevolution() {
  DeviceIdentity d;
  d.man = "Patrick Ohly";
  d.mod = "SyncEvolution";
  d.oem = "Synthesis AG";
  d.fw_v = "2.0.0";
  d.sw_v = "3.4.0.47";
  d.dev_typ = "workstation";
  d.device_id = "syncevolution-1234";
  return d;
}

DeviceIdentity plain_phone() {
  DeviceIdentity d;
  d.man = "Nokia";
  d.mod = "E71";
  d.dev_typ = "phone";
  d.device_id = "IMEI:0042";
  return d;
}

TEST(QuirkRules, TheShippedRulesGiveLibsynthesisClients500ForADeniedWrite) {
  auto book = DeviceQuirkBook::load(std::string(CONFLUX_TEST_DATA_DIR) + "/../../config/quirks.toml");
  ASSERT_TRUE(book) << book.error().to_string();
  EXPECT_EQ(protocol::to_int((*book)->lookup(syncevolution()).denied_write_status), 500);
  // Any libsynthesis engine, whatever the product calls itself.
  DeviceIdentity synthesis_client;
  synthesis_client.man = "Synthesis AG";
  synthesis_client.mod = "SyncML PIM client";
  synthesis_client.oem = "Synthesis AG";
  EXPECT_EQ(protocol::to_int((*book)->lookup(synthesis_client).denied_write_status), 500);
  EXPECT_EQ((*book)->lookup(plain_phone()).denied_write_status, protocol::StatusCode::kPermissionDenied);
}

TEST(DeviceQuirkBook, WithoutAQuirksFileTheBuiltInRulesApply) {
  // [server] quirks_file = "": the rules built from config/quirks.toml.
  auto builtin = DeviceQuirkBook::for_config("");
  ASSERT_TRUE(builtin) << builtin.error().to_string();
  auto shipped = DeviceQuirkBook::load(std::string(CONFLUX_TEST_DATA_DIR) + "/../../config/quirks.toml");
  ASSERT_TRUE(shipped) << shipped.error().to_string();
  EXPECT_GT((*builtin)->size(), 0u);
  EXPECT_EQ((*builtin)->size(), (*shipped)->size());
  EXPECT_EQ(protocol::to_int((*builtin)->lookup(syncevolution()).denied_write_status), 500);
  EXPECT_EQ((*builtin)->lookup(plain_phone()).denied_write_status, protocol::StatusCode::kPermissionDenied);
  DeviceIdentity outlook;
  outlook.device_id = "fol-1234";
  EXPECT_TRUE((*builtin)->lookup(outlook).missing_status_means_ok);
  // Built in: nothing to re-read.
  EXPECT_FALSE((*builtin)->reloadable());
  EXPECT_EQ((*builtin)->reload().code(), conflux::StatusCode::kFailedPrecondition);
}

TEST(DeviceQuirkBook, AQuirksFileReplacesTheBuiltInRulesWhole) {
  test::TempDir dir;
  const std::string path = (dir.path() / "quirks.toml").string();
  std::ofstream(path) << kRules;  // no rule for SyncEvolution
  auto book = DeviceQuirkBook::for_config(path);
  ASSERT_TRUE(book) << book.error().to_string();
  EXPECT_EQ((*book)->size(), 4u);
  EXPECT_TRUE((*book)->reloadable());
  EXPECT_EQ((*book)->lookup(syncevolution()).denied_write_status, protocol::StatusCode::kPermissionDenied);
  EXPECT_TRUE((*book)->reload().is_ok());
  EXPECT_TRUE(DeviceQuirkBook::for_config(path + ".missing").error().is_not_found());
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
  const std::vector<Message> to_rocket = server_package(rocket);  // our_sync points into it
  const Command* sync = our_sync(to_rocket.at(0));
  ASSERT_NE(sync, nullptr);
  EXPECT_FALSE(sync->number_of_changes.has_value());

  Device plain(*engine_, "IMEI:plain");
  start_with_devinf(plain, "Patrick Ohly", "SyncEvolution", "2.0");
  const std::vector<Message> to_plain = server_package(plain);
  sync = our_sync(to_plain.at(0));
  ASSERT_NE(sync, nullptr);
  EXPECT_EQ(sync->number_of_changes, 10u);

  // Matched by device id when there is no DevInf at all.
  Device pocket(*engine_, "sc-pim-77");
  pocket.start_session();
  ASSERT_TRUE(pocket.send({alert(201, "contacts", std::nullopt, "1")}, true, true));
  const std::vector<Message> to_pocket = server_package(pocket);
  sync = our_sync(to_pocket.at(0));
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

// --- a write the token does not allow: 425, or the device's status ----------

// The engine with the rules built into the binary, as a server without
// quirks_file runs it.
class DeniedWriteTest : public test::EngineHarness {
 protected:
  void SetUp() override {
    test::EngineHarness::SetUp();
    auto book = DeviceQuirkBook::for_config("");
    ASSERT_TRUE(book) << book.error().to_string();
    options_.quirks = *book;
    restart_engine();
  }

  // Three contacts on the server from another device; then "contacts"
  // turns read-only for everyone, as a reload of its `access` does.
  void seed_then_read_only() {
    Device other(*engine_, "IMEI:seed");
    for (int i = 0; i < 3; ++i) other.add(vcard("Seed " + std::to_string(i)));
    ASSERT_TRUE(other.sync(201).completed);
    auto stores = registry_.stores();
    for (auto& s : stores) {
      if (s.name == "contacts") s.access = caf::TokenKind::kReadOnly;
    }
    manager_.set_store_access(stores);
  }

  // Results answering the server's Get of ./devinf12, describing `who`.
  static Command devinf_results(const DeviceIdentity& who) {
    Command results;
    results.kind = CommandKind::kResults;
    protocol::Item item;
    item.source = protocol::LocRef{"./devinf12", {}};
    item.data_kind = protocol::DataKind::kXml;
    item.data = "<DevInf xmlns=\"syncml:devinf\"><VerDTD>1.2</VerDTD><Man>" + who.man + "</Man><Mod>" + who.mod +
                "</Mod><OEM>" + who.oem + "</OEM><FwV>" + who.fw_v + "</FwV><SwV>" + who.sw_v +
                "</SwV><HwV>unknown</HwV><DevID>" + who.device_id + "</DevID><DevTyp>" + who.dev_typ +
                "</DevTyp></DevInf>";
    results.items.push_back(std::move(item));
    return results;
  }
};

TEST_F(DeniedWriteTest, ADeviceWithoutARuleGets425AndTheSessionGoesOn) {
  seed_then_read_only();
  Device phone(*engine_, plain_phone().device_id);
  phone.pkg3_before_sync = {devinf_results(plain_phone())};
  const std::string mine = phone.add(vcard("Mine"));
  test::SyncRun run = phone.sync(201);
  EXPECT_TRUE(run.completed);
  EXPECT_EQ(run.item_status.at(mine), 425);
  EXPECT_EQ(run.received.size(), 3u);     // the server's contacts still arrive
  EXPECT_EQ(sorted_server().size(), 3u);  // and stay as they were

  // Replace and Delete are refused alike; the refused Add comes again.
  phone.pkg3_before_sync.clear();
  const std::string seed0 = phone.luid_of(vcard("Seed 0"));
  const std::string seed1 = phone.luid_of(vcard("Seed 1"));
  ASSERT_FALSE(seed0.empty());
  ASSERT_FALSE(seed1.empty());
  phone.edit(seed0, vcard("Seed 0 edited"));
  phone.remove(seed1);
  run = phone.sync(200);
  EXPECT_TRUE(run.completed);
  EXPECT_EQ(run.item_status.at(mine), 425);
  EXPECT_EQ(run.item_status.at(seed0), 425);
  EXPECT_EQ(run.item_status.at(seed1), 425);
  EXPECT_EQ(sorted_server().size(), 3u);
}

TEST_F(DeniedWriteTest, ALibsynthesisClientGets500FromItsFirstSessionOn) {
  seed_then_read_only();
  // Nothing stored about the device yet: its DevInf comes as Results in the
  // same message as its first writes, as SyncEvolution sends it.
  Device client(*engine_, syncevolution().device_id);
  client.pkg3_before_sync = {devinf_results(syncevolution())};
  const std::string mine = client.add(vcard("Mine"));
  test::SyncRun run = client.sync(201);
  EXPECT_TRUE(run.completed);
  EXPECT_EQ(run.item_status.at(mine), 500);
  EXPECT_EQ(run.received.size(), 3u);

  // Later sessions without a DevInf: the stored one decides.
  client.pkg3_before_sync.clear();
  const std::string seed0 = client.luid_of(vcard("Seed 0"));
  ASSERT_FALSE(seed0.empty());
  client.edit(seed0, vcard("Seed 0 edited"));
  run = client.sync(200);
  EXPECT_TRUE(run.completed);
  EXPECT_EQ(run.item_status.at(mine), 500);
  EXPECT_EQ(run.item_status.at(seed0), 500);
  EXPECT_EQ(sorted_server().size(), 3u);
}

TEST_F(DeniedWriteTest, TheDevInfDecidesForTheWholeMessageWhereverItStands) {
  seed_then_read_only();
  Device client(*engine_, "syncevolution-late");
  client.start_session();
  auto p1 = client.send({alert(201, "contacts", std::nullopt, "1")}, true, true);
  ASSERT_TRUE(p1) << p1.error().to_string();
  ASSERT_EQ(hdr_status_code(p1->reply), 212);
  // The Sync first, the DevInf after it.
  auto p3 = client.send(
      {sync_cmd("contacts", {change(CommandKind::kAdd, "L1", vcard("Mine"))}), devinf_results(syncevolution())}, true);
  ASSERT_TRUE(p3) << p3.error().to_string();
  EXPECT_EQ(code_for(p3->reply, "Add", "L1"), 500);
}

TEST_F(DeniedWriteTest, WithoutAQuirkBookEveryDeviceGetsTheProtocolsCode) {
  options_ = EngineOptions{};  // no rules at all
  restart_engine();
  seed_then_read_only();
  Device client(*engine_, syncevolution().device_id);
  client.pkg3_before_sync = {devinf_results(syncevolution())};
  const std::string mine = client.add(vcard("Mine"));
  test::SyncRun run = client.sync(201);
  EXPECT_TRUE(run.completed);
  EXPECT_EQ(run.item_status.at(mine), 425);
}

}  // namespace
}  // namespace conflux::engine
