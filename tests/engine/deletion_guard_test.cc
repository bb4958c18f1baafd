// The mass-deletion guard (engine/deletion_guard.h): one device's mass
// deletion is accepted from it but held; no other device gets it until the
// user confirms, and a discard gives the device its items back.
#include "engine/deletion_guard.h"

#include <gtest/gtest.h>

#include "tests/engine/engine_harness.h"

namespace conflux::engine {
namespace {

using conflux::test::Device;
using conflux::test::SyncRun;
using protocol::CommandKind;

TEST(IsMassDeletion, MoreThanBothTheCountAndTheShare) {
  const caf::MassDeletionRule rule;  // more than 50 items and more than 33 %
  EXPECT_FALSE(is_mass_deletion(50, 60, rule)) << "not more than 50";
  EXPECT_TRUE(is_mass_deletion(51, 60, rule));
  EXPECT_FALSE(is_mass_deletion(99, 300, rule)) << "33 % of 300 exactly";
  EXPECT_TRUE(is_mass_deletion(100, 300, rule));
  EXPECT_TRUE(is_mass_deletion(300, 300, rule));
  EXPECT_FALSE(is_mass_deletion(0, 0, caf::MassDeletionRule{0, 0}));
  EXPECT_TRUE(is_mass_deletion(1, 1000, caf::MassDeletionRule{0, 0}));
}

class DeletionGuardTest : public conflux::test::EngineHarness {
 protected:
  void SetUp() override {
    EngineHarness::SetUp();
    a_.emplace(engine(), "IMEI:A");
    b_.emplace(engine(), "IMEI:B");
    seed(*a_, 90);
    ASSERT_TRUE(b_->sync(201).completed);
    ASSERT_EQ(b_->items().size(), 90u);
  }
  // A deletes its first `n` items and syncs.
  SyncRun a_deletes(size_t n) {
    std::vector<std::string> luids;
    for (const auto& [luid, data] : a_->items()) {
      if (luids.size() < n) luids.push_back(luid);
    }
    for (const auto& luid : luids) a_->remove(luid);
    return a_->sync(200);
  }
  std::vector<HeldDeletion> held() { return *state_.held_deletions(UserId("alice")); }

  std::optional<Device> a_, b_;
};

TEST_F(DeletionGuardTest, FewDeletionsReachTheOtherDevice) {
  SyncRun run = a_deletes(10);
  ASSERT_TRUE(run.completed);
  EXPECT_EQ(server_items(), 80u);
  EXPECT_TRUE(held().empty());
  SyncRun at_b = b_->sync(200);
  EXPECT_EQ(at_b.received_of(CommandKind::kDelete).size(), 10u);
  EXPECT_EQ(b_->items().size(), 80u);
}

TEST_F(DeletionGuardTest, AMassDeletionIsAcceptedButHeld) {
  SyncRun run = a_deletes(60);
  ASSERT_TRUE(run.completed);
  for (const auto& [luid, code] : run.item_status) EXPECT_EQ(code, 200) << luid;
  EXPECT_EQ(a_->items().size(), 30u);
  EXPECT_EQ(server_items(), 90u) << "held: still in the back end";
  ASSERT_EQ(held().size(), 1u);
  EXPECT_EQ(held()[0].guids.size(), 60u);
  EXPECT_EQ(held()[0].where.device, DeviceId("IMEI:A"));
  EXPECT_NE(held()[0].reason.find("60 of 90"), std::string::npos) << held()[0].reason;

  // B receives nothing; A is not sent its deleted items back.
  SyncRun at_b = b_->sync(200);
  EXPECT_TRUE(at_b.received_of(CommandKind::kDelete).empty());
  EXPECT_EQ(b_->items().size(), 90u);
  SyncRun again = a_->sync(200);
  EXPECT_TRUE(again.received.empty());
  EXPECT_EQ(a_->items().size(), 30u);
}

TEST_F(DeletionGuardTest, DiscardGivesTheDeviceItsItemsBack) {
  ASSERT_TRUE(a_deletes(60).completed);
  ASSERT_TRUE(state_.release_held(held()[0].id).is_ok());
  SyncRun back = a_->sync(200);
  EXPECT_EQ(back.received_of(CommandKind::kAdd).size(), 60u);
  EXPECT_EQ(a_->items().size(), 90u);
}

TEST_F(DeletionGuardTest, RefreshFromClientOverAFullStoreIsHeld) {
  for (const auto& [luid, data] : std::map<std::string, std::string>(a_->items())) a_->remove(luid);
  SyncRun run = a_->sync(203);
  ASSERT_TRUE(run.completed);
  EXPECT_EQ(server_items(), 90u);
  ASSERT_EQ(held().size(), 1u);
  EXPECT_EQ(held()[0].guids.size(), 90u);
  EXPECT_NE(held()[0].reason.find("refresh from client"), std::string::npos);
  EXPECT_TRUE(b_->sync(200).received_of(CommandKind::kDelete).empty());
  EXPECT_TRUE(a_->sync(200).received.empty()) << "held items are not sent back to the device that dropped them";
}

}  // namespace
}  // namespace conflux::engine
