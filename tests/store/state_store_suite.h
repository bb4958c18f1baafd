// The state store suite: every StateStore implementation must pass it.
// Instantiated with SqliteStores (sqlite_state_store_test.cc) and PgStores
// (pg_store_test.cc); a Stores type opens the shared database and the stores
// on it (tests/store/sqlite_stores.h).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>

#include "common/base64.h"
#include "store/state_store.h"

namespace conflux::store {
namespace state_suite {

using engine::DeviceStore;
using engine::ItemProblem;
using engine::MapEntry;
using engine::Rejection;
using engine::SyncAnchors;
using engine::SyncReport;

inline MapEntry entry(const std::string& luid, const std::string& guid, const std::string& synced) {
  return MapEntry{Luid(luid), Guid(guid), Anchor(synced)};
}

// Map entries as "luid=guid@synced" for readable comparisons.
inline std::vector<std::string> describe(const std::vector<MapEntry>& entries) {
  std::vector<std::string> out;
  for (const auto& e : entries) out.push_back(e.luid.str() + "=" + e.guid.str() + "@" + e.synced.str());
  return out;
}

template <typename Stores>
class StateStoreSuite : public ::testing::Test {
 protected:
  void SetUp() override { reopen(); }

  void reopen() {
    store_.reset();
    auto opened = stores_.open();
    ASSERT_TRUE(opened.is_ok()) << opened.to_string();
    auto store = stores_.state([this] { return now_.load(); });
    ASSERT_TRUE(store) << store.error().to_string();
    store_ = std::move(*store);
  }

  std::vector<std::string> map_of(const engine::DeviceStore& ds) {
    auto entries = store_->map_entries(ds);
    EXPECT_TRUE(entries) << entries.error().to_string();
    return entries ? state_suite::describe(*entries) : std::vector<std::string>{};
  }

  Stores stores_;
  std::atomic<int64_t> now_{1'700'000'000};
  std::unique_ptr<StateStore> store_;

  const engine::DeviceStore phone_contacts_{UserId("alice"), DeviceId("IMEI:1"), "contacts"};
};

TYPED_TEST_SUITE_P(StateStoreSuite);

TYPED_TEST_P(StateStoreSuite, AuthNoncesAreKeptPerDevice) {
  auto none = this->store_->auth_nonce(DeviceId("IMEI:1"));
  ASSERT_TRUE(none);
  EXPECT_EQ(*none, "");
  ASSERT_TRUE(this->store_->save_auth_nonce(DeviceId("IMEI:1"), "MTIzNDU2Nzg=").is_ok());
  ASSERT_TRUE(this->store_->save_auth_nonce(DeviceId("IMEI:2"), "OTg3NjU0MzI=").is_ok());
  ASSERT_TRUE(this->store_->save_auth_nonce(DeviceId("IMEI:1"), "bmV3ZXI=").is_ok());
  EXPECT_EQ(*this->store_->auth_nonce(DeviceId("IMEI:1")), "bmV3ZXI=");
  EXPECT_EQ(*this->store_->auth_nonce(DeviceId("IMEI:2")), "OTg3NjU0MzI=");
}

TYPED_TEST_P(StateStoreSuite, SessionsSaveLoadDelete) {
  const SessionKey key("s1");
  auto missing = this->store_->load_session(key);
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());

  const std::string state("binary\0state\xff", 13);
  ASSERT_TRUE(this->store_->save_session(key, state).is_ok());
  auto loaded = this->store_->load_session(key);
  ASSERT_TRUE(loaded);
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ(**loaded, state);

  ASSERT_TRUE(this->store_->save_session(key, "second").is_ok());
  EXPECT_EQ(**this->store_->load_session(key), "second");

