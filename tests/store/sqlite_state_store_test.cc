#include "store/sqlite_state_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>

#include "common/base64.h"
#include "tests/common/temp_dir.h"

namespace conflux::store {
namespace {

namespace fs = std::filesystem;
using engine::DeviceStore;
using engine::ItemProblem;
using engine::MapEntry;
using engine::Rejection;
using engine::SyncAnchors;
using engine::SyncReport;

using conflux::test::TempDir;

MapEntry entry(const std::string& luid, const std::string& guid, const std::string& synced) {
  return MapEntry{Luid(luid), Guid(guid), Anchor(synced)};
}

// Map entries as "luid=guid@synced" for readable comparisons.
std::vector<std::string> describe(const std::vector<MapEntry>& entries) {
  std::vector<std::string> out;
  for (const auto& e : entries) out.push_back(e.luid.str() + "=" + e.guid.str() + "@" + e.synced.str());
  return out;
}

class SqliteStateStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { reopen(); }

  void reopen() {
    store_.reset();
    db_.reset();
    auto db = SqliteDb::open(dir_.file("conflux.db"));
    ASSERT_TRUE(db) << db.error().to_string();
    db_ = std::move(*db);
    auto store = SqliteStateStore::open(db_, [this] { return now_.load(); });
    ASSERT_TRUE(store) << store.error().to_string();
    store_ = std::move(*store);
  }

  std::vector<std::string> map_of(const DeviceStore& ds) {
    auto entries = store_->map_entries(ds);
    EXPECT_TRUE(entries) << entries.error().to_string();
    return entries ? describe(*entries) : std::vector<std::string>{};
  }

  TempDir dir_;
  std::atomic<int64_t> now_{1'700'000'000};
  std::shared_ptr<SqliteDb> db_;
  std::unique_ptr<SqliteStateStore> store_;

  const DeviceStore phone_contacts_{UserId("alice"), DeviceId("IMEI:1"), "contacts"};
};

TEST_F(SqliteStateStoreTest, AuthNoncesAreKeptPerDevice) {
  auto none = store_->auth_nonce(DeviceId("IMEI:1"));
  ASSERT_TRUE(none);
  EXPECT_EQ(*none, "");
  ASSERT_TRUE(store_->save_auth_nonce(DeviceId("IMEI:1"), "MTIzNDU2Nzg=").is_ok());
  ASSERT_TRUE(store_->save_auth_nonce(DeviceId("IMEI:2"), "OTg3NjU0MzI=").is_ok());
  ASSERT_TRUE(store_->save_auth_nonce(DeviceId("IMEI:1"), "bmV3ZXI=").is_ok());
  EXPECT_EQ(*store_->auth_nonce(DeviceId("IMEI:1")), "bmV3ZXI=");
  EXPECT_EQ(*store_->auth_nonce(DeviceId("IMEI:2")), "OTg3NjU0MzI=");
}

TEST_F(SqliteStateStoreTest, SessionsSaveLoadDelete) {
  const SessionKey key("s1");
  auto missing = store_->load_session(key);
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());

  const std::string state("binary\0state\xff", 13);
  ASSERT_TRUE(store_->save_session(key, state).is_ok());
  auto loaded = store_->load_session(key);
  ASSERT_TRUE(loaded);
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ(**loaded, state);

  ASSERT_TRUE(store_->save_session(key, "second").is_ok());
  EXPECT_EQ(**store_->load_session(key), "second");

  ASSERT_TRUE(store_->delete_session(key).is_ok());
  EXPECT_FALSE(store_->load_session(key)->has_value());
  EXPECT_TRUE(store_->delete_session(key).is_ok());  // deleting nothing is fine
}

TEST_F(SqliteStateStoreTest, ExpireSessionsUsesTheInjectedClock) {
  ASSERT_TRUE(store_->save_session(SessionKey("old"), "a").is_ok());
  now_ += 500;
  ASSERT_TRUE(store_->save_session(SessionKey("young"), "b").is_ok());
  ASSERT_TRUE(store_->save_session(SessionKey("refreshed"), "c").is_ok());
  now_ += 500;  // old: 1000 s, young and refreshed: 500 s
  ASSERT_TRUE(store_->save_session(SessionKey("refreshed"), "c2").is_ok());  // saved again: 0 s

  auto none = store_->expire_sessions(1000);  // nothing *older* than 1000 s
  ASSERT_TRUE(none);
  EXPECT_EQ(*none, 0);

  auto expired = store_->expire_sessions(600);
  ASSERT_TRUE(expired) << expired.error().to_string();
  EXPECT_EQ(*expired, 1);
  EXPECT_FALSE(store_->load_session(SessionKey("old"))->has_value());
  EXPECT_TRUE(store_->load_session(SessionKey("young"))->has_value());

  now_ += 1;
  auto second = store_->expire_sessions(0);
  ASSERT_TRUE(second);
  EXPECT_EQ(*second, 2);
  EXPECT_FALSE(store_->load_session(SessionKey("refreshed"))->has_value());

  auto negative = store_->expire_sessions(-1);
  ASSERT_FALSE(negative);
  EXPECT_EQ(negative.error().code(), StatusCode::kInvalidArgument);
}

TEST_F(SqliteStateStoreTest, AnchorsSaveLoadForget) {
  auto none = store_->anchors(phone_contacts_);
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());

