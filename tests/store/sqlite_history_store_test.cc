// The item history on SQLite (the suite in history_store_suite.h) and the
// restore plan, a pure function of the versions.
#include <gtest/gtest.h>

#include "tests/store/history_store_suite.h"
#include "tests/store/sqlite_stores.h"

namespace conflux::store {
namespace history_suite {
INSTANTIATE_TYPED_TEST_SUITE_P(SQLite, HistoryStoreSuite, SqliteStores);

namespace {

TEST(PlanRestore, EachItemChangedSinceGoesBackToItsStateThen) {
  std::vector<ItemVersion> v = {
      version("kept", VersionKind::kCreated, "k", 1),      // id 1
      version("edited", VersionKind::kFound, "old", 5),    // id 2: found when first edited
      version("edited", VersionKind::kUpdated, "new", 5),  // id 3 (cut)
      version("added", VersionKind::kCreated, "a", 6),     // id 4
      version("gone", VersionKind::kFound, "g", 7),        // id 5
      version("gone", VersionKind::kDeleted, "", 7),       // id 6
  };
  for (size_t i = 0; i < v.size(); ++i) v[i].id = static_cast<int64_t>(i) + 1;
  auto changes = caf::plan_restore(v, 3, std::nullopt);
  ASSERT_EQ(changes.size(), 3u);
  EXPECT_EQ(changes[0].action, caf::Action::kDelete);
  EXPECT_EQ(changes[0].guid, Guid("added"));
  EXPECT_EQ(changes[1].action, caf::Action::kUpdate);
  EXPECT_EQ(changes[1].guid, Guid("edited"));
  EXPECT_EQ(changes[1].raw, "old");
  EXPECT_EQ(changes[2].action, caf::Action::kCreate);
  EXPECT_EQ(changes[2].raw, "g");
  EXPECT_TRUE(changes[2].guid.empty()) << "the back end gives a re-created item a new id";

  auto one = caf::plan_restore(v, 3, Guid("gone"));
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].action, caf::Action::kCreate);
  EXPECT_TRUE(caf::plan_restore(v, 7, std::nullopt).empty()) << "nothing changed after the last version";
}

}  // namespace
}  // namespace history_suite
}  // namespace conflux::store
