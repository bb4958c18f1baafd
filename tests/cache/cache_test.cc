// The cache layer over a MemoryAdapter behind a FlakyBackendAdapter, with a
// ManualClock: no sleeps, no threads (except MonitorThreadRunsAndStops and
// TwoNodesRacingForOneQueueReplicateEachEntryOnce). Every case runs on each
// cache store implementation (tests/cache/cache_store_kind.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "cache/backend_monitor.h"
#include "cache/cache_monitor.h"
#include "cache/cache_store.h"
#include "cache/cached_adapter.h"
#include "cache/monitor_thread.h"
#include "caf/backend_registry.h"
#include "common/base64.h"
#include "tests/cache/cache_store_kind.h"
#include "tests/cache/faulty_adapter.h"
#include "tests/caf/memory_adapter.h"

namespace conflux::cache {
namespace {

namespace fs = std::filesystem;
using caf::Action;
using caf::ApplyOutcome;
using caf::ApplyResult;
using caf::StoreRef;
using caf::SyncObj;

constexpr int64_t kStart = 1'000'000;

StoreRef ref(const std::string& user) { return StoreRef{UserId(user), "contacts", caf::Token{}}; }

SyncObj change(Action action, const std::string& guid, const std::string& raw = "") {
  SyncObj obj;
  obj.action = action;
  obj.guid = Guid(guid);
  obj.raw = raw;
  if (action != Action::kDelete) obj.content_type = "text/vcard";
  return obj;
}

class CacheTest : public ::testing::TestWithParam<test::CacheStoreKind> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("conflux-cache-test-" + random_hex(8));
    fs::create_directories(dir_);
    auto storage = GetParam().create(dir_);
    ASSERT_TRUE(storage) << storage.error().to_string();
    storage_ = std::move(*storage);
    memory_ = std::make_shared<test::MemoryAdapter>();
    faulty_ = std::make_shared<test::FlakyBackendAdapter>(memory_);
    open(Trigger::amount(1));
  }
  void TearDown() override {
    close();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  // Everything but the back end, as after a restart.
  void open(Trigger trigger) {
    close();
    auto c = storage_->open();
    ASSERT_TRUE(c) << c.error().to_string();
    cache_ = *c;
    adapter_ = std::make_unique<CachedAdapter>(cache_, faulty_, "text/vcard", clock_);
    monitor_ = std::make_unique<CacheMonitor>(cache_, faulty_, "contacts", trigger, clock_.now_seconds(), options_);
    backend_monitor_ = std::make_unique<BackendMonitor>(cache_, faulty_, "contacts", "text/vcard", 10);
  }
  void close() {
    backend_monitor_.reset();
    monitor_.reset();
    adapter_.reset();
    cache_.reset();
  }
  // The test's storage as another node (or a restarted process) opens it.
  std::shared_ptr<CacheStore> open_again() {
    auto c = storage_->open();
    EXPECT_TRUE(c) << c.error().to_string();
    return c ? *c : nullptr;
  }
  ApplyResult apply1(SyncObj obj, const StoreRef& store) {
    std::vector<SyncObj> batch;
    batch.push_back(std::move(obj));
    auto results = adapter_->apply(store, std::move(batch));
    EXPECT_EQ(results.size(), 1u);
    return results.empty() ? ApplyResult{} : results[0];
  }
  Guid create(const std::string& raw, const StoreRef& store) {
    ApplyResult r = apply1(change(Action::kCreate, "", raw), store);
    EXPECT_TRUE(r.status.is_ok()) << r.status.to_string();
    EXPECT_EQ(r.outcome, ApplyOutcome::kCreated);
    return r.guid;
  }
  int run() {
    auto n = monitor_->run_once(clock_.now_seconds());
    EXPECT_TRUE(n) << n.error().to_string();
    return n ? *n : -1;
  }
  size_t queue_length() {
    auto q = cache_->queued("contacts");
    EXPECT_TRUE(q) << q.error().to_string();
    return q ? q->size() : 0;
  }
  std::vector<std::string> backend_raws(const std::string& user) {
    return memory_->live_raws(UserId(user), "contacts");
  }
  std::vector<std::string> cache_raws(const StoreRef& store) {
    auto items = adapter_->search(store, caf::Query{});
    EXPECT_TRUE(items) << items.error().to_string();
    std::vector<std::string> out;
    if (items) {
      for (const auto& obj : *items) out.push_back(obj.raw);
    }
    return out;
  }
  // Writes straight into the back end, as another program would.
  ApplyResult others(SyncObj obj, const StoreRef& store) {
    std::vector<SyncObj> batch;
    batch.push_back(std::move(obj));
    auto results = memory_->apply(store, std::move(batch));
    return results.at(0);
  }

  fs::path dir_;
  std::unique_ptr<test::CacheStorage> storage_;
  ManualClock clock_{kStart};
  CacheMonitorOptions options_;  // read by open()
  std::shared_ptr<test::MemoryAdapter> memory_;
  std::shared_ptr<test::FlakyBackendAdapter> faulty_;
  std::shared_ptr<CacheStore> cache_;
  std::unique_ptr<CachedAdapter> adapter_;
  std::unique_ptr<CacheMonitor> monitor_;
  std::unique_ptr<BackendMonitor> backend_monitor_;
  const StoreRef alice_ = ref("alice");
  const StoreRef bob_ = ref("bob");
};

TEST_P(CacheTest, ApplyWritesCacheAndQueueTogether) {
  std::vector<SyncObj> batch;
  batch.push_back(change(Action::kCreate, "", "one"));
  batch.push_back(change(Action::kCreate, "", "two"));
  batch.push_back(change(Action::kUpdate, "no-such-item", "x"));
  batch.push_back(change(Action::kDelete, "no-such-item"));
  auto results = adapter_->apply(alice_, std::move(batch));
  ASSERT_EQ(results.size(), 4u);
  EXPECT_TRUE(results[0].status.is_ok());
  EXPECT_TRUE(results[1].status.is_ok());
  EXPECT_EQ(results[2].status.code(), StatusCode::kNotFound);
  EXPECT_TRUE(results[3].status.is_ok());
  EXPECT_EQ(results[3].outcome, ApplyOutcome::kAlreadyDeleted);
  EXPECT_NE(results[0].guid, results[1].guid);

  // Acknowledged: in the cache, one queue entry each, nothing in the back end yet.
  EXPECT_EQ(cache_raws(alice_), (std::vector<std::string>{"one", "two"}));
  auto queued = cache_->queued("contacts");
  ASSERT_TRUE(queued);
  ASSERT_EQ(queued->size(), 2u);
  EXPECT_EQ((*queued)[0].cuid.str(), results[0].guid.str());
  EXPECT_EQ((*queued)[1].cuid.str(), results[1].guid.str());
  EXPECT_EQ((*queued)[0].action, Action::kCreate);
  EXPECT_EQ((*queued)[0].enqueued_at, kStart);
  EXPECT_TRUE(backend_raws("alice").empty());

  // The engine reads the cache: anchors are cache revisions.
  auto set = adapter_->changes_since(alice_, Anchor());
  ASSERT_TRUE(set);
  ASSERT_EQ(set->changes.size(), 2u);
  EXPECT_EQ(set->anchor, results[1].anchor);
  EXPECT_EQ(*adapter_->current_anchor(alice_), results[1].anchor);
  EXPECT_EQ(adapter_->execute(alice_, caf::Command{"count", {}})->output, "2");
  EXPECT_EQ(adapter_->execute(alice_, caf::Command{"cache-queue", {}})->output, "2");
}

TEST_P(CacheTest, TrickleReplicatesEveryChange) {
  const Guid a = create("a1", alice_);
  EXPECT_EQ(run(), 1);
  EXPECT_EQ(backend_raws("alice"), (std::vector<std::string>{"a1"}));
  ASSERT_TRUE(apply1(change(Action::kUpdate, a.str(), "a2"), alice_).status.is_ok());
  EXPECT_EQ(run(), 1);
  EXPECT_EQ(backend_raws("alice"), (std::vector<std::string>{"a2"}));
  ASSERT_TRUE(apply1(change(Action::kDelete, a.str()), alice_).status.is_ok());
  EXPECT_EQ(run(), 1);
  EXPECT_TRUE(backend_raws("alice").empty());
  EXPECT_EQ(queue_length(), 0u);
  EXPECT_EQ(run(), 0);
}

TEST_P(CacheTest, AmountTriggerWaitsForN) {
  open(Trigger::amount(3));
  create("1", alice_);
  create("2", alice_);
  clock_.advance(3600);  // time plays no part
  EXPECT_EQ(run(), 0);
  EXPECT_EQ(faulty_->apply_calls(), 0);
  create("3", alice_);
  EXPECT_EQ(run(), 3);
  EXPECT_EQ(backend_raws("alice"), (std::vector<std::string>{"1", "2", "3"}));
}

TEST_P(CacheTest, ReloadedTriggerTakesEffectAtTheNextRun) {
  open(Trigger::amount(3));
  create("1", alice_);
  EXPECT_EQ(run(), 0);
  // System preferences: cache_amount = 1 (trickle) by reload.
  caf::CacheSettings reloaded;
  reloaded.trigger = caf::CacheTrigger::kAmount;
  reloaded.amount = 1;
  monitor_->set_trigger(Trigger::from_settings(reloaded));
  EXPECT_EQ(monitor_->trigger().describe(), "amount(1)");
  EXPECT_EQ(run(), 1);
  EXPECT_EQ(backend_raws("alice"), (std::vector<std::string>{"1"}));
}

TEST_P(CacheTest, MonitorThreadRetunesOnlyTheStoresItMonitors) {
  MonitorThread thread(clock_);
  thread.add(std::move(monitor_), std::move(backend_monitor_));
  caf::StoreSettings contacts;
  contacts.name = "contacts";
  caf::StoreSettings calendar;
  calendar.name = "calendar";
  EXPECT_EQ(thread.retune({calendar}), 0u);
  EXPECT_EQ(thread.retune({calendar, contacts}), 1u);
}

TEST_P(CacheTest, IntervalTriggerWaitsForTheInterval) {
  open(Trigger::interval(60));
  create("1", alice_);
  clock_.advance(59);
  EXPECT_EQ(run(), 0);
  clock_.advance(1);
  EXPECT_EQ(run(), 1);  // 60 s after the start
  create("2", alice_);
  create("3", alice_);
  clock_.advance(59);
  EXPECT_EQ(run(), 0);
  clock_.advance(1);
  EXPECT_EQ(run(), 2);  // 60 s after the last propagation
  EXPECT_EQ(backend_raws("alice").size(), 3u);
}

TEST_P(CacheTest, CombinedTriggerFiresOnWhicheverComesFirst) {
  open(Trigger::combined(3, 60));
  create("1", alice_);
  create("2", alice_);
  clock_.advance(10);
  EXPECT_EQ(run(), 0);
  create("3", alice_);
  EXPECT_EQ(run(), 3);  // amount, at +10 s
  create("4", alice_);
  clock_.advance(59);
  EXPECT_EQ(run(), 0);
  clock_.advance(1);
  EXPECT_EQ(run(), 1);  // interval, 60 s after the last propagation
  EXPECT_EQ(backend_raws("alice").size(), 4u);
}

TEST_P(CacheTest, BackendDownKeepsEverythingRetriesWithBackoffAndDrainsInOrder) {
  const Guid kept = create("kept-v1", alice_);
  EXPECT_EQ(run(), 1);
  faulty_->set_down(true);

  ASSERT_TRUE(apply1(change(Action::kUpdate, kept.str(), "kept-v2"), alice_).status.is_ok());
  const Guid gone = create("gone", alice_);
  const Guid fresh = create("fresh-v1", alice_);
  ASSERT_TRUE(apply1(change(Action::kUpdate, fresh.str(), "fresh-v2"), alice_).status.is_ok());
  ASSERT_TRUE(apply1(change(Action::kDelete, gone.str()), alice_).status.is_ok());
  ASSERT_TRUE(apply1(change(Action::kDelete, kept.str()), alice_).status.is_ok());
  const Guid last = create("last", alice_);
  ASSERT_TRUE(apply1(change(Action::kUpdate, last.str(), "last-v2"), alice_).status.is_ok());
  EXPECT_EQ(queue_length(), 8u);

  // The update and create of items deleted since are settled in the cache
  // alone; "fresh"'s create is tried and fails.
  EXPECT_EQ(run(), 2);
  EXPECT_EQ(queue_length(), 6u);

  // Backoff 1, 2, 4, 8 … s: only the head is tried, only when due.
  std::vector<int64_t> waits;
  int64_t attempts = 1;
  for (int tick = 0; tick < 40; ++tick) {
    clock_.advance(1);
    EXPECT_EQ(run(), 0);
    auto q = cache_->queued("contacts");
    ASSERT_TRUE(q);
    for (size_t i = 1; i < q->size(); ++i) EXPECT_EQ((*q)[i].attempts, 0) << "only the oldest entry is tried";
    if (q->front().attempts != attempts) {
      EXPECT_EQ(q->front().attempts, attempts + 1);
      attempts = q->front().attempts;
      waits.push_back(q->front().next_attempt_at - clock_.now_seconds());
      EXPECT_NE(q->front().last_error.find("UNAVAILABLE"), std::string::npos) << q->front().last_error;
    }
  }
  EXPECT_EQ(waits, (std::vector<int64_t>{2, 4, 8, 16, 32}));  // the first wait was 1
  EXPECT_EQ(queue_length(), 6u);
  EXPECT_EQ(faulty_->applied_items(), 1);  // "kept-v1" only
  EXPECT_EQ(CacheMonitor::backoff_seconds(30), CacheMonitor::kMaxBackoffSeconds);
  EXPECT_EQ(backend_raws("alice"), (std::vector<std::string>{"kept-v1"}));

  // Devices keep syncing against the cache meanwhile.
  EXPECT_EQ(cache_raws(alice_), (std::vector<std::string>{"fresh-v2", "last-v2"}));

  faulty_->set_down(false);
  clock_.advance(CacheMonitor::kMaxBackoffSeconds);
  EXPECT_EQ(run(), 6);
  EXPECT_EQ(queue_length(), 0u);
  EXPECT_EQ(backend_raws("alice"), (std::vector<std::string>{"fresh-v2", "last-v2"}));
  // "gone" was deleted before it ever reached the back end: never written.
  EXPECT_EQ(memory_->find(UserId("alice"), "contacts", Guid(gone.str())), std::nullopt);
}

TEST_P(CacheTest, ReopenedMidQueueLosesNothing) {
  ASSERT_TRUE(adapter_->current_anchor(alice_));  // loaded while the back end was up
  ASSERT_TRUE(adapter_->current_anchor(bob_));
  faulty_->set_down(true);
  create("one", alice_);
  create("two", alice_);
  create("three", bob_);
  EXPECT_EQ(run(), 0);  // one failed attempt recorded
  // SIGKILL: nothing in memory survives; the file is all there is.
  open(Trigger::amount(1));
  auto q = cache_->queued("contacts");
  ASSERT_TRUE(q);
  ASSERT_EQ(q->size(), 3u);
  EXPECT_EQ((*q)[0].attempts, 1);
  EXPECT_EQ(cache_raws(alice_), (std::vector<std::string>{"one", "two"}));

  faulty_->set_down(false);
  clock_.advance(5);
  EXPECT_EQ(run(), 3);
  EXPECT_EQ(backend_raws("alice"), (std::vector<std::string>{"one", "two"}));
  EXPECT_EQ(backend_raws("bob"), (std::vector<std::string>{"three"}));
}

TEST_P(CacheTest, CreateReplayedAfterCrashIsNotDuplicated) {
  const Guid cuid = create("once", alice_);
  // The back end took it, then the process died before the cache knew.
  ASSERT_TRUE(others(change(Action::kCreate, cuid.str(), "once"), alice_).status.is_ok());
  open(Trigger::amount(1));
  EXPECT_EQ(run(), 1);
  EXPECT_EQ(backend_raws("alice"), (std::vector<std::string>{"once"}));
  EXPECT_EQ(faulty_->applied_items(), 0);
}

TEST_P(CacheTest, FoldedChangesByOthersReachTheHistorySinkWithTheVersionTheyReplaced) {
  const Guid mine = create("mine-v1", alice_);
  EXPECT_EQ(run(), 1);
  std::vector<caf::ObservedChange> seen;
  backend_monitor_->on_folded([&](const StoreRef& store, const std::vector<caf::ObservedChange>& changes) {
    EXPECT_EQ(store.user, UserId("alice"));
    seen.insert(seen.end(), changes.begin(), changes.end());
  });
  ASSERT_TRUE(backend_monitor_->poll_once(clock_.now_seconds()));
  EXPECT_TRUE(seen.empty()) << "our own write is no change by others";

  auto set = memory_->changes_since(alice_, Anchor());
  ASSERT_TRUE(set);
  ASSERT_EQ(set->changes.size(), 1u);
  const Guid there = set->changes[0].guid;
  ASSERT_TRUE(others(change(Action::kUpdate, there.str(), "mine-edited"), alice_).status.is_ok());
  ASSERT_TRUE(others(change(Action::kCreate, "", "theirs"), alice_).status.is_ok());
  clock_.advance(10);
  ASSERT_EQ(*backend_monitor_->poll_once(clock_.now_seconds()), 2);
  ASSERT_EQ(seen.size(), 2u);
  std::map<std::string, const caf::ObservedChange*> by_raw;
  for (const auto& c : seen) by_raw[c.now.raw] = &c;
  ASSERT_TRUE(by_raw.count("mine-edited"));
  EXPECT_EQ(by_raw["mine-edited"]->now.guid, mine) << "under the id the engine sees";
  ASSERT_TRUE(by_raw["mine-edited"]->before.has_value());
  EXPECT_EQ(by_raw["mine-edited"]->before->raw, "mine-v1");
  ASSERT_TRUE(by_raw.count("theirs"));
  EXPECT_FALSE(by_raw["theirs"]->before.has_value());

  seen.clear();
  ASSERT_TRUE(others(change(Action::kDelete, there.str()), alice_).status.is_ok());
  clock_.advance(10);
  ASSERT_EQ(*backend_monitor_->poll_once(clock_.now_seconds()), 1);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].now.action, Action::kDelete);
  EXPECT_EQ(seen[0].now.guid, mine);
  EXPECT_EQ(seen[0].before->raw, "mine-edited");
}

