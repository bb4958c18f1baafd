#include "store/sqlite_state_store.h"

#include "tests/store/sqlite_stores.h"
#include "tests/store/state_store_suite.h"
#include "tests/store/user_store_suite.h"

namespace conflux::store {
namespace state_suite {
INSTANTIATE_TYPED_TEST_SUITE_P(SQLite, StateStoreSuite, SqliteStores);
}  // namespace state_suite
namespace user_suite {
INSTANTIATE_TYPED_TEST_SUITE_P(SQLite, UserStoreSuite, SqliteStores);
}  // namespace user_suite

namespace {

TEST(SqliteStateStoreTest, OpenRequiresADatabase) {
  auto store = SqliteStateStore::open(nullptr);
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace conflux::store
