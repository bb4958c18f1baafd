// Server-alerted syncs (SYNCML-REFERENCE §4): a device answering a server
// alert starts with 206–210; the engine runs the matching 200–205 and
// answers with that type.
#include <gtest/gtest.h>

#include <string>

#include "tests/engine/engine_harness.h"

namespace conflux::engine {
namespace {

using conflux::test::Device;
using conflux::test::SyncRun;
using conflux::test::vcard;
using protocol::CommandKind;

class ServerAlertedTest : public conflux::test::EngineHarness {
 protected:
  // A and B share "Shared" after slow syncs; then A adds "From server" (so
  // the server has a change for B) and B adds "From device".
  void SetUp() override {
    EngineHarness::SetUp();
    a_.emplace(engine(), "IMEI:A");
    b_.emplace(engine(), "IMEI:B");
    a_->add(vcard("Shared"));
    ASSERT_TRUE(a_->sync(201).completed);
    ASSERT_TRUE(b_->sync(201).completed);
    a_->add(vcard("From server"));
    ASSERT_TRUE(a_->sync(200).completed);
    b_->add(vcard("From device"));
  }
  bool b_received(const SyncRun& run, const std::string& name) {
    for (const auto& c : run.received) {
      if (!c.items.empty() && c.items[0].data == vcard(name)) return true;
    }
    return false;
  }

  std::optional<Device> a_, b_;
};

TEST_F(ServerAlertedTest, TwoWayByServerRunsAsTwoWay) {
  SyncRun run = b_->sync(206);
  ASSERT_TRUE(run.completed);
  EXPECT_EQ(run.alert_status, 200);
  EXPECT_EQ(run.server_alert, 200);
  EXPECT_TRUE(b_received(run, "From server"));
  EXPECT_EQ(sorted_server(), (std::vector<std::string>{vcard("From device"), vcard("From server"), vcard("Shared")}));
  EXPECT_EQ(state_.reports(UserId("alice"), 1)->front().sync_type, protocol::SyncType::kTwoWay);
}

TEST_F(ServerAlertedTest, OneWayFromClientByServerRunsAsOneWayFromClient) {
  SyncRun run = b_->sync(207);
  ASSERT_TRUE(run.completed);
  EXPECT_EQ(run.alert_status, 200);
  EXPECT_EQ(run.server_alert, 202);
  EXPECT_TRUE(run.received.empty());
  EXPECT_EQ(sorted_server(), (std::vector<std::string>{vcard("From device"), vcard("From server"), vcard("Shared")}));
}

TEST_F(ServerAlertedTest, RefreshFromClientByServerRunsAsRefreshFromClient) {
  SyncRun run = b_->sync(208);
  ASSERT_TRUE(run.completed);
  EXPECT_EQ(run.alert_status, 200);
  EXPECT_EQ(run.server_alert, 203);
  // The server's data becomes the device's: "From server" goes.
  EXPECT_EQ(sorted_server(), (std::vector<std::string>{vcard("From device"), vcard("Shared")}));
}

TEST_F(ServerAlertedTest, OneWayFromServerByServerRunsAsOneWayFromServer) {
  SyncRun run = b_->sync(209);
  ASSERT_TRUE(run.completed);
  EXPECT_EQ(run.alert_status, 200);
  EXPECT_EQ(run.server_alert, 204);
  EXPECT_TRUE(b_received(run, "From server"));
  EXPECT_EQ(sorted_server(), (std::vector<std::string>{vcard("From server"), vcard("Shared")}));
}

TEST_F(ServerAlertedTest, RefreshFromServerByServerRunsAsRefreshFromServer) {
  SyncRun run = b_->sync(210);
  ASSERT_TRUE(run.completed);
  EXPECT_EQ(run.alert_status, 200);
  EXPECT_EQ(run.server_alert, 205);
  // Everything the server has comes as Adds (the device starts empty).
  EXPECT_EQ(run.received_of(CommandKind::kAdd).size(), 2u);
  EXPECT_TRUE(b_received(run, "Shared"));
  EXPECT_EQ(sorted_server(), (std::vector<std::string>{vcard("From server"), vcard("Shared")}));
}

TEST_F(ServerAlertedTest, TwoWayByServerWithWrongAnchorsIs508AndSlow) {
  b_->last_anchor = "stale";
  SyncRun run = b_->sync(206);
  ASSERT_TRUE(run.completed);
  EXPECT_EQ(run.alert_status, 508);
  EXPECT_EQ(run.server_alert, 201);
}

}  // namespace
}  // namespace conflux::engine