TEST_P(CacheTest, ChangesByOthersAreFoldedInAndNotEchoed) {
  const Guid mine = create("mine-v1", alice_);
  EXPECT_EQ(run(), 1);
  // Our own write, seen in the back end's change log, is no change.
  auto polled = backend_monitor_->poll_once(clock_.now_seconds());
  ASSERT_TRUE(polled) << polled.error().to_string();
  EXPECT_EQ(*polled, 0);
  const Anchor before = *adapter_->current_anchor(alice_);

  // Another program: adds one, edits ours.
  auto backend_items = memory_->live_raws(UserId("alice"), "contacts");
  ASSERT_EQ(backend_items.size(), 1u);
  const ApplyResult added = others(change(Action::kCreate, "", "theirs"), alice_);
  ASSERT_TRUE(added.status.is_ok());
  auto set = memory_->changes_since(alice_, Anchor());
  ASSERT_TRUE(set);
  Guid mine_there;
  for (const auto& obj : set->changes) {
    if (obj.raw == "mine-v1") mine_there = obj.guid;
  }
  ASSERT_FALSE(mine_there.empty());
  ASSERT_TRUE(others(change(Action::kUpdate, mine_there.str(), "mine-edited"), alice_).status.is_ok());

  // Lazy: not before the interval.
  clock_.advance(9);
  EXPECT_EQ(*backend_monitor_->poll_once(clock_.now_seconds()), 0);
  clock_.advance(1);
  EXPECT_EQ(*backend_monitor_->poll_once(clock_.now_seconds()), 2);

  auto news = adapter_->changes_since(alice_, before);
  ASSERT_TRUE(news);
  std::map<std::string, std::pair<Action, std::string>> got;
  for (const auto& obj : news->changes) got[obj.raw] = {obj.action, obj.guid.str()};
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got["theirs"].first, Action::kCreate);
  EXPECT_EQ(got["mine-edited"].first, Action::kUpdate);
  EXPECT_EQ(got["mine-edited"].second, mine.str());  // the engine's guid stays

  // Not echoed back: nothing queued, nothing written.
  const int applied = faulty_->applied_items();
  EXPECT_EQ(queue_length(), 0u);
  EXPECT_EQ(run(), 0);
  EXPECT_EQ(faulty_->applied_items(), applied);

  // A delete by another program reaches the cache as a delete.
  ASSERT_TRUE(others(change(Action::kDelete, added.guid.str()), alice_).status.is_ok());
  const Anchor before_delete = *adapter_->current_anchor(alice_);
  clock_.advance(10);
  EXPECT_EQ(*backend_monitor_->poll_once(clock_.now_seconds()), 1);
  auto deleted = adapter_->changes_since(alice_, before_delete);
  ASSERT_TRUE(deleted);
  ASSERT_EQ(deleted->changes.size(), 1u);
  EXPECT_EQ(deleted->changes[0].action, Action::kDelete);
  EXPECT_EQ(cache_raws(alice_), (std::vector<std::string>{"mine-edited"}));

  // And the device's next edit goes to the same back-end item.
  ASSERT_TRUE(apply1(change(Action::kUpdate, mine.str(), "mine-v3"), alice_).status.is_ok());
  EXPECT_EQ(run(), 1);
  EXPECT_EQ(backend_raws("alice"), (std::vector<std::string>{"mine-v3"}));
}