  ASSERT_TRUE(store_->save_anchors(phone_contacts_, SyncAnchors{"20240101T000000Z", Anchor("17")}).is_ok());
  auto loaded = store_->anchors(phone_contacts_);
  ASSERT_TRUE(loaded && loaded->has_value());
  EXPECT_EQ((*loaded)->client_next, "20240101T000000Z");
  EXPECT_EQ((*loaded)->server_next, Anchor("17"));

  EXPECT_EQ((*loaded)->store_identity, "") << "none given";

  ASSERT_TRUE(store_->save_anchors(phone_contacts_, SyncAnchors{"c2", Anchor("18"), "vdir root=/srv"}).is_ok());
  EXPECT_EQ((**store_->anchors(phone_contacts_)).client_next, "c2");
  EXPECT_EQ((**store_->anchors(phone_contacts_)).server_next, Anchor("18"));
  EXPECT_EQ((**store_->anchors(phone_contacts_)).store_identity, "vdir root=/srv");

  // Other users, devices and datastores see nothing of it.
  for (const DeviceStore& other : {DeviceStore{UserId("bob"), DeviceId("IMEI:1"), "contacts"},
                                   DeviceStore{UserId("alice"), DeviceId("IMEI:2"), "contacts"},
                                   DeviceStore{UserId("alice"), DeviceId("IMEI:1"), "calendar"}}) {
    auto theirs = store_->anchors(other);
    ASSERT_TRUE(theirs);
    EXPECT_FALSE(theirs->has_value()) << other.user.str() << "/" << other.device.str() << "/" << other.database;
  }

  ASSERT_TRUE(store_->forget_anchors(phone_contacts_).is_ok());
  EXPECT_FALSE(store_->anchors(phone_contacts_)->has_value());
}

TEST_F(SqliteStateStoreTest, RejectionsCountPerRevisionAndSurviveReopen) {
  const Guid g1("g1"), g2("g2");
  ASSERT_TRUE(store_->record_rejection(phone_contacts_, g1, Anchor("5"), 500).is_ok());
  ASSERT_TRUE(store_->record_rejection(phone_contacts_, g1, Anchor("5"), 415).is_ok());
  ASSERT_TRUE(store_->record_rejection(phone_contacts_, g2, Anchor("7"), 500).is_ok());
  reopen();
  auto found = store_->rejections(phone_contacts_);
  ASSERT_TRUE(found) << found.error().to_string();
  ASSERT_EQ(found->size(), 2u);
  std::sort(found->begin(), found->end(), [](const Rejection& a, const Rejection& b) { return a.guid < b.guid; });
  EXPECT_EQ((*found)[0].count, 2);
  EXPECT_EQ((*found)[0].status, 415);
  EXPECT_EQ((*found)[1].count, 1);
  // A new revision starts again at one.
  ASSERT_TRUE(store_->record_rejection(phone_contacts_, g1, Anchor("6"), 500).is_ok());
  EXPECT_EQ(store_->rejections(phone_contacts_)->front().count, 1);
  EXPECT_TRUE(store_->rejections(DeviceStore{UserId("alice"), DeviceId("IMEI:2"), "contacts"})->empty());
  ASSERT_TRUE(store_->clear_rejections(phone_contacts_, {g1, g2}).is_ok());
  EXPECT_TRUE(store_->rejections(phone_contacts_)->empty());
}

TEST_F(SqliteStateStoreTest, ResumePointsSaveLoadForget) {
  EXPECT_FALSE(store_->resume_point(phone_contacts_)->has_value());
  ASSERT_TRUE(store_->save_resume_point(phone_contacts_, SessionKey("s1")).is_ok());
  ASSERT_TRUE(store_->save_resume_point(phone_contacts_, SessionKey("s2")).is_ok());
  reopen();
  auto point = store_->resume_point(phone_contacts_);
  ASSERT_TRUE(point && point->has_value());
  EXPECT_EQ((*point)->str(), "s2");
  EXPECT_FALSE(store_->resume_point(DeviceStore{UserId("alice"), DeviceId("IMEI:1"), "calendar"})->has_value());
  ASSERT_TRUE(store_->forget_resume_point(phone_contacts_).is_ok());
  EXPECT_FALSE(store_->resume_point(phone_contacts_)->has_value());
}

