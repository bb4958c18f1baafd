// The mass-deletion guard (engine/deletion_guard.h): one device's mass
// deletion is accepted from it but held; no other device gets it until the
// user confirms, and a discard gives the device its items back. The other
// way, a mass of deletions in the back end is held from each device.
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
  // Another program deletes `n` of alice's contacts in the back end itself.
  std::vector<Guid> back_end_deletes(size_t n) {
    const caf::StoreRef ref{UserId("alice"), "contacts", caf::Token{}};
    auto live = memory_->search(ref, caf::Query{});
    std::vector<caf::SyncObj> batch;
    std::vector<Guid> guids;
    for (const auto& obj : *live) {
      if (guids.size() == n) break;
      caf::SyncObj del;
      del.action = caf::Action::kDelete;
      del.guid = obj.guid;
      guids.push_back(obj.guid);
      batch.push_back(std::move(del));
    }
    for (const auto& r : memory_->apply(ref, std::move(batch))) EXPECT_TRUE(r.status.is_ok());
    return guids;
  }
  // What `conflux held confirm` records: the user approved `h`'s deletions
  // for `device` (empty: every device).
  void approve(HeldDeletion h, const DeviceId& device) {
    h.kind = HeldKind::kConfirmed;
    h.where.device = device;
    ASSERT_TRUE(state_.hold_deletions(h));
  }

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

TEST_F(DeletionGuardTest, AMassDeletionInTheBackEndIsHeldFromEachDevice) {
  back_end_deletes(60);
  SyncRun at_b = b_->sync(200);
  ASSERT_TRUE(at_b.completed);
  EXPECT_TRUE(at_b.received_of(CommandKind::kDelete).empty());
  EXPECT_EQ(b_->items().size(), 90u) << "the device keeps its items";
  ASSERT_EQ(held().size(), 1u);
  EXPECT_EQ(held()[0].kind, HeldKind::kToDevice);
  EXPECT_EQ(held()[0].where.device, DeviceId("IMEI:B"));
  EXPECT_EQ(held()[0].guids.size(), 60u);
  EXPECT_NE(held()[0].reason.find("server would delete 60 of 90 items on the device"), std::string::npos)
      << held()[0].reason;
  // Asked again, no second hold: the first still waits.
  EXPECT_TRUE(b_->sync(200).received_of(CommandKind::kDelete).empty());
  EXPECT_EQ(held().size(), 1u);
  EXPECT_EQ(b_->items().size(), 90u);
}

TEST_F(DeletionGuardTest, ConfirmedDeletionsToADeviceGetThrough) {
  back_end_deletes(60);
  ASSERT_TRUE(b_->sync(200).completed);
  const HeldDeletion h = held()[0];
  approve(h, DeviceId("IMEI:B"));
  ASSERT_TRUE(state_.release_held(h.id).is_ok());
  SyncRun at_b = b_->sync(200);
  EXPECT_EQ(at_b.received_of(CommandKind::kDelete).size(), 60u);
  EXPECT_EQ(b_->items().size(), 30u);
  // Delivered: the confirmation for that device is done with at its next sync.
  ASSERT_TRUE(b_->sync(200).completed);
  EXPECT_TRUE(held().empty());
}

TEST_F(DeletionGuardTest, DiscardedDeletionsToADeviceComeBackFromIt) {
  back_end_deletes(60);
  ASSERT_TRUE(b_->sync(200).completed);
  const HeldDeletion h = held()[0];
  // `conflux held discard`: the device's next sync is slow.
  ASSERT_TRUE(state_.forget_anchors(h.where).is_ok());
  ASSERT_TRUE(state_.clear_map(h.where).is_ok());
  ASSERT_TRUE(state_.release_held(h.id).is_ok());
  ASSERT_TRUE(b_->sync(201).completed);
  EXPECT_EQ(server_items(), 90u) << "the device sent the 60 back";
  EXPECT_EQ(b_->items().size(), 90u);
}

TEST_F(DeletionGuardTest, FewBackEndDeletionsReachTheDevice) {
  back_end_deletes(10);
  SyncRun at_b = b_->sync(200);
  EXPECT_EQ(at_b.received_of(CommandKind::kDelete).size(), 10u);
  EXPECT_TRUE(held().empty());
}

TEST_F(DeletionGuardTest, ADeviceDeletionTheUserConfirmedReachesTheOtherDeviceUnasked) {
  ASSERT_TRUE(a_deletes(60).completed);
  const HeldDeletion h = held()[0];
  // `conflux held confirm`: the deletions through the CAF, then the approval.
  std::vector<caf::SyncObj> batch;
  for (const auto& g : h.guids) {
    caf::SyncObj del;
    del.action = caf::Action::kDelete;
    del.guid = g;
    batch.push_back(std::move(del));
  }
  const caf::StoreRef ref{UserId("alice"), "contacts", caf::Token{}};
  for (const auto& r : memory_->apply(ref, std::move(batch))) ASSERT_TRUE(r.status.is_ok());
  approve(h, DeviceId());
  ASSERT_TRUE(state_.release_held(h.id).is_ok());
  SyncRun at_b = b_->sync(200);
  EXPECT_EQ(at_b.received_of(CommandKind::kDelete).size(), 60u);
  EXPECT_EQ(b_->items().size(), 30u);
}

}  // namespace
}  // namespace conflux::engine