// Node A wrote an entry to the back end and has not told the cache yet when
// node B's Back End Monitor reads the back end: B must not take A's write for
// a new item by someone else (a second copy on every device).
TEST_P(CacheTest, FoldWaitsWhileAReplicationIsInFlight) {
  const Guid cuid = create("mine", alice_);
  auto q = cache_->queued("contacts");
  ASSERT_TRUE(q);
  ASSERT_EQ(q->size(), 1u);
  ASSERT_TRUE(*cache_->claim(q->front(), "node-a", clock_.now_seconds(), 300));
  const ApplyResult written = others(change(Action::kCreate, cuid.str(), "mine"), alice_);
  ASSERT_TRUE(written.status.is_ok());

  clock_.advance(10);
  auto polled = backend_monitor_->poll_once(clock_.now_seconds());
  ASSERT_TRUE(polled) << polled.error().to_string();
  EXPECT_EQ(*polled, 0);
  EXPECT_EQ(*cache_->live_count(alice_), 1);

  ASSERT_TRUE(cache_->replicated(q->front(), written.guid, written.anchor, "node-a").is_ok());
  clock_.advance(10);
  polled = backend_monitor_->poll_once(clock_.now_seconds());
  ASSERT_TRUE(polled) << polled.error().to_string();
  EXPECT_EQ(*polled, 0);  // now known as the echo of A's replication
  EXPECT_EQ(cache_raws(alice_), (std::vector<std::string>{"mine"}));
}