TEST_F(SqliteStateStoreTest, ReportsKeepTheirItemProblems) {
  SyncReport report;
  report.session = SessionKey("s1");
  report.where = phone_contacts_;
  report.problems = {ItemProblem{ItemProblem::Direction::kFromDevice, "luid-7", 500, "apply failed: disk"},
                     ItemProblem{ItemProblem::Direction::kToDevice, "guid-3", 415, "poison"}};
  ASSERT_TRUE(store_->save_report(report).is_ok());
  reopen();
  auto shown = store_->session_report(SessionKey("s1"));
  ASSERT_TRUE(shown) << shown.error().to_string();
  ASSERT_EQ(shown->size(), 1u);
  const auto& problems = shown->front().problems;
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0].direction, ItemProblem::Direction::kFromDevice);
  EXPECT_EQ(problems[0].item, "luid-7");
  EXPECT_EQ(problems[0].status, 500);
  EXPECT_EQ(problems[0].what, "apply failed: disk");
  EXPECT_EQ(problems[1].direction, ItemProblem::Direction::kToDevice);
  EXPECT_EQ(problems[1].item, "guid-3");
}

TEST_F(SqliteStateStoreTest, UpsertMapReplacesByLuidAndByGuid) {
  ASSERT_TRUE(store_->upsert_map(phone_contacts_, {entry("1", "g1", "5"), entry("2", "g2", "6")}).is_ok());
  EXPECT_EQ(map_of(phone_contacts_), (std::vector<std::string>{"1=g1@5", "2=g2@6"}));

  // Same LUID: the row is replaced.
  ASSERT_TRUE(store_->upsert_map(phone_contacts_, {entry("1", "g1", "9")}).is_ok());
  ASSERT_TRUE(store_->upsert_map(phone_contacts_, {entry("2", "g3", "10")}).is_ok());
  EXPECT_EQ(map_of(phone_contacts_), (std::vector<std::string>{"1=g1@9", "2=g3@10"}));

  // Same GUID under a new LUID: the old LUID's row goes.
  ASSERT_TRUE(store_->upsert_map(phone_contacts_, {entry("7", "g1", "11")}).is_ok());
  EXPECT_EQ(map_of(phone_contacts_), (std::vector<std::string>{"2=g3@10", "7=g1@11"}));

  // Within one batch the later entry wins.
  ASSERT_TRUE(store_->upsert_map(phone_contacts_, {entry("8", "g8", "1"), entry("9", "g8", "2")}).is_ok());
  EXPECT_EQ(map_of(phone_contacts_), (std::vector<std::string>{"2=g3@10", "7=g1@11", "9=g8@2"}));
}

TEST_F(SqliteStateStoreTest, UpsertMapRejectsEmptyIdsAndWritesNothing) {
  Status s = store_->upsert_map(phone_contacts_, {entry("1", "g1", "5"), entry("", "g2", "6")});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  s = store_->upsert_map(phone_contacts_, {entry("1", "", "5")});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(map_of(phone_contacts_).empty());
  EXPECT_TRUE(store_->upsert_map(phone_contacts_, {}).is_ok());
}

TEST_F(SqliteStateStoreTest, RemoveAndClearMap) {
  ASSERT_TRUE(store_->upsert_map(phone_contacts_, {entry("1", "g1", "1"), entry("2", "g2", "2"),
                                                   entry("3", "g3", "3")})
                  .is_ok());
  ASSERT_TRUE(store_->remove_map(phone_contacts_, {Luid("1"), Luid("3"), Luid("nope")}).is_ok());
  EXPECT_EQ(map_of(phone_contacts_), (std::vector<std::string>{"2=g2@2"}));
  ASSERT_TRUE(store_->remove_map(phone_contacts_, {}).is_ok());
  ASSERT_TRUE(store_->clear_map(phone_contacts_).is_ok());
  EXPECT_TRUE(map_of(phone_contacts_).empty());
}

