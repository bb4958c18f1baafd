#include "caf/item_table.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace conflux::caf {
namespace {

StoreRef ref(const std::string& user, const std::string& database) {
  StoreRef r;
  r.user = UserId(user);
  r.database = database;
  return r;
}

// A table named as the tests name them: key `name`, revision `stamp`, and a
// deleted_at column `gone_at`, so a query using a fixed name would fail.
constexpr const char* kSchema =
    "CREATE TABLE items(user TEXT NOT NULL, database TEXT NOT NULL, name TEXT NOT NULL,"
    " stamp INTEGER NOT NULL, created INTEGER NOT NULL, deleted INTEGER NOT NULL DEFAULT 0,"
    " content_type TEXT NOT NULL DEFAULT '', data BLOB, gone_at INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY(user, database, name));";

class ItemTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = SqliteDb::open(":memory:");
    ASSERT_TRUE(db) << db.error().to_string();
    db_ = std::move(*db);
    ASSERT_TRUE(db_->exec(std::string(kSchema) + kRevisionSequenceSchema).is_ok());
    items_.emplace(*db_, ItemColumns{.key = "name", .revision = "stamp", .deleted_at = "gone_at"});
  }

  // Inserts a live row at the next revision and returns that revision.
  int64_t put(const StoreRef& store, const std::string& key, const std::string& data) {
    auto revision = items_->next_revision();
    EXPECT_TRUE(revision) << revision.error().to_string();
    auto written = items_->insert(store, key, *revision, "text/plain", data);
    EXPECT_TRUE(written) << written.error().to_string();
    return *revision;
  }

  // key of each row the reader is handed, in order (column 0 of `select`).
  static ItemTable::RowReader keys_into(std::vector<std::string>& keys) {
    return [&keys](const SqliteStatement& row) { keys.push_back(row.column_text(0)); };
  }

  std::vector<std::string> search(const Query& query) {
    std::vector<std::string> keys;
    Status searched = items_->search(alice_, query, "name", keys_into(keys));
    EXPECT_TRUE(searched.is_ok()) << searched.to_string();
    return keys;
  }

  std::unique_ptr<SqliteDb> db_;
  std::optional<ItemTable> items_;
  const StoreRef alice_ = ref("alice", "notes");
  const StoreRef bob_ = ref("bob", "notes");
};

TEST_F(ItemTableTest, RevisionsComeFromTheSequenceAndTheMaxIsPerStore) {
  EXPECT_EQ(*items_->max_revision(alice_), 0);
  EXPECT_EQ(put(alice_, "a", "A"), 1);
  EXPECT_EQ(put(bob_, "b", "B"), 2);
  EXPECT_EQ(put(alice_, "c", "C"), 3);
  EXPECT_EQ(*items_->max_revision(alice_), 3);
  EXPECT_EQ(*items_->max_revision(bob_), 2);
  EXPECT_EQ(*items_->live_count(alice_), 2);
}

TEST_F(ItemTableTest, ChangesSinceReportsTombstonesOnlyAfterARevision) {
  put(alice_, "a", "A");
  const int64_t b = put(alice_, "b", "B");
  put(bob_, "x", "X");
  ASSERT_EQ(*items_->remove(alice_, "a", *items_->next_revision(), 1234), 1);

  std::vector<std::string> keys;
  auto max = items_->changes_since(alice_, std::nullopt, "name", keys_into(keys));
  ASSERT_TRUE(max) << max.error().to_string();
  EXPECT_EQ(*max, 4);
  EXPECT_EQ(keys, std::vector<std::string>({"b"}));  // live rows only

  keys.clear();
  max = items_->changes_since(alice_, b - 1, "name, deleted, gone_at", [&](const SqliteStatement& row) {
    keys.push_back(row.column_text(0) +
                   (row.column_int64(1) ? " deleted at " + std::to_string(row.column_int64(2)) : ""));
  });
  ASSERT_TRUE(max);
  EXPECT_EQ(keys, std::vector<std::string>({"b", "a deleted at 1234"}));  // in revision order

  keys.clear();
  ASSERT_TRUE(items_->changes_since(alice_, 4, "name", keys_into(keys)));
  EXPECT_TRUE(keys.empty());
}

