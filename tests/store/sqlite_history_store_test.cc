// The item history: its SQLite store (retention keeps what a restore needs),
// the restore plan, and the recorder around an adapter's apply.
#include "store/sqlite_history_store.h"

#include <gtest/gtest.h>

#include "caf/item_history.h"
#include "tests/caf/memory_adapter.h"

namespace conflux::store {
namespace {

using caf::ItemVersion;
using caf::VersionKind;

ItemVersion version(const std::string& guid, VersionKind kind, const std::string& raw, int64_t at,
                    const std::string& session = "s") {
  ItemVersion v;
  v.user = UserId("alice");
  v.database = "contacts";
  v.guid = Guid(guid);
  v.kind = kind;
  v.content_type = "text/vcard";
  v.raw = raw;
  v.origin = "device IMEI:1";
  v.session = session;
  v.at = at;
  return v;
}

class SqliteHistoryStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = SqliteDb::open(":memory:");
    ASSERT_TRUE(db);
    auto opened = SqliteHistoryStore::open(std::shared_ptr<SqliteDb>(std::move(*db)));
    ASSERT_TRUE(opened);
    store_ = std::move(*opened);
  }
  std::vector<std::string> described() {
    std::vector<std::string> out;
    for (const auto& v : *store_->versions(UserId("alice"), "contacts", std::nullopt)) {
      out.push_back(v.guid.str() + ":" + caf::version_kind_name(v.kind) + ":" + v.raw);
    }
    return out;
  }
  std::unique_ptr<SqliteHistoryStore> store_;
};

TEST_F(SqliteHistoryStoreTest, RecordsInOrderPerUserAndItem) {
  ASSERT_TRUE(store_->record({version("g1", VersionKind::kCreated, "a", 100),
                              version("g1", VersionKind::kUpdated, "b", 200), version("g2", VersionKind::kCreated, "x", 200)})
                  .is_ok());
  EXPECT_EQ(described(), (std::vector<std::string>{"g1:created:a", "g1:updated:b", "g2:created:x"}));
  auto one = store_->versions(UserId("alice"), "contacts", Guid("g1"));
  ASSERT_TRUE(one);
  ASSERT_EQ(one->size(), 2u);
  EXPECT_LT((*one)[0].id, (*one)[1].id);
  EXPECT_EQ((*one)[1].origin, "device IMEI:1");
  EXPECT_TRUE(store_->versions(UserId("bob"), "contacts", std::nullopt)->empty());
  EXPECT_EQ(*store_->known(UserId("alice"), "contacts", {Guid("g1"), Guid("g3")}), std::set<std::string>{"g1"});
}

TEST_F(SqliteHistoryStoreTest, PurgeKeepsTheLastOldVersionOfEachLiveItem) {
  ASSERT_TRUE(store_->record({version("g1", VersionKind::kCreated, "a", 100),
                              version("g1", VersionKind::kUpdated, "b", 200),
                              version("g1", VersionKind::kUpdated, "c", 900),
                              version("g2", VersionKind::kCreated, "x", 100),
                              version("g2", VersionKind::kDeleted, "", 200)})
                  .is_ok());
  auto dropped = store_->purge("contacts", 500);
  ASSERT_TRUE(dropped);
  EXPECT_EQ(*dropped, 3);
  EXPECT_EQ(described(), (std::vector<std::string>{"g1:updated:b", "g1:updated:c"}));
}

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

TEST_F(SqliteHistoryStoreTest, RecorderKeepsEveryWriteAndTheVersionFoundBeforeIt) {
  ManualClock clock(1000);
  caf::StoreSettings contacts;
  contacts.name = "contacts";
  caf::StoreSettings notes;
  notes.name = "notes";
  notes.history_days = 0;
  caf::HistoryRecorder recorder(*store_, clock, {contacts, notes});
  test::MemoryAdapter adapter;
  caf::StoreRef ref{UserId("alice"), "contacts", {}, std::nullopt, "device IMEI:1", "s1"};

  // An item written before history (no recorder in between) …
  std::vector<caf::SyncObj> create(1);
  create[0].user = UserId("alice");
  create[0].database = "contacts";
  create[0].action = caf::Action::kCreate;
  create[0].content_type = "text/vcard";
  create[0].raw = "v1";
  const Guid guid = adapter.apply(ref, std::move(create))[0].guid;

  // … then edited and deleted through the recorder.
  auto write = [&](caf::Action action, const std::string& raw) {
    std::vector<caf::SyncObj> batch(1);
    batch[0].user = UserId("alice");
    batch[0].database = "contacts";
    batch[0].action = action;
    batch[0].guid = guid;
    batch[0].content_type = "text/vcard";
    batch[0].raw = raw;
    auto pending = recorder.before_apply(adapter, ref, batch);
    auto results = adapter.apply(ref, std::move(batch));
    recorder.after_apply(ref, std::move(pending), results);
  };
  write(caf::Action::kUpdate, "v2");
  write(caf::Action::kDelete, "");
  EXPECT_EQ(described(), (std::vector<std::string>{guid.str() + ":found:v1", guid.str() + ":updated:v2",
                                                   guid.str() + ":deleted:"}));
  auto versions = *store_->versions(UserId("alice"), "contacts", std::nullopt);
  EXPECT_EQ(versions[1].session, "s1");
  EXPECT_EQ(versions[1].at, 1000);

  // A store with history_days = 0 keeps none.
  caf::StoreRef notes_ref{UserId("alice"), "notes", {}};
  std::vector<caf::SyncObj> note(1);
  note[0].user = UserId("alice");
  note[0].database = "notes";
  note[0].action = caf::Action::kCreate;
  note[0].raw = "n";
  auto pending = recorder.before_apply(adapter, notes_ref, note);
  recorder.after_apply(notes_ref, std::move(pending), adapter.apply(notes_ref, std::move(note)));
  EXPECT_TRUE(store_->versions(UserId("alice"), "notes", std::nullopt)->empty());
}

}  // namespace
}  // namespace conflux::store
