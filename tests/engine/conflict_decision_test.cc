// The newest-wins and merge rules alone (engine/conflict_decision.h), and
// both policies through whole sessions of two devices.
#include "engine/conflict_decision.h"

#include <gtest/gtest.h>

#include "tests/engine/engine_harness.h"

namespace conflux::engine {
namespace {

using conflux::test::Device;
using conflux::test::SyncRun;

std::string card(const std::string& note, const std::string& extra = "") {
  return "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ann Example\r\nN:Example;Ann;;;\r\nNOTE:" + note + "\r\n" + extra +
         "END:VCARD\r\n";
}

// --- the rules ------------------------------------------------------------

TEST(ItemModifiedAt, ReadsVcardRevInBasicAndExtendedForm) {
  EXPECT_EQ(item_modified_at(card("x", "REV:20240102T030405Z\r\n"), "text/vcard"), 1704164645);
  EXPECT_EQ(item_modified_at(card("x", "REV:2024-01-02T03:04:05Z\r\n"), "text/vcard"), 1704164645);
  EXPECT_EQ(item_modified_at(card("x", "REV:2024-01-02T04:04:05+01:00\r\n"), "text/vcard"), 1704164645);
  EXPECT_EQ(item_modified_at(card("x", "REV:2024-01-02\r\n"), "text/vcard"), 1704153600);
  EXPECT_EQ(item_modified_at(card("x"), "text/vcard"), std::nullopt);
  EXPECT_EQ(item_modified_at(card("x", "REV:yesterday\r\n"), "text/vcard"), std::nullopt);
  EXPECT_EQ(item_modified_at("not a vcard", "text/vcard"), std::nullopt);
}

TEST(ItemModifiedAt, ReadsIcalendarLastModifiedElseDtstamp) {
  auto event = [](const std::string& props) {
    return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:e1\r\n"
           "DTSTART:20240301T100000Z\r\nSUMMARY:Meeting\r\n" +
           props + "END:VEVENT\r\nEND:VCALENDAR\r\n";
  };
  EXPECT_EQ(item_modified_at(event("DTSTAMP:20240101T000000Z\r\nLAST-MODIFIED:20240102T030405Z\r\n"), "text/calendar"),
            1704164645);
  EXPECT_EQ(item_modified_at(event("DTSTAMP:20240101T000000Z\r\n"), "text/calendar"), 1704067200);
  EXPECT_EQ(item_modified_at(event(""), "text/calendar"), std::nullopt);
}

TEST(NewestSide, OwnTimesDecideWhenBothHaveOne) {
  EXPECT_EQ(newest_side(100, 200), ConflictSide::kDevice);
  EXPECT_EQ(newest_side(200, 100), ConflictSide::kServer);
}

TEST(NewestSide, ArrivalDecidesWhenEitherLacksATime) {
  // The device's change reaches the server after the server's version did.
  EXPECT_EQ(newest_side(std::nullopt, 100), ConflictSide::kDevice);
  EXPECT_EQ(newest_side(200, std::nullopt), ConflictSide::kDevice);
  EXPECT_EQ(newest_side(std::nullopt, std::nullopt), ConflictSide::kDevice);
  EXPECT_EQ(newest_side(100, 100), ConflictSide::kDevice) << "equal times tell nothing";
}

TEST(MergeVersions, ServerWinsFieldsBothChangedAndEachSidesOwnFieldsStay) {
  auto merged = merge_versions("text/vcard", card("by server", "EMAIL:ann@example.org\r\n"), "text/x-vcard",
                               card("by device", "TITLE:Boss\r\n"));
  ASSERT_TRUE(merged) << merged.error().to_string();
  const std::string& text = merged->data;
  EXPECT_NE(text.find("NOTE:by server\\nby device"), std::string::npos) << "both texts are kept: " << text;
  EXPECT_NE(text.find("ann@example.org"), std::string::npos) << text;
  EXPECT_NE(text.find("TITLE:Boss"), std::string::npos) << text;
  EXPECT_NE(text.find("VERSION:3.0"), std::string::npos) << "written as the server's version: " << text;
  EXPECT_TRUE(merged->device_fields_left_out.empty());
}

TEST(MergeVersions, SingleValuedFieldBothChangedKeepsTheServersAndNamesTheDevicesAsLeftOut) {
  auto merged = merge_versions("text/vcard", card("x", "BDAY:1980-01-01\r\nTEL:+49 30 1\r\n"), "text/vcard",
                               card("x", "BDAY:1981-02-02\r\nTEL:+49 30 2\r\n"));
  ASSERT_TRUE(merged) << merged.error().to_string();
  EXPECT_NE(merged->data.find("BDAY:1980-01-01"), std::string::npos) << merged->data;
  EXPECT_NE(merged->data.find("+49 30 1"), std::string::npos) << merged->data;
  EXPECT_NE(merged->data.find("+49 30 2"), std::string::npos) << merged->data;
  EXPECT_EQ(merged->device_fields_left_out, std::vector<std::string>{"BDAY"});
}

TEST(MergeVersions, UnparsableOrDifferentKindsAreErrors) {
  EXPECT_FALSE(merge_versions("text/vcard", "garbage", "text/vcard", card("x")));
  EXPECT_FALSE(merge_versions("text/vcard", card("x"), "text/plain", "a note"));
}

// --- the policies in whole sessions ----------------------------------------

class NewestAndMergeTest : public conflux::test::EngineHarness {
 protected:
  // A and B share one card; A changes it to `by_a` and syncs, then B changes
  // it to `by_b` and syncs. Returns B's run; luid_b_ is B's LUID.
  SyncRun both_change(const std::string& policy, const std::string& by_a, const std::string& by_b) {
    restart_engine(policy);
    a_->add(card("original"));
    EXPECT_TRUE(a_->sync(201).completed);
    EXPECT_TRUE(b_->sync(201).completed);
    luid_b_ = b_->luid_of(card("original"));
    a_->edit(a_->luid_of(card("original")), by_a);
    EXPECT_TRUE(a_->sync(200).completed);
    if (by_b.empty()) {
      b_->remove(luid_b_);
    } else {
      b_->edit(luid_b_, by_b);
    }
    return b_->sync(200);
  }
  ConflictRecord only_record() {
    auto records = state_.conflicts(UserId("alice"), true);
    EXPECT_TRUE(records);
    EXPECT_EQ(records->size(), 1u);
    return records->empty() ? ConflictRecord{} : records->front();
  }