  ASSERT_TRUE(this->store_->delete_session(key).is_ok());
  EXPECT_FALSE(this->store_->load_session(key)->has_value());
  EXPECT_TRUE(this->store_->delete_session(key).is_ok());  // deleting nothing is fine
}

TYPED_TEST_P(StateStoreSuite, ExpireSessionsUsesTheInjectedClock) {
  ASSERT_TRUE(this->store_->save_session(SessionKey("old"), "a").is_ok());
  this->now_ += 500;
  ASSERT_TRUE(this->store_->save_session(SessionKey("young"), "b").is_ok());
  ASSERT_TRUE(this->store_->save_session(SessionKey("refreshed"), "c").is_ok());
  this->now_ += 500;  // old: 1000 s, young and refreshed: 500 s
  ASSERT_TRUE(this->store_->save_session(SessionKey("refreshed"), "c2").is_ok());  // saved again: 0 s

  auto none = this->store_->expire_sessions(1000);  // nothing *older* than 1000 s
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());

  auto expired = this->store_->expire_sessions(600);
  ASSERT_TRUE(expired) << expired.error().to_string();
  EXPECT_EQ(*expired, std::vector<std::string>{"a"});
  EXPECT_FALSE(this->store_->load_session(SessionKey("old"))->has_value());
  EXPECT_TRUE(this->store_->load_session(SessionKey("young"))->has_value());

  this->now_ += 1;
  auto second = this->store_->expire_sessions(0);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->size(), 2u);
  EXPECT_FALSE(this->store_->load_session(SessionKey("refreshed"))->has_value());

  auto negative = this->store_->expire_sessions(-1);
  ASSERT_FALSE(negative);
  EXPECT_EQ(negative.error().code(), StatusCode::kInvalidArgument);
}

TYPED_TEST_P(StateStoreSuite, AnchorsSaveLoadForget) {
  auto none = this->store_->anchors(this->phone_contacts_);
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());

  ASSERT_TRUE(
      this->store_->save_anchors(this->phone_contacts_, SyncAnchors{"20240101T000000Z", Anchor("17"), ""}).is_ok());
  auto loaded = this->store_->anchors(this->phone_contacts_);
  ASSERT_TRUE(loaded && loaded->has_value());
  EXPECT_EQ((*loaded)->client_next, "20240101T000000Z");
  EXPECT_EQ((*loaded)->server_next, Anchor("17"));

  EXPECT_EQ((*loaded)->store_identity, "") << "none given";

  ASSERT_TRUE(
      this->store_->save_anchors(this->phone_contacts_, SyncAnchors{"c2", Anchor("18"), "vdir root=/srv"}).is_ok());
  EXPECT_EQ((**this->store_->anchors(this->phone_contacts_)).client_next, "c2");
  EXPECT_EQ((**this->store_->anchors(this->phone_contacts_)).server_next, Anchor("18"));
  EXPECT_EQ((**this->store_->anchors(this->phone_contacts_)).store_identity, "vdir root=/srv");

  // Other users, devices and datastores see nothing of it.
  for (const DeviceStore& other : {DeviceStore{UserId("bob"), DeviceId("IMEI:1"), "contacts"},
                                   DeviceStore{UserId("alice"), DeviceId("IMEI:2"), "contacts"},
                                   DeviceStore{UserId("alice"), DeviceId("IMEI:1"), "calendar"}}) {
    auto theirs = this->store_->anchors(other);
    ASSERT_TRUE(theirs);
    EXPECT_FALSE(theirs->has_value()) << other.user.str() << "/" << other.device.str() << "/" << other.database;
  }

  ASSERT_TRUE(this->store_->forget_anchors(this->phone_contacts_).is_ok());
  EXPECT_FALSE(this->store_->anchors(this->phone_contacts_)->has_value());
}