TEST_P(CacheTest, PendingDeviceChangeWinsOverTheBackEnds) {
  const Guid item = create("v1", alice_);
  EXPECT_EQ(run(), 1);
  faulty_->set_user_down("alice", true);
  ASSERT_TRUE(apply1(change(Action::kUpdate, item.str(), "device"), alice_).status.is_ok());
  EXPECT_EQ(run(), 0);
  auto set = memory_->changes_since(alice_, Anchor());
  ASSERT_TRUE(set);
  ASSERT_TRUE(others(change(Action::kUpdate, set->changes.at(0).guid.str(), "others"), alice_).status.is_ok());
  faulty_->set_user_down("alice", false);
  EXPECT_EQ(*backend_monitor_->poll_once(clock_.now_seconds()), 0);
  EXPECT_EQ(cache_raws(alice_), (std::vector<std::string>{"device"}));
  clock_.advance(1);
  EXPECT_EQ(run(), 1);
  EXPECT_EQ(backend_raws("alice"), (std::vector<std::string>{"device"}));
}

TEST_P(CacheTest, InitialLoadImportsTheBackEnd) {
  ASSERT_TRUE(others(change(Action::kCreate, "", "old-1"), alice_).status.is_ok());
  ASSERT_TRUE(others(change(Action::kCreate, "", "old-2"), alice_).status.is_ok());
  auto set = adapter_->changes_since(alice_, Anchor());
  ASSERT_TRUE(set) << set.error().to_string();
  ASSERT_EQ(set->changes.size(), 2u);
  EXPECT_EQ(set->changes[0].raw, "old-1");
  EXPECT_EQ(queue_length(), 0u);  // nothing to send back
  EXPECT_EQ(*backend_monitor_->poll_once(clock_.now_seconds()), 0);

  // A back end down at first use: the call fails, nothing is half-loaded.
  faulty_->set_user_down("bob", true);
  auto refused = adapter_->current_anchor(bob_);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), StatusCode::kUnavailable);
  EXPECT_EQ(*cache_->loaded(bob_), false);
}

