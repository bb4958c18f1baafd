// Suspend and resume (SyncML DS 1.2 Alert 224/225; SYNCML-REFERENCE §15):
// a suspended or broken sync continues where it stopped, also after a server
// restart; nothing acknowledged is applied or sent twice, nothing pending is
// lost, and anchors advance only when the resumed sync completes.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <sstream>
#include <string>

#include "common/metrics.h"
#include "tests/engine/engine_harness.h"

namespace conflux::engine {
namespace {

using conflux::test::Device;
using conflux::test::SyncRun;
using conflux::test::vcard;
using protocol::Command;
using protocol::CommandKind;

constexpr int kItems = 20;

class SuspendResumeTest : public conflux::test::EngineHarness {
 protected:
  void SetUp() override {
    EngineHarness::SetUp();
    a_.emplace(engine(), "IMEI:A");
    b_.emplace(engine(), "IMEI:B");
    for (int i = 0; i < kItems; ++i) a_->add(vcard("Person " + std::to_string(i)));
    ASSERT_TRUE(a_->sync(201).completed);
    // Small messages: B's pkg 4 takes several.
    b_->max_msg_size = 3000;
  }

  // GUID of every Add the server sent in `run` -> how often.
  static std::map<std::string, int> adds_by_guid(const SyncRun& run) {
    std::map<std::string, int> out;
    for (const auto* c : run.received_of(CommandKind::kAdd)) out[c->items.at(0).source->loc_uri]++;
    return out;
  }
  std::optional<SyncAnchors> anchors_of_b() {
    auto stored = state_.anchors(DeviceStore{UserId("alice"), DeviceId("IMEI:B"), "contacts"});
    EXPECT_TRUE(stored);
    return stored ? *stored : std::nullopt;
  }