  void SetUp() override {
    EngineHarness::SetUp();
    a_.emplace(engine(), "IMEI:A");
    b_.emplace(engine(), "IMEI:B");
  }

  std::optional<Device> a_, b_;
  std::string luid_b_;
};

TEST_F(NewestAndMergeTest, NewestWinsKeepsTheServerVersionWhenItsRevIsLater) {
  // B syncs last, but A's edit is the newer one by the cards' own REV.
  const std::string by_a = card("by A", "REV:20240105T120000Z\r\n");
  const std::string by_b = card("by B", "REV:20240103T120000Z\r\n");
  SyncRun run = both_change("newest-wins", by_a, by_b);
  ASSERT_TRUE(run.completed);
  EXPECT_EQ(run.item_status[luid_b_], 419);
  EXPECT_EQ(sorted_server(), std::vector<std::string>{by_a});
  EXPECT_EQ(sorted_items(*b_), std::vector<std::string>{by_a});
  const ConflictRecord r = only_record();
  EXPECT_EQ(r.policy, "newest-wins");
  EXPECT_EQ(r.client_data, by_b) << "the losing device version is kept";
  EXPECT_NE(r.outcome.find("server version newer"), std::string::npos) << r.outcome;
}

TEST_F(NewestAndMergeTest, NewestWinsAppliesTheDeviceVersionWhenItsRevIsLater) {
  const std::string by_a = card("by A", "REV:20240103T120000Z\r\n");
  const std::string by_b = card("by B", "REV:20240105T120000Z\r\n");
  SyncRun run = both_change("newest-wins", by_a, by_b);
  ASSERT_TRUE(run.completed);
  EXPECT_EQ(run.item_status[luid_b_], 208);
  EXPECT_EQ(sorted_server(), std::vector<std::string>{by_b});
  ASSERT_TRUE(a_->sync(200).completed);
  EXPECT_EQ(sorted_items(*a_), std::vector<std::string>{by_b});
  EXPECT_EQ(only_record().server_data, by_a) << "the losing server version is kept";
}

TEST_F(NewestAndMergeTest, NewestWinsWithoutOwnTimesTakesTheLaterArrival) {
  SyncRun run = both_change("newest-wins", card("by A"), card("by B"));
  ASSERT_TRUE(run.completed);
  EXPECT_EQ(run.item_status[luid_b_], 208);
  EXPECT_EQ(sorted_server(), std::vector<std::string>{card("by B")});
  EXPECT_EQ(only_record().server_data, card("by A"));
}

TEST_F(NewestAndMergeTest, NewestWinsDeleteAgainstChangeTakesTheDevicesDelete) {
  SyncRun run = both_change("newest-wins", card("by A", "REV:20990101T000000Z\r\n"), "");
  ASSERT_TRUE(run.completed);
  EXPECT_EQ(run.item_status[luid_b_], 208);
  EXPECT_TRUE(sorted_server().empty());
  const ConflictRecord r = only_record();
  EXPECT_EQ(r.client_data, "");
  EXPECT_EQ(r.server_data, card("by A", "REV:20990101T000000Z\r\n")) << "the deleted server version is kept";
  EXPECT_NE(r.outcome.find("delete against change"), std::string::npos) << r.outcome;
  ASSERT_TRUE(a_->sync(200).completed);
  EXPECT_TRUE(a_->items().empty());
}

TEST_F(NewestAndMergeTest, MergeCombinesBothEditsOnServerAndDevices) {
  const std::string by_a = card("by A", "EMAIL:ann@example.org\r\n");
  const std::string by_b = card("by B", "TITLE:Boss\r\n");
  SyncRun run = both_change("merge", by_a, by_b);
  ASSERT_TRUE(run.completed);
  EXPECT_EQ(run.item_status[luid_b_], 207);
  const auto server = sorted_server();
  ASSERT_EQ(server.size(), 1u);
  const std::string& merged = server[0];
  EXPECT_NE(merged.find("NOTE:by A\\nby B"), std::string::npos) << merged;
  EXPECT_NE(merged.find("ann@example.org"), std::string::npos) << merged;
  EXPECT_NE(merged.find("TITLE:Boss"), std::string::npos) << merged;
  // The merge goes back to B in the same session and to A at its next sync.
  EXPECT_EQ(sorted_items(*b_), server);
  ASSERT_TRUE(a_->sync(200).completed);
  EXPECT_EQ(sorted_items(*a_), server);
  // Both originals are on record, and the next syncs raise no new conflict.
  const ConflictRecord r = only_record();
  EXPECT_EQ(r.policy, "merge");
  EXPECT_EQ(r.server_data, by_a);
  EXPECT_EQ(r.client_data, by_b);
  ASSERT_TRUE(b_->sync(200).completed);
  EXPECT_EQ(state_.conflicts(UserId(), true)->size(), 1u);
  EXPECT_EQ(sorted_items(*b_), server);
}

TEST_F(NewestAndMergeTest, MergeDeleteAgainstChangeKeepsTheChange) {
  SyncRun run = both_change("merge", card("by A"), "");
  ASSERT_TRUE(run.completed);
  EXPECT_EQ(run.item_status[luid_b_], 419);
  EXPECT_EQ(sorted_server(), std::vector<std::string>{card("by A")});
  EXPECT_EQ(sorted_items(*b_), std::vector<std::string>{card("by A")}) << "the device gets the changed item back";
  EXPECT_EQ(only_record().server_data, card("by A"));
}

TEST_F(NewestAndMergeTest, MergeChangeAgainstServerDeleteRecreatesTheItem) {
  restart_engine("merge");
  a_->add(card("original"));
  ASSERT_TRUE(a_->sync(201).completed);
  ASSERT_TRUE(b_->sync(201).completed);
  a_->remove(a_->luid_of(card("original")));
  ASSERT_TRUE(a_->sync(200).completed);
  const std::string luid_b = b_->luid_of(card("original"));
  b_->edit(luid_b, card("by B"));
  SyncRun run = b_->sync(200);
  ASSERT_TRUE(run.completed);
  EXPECT_EQ(run.item_status[luid_b], 201) << "stored again, as an Add";
  EXPECT_EQ(sorted_server(), std::vector<std::string>{card("by B")});
  EXPECT_EQ(only_record().client_data, card("by B"));
  // Every other device gets it back.
  ASSERT_TRUE(a_->sync(200).completed);
  EXPECT_EQ(sorted_items(*a_), std::vector<std::string>{card("by B")});
}

TEST_F(NewestAndMergeTest, MergeOfUnparsableVersionsFallsBackToServerWins) {
  SyncRun run = both_change("merge", card("by A"), "BEGIN:VCARD\r\nbroken");
  ASSERT_TRUE(run.completed);
  EXPECT_EQ(run.item_status[luid_b_], 419);
  EXPECT_EQ(sorted_server(), std::vector<std::string>{card("by A")});
  const ConflictRecord r = only_record();
  EXPECT_EQ(r.client_data, "BEGIN:VCARD\r\nbroken");
  EXPECT_NE(r.outcome.find("could not merge"), std::string::npos) << r.outcome;
}

}  // namespace
}  // namespace conflux::engine