TYPED_TEST_P(StateStoreSuite, RejectionsCountPerRevisionAndSurviveReopen) {
  const Guid g1("g1"), g2("g2");
  ASSERT_TRUE(this->store_->record_rejection(this->phone_contacts_, g1, Anchor("5"), 500).is_ok());
  ASSERT_TRUE(this->store_->record_rejection(this->phone_contacts_, g1, Anchor("5"), 415).is_ok());
  ASSERT_TRUE(this->store_->record_rejection(this->phone_contacts_, g2, Anchor("7"), 500).is_ok());
  this->reopen();
  auto found = this->store_->rejections(this->phone_contacts_);
  ASSERT_TRUE(found) << found.error().to_string();
  ASSERT_EQ(found->size(), 2u);
  std::sort(found->begin(), found->end(), [](const Rejection& a, const Rejection& b) { return a.guid < b.guid; });
  EXPECT_EQ((*found)[0].count, 2);
  EXPECT_EQ((*found)[0].status, 415);
  EXPECT_EQ((*found)[1].count, 1);
  // A new revision starts again at one.
  ASSERT_TRUE(this->store_->record_rejection(this->phone_contacts_, g1, Anchor("6"), 500).is_ok());
  EXPECT_EQ(this->store_->rejections(this->phone_contacts_)->front().count, 1);
  EXPECT_TRUE(this->store_->rejections(DeviceStore{UserId("alice"), DeviceId("IMEI:2"), "contacts"})->empty());
  ASSERT_TRUE(this->store_->clear_rejections(this->phone_contacts_, {g1, g2}).is_ok());
  EXPECT_TRUE(this->store_->rejections(this->phone_contacts_)->empty());
}

TYPED_TEST_P(StateStoreSuite, ResumePointsSaveLoadForget) {
  EXPECT_FALSE(this->store_->resume_point(this->phone_contacts_)->has_value());
  ASSERT_TRUE(this->store_->save_resume_point(this->phone_contacts_, SessionKey("s1")).is_ok());
  ASSERT_TRUE(this->store_->save_resume_point(this->phone_contacts_, SessionKey("s2")).is_ok());
  this->reopen();
  auto point = this->store_->resume_point(this->phone_contacts_);
  ASSERT_TRUE(point && point->has_value());
  EXPECT_EQ((*point)->str(), "s2");
  EXPECT_FALSE(this->store_->resume_point(DeviceStore{UserId("alice"), DeviceId("IMEI:1"), "calendar"})->has_value());
  ASSERT_TRUE(this->store_->forget_resume_point(this->phone_contacts_).is_ok());
  EXPECT_FALSE(this->store_->resume_point(this->phone_contacts_)->has_value());
}

