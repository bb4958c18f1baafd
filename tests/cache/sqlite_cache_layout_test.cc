// SqliteCacheStore on files written by released builds: the schema of module
// "cache" after step 1 and after step 2, made here with those steps' SQL as
// it shipped.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "cache/sqlite_cache_store.h"
#include "tests/common/temp_dir.h"

namespace conflux::cache {
namespace {

constexpr const char* kStep1 =
    "CREATE TABLE items("
    "  user TEXT NOT NULL, database TEXT NOT NULL, cuid TEXT NOT NULL,"
    "  guid TEXT NOT NULL DEFAULT '',"
    "  revision INTEGER NOT NULL, created INTEGER NOT NULL,"
    "  deleted INTEGER NOT NULL DEFAULT 0,"
    "  content_type TEXT NOT NULL DEFAULT '', data BLOB,"
    "  backend_rev TEXT NOT NULL DEFAULT '',"
    "  PRIMARY KEY(user, database, cuid));"
    "CREATE INDEX items_by_revision ON items(user, database, revision);"
    "CREATE INDEX items_by_guid ON items(user, database, guid);"
    "CREATE TABLE queue("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  user TEXT NOT NULL, database TEXT NOT NULL, cuid TEXT NOT NULL,"
    "  action INTEGER NOT NULL, enqueued_at INTEGER NOT NULL,"
    "  attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER NOT NULL DEFAULT 0,"
    "  last_error TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX queue_by_item ON queue(user, database, cuid);"
    "CREATE TABLE stores("
    "  user TEXT NOT NULL, database TEXT NOT NULL, backend_anchor TEXT NOT NULL DEFAULT '',"
    "  PRIMARY KEY(user, database));"
    "CREATE TABLE seq(id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL);"
    "INSERT INTO seq(id, value) VALUES (1, 0);";

constexpr const char* kStep2 =
    "ALTER TABLE queue ADD COLUMN stuck INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE queue ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE queue ADD COLUMN lease_until INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE items ADD COLUMN deleted_at INTEGER NOT NULL DEFAULT 0;"
    "UPDATE items SET deleted_at = CAST(strftime('%s', 'now') AS INTEGER) WHERE deleted = 1;"
    "CREATE TABLE dropped("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT, seq INTEGER NOT NULL,"
    "  user TEXT NOT NULL, database TEXT NOT NULL, cuid TEXT NOT NULL, action INTEGER NOT NULL,"
    "  enqueued_at INTEGER NOT NULL, attempts INTEGER NOT NULL, last_error TEXT NOT NULL,"
    "  content_type TEXT NOT NULL, data BLOB, dropped_at INTEGER NOT NULL);";

// alice's contacts, loaded from the back end at anchor "B7": revisions 1
// create a, 2 create b, 3 create c, 4 update b (queued for the back end),
// 5 delete c (replicated).
constexpr const char* kRows =
    "UPDATE seq SET value = 5 WHERE id = 1;"
    "INSERT INTO stores VALUES ('alice', 'contacts', 'B7');"
    "INSERT INTO items(user, database, cuid, guid, revision, created, deleted, content_type, data, backend_rev)"
    " VALUES ('alice', 'contacts', 'a', 'ga', 1, 1, 0, 'text/vcard', CAST('A' AS BLOB), 'ra'),"
    " ('alice', 'contacts', 'b', 'gb', 4, 2, 0, 'text/vcard', CAST('B2' AS BLOB), 'rb'),"
    " ('alice', 'contacts', 'c', 'gc', 5, 3, 1, 'text/vcard', NULL, 'rc');"
    "INSERT INTO queue(user, database, cuid, action, enqueued_at) VALUES ('alice', 'contacts', 'b', 2, 100);";

constexpr const char* kMigrationsTable =
    "CREATE TABLE schema_migrations(module TEXT NOT NULL, version INTEGER NOT NULL, PRIMARY KEY(module, version));";

class ReleasedCacheLayoutTest : public ::testing::TestWithParam<int> {
 protected:
  // The cache file as the release with `steps` schema steps left it.
  std::string write_released(int steps) {
    const std::string path = dir_.file("cache.db");
    auto db = SqliteDb::open(path);
    EXPECT_TRUE(db) << db.error().to_string();
    std::string sql = std::string(kMigrationsTable) + kStep1 + "INSERT INTO schema_migrations VALUES ('cache', 1);";
    if (steps >= 2) sql += std::string(kStep2) + "INSERT INTO schema_migrations VALUES ('cache', 2);";
    EXPECT_TRUE((*db)->exec(sql + kRows).is_ok());
    return path;
  }