  std::optional<Device> a_, b_;
};

TEST_F(SuspendResumeTest, SuspendedInPkg4ResumesAfterRestartSendingEachItemOnce) {
  SyncRun first = b_->sync(201, Device::Stop::kSuspendInPkg4);
  ASSERT_TRUE(first.suspended);
  const auto before = adds_by_guid(first);
  ASSERT_GT(before.size(), 0u);
  ASSERT_LT(before.size(), static_cast<size_t>(kItems)) << "pkg 4 must not fit one message for this test";
  EXPECT_FALSE(anchors_of_b().has_value()) << "a suspended sync stores no anchors";

  restart_engine();
  SyncRun resumed = b_->sync(225);
  ASSERT_TRUE(resumed.completed);
  EXPECT_EQ(resumed.alert_status, 200);
  EXPECT_EQ(resumed.server_alert, 201) << "announced with the type it resumes";
  // Nothing the device acknowledged comes again; the rest comes once.
  std::map<std::string, int> all = before;
  for (const auto& [guid, n] : adds_by_guid(resumed)) {
    EXPECT_EQ(before.count(guid), 0u) << guid << " was sent twice";
    all[guid] += n;
  }
  EXPECT_EQ(all.size(), static_cast<size_t>(kItems));
  for (const auto& [guid, n] : all) EXPECT_EQ(n, 1) << guid;
  EXPECT_EQ(b_->items().size(), static_cast<size_t>(kItems));
  EXPECT_EQ(memory_->live_count(UserId("alice"), "contacts"), static_cast<size_t>(kItems));

  // The anchors are the resumed session's, and every item is mapped: the
  // next two-way sync is accepted and has nothing to send.
  ASSERT_TRUE(anchors_of_b().has_value());
  EXPECT_EQ(anchors_of_b()->client_next, b_->last_anchor);
  SyncRun next = b_->sync(200);
  ASSERT_TRUE(next.completed);
  EXPECT_EQ(next.alert_status, 200);
  EXPECT_TRUE(next.received.empty());
}

TEST_F(SuspendResumeTest, VanishedMidPackageResumesAndResendsOnlyWhatWasNotAcknowledged) {
  SyncRun first = b_->sync(201, Device::Stop::kVanishInPkg4);
  ASSERT_FALSE(first.completed);
  const auto pkg4 = first.pkg4();
  ASSERT_GE(pkg4.size(), 2u);
  std::set<std::string> acknowledged;  // in the first pkg-4 message, whose statuses reached the server
  for (const auto& c : pkg4[0].commands) {
    if (c.kind != CommandKind::kSync) continue;
    for (const auto& child : c.children) acknowledged.insert(child.items.at(0).source->loc_uri);
  }
  ASSERT_FALSE(acknowledged.empty());

  restart_engine();
  SyncRun resumed = b_->sync(225);
  ASSERT_TRUE(resumed.completed);
  EXPECT_EQ(resumed.server_alert, 201);
  for (const auto& [guid, n] : adds_by_guid(resumed)) {
    EXPECT_EQ(acknowledged.count(guid), 0u) << guid << " was acknowledged, yet sent again";
    EXPECT_EQ(n, 1);
  }
  EXPECT_EQ(b_->items().size(), static_cast<size_t>(kItems)) << "no item lost, none doubled";
  SyncRun next = b_->sync(200);
  ASSERT_TRUE(next.completed);
  EXPECT_EQ(next.alert_status, 200);
  EXPECT_TRUE(next.received.empty());
}

TEST_F(SuspendResumeTest, ClientChangesAppliedBeforeTheSuspendAreNotAppliedTwice) {
  ASSERT_TRUE(b_->sync(201).completed);
  for (int i = 0; i < 3; ++i) b_->add(vcard("New " + std::to_string(i)));
  for (int i = 0; i < kItems; ++i) {
    a_->edit(a_->luid_of(vcard("Person " + std::to_string(i))), vcard("Edited " + std::to_string(i)));
  }
  ASSERT_TRUE(a_->sync(200).completed);

  SyncRun first = b_->sync(200, Device::Stop::kSuspendInPkg4);
  ASSERT_TRUE(first.suspended);
  EXPECT_EQ(memory_->live_count(UserId("alice"), "contacts"), static_cast<size_t>(kItems + 3));
  // A device that missed the status of one of them sends it again.
  const std::string luid = b_->luid_of(vcard("New 0"));
  b_->edit(luid, vcard("New 0"));

  restart_engine();
  SyncRun resumed = b_->sync(225);
  ASSERT_TRUE(resumed.completed);
  EXPECT_EQ(resumed.item_status[luid], 200) << "applied to the item it added before";
  EXPECT_EQ(memory_->live_count(UserId("alice"), "contacts"), static_cast<size_t>(kItems + 3));
  EXPECT_EQ(b_->items().size(), static_cast<size_t>(kItems + 3));
  for (int i = 0; i < kItems; ++i) EXPECT_NE(b_->luid_of(vcard("Edited " + std::to_string(i))), "") << i;
  // The session report covers the whole sync, both halves.
  auto reports = state_.reports(UserId("alice"), 1);
  ASSERT_TRUE(reports && !reports->empty());
  EXPECT_EQ(reports->front().counts.client_adds, 3);
  EXPECT_EQ(reports->front().counts.server_updates, kItems);
}

TEST_F(SuspendResumeTest, SuspendedWhileSendingPkg3ResumesWithTheRestAndKeepsWhatCameBefore) {
  Device c(engine(), "IMEI:C", "contacts", "bob", "hunter2");
  using conflux::test::alert;
  using conflux::test::change;
  using conflux::test::sync_cmd;
  auto add = [](int i) {
    return change(CommandKind::kAdd, "L" + std::to_string(i), vcard("Bob " + std::to_string(i)));
  };
  // Session 1: a slow sync whose pkg 3 spans messages; suspended after the first.
  c.start_session();
  auto out = c.send({alert(201, "contacts", std::nullopt, "c-1")}, /*final=*/true, /*with_cred=*/true);
  ASSERT_TRUE(out);
  out = c.send({sync_cmd("contacts", {add(1), add(2), add(3)})}, /*final=*/false);
  ASSERT_TRUE(out);
  EXPECT_EQ(conflux::test::find_statuses(out->reply, "Add").size(), 3u);
  Command suspend;
  suspend.kind = CommandKind::kAlert;
  suspend.code = 224;
  out = c.send({suspend}, /*final=*/true);
  ASSERT_TRUE(out);
  EXPECT_TRUE(out->session_ended);
  EXPECT_EQ(memory_->live_count(UserId("bob"), "contacts"), 3u);

  // Session 2, after a restart: the rest of pkg 3 (and L1 again, as from a
  // device that missed its status), then the session runs to its end.
  restart_engine();
  c.start_session();
  out = c.send({alert(225, "contacts", std::nullopt, "c-2")}, /*final=*/true, /*with_cred=*/true);
  ASSERT_TRUE(out);
  ASSERT_NE(conflux::test::find_status(out->reply, "Alert"), nullptr);
  EXPECT_EQ(conflux::test::find_status(out->reply, "Alert")->code, 200);
  out = c.send({sync_cmd("contacts", {add(1), add(4), add(5)})}, /*final=*/true);
  ASSERT_TRUE(out);
  for (const auto* st : conflux::test::find_statuses(out->reply, "Add")) EXPECT_EQ(st->code, 201);
  out = c.send({}, /*final=*/true);
  ASSERT_TRUE(out);
  EXPECT_TRUE(out->session_ended);
  EXPECT_EQ(memory_->live_count(UserId("bob"), "contacts"), 5u);
  // The items of the first half stay mapped (they are not stale for this slow sync).
  auto map = state_.map_entries(DeviceStore{UserId("bob"), DeviceId("IMEI:C"), "contacts"});
  ASSERT_TRUE(map);
  EXPECT_EQ(map->size(), 5u);
  auto anchors = state_.anchors(DeviceStore{UserId("bob"), DeviceId("IMEI:C"), "contacts"});
  ASSERT_TRUE(anchors && anchors->has_value());
  EXPECT_EQ((*anchors)->client_next, "c-2");
}

TEST_F(SuspendResumeTest, ResumeWithoutASuspendedSyncIs508AndASlowSync) {
  SyncRun run = b_->sync(225);
  ASSERT_TRUE(run.completed);
  EXPECT_EQ(run.alert_status, 508);
  EXPECT_EQ(run.server_alert, 201);
  EXPECT_EQ(b_->items().size(), static_cast<size_t>(kItems));
}

TEST_F(SuspendResumeTest, ResumeWithAnotherLastAnchorIs508AndASlowSyncWithoutDuplicates) {
  ASSERT_TRUE(b_->sync(201, Device::Stop::kSuspendInPkg4).suspended);
  b_->last_anchor = "not-the-suspended-one";
  SyncRun run = b_->sync(225);
  ASSERT_TRUE(run.completed);
  EXPECT_EQ(run.alert_status, 508);
  EXPECT_EQ(run.server_alert, 201);
  EXPECT_EQ(memory_->live_count(UserId("alice"), "contacts"), static_cast<size_t>(kItems));
}

TEST_F(SuspendResumeTest, ACompletedSyncCannotBeResumed) {
  ASSERT_TRUE(b_->sync(201).completed);
  SyncRun run = b_->sync(225);
  ASSERT_TRUE(run.completed);
  EXPECT_EQ(run.alert_status, 508);
}

// The value of sample `name` (with its labels) in Prometheus text; 0 when absent.
double sample(const std::string& text, const std::string& name) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(name + " ", 0) == 0) return std::stod(line.substr(name.size() + 1));
  }
  return 0;
}