TYPED_TEST_P(StateStoreSuite, ReportsKeepTheirItemProblems) {
  SyncReport report;
  report.session = SessionKey("s1");
  report.where = this->phone_contacts_;
  report.problems = {ItemProblem{ItemProblem::Direction::kFromDevice, "luid-7", 500, "apply failed: disk"},
                     ItemProblem{ItemProblem::Direction::kToDevice, "guid-3", 415, "poison"}};
  ASSERT_TRUE(this->store_->save_report(report).is_ok());
  this->reopen();
  auto shown = this->store_->session_report(SessionKey("s1"));
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

TYPED_TEST_P(StateStoreSuite, UpsertMapReplacesByLuidAndByGuid) {
  ASSERT_TRUE(
      this->store_
          ->upsert_map(this->phone_contacts_, {state_suite::entry("1", "g1", "5"), state_suite::entry("2", "g2", "6")})
          .is_ok());
  EXPECT_EQ(this->map_of(this->phone_contacts_), (std::vector<std::string>{"1=g1@5", "2=g2@6"}));

  // Same LUID: the row is replaced.
  ASSERT_TRUE(this->store_->upsert_map(this->phone_contacts_, {state_suite::entry("1", "g1", "9")}).is_ok());
  ASSERT_TRUE(this->store_->upsert_map(this->phone_contacts_, {state_suite::entry("2", "g3", "10")}).is_ok());
  EXPECT_EQ(this->map_of(this->phone_contacts_), (std::vector<std::string>{"1=g1@9", "2=g3@10"}));

  // Same GUID under a new LUID: the old LUID's row goes.
  ASSERT_TRUE(this->store_->upsert_map(this->phone_contacts_, {state_suite::entry("7", "g1", "11")}).is_ok());
  EXPECT_EQ(this->map_of(this->phone_contacts_), (std::vector<std::string>{"2=g3@10", "7=g1@11"}));

  // Within one batch the later entry wins.
  ASSERT_TRUE(
      this->store_
          ->upsert_map(this->phone_contacts_, {state_suite::entry("8", "g8", "1"), state_suite::entry("9", "g8", "2")})
          .is_ok());
  EXPECT_EQ(this->map_of(this->phone_contacts_), (std::vector<std::string>{"2=g3@10", "7=g1@11", "9=g8@2"}));
}

TYPED_TEST_P(StateStoreSuite, UpsertMapRejectsEmptyIdsAndWritesNothing) {
  Status s = this->store_->upsert_map(this->phone_contacts_,
                                      {state_suite::entry("1", "g1", "5"), state_suite::entry("", "g2", "6")});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  s = this->store_->upsert_map(this->phone_contacts_, {state_suite::entry("1", "", "5")});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(this->map_of(this->phone_contacts_).empty());
  EXPECT_TRUE(this->store_->upsert_map(this->phone_contacts_, {}).is_ok());
}

TYPED_TEST_P(StateStoreSuite, RemoveAndClearMap) {
  ASSERT_TRUE(
      this->store_
          ->upsert_map(this->phone_contacts_, {state_suite::entry("1", "g1", "1"), state_suite::entry("2", "g2", "2"),
                                               state_suite::entry("3", "g3", "3")})
          .is_ok());
  ASSERT_TRUE(this->store_->remove_map(this->phone_contacts_, {Luid("1"), Luid("3"), Luid("nope")}).is_ok());
  EXPECT_EQ(this->map_of(this->phone_contacts_), (std::vector<std::string>{"2=g2@2"}));
  ASSERT_TRUE(this->store_->remove_map(this->phone_contacts_, {}).is_ok());
  ASSERT_TRUE(this->store_->clear_map(this->phone_contacts_).is_ok());
  EXPECT_TRUE(this->map_of(this->phone_contacts_).empty());
}

TYPED_TEST_P(StateStoreSuite, MapsAreIsolatedByUserDeviceAndDatabase) {
  const DeviceStore bob{UserId("bob"), DeviceId("IMEI:1"), "contacts"};
  const DeviceStore tablet{UserId("alice"), DeviceId("IMEI:2"), "contacts"};
  const DeviceStore calendar{UserId("alice"), DeviceId("IMEI:1"), "calendar"};
  ASSERT_TRUE(this->store_->upsert_map(this->phone_contacts_, {state_suite::entry("1", "g", "1")}).is_ok());
  // The same LUID and GUID elsewhere are different rows, and the GUID rule
  // applies within one (user, device, database) only.
  ASSERT_TRUE(this->store_->upsert_map(bob, {state_suite::entry("1", "g", "2")}).is_ok());
  ASSERT_TRUE(this->store_->upsert_map(tablet, {state_suite::entry("5", "g", "3")}).is_ok());
  ASSERT_TRUE(this->store_->upsert_map(calendar, {state_suite::entry("1", "g", "4")}).is_ok());
  EXPECT_EQ(this->map_of(this->phone_contacts_), (std::vector<std::string>{"1=g@1"}));
  EXPECT_EQ(this->map_of(bob), (std::vector<std::string>{"1=g@2"}));
  EXPECT_EQ(this->map_of(tablet), (std::vector<std::string>{"5=g@3"}));
  EXPECT_EQ(this->map_of(calendar), (std::vector<std::string>{"1=g@4"}));

  ASSERT_TRUE(this->store_->remove_map(bob, {Luid("1")}).is_ok());
  ASSERT_TRUE(this->store_->clear_map(tablet).is_ok());
  EXPECT_EQ(this->map_of(this->phone_contacts_), (std::vector<std::string>{"1=g@1"}));
  EXPECT_EQ(this->map_of(calendar), (std::vector<std::string>{"1=g@4"}));
  EXPECT_TRUE(this->map_of(bob).empty());
  EXPECT_TRUE(this->map_of(tablet).empty());
}

TYPED_TEST_P(StateStoreSuite, DeviceInfo) {
  auto none = this->store_->device_info(UserId("alice"), DeviceId("IMEI:1"));
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());
  ASSERT_TRUE(this->store_->save_device_info(UserId("alice"), DeviceId("IMEI:1"), "<DevInf>1</DevInf>").is_ok());
  ASSERT_TRUE(this->store_->save_device_info(UserId("alice"), DeviceId("IMEI:1"), "<DevInf>2</DevInf>").is_ok());
  EXPECT_EQ(**this->store_->device_info(UserId("alice"), DeviceId("IMEI:1")), "<DevInf>2</DevInf>");
  EXPECT_FALSE(this->store_->device_info(UserId("bob"), DeviceId("IMEI:1"))->has_value());
  EXPECT_FALSE(this->store_->device_info(UserId("alice"), DeviceId("IMEI:2"))->has_value());
}