  test::TempDir dir_;
  const caf::StoreRef alice_ = [] {
    caf::StoreRef ref;
    ref.user = UserId("alice");
    ref.database = "contacts";
    return ref;
  }();
};

TEST_P(ReleasedCacheLayoutTest, IsReadAndWritten) {
  auto opened = SqliteCacheStore::open(write_released(GetParam()));
  ASSERT_TRUE(opened) << opened.error().to_string();
  CacheStore& cache = **opened;

  EXPECT_TRUE(*cache.loaded(alice_));
  EXPECT_EQ(*cache.backend_anchor(alice_), Anchor("B7"));
  EXPECT_EQ(*cache.current_anchor(alice_), Anchor("5"));
  EXPECT_EQ(*cache.live_count(alice_), 2);
  auto all = cache.changes_since(alice_, Anchor());
  ASSERT_TRUE(all) << all.error().to_string();
  ASSERT_EQ(all->changes.size(), 2u);
  EXPECT_EQ(all->changes[0].cuid, Cuid("a"));
  EXPECT_EQ(all->changes[1].raw, "B2");
  auto since2 = cache.changes_since(alice_, Anchor("2"));
  ASSERT_TRUE(since2);
  ASSERT_EQ(since2->changes.size(), 2u);
  EXPECT_EQ(since2->changes[0].action, caf::Action::kUpdate);
  EXPECT_EQ(since2->changes[1].action, caf::Action::kDelete);

  caf::Query by_cuid;
  by_cuid.guids = {Guid("c"), Guid("b")};
  auto found = cache.search(alice_, by_cuid);
  ASSERT_TRUE(found) << found.error().to_string();
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ((*found)[0].raw, "B2");
  auto item = cache.item(alice_, Cuid("a"));
  ASSERT_TRUE(item && *item);
  EXPECT_EQ((*item)->guid, Guid("ga"));
  EXPECT_EQ((*item)->backend_rev, "ra");

  auto queued = cache.queued("contacts");
  ASSERT_TRUE(queued) << queued.error().to_string();
  ASSERT_EQ(queued->size(), 1u);
  EXPECT_EQ((*queued)[0].cuid, Cuid("b"));
  EXPECT_FALSE((*queued)[0].stuck);

  // Writes continue the sequence; a purge up to revision 5 takes c's
  // tombstone but not a's, whose delete is still queued.
  std::vector<caf::SyncObj> batch(1);
  batch[0].action = caf::Action::kDelete;
  batch[0].guid = Guid("a");
  auto results = cache.apply(alice_, std::move(batch), "text/vcard", 1000);
  ASSERT_EQ(results.size(), 1u);
  ASSERT_TRUE(results[0].status.is_ok()) << results[0].status.to_string();
  EXPECT_EQ(results[0].anchor, Anchor("6"));
  EXPECT_EQ(*cache.purge_tombstones(alice_, 5, 0), 1);
  EXPECT_FALSE(*cache.item(alice_, Cuid("c")));
  EXPECT_TRUE((*cache.item(alice_, Cuid("a")))->deleted);
  EXPECT_EQ(*cache.live_count(alice_), 1);
}

INSTANTIATE_TEST_SUITE_P(AfterStep, ReleasedCacheLayoutTest, ::testing::Values(1, 2));

}  // namespace
}  // namespace conflux::cache