TEST_P(CacheTest, UsersAreIsolated) {
  const Guid a = create("alice-1", alice_);
  create("bob-1", bob_);
  EXPECT_EQ(cache_raws(alice_), (std::vector<std::string>{"alice-1"}));
  EXPECT_EQ(cache_raws(bob_), (std::vector<std::string>{"bob-1"}));
  // Bob cannot reach Alice's item by its guid.
  EXPECT_EQ(apply1(change(Action::kUpdate, a.str(), "bob was here"), bob_).status.code(), StatusCode::kNotFound);
  caf::Query q;
  q.guids = {a};
  EXPECT_TRUE(adapter_->search(bob_, q)->empty());

  // Alice's back end down does not hold Bob's queue up.
  faulty_->set_user_down("alice", true);
  create("alice-2", alice_);
  create("bob-2", bob_);
  EXPECT_EQ(run(), 2);  // bob's two
  EXPECT_TRUE(backend_raws("alice").empty());
  EXPECT_EQ(backend_raws("bob"), (std::vector<std::string>{"bob-1", "bob-2"}));
  faulty_->set_user_down("alice", false);
  clock_.advance(1);
  EXPECT_EQ(run(), 2);
  EXPECT_EQ(backend_raws("alice"), (std::vector<std::string>{"alice-1", "alice-2"}));
}

TEST_P(CacheTest, MonitorThreadRunsAndStops) {
  SystemClock clock;
  create("threaded", alice_);
  auto mt = std::make_unique<MonitorThread>(clock, 5);
  mt->add(std::make_unique<CacheMonitor>(cache_, faulty_, "contacts", Trigger::amount(1), clock.now_seconds()),
          std::make_unique<BackendMonitor>(cache_, faulty_, "contacts", "text/vcard", 10));
  mt->start();
  // Bounded wait for the event itself (the queue draining), not a timing guess.
  for (int i = 0; i < 2000 && queue_length() != 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  mt->stop();
  mt->stop();  // idempotent
  EXPECT_EQ(queue_length(), 0u);
  EXPECT_EQ(backend_raws("alice"), (std::vector<std::string>{"threaded"}));
}

TEST_P(CacheTest, RegistryWrapsAStoresAdapter) {
  caf::BackendRegistry registry;
  ASSERT_TRUE(registry.add_factory(std::make_unique<test::MemoryAdapterFactory>(memory_)).is_ok());
  caf::StoreSettings settings;
  settings.name = "contacts";
  settings.adapter = test::MemoryAdapterFactory::kKind;
  settings.content_type = "text/vcard";
  ASSERT_TRUE(registry.add_store(settings, caf::AdapterEnv{dir_.string()}).is_ok());
  caf::ContentAdapter* before = registry.adapter_for("contacts");
  std::shared_ptr<caf::ContentAdapter> seen;
  Status wrapped = registry.wrap_store(
      "contacts", [&](std::shared_ptr<caf::ContentAdapter> backend) -> Result<std::shared_ptr<caf::ContentAdapter>> {
        seen = backend;
        return std::shared_ptr<caf::ContentAdapter>(
            std::make_shared<CachedAdapter>(cache_, backend, "text/vcard", clock_));
      });
  ASSERT_TRUE(wrapped.is_ok()) << wrapped.to_string();
  EXPECT_EQ(seen.get(), before);
  EXPECT_NE(dynamic_cast<CachedAdapter*>(registry.adapter_for("contacts")), nullptr);
  EXPECT_EQ(
      registry.wrap_store("calendar", [](auto b) { return Result<std::shared_ptr<caf::ContentAdapter>>(b); }).code(),
      StatusCode::kNotFound);
  Status refused = registry.wrap_store(
      "contacts", [](auto) -> Result<std::shared_ptr<caf::ContentAdapter>> { return Status::unavailable("no cache"); });
  EXPECT_EQ(refused.code(), StatusCode::kUnavailable);
  EXPECT_NE(dynamic_cast<CachedAdapter*>(registry.adapter_for("contacts")), nullptr);  // unchanged
}

// --- stuck entries, replication lag -----------------------------------------

TEST_P(CacheTest, RefusedEntryBecomesStuckAndOthersGoOn) {
  options_.stuck_after_attempts = 3;
  open(Trigger::amount(1));
  faulty_->set_refuse("BAD");
  const Guid bad = create("BAD-v1", alice_);
  create("good-1", alice_);
  ASSERT_TRUE(apply1(change(Action::kUpdate, bad.str(), "BAD-v2"), alice_).status.is_ok());
  create("good-2", alice_);

  // Attempts 1 and 2 hold the user's queue up (order), backoff 1 s then 2 s.
  EXPECT_EQ(run(), 0);
  clock_.advance(1);
  EXPECT_EQ(run(), 0);
  EXPECT_EQ(cache_->stuck()->size(), 0u);
  clock_.advance(2);
  // Attempt 3: stuck. The other items go on; the item's own later update waits.
  EXPECT_EQ(run(), 2);
  EXPECT_EQ(backend_raws("alice"), (std::vector<std::string>{"good-1", "good-2"}));
  auto stuck = cache_->stuck();
  ASSERT_TRUE(stuck);
  ASSERT_EQ(stuck->size(), 1u);
  EXPECT_EQ((*stuck)[0].cuid.str(), bad.str());
  EXPECT_EQ((*stuck)[0].attempts, 3);
  EXPECT_NE((*stuck)[0].last_error.find("injected: item refused"), std::string::npos);
  auto stats = cache_->queue_stats("contacts");
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->length, 2u);  // the stuck create and the update behind it
  EXPECT_EQ(stats->stuck, 1u);
  EXPECT_EQ(stats->oldest_enqueued_at, kStart);

  // No more automatic attempts, however long.
  const int calls = faulty_->apply_calls();
  clock_.advance(3600);
  EXPECT_EQ(run(), 0);
  EXPECT_EQ(faulty_->apply_calls(), calls);

  // An administrator fixed the back end and retries: the create, then the update.
  faulty_->set_refuse("");
  ASSERT_TRUE(cache_->retry_now((*stuck)[0].seq).is_ok());
  EXPECT_EQ(cache_->retry_now(999999).code(), StatusCode::kNotFound);
  EXPECT_EQ(run(), 2);
  EXPECT_EQ(queue_length(), 0u);
  EXPECT_EQ(backend_raws("alice"), (std::vector<std::string>{"good-1", "good-2", "BAD-v2"}));
}