TYPED_TEST_P(StateStoreSuite, DevicesAreListedFromDevInfAndAnchorsAndDatedByReports) {
  const DeviceStore tablet_calendar{UserId("alice"), DeviceId("tab-7"), "calendar"};
  const DeviceStore bob_contacts{UserId("bob"), DeviceId("IMEI:9"), "contacts"};
  ASSERT_TRUE(this->store_->save_device_info(UserId("alice"), DeviceId("IMEI:1"), "<DevInf/>").is_ok());
  ASSERT_TRUE(this->store_->save_anchors(this->phone_contacts_, SyncAnchors{"c1", Anchor("s1"), ""}).is_ok());
  const DeviceStore phone_calendar{UserId("alice"), DeviceId("IMEI:1"), "calendar"};
  ASSERT_TRUE(this->store_->save_anchors(phone_calendar, SyncAnchors{"c1", Anchor("s1"), ""}).is_ok());
  ASSERT_TRUE(this->store_->save_anchors(tablet_calendar, SyncAnchors{"c2", Anchor("s2"), ""}).is_ok());
  ASSERT_TRUE(this->store_->save_anchors(bob_contacts, SyncAnchors{"c3", Anchor("s3"), ""}).is_ok());
  SyncReport report;
  report.session = SessionKey("sess-1");
  report.where = this->phone_contacts_;
  report.sync_type = 200;
  const int64_t devinf_saved = this->now_.load();
  this->now_ = devinf_saved + 100;
  ASSERT_TRUE(this->store_->save_report(report).is_ok());
  this->now_ = devinf_saved + 200;
  ASSERT_TRUE(this->store_->save_report(report).is_ok());

  auto alice = this->store_->devices(UserId("alice"));
  ASSERT_TRUE(alice) << alice.error().to_string();
  ASSERT_EQ(alice->size(), 2u);
  EXPECT_EQ((*alice)[0].device.str(), "IMEI:1");
  EXPECT_EQ((*alice)[0].devinf_at, devinf_saved);
  EXPECT_EQ((*alice)[0].last_sync_at, devinf_saved + 200);  // the newest of its reports
  EXPECT_EQ((*alice)[0].databases, (std::vector<std::string>{"calendar", "contacts"}));
  EXPECT_EQ((*alice)[1].device.str(), "tab-7");
  EXPECT_EQ((*alice)[1].devinf_at, 0);  // never sent its DevInf
  EXPECT_EQ((*alice)[1].last_sync_at, 0);
  auto everyone = this->store_->devices(UserId());
  ASSERT_TRUE(everyone);
  EXPECT_EQ(everyone->size(), 3u);
}

