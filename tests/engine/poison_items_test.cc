// Poison items (issue #4 item 7): an item that fails every time fails alone,
// is reported, and never blocks the rest of the sync or loops.
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "tests/engine/engine_harness.h"

namespace conflux::engine {
namespace {

using conflux::test::Device;
using conflux::test::SyncRun;
using conflux::test::vcard;
using protocol::CommandKind;

class PoisonItemsTest : public conflux::test::EngineHarness {
 protected:
  // The report of the last completed session of `device`.
  SyncReport last_report(const std::string& device) {
    auto reports = state_.reports(UserId("alice"), 100);
    EXPECT_TRUE(reports);
    for (const auto& r : *reports) {
      if (r.where.device.str() == device) return r;
    }
    ADD_FAILURE() << "no report for " << device;
    return {};
  }
  static int received_with(const SyncRun& run, const std::string& text) {
    int n = 0;
    for (const auto& c : run.received) {
      if (!c.items.empty() && c.items[0].data.find(text) != std::string::npos) ++n;
    }
    return n;
  }
};

TEST_F(PoisonItemsTest, AClientItemThatCannotBeStoredFailsAloneAndIsReported) {
  faulty_->fail_items_containing("POISON");
  Device d(engine(), "IMEI:1");
  d.add(vcard("Ann"));
  const std::string bad = d.add(vcard("POISON Bob"));
  d.add(vcard("Cid"));
  SyncRun run = d.sync(201);
  ASSERT_TRUE(run.completed);
  EXPECT_EQ(run.item_status[bad], 400);
  EXPECT_EQ(run.item_status[d.luid_of(vcard("Ann"))], 201);
  EXPECT_EQ(run.item_status[d.luid_of(vcard("Cid"))], 201);
  EXPECT_EQ(sorted_server(), (std::vector<std::string>{vcard("Ann"), vcard("Cid")}));

  SyncReport report = last_report("IMEI:1");
  EXPECT_EQ(report.counts.client_adds, 2);
  EXPECT_EQ(report.counts.client_errors, 1);
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_EQ(report.problems[0].direction, ItemProblem::Direction::kFromDevice);
  EXPECT_EQ(report.problems[0].item, bad);
  EXPECT_EQ(report.problems[0].status, 400);
  EXPECT_NE(report.problems[0].what.find("injected"), std::string::npos) << report.problems[0].what;

  // The device sends it again next time (it was refused); it fails alone
  // again while a new change goes through, and the session still completes.
  d.add(vcard("Dan"));
  run = d.sync(200);
  ASSERT_TRUE(run.completed);
  EXPECT_EQ(run.item_status[bad], 400);
  EXPECT_EQ(run.item_status[d.luid_of(vcard("Dan"))], 201);
  EXPECT_EQ(sorted_server(), (std::vector<std::string>{vcard("Ann"), vcard("Cid"), vcard("Dan")}));
  EXPECT_EQ(last_report("IMEI:1").problems.size(), 1u);
}

TEST_F(PoisonItemsTest, AnItemTheDeviceKeepsRefusingIsNoLongerSentUntilItChanges) {
  Device a(engine(), "IMEI:A");
  a.add(vcard("POISON Bob"));
  a.add(vcard("Ann"));
  ASSERT_TRUE(a.sync(201).completed);

  Device b(engine(), "IMEI:B");
  b.answer = [](const protocol::Command& c) {
    const bool poison = !c.items.empty() && c.items[0].data.find("POISON") != std::string::npos;
    if (poison) return 415;
    return c.kind == CommandKind::kAdd ? 201 : 200;
  };
  // Refused three times: each sync sends it again, and the rest arrives.
  for (int attempt = 1; attempt <= 3; ++attempt) {
    SyncRun run = b.sync(attempt == 1 ? 201 : 200);
    ASSERT_TRUE(run.completed) << "attempt " << attempt;
    EXPECT_EQ(received_with(run, "POISON"), 1) << "attempt " << attempt;
    SyncReport report = last_report("IMEI:B");
    ASSERT_EQ(report.problems.size(), 1u) << "attempt " << attempt;
    EXPECT_EQ(report.problems[0].direction, ItemProblem::Direction::kToDevice);
    EXPECT_EQ(report.problems[0].status, 415);
    EXPECT_EQ(report.problems[0].what.find("poison"), std::string::npos);
  }
  EXPECT_EQ(sorted_items(b), std::vector<std::string>{vcard("Ann")});

  // Fourth sync: not sent, reported as poison; other changes still flow.
  a.add(vcard("Cid"));
  ASSERT_TRUE(a.sync(200).completed);
  SyncRun run = b.sync(200);
  ASSERT_TRUE(run.completed);
  EXPECT_EQ(received_with(run, "POISON"), 0);
  EXPECT_EQ(received_with(run, "Cid"), 1);
  SyncReport report = last_report("IMEI:B");
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_EQ(report.problems[0].status, 415);
  EXPECT_NE(report.problems[0].what.find("poison"), std::string::npos) << report.problems[0].what;
  // The report names the server item (its GUID, as device A's map has it).
  std::string poison_guid;
  auto a_map = state_.map_entries(DeviceStore{UserId("alice"), DeviceId("IMEI:A"), "contacts"});
  ASSERT_TRUE(a_map);
  for (const auto& e : *a_map) {
    if (e.luid.str() == a.luid_of(vcard("POISON Bob"))) poison_guid = e.guid.str();
  }
  EXPECT_EQ(report.problems[0].item, poison_guid);

  // Changed on the server: a new revision gets a new chance, and this time
  // the device takes it.
  a.edit(a.luid_of(vcard("POISON Bob")), vcard("POISON Bob fixed"));
  ASSERT_TRUE(a.sync(200).completed);
  b.answer = nullptr;
  run = b.sync(200);
  ASSERT_TRUE(run.completed);
  EXPECT_EQ(received_with(run, "POISON Bob fixed"), 1);
  EXPECT_TRUE(last_report("IMEI:B").problems.empty());
  EXPECT_EQ(sorted_items(b), (std::vector<std::string>{vcard("Ann"), vcard("Cid"), vcard("POISON Bob fixed")}));
  EXPECT_TRUE(state_.rejections(DeviceStore{UserId("alice"), DeviceId("IMEI:B"), "contacts"})->empty());
}

TEST_F(PoisonItemsTest, AReplaceAnswered404IsALostCopyNotARefusal) {
  Device a(engine(), "IMEI:A");
  a.add(vcard("Ann"));
  ASSERT_TRUE(a.sync(201).completed);
  Device b(engine(), "IMEI:B");
  ASSERT_TRUE(b.sync(201).completed);
  // Four times the server's change meets a device that lost its copy (404):
  // each time it is added anew, never counted towards poison.
  for (int round = 0; round < 4; ++round) {
    a.edit(a.luid_of(a.items().begin()->second), vcard("Ann " + std::to_string(round)));
    ASSERT_TRUE(a.sync(200).completed);
    b.answer = [](const protocol::Command& c) { return c.kind == CommandKind::kReplace ? 404 : 201; };
    ASSERT_TRUE(b.sync(200).completed);
    EXPECT_TRUE(state_.rejections(DeviceStore{UserId("alice"), DeviceId("IMEI:B"), "contacts"})->empty());
    b.answer = nullptr;
    SyncRun again = b.sync(200);
    ASSERT_TRUE(again.completed);
    EXPECT_EQ(received_with(again, "Ann " + std::to_string(round)), 1) << "round " << round;
  }
}

}  // namespace
}  // namespace conflux::engine