TEST_P(CacheTest, DroppedEntryKeepsItsContentOnRecord) {
  options_.stuck_after_attempts = 1;
  open(Trigger::amount(1));
  faulty_->set_refuse("BAD");
  const Guid bad = create("BAD item", alice_);
  EXPECT_EQ(run(), 0);
  auto stuck = cache_->stuck();
  ASSERT_TRUE(stuck);
  ASSERT_EQ(stuck->size(), 1u);

  clock_.advance(100);
  auto record = cache_->drop((*stuck)[0].seq, clock_.now_seconds());
  ASSERT_TRUE(record) << record.error().to_string();
  EXPECT_EQ(cache_->drop((*stuck)[0].seq, clock_.now_seconds()).error().code(), StatusCode::kNotFound);
  EXPECT_EQ(queue_length(), 0u);
  EXPECT_TRUE(backend_raws("alice").empty());
  EXPECT_EQ(cache_raws(alice_), (std::vector<std::string>{"BAD item"}));  // devices keep it

  auto dropped = cache_->dropped();
  ASSERT_TRUE(dropped);
  ASSERT_EQ(dropped->size(), 1u);
  const DroppedEntry& d = (*dropped)[0];
  EXPECT_EQ(d.id, *record);
  EXPECT_EQ(d.entry.cuid.str(), bad.str());
  EXPECT_EQ(d.entry.user, UserId("alice"));
  EXPECT_EQ(d.entry.action, Action::kCreate);
  EXPECT_EQ(d.raw, "BAD item");
  EXPECT_EQ(d.content_type, "text/vcard");
  EXPECT_EQ(d.dropped_at, kStart + 100);
  EXPECT_NE(d.entry.last_error.find("refused"), std::string::npos);
}

TEST_P(CacheTest, BackEndDownNeverMakesAnEntryStuck) {
  options_.stuck_after_attempts = 2;
  open(Trigger::amount(1));
  ASSERT_TRUE(adapter_->current_anchor(alice_));  // loaded while the back end was up
  faulty_->set_down(true);
  create("patient", alice_);
  for (int i = 0; i < 12; ++i) {
    EXPECT_EQ(run(), 0);
    clock_.advance(CacheMonitor::kMaxBackoffSeconds);
  }
  auto q = cache_->queued("contacts");
  ASSERT_TRUE(q);
  ASSERT_EQ(q->size(), 1u);
  EXPECT_EQ(q->front().attempts, 12);
  EXPECT_FALSE(q->front().stuck);
  // Replication lag: the age of the oldest queued change.
  auto stats = cache_->queue_stats("contacts");
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->length, 1u);
  EXPECT_EQ(stats->stuck, 0u);
  EXPECT_EQ(clock_.now_seconds() - stats->oldest_enqueued_at, 12 * CacheMonitor::kMaxBackoffSeconds);
  faulty_->set_down(false);
  EXPECT_EQ(run(), 1);
  EXPECT_EQ(cache_->queue_stats("contacts")->length, 0u);
}