TEST_F(SuspendResumeTest, MetricsCountItemsAsAppliedOnceAcrossAResumeAndTheSuspendedSessionWhenItExpires) {
  Metrics metrics;
  options_.metrics = &metrics;
  restart_engine();
  ASSERT_TRUE(b_->sync(201).completed);
  for (int i = 0; i < 3; ++i) b_->add(vcard("New " + std::to_string(i)));
  for (int i = 0; i < kItems; ++i) {  // so that B's pkg 4 takes several messages
    a_->edit(a_->luid_of(vcard("Person " + std::to_string(i))), vcard("Edited " + std::to_string(i)));
  }
  ASSERT_TRUE(a_->sync(200).completed);
  const std::string updated =
      R"(conflux_sync_items_total{datastore="contacts",direction="to_device",outcome="updated"})";
  const std::string added = R"(conflux_sync_items_total{datastore="contacts",direction="from_device",outcome="added"})";
  const std::string expired = R"(conflux_sessions_failed_total{status="expired"})";

  ASSERT_TRUE(b_->sync(200, Device::Stop::kSuspendInPkg4).suspended);
  EXPECT_EQ(sample(metrics.text(), added), 3) << "counted before the session completed";
  ASSERT_TRUE(b_->sync(225).completed);
  EXPECT_EQ(sample(metrics.text(), added), 3) << "the resumed sync counted its earlier half again";
  EXPECT_EQ(sample(metrics.text(), updated), kItems) << "each update sent to B counted once";
  EXPECT_EQ(sample(metrics.text(), "conflux_sessions_completed_total"), 3);

  // The completed sessions are kept for late messages, then expire without
  // a count; the suspended one, which the client left unfinished, counts.
  clock_.advance(options_.session_timeout_seconds + 1);
  ASSERT_TRUE(engine().purge_expired().is_ok());
  EXPECT_EQ(sample(metrics.text(), expired), 1);
  EXPECT_EQ(sample(metrics.text(), "conflux_sessions_started_total"), 4);
}

}  // namespace
}  // namespace conflux::engine