TEST_F(SqliteStateStoreTest, MapsAreIsolatedByUserDeviceAndDatabase) {
  const DeviceStore bob{UserId("bob"), DeviceId("IMEI:1"), "contacts"};
  const DeviceStore tablet{UserId("alice"), DeviceId("IMEI:2"), "contacts"};
  const DeviceStore calendar{UserId("alice"), DeviceId("IMEI:1"), "calendar"};
  ASSERT_TRUE(store_->upsert_map(phone_contacts_, {entry("1", "g", "1")}).is_ok());
  // The same LUID and GUID elsewhere are different rows, and the GUID rule
  // applies within one (user, device, database) only.
  ASSERT_TRUE(store_->upsert_map(bob, {entry("1", "g", "2")}).is_ok());
  ASSERT_TRUE(store_->upsert_map(tablet, {entry("5", "g", "3")}).is_ok());
  ASSERT_TRUE(store_->upsert_map(calendar, {entry("1", "g", "4")}).is_ok());
  EXPECT_EQ(map_of(phone_contacts_), (std::vector<std::string>{"1=g@1"}));
  EXPECT_EQ(map_of(bob), (std::vector<std::string>{"1=g@2"}));
  EXPECT_EQ(map_of(tablet), (std::vector<std::string>{"5=g@3"}));
  EXPECT_EQ(map_of(calendar), (std::vector<std::string>{"1=g@4"}));

  ASSERT_TRUE(store_->remove_map(bob, {Luid("1")}).is_ok());
  ASSERT_TRUE(store_->clear_map(tablet).is_ok());
  EXPECT_EQ(map_of(phone_contacts_), (std::vector<std::string>{"1=g@1"}));
  EXPECT_EQ(map_of(calendar), (std::vector<std::string>{"1=g@4"}));
  EXPECT_TRUE(map_of(bob).empty());
  EXPECT_TRUE(map_of(tablet).empty());
}

TEST_F(SqliteStateStoreTest, DeviceInfo) {
  auto none = store_->device_info(UserId("alice"), DeviceId("IMEI:1"));
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());
  ASSERT_TRUE(store_->save_device_info(UserId("alice"), DeviceId("IMEI:1"), "<DevInf>1</DevInf>").is_ok());
  ASSERT_TRUE(store_->save_device_info(UserId("alice"), DeviceId("IMEI:1"), "<DevInf>2</DevInf>").is_ok());
  EXPECT_EQ(**store_->device_info(UserId("alice"), DeviceId("IMEI:1")), "<DevInf>2</DevInf>");
  EXPECT_FALSE(store_->device_info(UserId("bob"), DeviceId("IMEI:1"))->has_value());
  EXPECT_FALSE(store_->device_info(UserId("alice"), DeviceId("IMEI:2"))->has_value());
}

TEST_F(SqliteStateStoreTest, EverythingSurvivesReopen) {
  ASSERT_TRUE(store_->save_session(SessionKey("s"), "state").is_ok());
  ASSERT_TRUE(store_->save_anchors(phone_contacts_, SyncAnchors{"c", Anchor("1")}).is_ok());
  ASSERT_TRUE(store_->upsert_map(phone_contacts_, {entry("1", "g", "1")}).is_ok());
  ASSERT_TRUE(store_->save_device_info(UserId("alice"), DeviceId("IMEI:1"), "<DevInf/>").is_ok());
  reopen();  // migrations run again: must be a no-op
  EXPECT_EQ(**store_->load_session(SessionKey("s")), "state");
  EXPECT_EQ((**store_->anchors(phone_contacts_)).client_next, "c");
  EXPECT_EQ(map_of(phone_contacts_), (std::vector<std::string>{"1=g@1"}));
  EXPECT_EQ(**store_->device_info(UserId("alice"), DeviceId("IMEI:1")), "<DevInf/>");
}

TEST_F(SqliteStateStoreTest, ServerSecretIsStableAcrossReopenAndInstances) {
  auto first = store_->server_secret();
  ASSERT_TRUE(first) << first.error().to_string();
  EXPECT_EQ(first->size(), 32u);
  EXPECT_NE(*first, std::string(32, '\0'));
  EXPECT_EQ(*store_->server_secret(), *first);

  // A second store on the same database (another node) gets the same key.
  auto twin = SqliteStateStore::open(db_);
  ASSERT_TRUE(twin);
  EXPECT_EQ(*(*twin)->server_secret(), *first);

  reopen();
  EXPECT_EQ(*store_->server_secret(), *first);

  // Another database has another key.
  auto other_db = SqliteDb::open(dir_.file("other.db"));
  ASSERT_TRUE(other_db);
  auto other = SqliteStateStore::open(std::move(*other_db));
  ASSERT_TRUE(other);
  auto other_secret = (*other)->server_secret();
  ASSERT_TRUE(other_secret);
  EXPECT_NE(*other_secret, *first);
}

TEST_F(SqliteStateStoreTest, OpenRequiresADatabase) {
  auto store = SqliteStateStore::open(nullptr);
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace conflux::store