// Issue #20: a back end down for an hour of the ManualClock while the
// devices of two users keep writing (a change of each every minute, random
// creates, updates and deletes). Nothing reaches the back end and nothing
// becomes stuck, however often the head of the queue is tried; back up, the
// queue drains and each user's back end holds exactly the model: per item
// the last change, none of the deleted ones.
TEST_P(CacheTest, AnHourDownThenTheQueueDrainsToTheModel) {
  options_.stuck_after_attempts = 3;
  open(Trigger::amount(1));
  std::mt19937 rng(20);
  std::map<std::string, std::map<std::string, std::string>> model;  // user -> guid -> raw
  int version = 0;
  auto create_for = [&](const StoreRef& user) {
    const std::string raw = user.user.str() + "-" + std::to_string(++version);
    model[user.user.str()][create(raw, user).str()] = raw;
  };
  for (const StoreRef* user : {&alice_, &bob_}) {
    for (int i = 0; i < 5; ++i) create_for(*user);
  }
  EXPECT_EQ(run(), 10);
  const auto before_outage = model;

  faulty_->set_down(true);
  for (int64_t second = 1; second <= 3600; ++second) {
    clock_.advance(1);
    if (second % 60 == 0) {
      for (const StoreRef* user : {&alice_, &bob_}) {
        auto& items = model[user->user.str()];
        const int roll = static_cast<int>(rng() % 10);
        if (roll < 4 || items.empty()) {
          create_for(*user);
          continue;
        }
        auto it = std::next(items.begin(), static_cast<long>(rng() % items.size()));
        if (roll < 8) {
          it->second = user->user.str() + "-" + std::to_string(++version);
          ASSERT_TRUE(apply1(change(Action::kUpdate, it->first, it->second), *user).status.is_ok());
        } else {
          ASSERT_TRUE(apply1(change(Action::kDelete, it->first), *user).status.is_ok());
          items.erase(it);
        }
      }
    }
    ASSERT_GE(run(), 0);
  }
  auto queued = cache_->queued("contacts");
  ASSERT_TRUE(queued);
  ASSERT_FALSE(queued->empty());
  for (const QueueEntry& entry : *queued) EXPECT_FALSE(entry.stuck) << entry.seq;
  EXPECT_GT(queued->front().attempts, options_.stuck_after_attempts);
  auto stats = cache_->queue_stats("contacts");
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->stuck, 0u);
  // The lag is the head's age (an earlier change of an item deleted since
  // may have been settled in the cache alone): most of the hour.
  EXPECT_EQ(stats->oldest_enqueued_at, queued->front().enqueued_at);
  EXPECT_GT(clock_.now_seconds() - stats->oldest_enqueued_at, 1800);
  auto expect_backend_holds = [&](const std::map<std::string, std::map<std::string, std::string>>& wanted) {
    for (const auto& [user, items] : wanted) {
      std::vector<std::string> raws;
      for (const auto& [guid, raw] : items) raws.push_back(raw);
      auto held = backend_raws(user);
      std::sort(raws.begin(), raws.end());
      std::sort(held.begin(), held.end());
      EXPECT_EQ(held, raws) << user;
    }
  };
  expect_backend_holds(before_outage);  // it was down

  faulty_->set_down(false);
  for (int tick = 0; tick < 10 && queue_length() > 0; ++tick) {
    clock_.advance(CacheMonitor::kMaxBackoffSeconds);
    ASSERT_GE(run(), 0);
  }
  EXPECT_EQ(queue_length(), 0u);
  expect_backend_holds(model);
}

// --- tombstones ------------------------------------------------------------

// The anchors each device got in its last sync, as the state store keeps them.
class FakeProgress final : public DeviceProgress {
 public:
  Result<std::vector<Anchor>> synced_anchors(const UserId& user, const std::string& database) override {
    EXPECT_EQ(database, "contacts");
    return anchors[user.str()];
  }
  std::map<std::string, std::vector<Anchor>> anchors;
};

TEST_P(CacheTest, TombstonesGoOnceEveryDeviceSyncedPastThem) {
  FakeProgress progress;
  options_.progress = &progress;
  options_.purge_every_seconds = 60;
  open(Trigger::amount(1));
  const Guid a = create("a", alice_);
  const Guid b = create("b", alice_);
  EXPECT_EQ(run(), 2);
  const ApplyResult deleted = apply1(change(Action::kDelete, a.str()), alice_);
  ASSERT_TRUE(deleted.status.is_ok());
  const int64_t tombstone = std::stoll(deleted.anchor.str());
  EXPECT_EQ(run(), 1);
  EXPECT_EQ(cache_->queue_stats("contacts")->tombstones, 1u);

  // One device is behind the delete: kept.
  progress.anchors["alice"] = {Anchor(std::to_string(tombstone)), Anchor(std::to_string(tombstone - 1))};
  EXPECT_EQ(*monitor_->purge_tombstones(clock_.now_seconds()), 0);
  // Both past it — but not before the purge interval.
  progress.anchors["alice"] = {Anchor(std::to_string(tombstone)), Anchor(std::to_string(tombstone + 3))};
  clock_.advance(59);
  EXPECT_EQ(*monitor_->purge_tombstones(clock_.now_seconds()), 0);
  clock_.advance(1);
  EXPECT_EQ(*monitor_->purge_tombstones(clock_.now_seconds()), 1);
  EXPECT_EQ(cache_->queue_stats("contacts")->tombstones, 0u);
  EXPECT_EQ(*cache_->item(alice_, Cuid(a.str())), std::nullopt);
  EXPECT_EQ(cache_raws(alice_), (std::vector<std::string>{"b"}));

  // A delete still queued keeps its tombstone whoever synced past it.
  faulty_->set_down(true);
  const ApplyResult pending = apply1(change(Action::kDelete, b.str()), alice_);
  progress.anchors["alice"] = {Anchor(std::to_string(std::stoll(pending.anchor.str()) + 10))};
  clock_.advance(60);
  EXPECT_EQ(*monitor_->purge_tombstones(clock_.now_seconds()), 0);
  faulty_->set_down(false);
  EXPECT_EQ(run(), 1);
  clock_.advance(60);
  EXPECT_EQ(*monitor_->purge_tombstones(clock_.now_seconds()), 1);
}

TEST_P(CacheTest, TombstonesGoAfterTheMaxAge) {
  FakeProgress progress;
  options_.progress = &progress;
  options_.purge_every_seconds = 1;
  options_.tombstone_max_age_seconds = 3600;
  open(Trigger::amount(1));
  const Guid a = create("a", alice_);
  EXPECT_EQ(run(), 1);
  ASSERT_TRUE(apply1(change(Action::kDelete, a.str()), alice_).status.is_ok());
  EXPECT_EQ(run(), 1);
  // A device that has not synced since (or an anchor from before the cache).
  progress.anchors["alice"] = {Anchor("1"), Anchor("not-a-cache-anchor")};
  clock_.advance(3599);
  EXPECT_EQ(*monitor_->purge_tombstones(clock_.now_seconds()), 0);
  clock_.advance(1);
  EXPECT_EQ(*monitor_->purge_tombstones(clock_.now_seconds()), 1);

  // A delete made by another program in the back end ages the same way.
  const Guid c = create("c", alice_);
  EXPECT_EQ(run(), 1);
  auto listed = memory_->changes_since(alice_, Anchor());
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->changes.size(), 1u);
  ASSERT_TRUE(others(change(Action::kDelete, listed->changes[0].guid.str()), alice_).status.is_ok());
  clock_.advance(10);
  EXPECT_EQ(*backend_monitor_->poll_once(clock_.now_seconds()), 1);
  EXPECT_EQ(cache_->queue_stats("contacts")->tombstones, 1u);
  clock_.advance(3599);
  EXPECT_EQ(*monitor_->purge_tombstones(clock_.now_seconds()), 0);
  clock_.advance(1);
  EXPECT_EQ(*monitor_->purge_tombstones(clock_.now_seconds()), 1);
  EXPECT_EQ(*cache_->item(alice_, Cuid(c.str())), std::nullopt);
}