TYPED_TEST_P(StateStoreSuite, ForgetDeviceDropsItsSyncStateOnly) {
  const DeviceStore phone_calendar{UserId("alice"), DeviceId("IMEI:1"), "calendar"};
  const DeviceStore tablet_contacts{UserId("alice"), DeviceId("tab-7"), "contacts"};
  const DeviceStore bob_phone{UserId("bob"), DeviceId("IMEI:1"), "contacts"};  // same device id, other user
  for (const auto& ds : {this->phone_contacts_, phone_calendar, tablet_contacts, bob_phone}) {
    ASSERT_TRUE(this->store_->save_anchors(ds, SyncAnchors{"c", Anchor("s"), ""}).is_ok());
    ASSERT_TRUE(this->store_->upsert_map(ds, {entry("1", "g1", "r1")}).is_ok());
  }
  ASSERT_TRUE(this->store_->save_device_info(UserId("alice"), DeviceId("IMEI:1"), "<DevInf/>").is_ok());
  ASSERT_TRUE(this->store_->record_rejection(this->phone_contacts_, Guid("g1"), Anchor("r1"), 500).is_ok());
  ASSERT_TRUE(this->store_->save_resume_point(phone_calendar, SessionKey("s9")).is_ok());
  SyncReport report;
  report.session = SessionKey("sess-1");
  report.where = this->phone_contacts_;
  ASSERT_TRUE(this->store_->save_report(report).is_ok());

  auto forgotten = this->store_->forget_device(UserId("alice"), DeviceId("IMEI:1"));
  ASSERT_TRUE(forgotten) << forgotten.error().to_string();
  EXPECT_EQ(*forgotten, 2);
  for (const auto& ds : {this->phone_contacts_, phone_calendar}) {
    EXPECT_FALSE(this->store_->anchors(ds)->has_value());
    EXPECT_TRUE(this->map_of(ds).empty());
  }
  EXPECT_TRUE(this->store_->rejections(this->phone_contacts_)->empty());
  EXPECT_FALSE(this->store_->resume_point(phone_calendar)->has_value());
  EXPECT_FALSE(this->store_->device_info(UserId("alice"), DeviceId("IMEI:1"))->has_value());
  EXPECT_EQ(this->store_->session_report(SessionKey("sess-1"))->size(), 1u);  // the record stays
  // Other devices and other users' device of the same id keep theirs.
  for (const auto& ds : {tablet_contacts, bob_phone}) {
    EXPECT_TRUE(this->store_->anchors(ds)->has_value());
    EXPECT_EQ(this->map_of(ds), (std::vector<std::string>{"1=g1@r1"}));
  }
  auto listed = this->store_->devices(UserId("alice"));
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].device.str(), "tab-7");
  auto again = this->store_->forget_device(UserId("alice"), DeviceId("IMEI:1"));
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, 0);
}