TEST_F(ItemTableTest, ChangeFromRowTellsCreatesUpdatesAndDeletes) {
  put(alice_, "a", "A");
  const int64_t b = put(alice_, "b", "B");
  ASSERT_EQ(*items_->update(alice_, "a", *items_->next_revision(), "", "A2"), 1);
  ASSERT_EQ(*items_->remove(alice_, "b", *items_->next_revision()), 1);
  put(alice_, "c", "C");

  std::vector<SyncObj> changes;
  ASSERT_TRUE(items_->changes_since(alice_, b, items_->change_columns(), [&](const SqliteStatement& row) {
    changes.push_back(ItemTable::change_from_row(row, alice_, b));
  }));
  ASSERT_EQ(changes.size(), 3u);
  EXPECT_EQ(changes[0].guid, Guid("a"));
  EXPECT_EQ(changes[0].action, Action::kUpdate);
  EXPECT_EQ(changes[0].raw, "A2");
  EXPECT_EQ(changes[0].anchor, Anchor("3"));
  EXPECT_EQ(changes[0].user, alice_.user);
  EXPECT_EQ(changes[1].guid, Guid("b"));
  EXPECT_EQ(changes[1].action, Action::kDelete);
  EXPECT_EQ(changes[2].action, Action::kCreate);
  EXPECT_EQ(changes[2].content_type, "text/plain");

  std::vector<SyncObj> listed;
  ASSERT_TRUE(
      items_
          ->search(alice_, Query{}, items_->change_columns(/*with_data=*/false),
                   [&](const SqliteStatement& row) { listed.push_back(ItemTable::change_from_row(row, alice_, 0)); })
          .is_ok());
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].guid, Guid("a"));
  EXPECT_TRUE(listed[0].raw.empty());
}

TEST_F(ItemTableTest, WritesTouchOnlyLiveRows) {
  put(alice_, "a", "A");
  EXPECT_EQ(items_->insert(alice_, "a", 9, "", "again").error().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(*items_->update(alice_, "a", *items_->next_revision(), "", "A2"), 1);
  EXPECT_EQ(*items_->update(alice_, "missing", *items_->next_revision(), "", "M"), 0);
  EXPECT_EQ(*items_->remove(alice_, "a", *items_->next_revision()), 1);
  EXPECT_EQ(*items_->remove(alice_, "a", *items_->next_revision()), 0);
  EXPECT_EQ(*items_->update(alice_, "a", *items_->next_revision(), "", "A3"), 0);
  EXPECT_TRUE(*items_->has_row(alice_, "a"));
  EXPECT_FALSE(*items_->has_row(alice_, "a", /*live_only=*/true));
  EXPECT_FALSE(*items_->has_row(bob_, "a"));

  // An update with an empty content type keeps the stored one.
  put(alice_, "b", "B");
  ASSERT_EQ(*items_->update(alice_, "b", *items_->next_revision(), "", "B2"), 1);
  std::vector<std::string> rows;
  ASSERT_TRUE(items_->changes_since(alice_, std::nullopt, "content_type || ':' || data", keys_into(rows)));
  EXPECT_EQ(rows, std::vector<std::string>({"text/plain:B2"}));
}

TEST_F(ItemTableTest, SearchByNamesSkipsRepeatsTombstonesAndStopsAtTheLimit) {
  put(alice_, "a", "apple");
  put(alice_, "b", "banana");
  put(alice_, "c", "cherry");
  ASSERT_EQ(*items_->remove(alice_, "b", *items_->next_revision()), 1);

  Query by_name;
  by_name.guids = {Guid("c"), Guid("b"), Guid("c"), Guid("a"), Guid("zz")};
  EXPECT_EQ(search(by_name), std::vector<std::string>({"c", "a"}));
  by_name.limit = 1;
  EXPECT_EQ(search(by_name), std::vector<std::string>({"c"}));

  Query all;
  EXPECT_EQ(search(all), std::vector<std::string>({"a", "c"}));
  all.limit = 1;
  EXPECT_EQ(search(all), std::vector<std::string>({"a"}));

  Query containing;
  containing.contains = "err";
  EXPECT_EQ(search(containing), std::vector<std::string>({"c"}));
  containing.guids = {Guid("a")};
  EXPECT_TRUE(search(containing).empty());
}

TEST(ItemTableRevisions, ParseOnlyWhatRevisionAnchorWrites) {
  EXPECT_EQ(parse_revision(revision_anchor(42).str()), 42);
  EXPECT_EQ(parse_revision("0"), 0);
  for (const char* bad : {"", "-1", "1x", " 1", "abc", "99999999999999999999"}) {
    EXPECT_EQ(parse_revision(bad), std::nullopt) << bad;
  }
}

}  // namespace
}  // namespace conflux::caf