// --- several nodes on one cache store ----------------------------------------

TEST_P(CacheTest, TwoNodesNeverReplicateAnEntryTwice) {
  options_.node_id = "node-a";
  open(Trigger::amount(1));
  std::shared_ptr<CacheStore> second = open_again();
  ASSERT_TRUE(second);
  CacheMonitorOptions b_options;
  b_options.node_id = "node-b";
  CacheMonitor node_b(second, faulty_, "contacts", Trigger::amount(1), clock_.now_seconds(), b_options);

  for (int i = 0; i < 4; ++i) create("alice-" + std::to_string(i), alice_);
  for (int i = 0; i < 3; ++i) create("bob-" + std::to_string(i), bob_);
  // While node A writes an entry to the back end, node B runs a whole round.
  int b_replicated = 0;
  bool inside = false;
  faulty_->set_before_apply([&] {
    if (inside) return;
    inside = true;
    auto n = node_b.run_once(clock_.now_seconds());
    EXPECT_TRUE(n) << n.error().to_string();
    b_replicated += n ? *n : 0;
    inside = false;
  });
  const int a_replicated = run();
  faulty_->set_before_apply(nullptr);

  EXPECT_EQ(a_replicated + b_replicated, 7);
  EXPECT_GT(b_replicated, 0) << "node B found work too";
  EXPECT_EQ(faulty_->applied_items(), 7) << "each entry reached the back end once";
  EXPECT_EQ(queue_length(), 0u);
  // In order per user, whoever wrote them.
  EXPECT_EQ(backend_raws("alice"), (std::vector<std::string>{"alice-0", "alice-1", "alice-2", "alice-3"}));
  EXPECT_EQ(backend_raws("bob"), (std::vector<std::string>{"bob-0", "bob-1", "bob-2"}));
}

TEST_P(CacheTest, ExpiredLeaseIsTakenOver) {
  options_.node_id = "node-b";
  open(Trigger::amount(1));
  create("orphan", alice_);
  create("after", alice_);
  // Node A claimed the first entry and died before it wrote anything.
  auto q = cache_->queued("contacts");
  ASSERT_TRUE(q);
  ASSERT_EQ(q->size(), 2u);
  ASSERT_TRUE(*cache_->claim(q->front(), "node-a", clock_.now_seconds(), 300));
  EXPECT_FALSE(*cache_->claim(q->front(), "node-b", clock_.now_seconds(), 300));
  // Only the holder of the lease records a failure.
  ASSERT_TRUE(cache_->retry_later(q->front(), 0, "not mine", CacheStore::Retry::kStuck, "node-b").is_ok());
  EXPECT_EQ(cache_->queued("contacts")->front().attempts, 0);
  EXPECT_EQ(cache_->queued("contacts")->front().lease_owner, "node-a");

  // Node B leaves the user's entries alone while the lease lives.
  EXPECT_EQ(run(), 0);
  clock_.advance(299);
  EXPECT_EQ(run(), 0);
  EXPECT_TRUE(backend_raws("alice").empty());
  clock_.advance(1);
  EXPECT_EQ(run(), 2);
  EXPECT_EQ(backend_raws("alice"), (std::vector<std::string>{"orphan", "after"}));
  // A's late answer cannot remove what B did, nor record twice.
  EXPECT_EQ(cache_->replicated(q->front(), Guid("x"), Anchor("1"), "node-a").code(), StatusCode::kAborted);
}

// Two nodes, each with a store handle of its own, drain one queue at the same
// time: every entry is claimed, replicated and removed by exactly one.
TEST_P(CacheTest, TwoNodesRacingForOneQueueReplicateEachEntryOnce) {
  constexpr int kEntries = 120;
  for (int i = 0; i < kEntries; ++i) create("item-" + std::to_string(i), i % 2 == 0 ? alice_ : bob_);
  std::mutex mutex;
  std::map<int64_t, std::vector<std::string>> replicated_by;  // seq -> nodes that replicated it
  auto node = [&](std::string name) {
    std::shared_ptr<CacheStore> store = open_again();
    if (!store) return;
    // Bounded: a node that failed leaves its leased entry, and the other must not wait for it for ever.
    for (int round = 0; round < 100; ++round) {
      auto entries = store->queued("contacts");
      ASSERT_TRUE(entries) << entries.error().to_string();
      if (entries->empty()) return;
      for (const QueueEntry& entry : *entries) {
        auto claimed = store->claim(entry, name, kStart, 300);
        ASSERT_TRUE(claimed) << claimed.error().to_string();
        if (!*claimed) continue;
        {
          std::lock_guard lock(mutex);
          replicated_by[entry.seq].push_back(name);
        }
        Status done = store->replicated(entry, Guid("b-" + entry.cuid.str()), Anchor("1"), name);
        ASSERT_TRUE(done.is_ok()) << done.to_string();
      }
    }
  };
  std::thread a(node, "node-a");
  std::thread b(node, "node-b");
  a.join();
  b.join();

  EXPECT_EQ(replicated_by.size(), static_cast<size_t>(kEntries));
  std::map<std::string, int> per_node;
  for (const auto& [seq, nodes] : replicated_by) {
    EXPECT_EQ(nodes.size(), 1u) << "entry " << seq << " replicated more than once";
    if (!nodes.empty()) ++per_node[nodes.front()];
  }
  EXPECT_EQ(queue_length(), 0u);
  EXPECT_EQ(per_node["node-a"] + per_node["node-b"], kEntries);
}

INSTANTIATE_TEST_SUITE_P(Stores, CacheTest, ::testing::ValuesIn(test::cache_store_kinds()),
                         [](const ::testing::TestParamInfo<test::CacheStoreKind>& kind) { return kind.param.name; });

}  // namespace
}  // namespace conflux::cache