TYPED_TEST_P(StateStoreSuite, HeldDeletionsHoldListAndRelease) {
  engine::HeldDeletion first;
  first.where = this->phone_contacts_;
  first.session = SessionKey("s1");
  first.reason = "device deleted 3 of 4 items";
  first.guids = {Guid("g1"), Guid("g2"), Guid("g3")};
  auto id1 = this->store_->hold_deletions(first);
  ASSERT_TRUE(id1) << id1.error().to_string();
  this->now_ += 10;
  engine::HeldDeletion second;
  second.kind = engine::HeldKind::kToDevice;
  second.where = DeviceStore{UserId("bob"), DeviceId("IMEI:9"), "calendar"};
  second.session = SessionKey("s2");
  second.reason = "refresh from client would delete 1 of 1 items";
  second.guids = {Guid("e1")};
  auto id2 = this->store_->hold_deletions(second);
  ASSERT_TRUE(id2) << id2.error().to_string();
  EXPECT_NE(*id1, *id2);

  this->reopen();
  auto all = this->store_->held_deletions(UserId());
  ASSERT_TRUE(all) << all.error().to_string();
  ASSERT_EQ(all->size(), 2u);
  const engine::HeldDeletion& h = all->front();  // the oldest first
  EXPECT_EQ(h.id, *id1);
  EXPECT_EQ(h.where.user, UserId("alice"));
  EXPECT_EQ(h.where.device, DeviceId("IMEI:1"));
  EXPECT_EQ(h.where.database, "contacts");
  EXPECT_EQ(h.session, SessionKey("s1"));
  EXPECT_EQ(h.reason, "device deleted 3 of 4 items");
  EXPECT_EQ(h.guids, (std::vector<Guid>{Guid("g1"), Guid("g2"), Guid("g3")}));
  EXPECT_EQ(h.held_at, 1'700'000'000);
  EXPECT_EQ(h.kind, engine::HeldKind::kFromDevice);
  auto bobs = this->store_->held_deletions(UserId("bob"));
  ASSERT_TRUE(bobs);
  ASSERT_EQ(bobs->size(), 1u);
  EXPECT_EQ(bobs->front().id, *id2);
  EXPECT_EQ(bobs->front().kind, engine::HeldKind::kToDevice);

  ASSERT_TRUE(this->store_->release_held(*id1).is_ok());
  EXPECT_TRUE(this->store_->release_held(*id1).is_not_found());
  EXPECT_EQ(this->store_->held_deletions(UserId())->size(), 1u);
}

TYPED_TEST_P(StateStoreSuite, EverythingSurvivesReopen) {
  ASSERT_TRUE(this->store_->save_session(SessionKey("s"), "state").is_ok());
  ASSERT_TRUE(this->store_->save_anchors(this->phone_contacts_, SyncAnchors{"c", Anchor("1"), ""}).is_ok());
  ASSERT_TRUE(this->store_->upsert_map(this->phone_contacts_, {state_suite::entry("1", "g", "1")}).is_ok());
  ASSERT_TRUE(this->store_->save_device_info(UserId("alice"), DeviceId("IMEI:1"), "<DevInf/>").is_ok());
  this->reopen();  // migrations run again: must be a no-op
  EXPECT_EQ(**this->store_->load_session(SessionKey("s")), "state");
  EXPECT_EQ((**this->store_->anchors(this->phone_contacts_)).client_next, "c");
  EXPECT_EQ(this->map_of(this->phone_contacts_), (std::vector<std::string>{"1=g@1"}));
  EXPECT_EQ(**this->store_->device_info(UserId("alice"), DeviceId("IMEI:1")), "<DevInf/>");
}

TYPED_TEST_P(StateStoreSuite, ServerSecretIsStableAcrossReopenAndInstances) {
  auto first = this->store_->server_secret();
  ASSERT_TRUE(first) << first.error().to_string();
  EXPECT_EQ(first->size(), 32u);
  EXPECT_NE(*first, std::string(32, '\0'));
  EXPECT_EQ(*this->store_->server_secret(), *first);

  // A second store on the same database (another node) gets the same key.
  auto twin = this->stores_.state([] { return int64_t{0}; });
  ASSERT_TRUE(twin);
  EXPECT_EQ(*(*twin)->server_secret(), *first);

  this->reopen();
  EXPECT_EQ(*this->store_->server_secret(), *first);

  // Another database has another key.
  auto other = this->stores_.other_state();
  ASSERT_TRUE(other) << other.error().to_string();
  auto other_secret = (*other)->server_secret();
  ASSERT_TRUE(other_secret);
  EXPECT_NE(*other_secret, *first);
}

REGISTER_TYPED_TEST_SUITE_P(StateStoreSuite, AuthNoncesAreKeptPerDevice, SessionsSaveLoadDelete,
                            ExpireSessionsUsesTheInjectedClock, AnchorsSaveLoadForget,
                            RejectionsCountPerRevisionAndSurviveReopen, ResumePointsSaveLoadForget,
                            ReportsKeepTheirItemProblems, UpsertMapReplacesByLuidAndByGuid,
                            UpsertMapRejectsEmptyIdsAndWritesNothing, RemoveAndClearMap,
                            MapsAreIsolatedByUserDeviceAndDatabase, DeviceInfo,
                            DevicesAreListedFromDevInfAndAnchorsAndDatedByReports, ForgetDeviceDropsItsSyncStateOnly,
                            HeldDeletionsHoldListAndRelease, EverythingSurvivesReopen,
                            ServerSecretIsStableAcrossReopenAndInstances);

}  // namespace state_suite
}  // namespace conflux::store
