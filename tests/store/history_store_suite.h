// The item history store suite: every caf::HistoryStore must pass it.
// Instantiated with SqliteStores (sqlite_history_store_test.cc) and PgStores
// (pg_store_test.cc); the recorder's tests run over each store too.
#pragma once

#include <gtest/gtest.h>

#include "caf/item_history.h"
#include "common/clock.h"
#include "tests/caf/memory_adapter.h"

namespace conflux::store {
namespace history_suite {

using caf::ItemVersion;
using caf::VersionKind;

inline ItemVersion version(const std::string& guid, VersionKind kind, const std::string& raw, int64_t at,
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

template <typename Stores>
class HistoryStoreSuite : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = stores_.open();
    ASSERT_TRUE(opened.is_ok()) << opened.to_string();
    auto store = stores_.history();
    ASSERT_TRUE(store) << store.error().to_string();
    store_ = std::move(*store);
  }
  std::vector<std::string> described() {
    std::vector<std::string> out;
    auto versions = store_->versions(UserId("alice"), "contacts", std::nullopt);  // kept: the loop reads it
    for (const auto& v : *versions) {
      out.push_back(v.guid.str() + ":" + caf::version_kind_name(v.kind) + ":" + v.raw);
    }
    return out;
  }
  Stores stores_;
  std::unique_ptr<caf::HistoryStore> store_;
};

TYPED_TEST_SUITE_P(HistoryStoreSuite);

TYPED_TEST_P(HistoryStoreSuite, RecordsInOrderPerUserAndItem) {
  ASSERT_TRUE(
      this->store_
          ->record({version("g1", VersionKind::kCreated, "a", 100), version("g1", VersionKind::kUpdated, "b", 200),
                    version("g2", VersionKind::kCreated, "x", 200)})
          .is_ok());
  EXPECT_EQ(this->described(), (std::vector<std::string>{"g1:created:a", "g1:updated:b", "g2:created:x"}));
  auto one = this->store_->versions(UserId("alice"), "contacts", Guid("g1"));
  ASSERT_TRUE(one);
  ASSERT_EQ(one->size(), 2u);
  EXPECT_LT((*one)[0].id, (*one)[1].id);
  EXPECT_EQ((*one)[1].origin, "device IMEI:1");
  EXPECT_TRUE(this->store_->versions(UserId("bob"), "contacts", std::nullopt)->empty());
  EXPECT_EQ(*this->store_->known(UserId("alice"), "contacts", {Guid("g1"), Guid("g3")}), std::set<std::string>{"g1"});
}

TYPED_TEST_P(HistoryStoreSuite, PurgeKeepsTheLastOldVersionOfEachLiveItem) {
  ASSERT_TRUE(
      this->store_
          ->record({version("g1", VersionKind::kCreated, "a", 100), version("g1", VersionKind::kUpdated, "b", 200),
                    version("g1", VersionKind::kUpdated, "c", 900), version("g2", VersionKind::kCreated, "x", 100),
                    version("g2", VersionKind::kDeleted, "", 200)})
          .is_ok());
  auto dropped = this->store_->purge("contacts", 500, 0);
  ASSERT_TRUE(dropped);
  EXPECT_EQ(*dropped, 3);
  EXPECT_EQ(this->described(), (std::vector<std::string>{"g1:updated:b", "g1:updated:c"}));
}

TYPED_TEST_P(HistoryStoreSuite, PurgeByCountKeepsTheNewestVersionsAndSaysFromWhenHistoryIsWhole) {
  ASSERT_TRUE(
      this->store_
          ->record({version("g1", VersionKind::kCreated, "a", 100), version("g1", VersionKind::kUpdated, "b", 200),
                    version("g1", VersionKind::kUpdated, "c", 300), version("g2", VersionKind::kCreated, "x", 150)})
          .is_ok());
  EXPECT_EQ(*this->store_->whole_from(UserId("alice"), "contacts"), 0);
  auto id_of = [&](const std::string& raw) {
    auto versions = this->store_->versions(UserId("alice"), "contacts", std::nullopt);
    for (const auto& v : *versions) {
      if (v.raw == raw) return v.id;
    }
    return int64_t{-1};
  };
  auto dropped = this->store_->purge("contacts", 50, 2);  // nothing is old enough: only the count
  ASSERT_TRUE(dropped) << dropped.error().to_string();
  EXPECT_EQ(*dropped, 1);
  EXPECT_EQ(this->described(), (std::vector<std::string>{"g1:updated:b", "g1:updated:c", "g2:created:x"}));
  EXPECT_EQ(*this->store_->whole_from(UserId("alice"), "contacts"), id_of("b")) << "g1 before b is gone";
  EXPECT_EQ(*this->store_->whole_from(UserId("bob"), "contacts"), 0);
  // Thinned again: it moves on, never back.
  ASSERT_TRUE(
      this->store_
          ->record({version("g2", VersionKind::kUpdated, "y", 160), version("g2", VersionKind::kUpdated, "z", 170)})
          .is_ok());
  ASSERT_TRUE(this->store_->purge("contacts", 50, 2));
  EXPECT_EQ(*this->store_->whole_from(UserId("alice"), "contacts"), id_of("y"));
  ASSERT_TRUE(this->store_->purge("contacts", 50, 3));
  EXPECT_EQ(*this->store_->whole_from(UserId("alice"), "contacts"), id_of("y"));
}

TYPED_TEST_P(HistoryStoreSuite, RecorderKeepsEveryWriteAndTheVersionFoundBeforeIt) {
  ManualClock clock(1000);
  caf::StoreSettings contacts;
  contacts.name = "contacts";
  caf::StoreSettings notes;
  notes.name = "notes";
  notes.history_days = 0;
  caf::HistoryRecorder recorder(*this->store_, clock, {contacts, notes});
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
  EXPECT_EQ(this->described(),
            (std::vector<std::string>{guid.str() + ":found:v1", guid.str() + ":updated:v2", guid.str() + ":deleted:"}));
  auto versions = *this->store_->versions(UserId("alice"), "contacts", std::nullopt);
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
  EXPECT_TRUE(this->store_->versions(UserId("alice"), "notes", std::nullopt)->empty());
}

TYPED_TEST_P(HistoryStoreSuite, ChangesByOthersAreKeptWithTheVersionTheyReplaced) {
  ManualClock clock(2000);
  caf::StoreSettings contacts;
  contacts.name = "contacts";
  caf::HistoryRecorder recorder(*this->store_, clock, {contacts});
  caf::StoreRef ref{UserId("alice"), "contacts", {}};
  auto obj = [](caf::Action action, const std::string& guid, const std::string& raw) {
    caf::SyncObj o;
    o.action = action;
    o.guid = Guid(guid);
    o.content_type = "text/vcard";
    o.raw = raw;
    return o;
  };
  // Edited elsewhere: the version it replaced is kept as found; a new item is created.
  recorder.record_observed(
      ref, {caf::ObservedChange{obj(caf::Action::kUpdate, "g1", "v2"), obj(caf::Action::kUpdate, "g1", "v1")},
            caf::ObservedChange{obj(caf::Action::kCreate, "g2", "x"), std::nullopt}});
  clock.advance(5);
  // Its history known now: a deletion needs no found version.
  recorder.record_observed(
      ref, {caf::ObservedChange{obj(caf::Action::kDelete, "g1", ""), obj(caf::Action::kUpdate, "g1", "v2")}});
  EXPECT_EQ(this->described(),
            (std::vector<std::string>{"g1:found:v1", "g1:updated:v2", "g2:created:x", "g1:deleted:"}));
  auto versions = *this->store_->versions(UserId("alice"), "contacts", std::nullopt);
  EXPECT_EQ(versions[1].origin, "back end");
  EXPECT_EQ(versions[1].session, "backend-2000");
  EXPECT_EQ(versions[3].session, "backend-2005");
  // A restore to just before the edit puts v1 back.
  auto plan = caf::plan_restore(versions, versions[1].id, std::nullopt);
  ASSERT_EQ(plan.size(), 2u);
}

REGISTER_TYPED_TEST_SUITE_P(HistoryStoreSuite, RecordsInOrderPerUserAndItem, PurgeKeepsTheLastOldVersionOfEachLiveItem,
                            PurgeByCountKeepsTheNewestVersionsAndSaysFromWhenHistoryIsWhole,
                            RecorderKeepsEveryWriteAndTheVersionFoundBeforeIt,
                            ChangesByOthersAreKeptWithTheVersionTheyReplaced);

}  // namespace history_suite
}  // namespace conflux::store
