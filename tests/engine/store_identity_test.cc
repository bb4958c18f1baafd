// A datastore moved to another back end (issue #12, item 4): the anchors and
// maps of the old one make every device slow-sync once, which matches items
// and deletes nothing.
#include "engine/store_identity.h"

#include <gtest/gtest.h>

#include "tests/engine/engine_harness.h"

namespace conflux::engine {
namespace {

using conflux::test::Device;
using conflux::test::SyncRun;

TEST(StoreIdentity, AdapterAndLocationWithoutSecrets) {
  caf::StoreSettings s;
  s.name = "contacts";
  s.adapter = "vdir";
  s.options = {{"root", "/srv/dav"}, {"password_file", "/etc/pw"}, {"extension", "vcf"}};
  EXPECT_EQ(store_identity(s), "vdir extension=vcf root=/srv/dav");
  EXPECT_EQ(store_identity_of({s}, "contacts"), "vdir extension=vcf root=/srv/dav");
  EXPECT_EQ(store_identity_of({s}, "calendar"), "");
}

TEST(StoreIdentity, TypedValuesReadAsTheirTomlText) {
  caf::StoreSettings s;
  s.adapter = "caldav";
  s.options = {{"multiget_batch", int64_t{10}}, {"url", "http://dav/"}, {"verify", false}};
  // As when every value was kept as text: a stored identity still matches.
  EXPECT_EQ(store_identity(s), "caldav multiget_batch=10 url=http://dav/ verify=false");
}

TEST(StoreIdentity, OnlyAKnownOtherIdentityIsAMove) {
  EXPECT_FALSE(store_moved(std::nullopt, "sqlite"));
  EXPECT_FALSE(store_moved(SyncAnchors{"c", Anchor("1"), ""}, "sqlite")) << "saved before identities were kept";
  EXPECT_FALSE(store_moved(SyncAnchors{"c", Anchor("1"), "sqlite"}, "sqlite"));
  EXPECT_TRUE(store_moved(SyncAnchors{"c", Anchor("1"), "sqlite"}, "vdir root=/x"));
}

class MovedStoreTest : public conflux::test::EngineHarness {
 protected:
  // The datastores as the engine sees them after "contacts" was configured
  // with another location, then a restart.
  void move_contacts_elsewhere() {
    auto stores = registry_.stores();
    for (auto& s : stores) {
      if (s.name == "contacts") s.options["root"] = "/elsewhere";
    }
    engine_.emplace(manager_, state_, stores, options_, clock_);
  }
  // The new back end starts empty: every item of the old one is gone.
  void empty_the_back_end() {
    std::vector<caf::SyncObj> deletes;
    caf::Query all;
    caf::StoreRef ref{UserId("alice"), "contacts", {}};
    auto items = memory_->search(ref, all);
    ASSERT_TRUE(items);
    for (const auto& item : *items) {
      caf::SyncObj del;
      del.action = caf::Action::kDelete;
      del.guid = item.guid;
      deletes.push_back(std::move(del));
    }
    const size_t n = deletes.size();
    auto results = memory_->apply(ref, std::move(deletes));
    ASSERT_EQ(results.size(), n);
    ASSERT_EQ(server_items(), 0u);
  }
};

TEST_F(MovedStoreTest, EveryDeviceSlowSyncsOnceAndKeepsItsItems) {
  Device a(engine(), "IMEI:A");
  Device b(engine(), "IMEI:B");
  seed(a, 3);
  ASSERT_TRUE(b.sync(201).completed);
  ASSERT_TRUE(a.sync(200).completed);
  ASSERT_EQ(b.items().size(), 3u);

  empty_the_back_end();
  move_contacts_elsewhere();

  SyncRun run_a = a.sync(200);
  ASSERT_TRUE(run_a.completed);
  EXPECT_EQ(run_a.alert_status, 508) << "a slow sync, not a two-way one over the old maps";
  EXPECT_TRUE(run_a.received_of(protocol::CommandKind::kDelete).empty());
  EXPECT_EQ(a.items().size(), 3u);
  EXPECT_EQ(server_items(), 3u) << "the device's items fill the new back end";

  SyncRun run_b = b.sync(200);
  ASSERT_TRUE(run_b.completed);
  EXPECT_EQ(run_b.alert_status, 508);
  EXPECT_TRUE(run_b.received_of(protocol::CommandKind::kDelete).empty());
  EXPECT_EQ(b.items().size(), 3u);
  EXPECT_EQ(server_items(), 3u) << "matched, not doubled";

  // Settled: the next syncs are ordinary two-way ones.
  EXPECT_EQ(a.sync(200).alert_status, 200);
  EXPECT_EQ(b.sync(200).alert_status, 200);
}

}  // namespace
}  // namespace conflux::engine
