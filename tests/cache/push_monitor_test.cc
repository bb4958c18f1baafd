// The aggressive (push) Back End Monitor: notifications make the next poll
// read the marked store at once, whatever the poll interval. First with the
// memory adapter and a ManualClock, then end to end over a real vdir
// directory and real inotify, with a MonitorThread whose clock never moves
// and whose tick is an hour away — only a notification can bring a change in.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "adapters/vdir/vdir_adapter.h"
#include "cache/backend_monitor.h"
#include "cache/cache_monitor.h"
#include "cache/cache_store.h"
#include "cache/cached_adapter.h"
#include "cache/monitor_thread.h"
#include "tests/cache/faulty_adapter.h"
#include "tests/caf/memory_adapter.h"
#include "tests/caf/sync_objs.h"
#include "tests/common/temp_dir.h"

namespace conflux::cache {
namespace {

namespace fs = std::filesystem;
using caf::StoreRef;
using caf::SyncObj;
using conflux::test::create;
using conflux::test::TempDir;

constexpr int64_t kStart = 1'000'000;
constexpr int64_t kDay = 86400;

StoreRef ref(const std::string& user) { return StoreRef{UserId(user), "contacts", caf::Token{}}; }

std::vector<std::string> raws(CachedAdapter& adapter, const StoreRef& store) {
  auto items = adapter.search(store, caf::Query{});
  EXPECT_TRUE(items) << items.error().to_string();
  std::vector<std::string> out;
  if (items) {
    for (const auto& obj : *items) out.push_back(obj.raw);
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(PushMonitorTest, AMarkedStoreIsPolledBeforeTheInterval) {
  TempDir dir;
  ManualClock clock(kStart);
  auto memory = std::make_shared<test::MemoryAdapter>();
  auto cache = CacheStore::open(dir.file("cache.db"));
  ASSERT_TRUE(cache) << cache.error().to_string();
  CachedAdapter adapter(*cache, memory, "text/vcard", clock);
  const StoreRef alice = ref("alice"), bob = ref("bob");
  ASSERT_TRUE(adapter.current_anchor(alice));
  ASSERT_TRUE(adapter.current_anchor(bob));
  auto faulty = std::make_shared<test::FlakyBackendAdapter>(memory);
  BackendMonitor monitor(*cache, faulty, "contacts", "text/vcard", kDay, BackendMonitor::Policy::kPush);
  EXPECT_EQ(*monitor.poll_once(clock.now_seconds()), 0);  // the first poll, of everyone

  auto write = [&](const StoreRef& store, const std::string& raw) {
    std::vector<SyncObj> batch;
    batch.push_back(create(raw));
    ASSERT_TRUE(memory->apply(store, std::move(batch)).at(0).status.is_ok());
  };
  write(alice, "alice-1");
  write(bob, "bob-1");
  clock.advance(1);
  EXPECT_EQ(*monitor.poll_once(clock.now_seconds()), 0) << "lazy: not before the interval";
  monitor.note_change(UserId("alice"));
  EXPECT_EQ(*monitor.poll_once(clock.now_seconds()), 1) << "alice's store only";
  EXPECT_EQ(raws(adapter, alice), (std::vector<std::string>{"alice-1"}));
  EXPECT_TRUE(raws(adapter, bob).empty());
  EXPECT_EQ(*monitor.poll_once(clock.now_seconds()), 0) << "a mark is used once";
  monitor.note_change(UserId());  // lost track: everyone
  EXPECT_EQ(*monitor.poll_once(clock.now_seconds()), 1);
  EXPECT_EQ(raws(adapter, bob), (std::vector<std::string>{"bob-1"}));

  // A marked store whose back end fails stays marked until it works.
  write(alice, "alice-2");
  faulty->set_user_down("alice", true);
  monitor.note_change(UserId("alice"));
  EXPECT_EQ(monitor.poll_once(clock.now_seconds()).error().code(), StatusCode::kUnavailable);
  faulty->set_user_down("alice", false);
  EXPECT_EQ(*monitor.poll_once(clock.now_seconds()), 1);
  EXPECT_EQ(raws(adapter, alice), (std::vector<std::string>{"alice-1", "alice-2"}));

  // A back end that cannot push is told so.
  EXPECT_EQ(monitor.watch([] {}).code(), StatusCode::kUnimplemented);
  BackendMonitor lazy(*cache, memory, "contacts", "text/vcard", kDay);
  EXPECT_EQ(lazy.watch([] {}).code(), StatusCode::kFailedPrecondition);
}

class VdirPushTest : public ::testing::Test {
 protected:
  void SetUp() override {
    caf::StoreSettings settings;
    settings.name = "contacts";
    settings.adapter = "vdir";
    settings.content_type = "text/vcard";
    settings.options = {{"root", "vdir"}};
    auto vdir = adapters::VdirAdapterFactory().create(settings, caf::AdapterEnv{dir_.path().string()});
    ASSERT_TRUE(vdir) << vdir.error().to_string();
    vdir_ = *vdir;
    auto cache = CacheStore::open(dir_.file("cache.db"));
    ASSERT_TRUE(cache) << cache.error().to_string();
    cache_ = *cache;
    adapter_ = std::make_unique<CachedAdapter>(cache_, vdir_, "text/vcard", clock_);
    ASSERT_TRUE(adapter_->current_anchor(alice_));  // loaded: the monitors look after it
  }

  fs::path collection() const { return dir_.path() / "vdir" / "alice" / "contacts"; }

  // Waits (bounded) until the cache holds exactly `want` for alice.
  bool cache_reaches(const std::vector<std::string>& want) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      if (raws(*adapter_, alice_) == want) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
  }

  TempDir dir_;
  ManualClock clock_{kStart};
  std::shared_ptr<caf::ContentAdapter> vdir_;
  std::shared_ptr<CacheStore> cache_;
  std::unique_ptr<CachedAdapter> adapter_;
  const StoreRef alice_ = ref("alice");
};

TEST_F(VdirPushTest, FilesOfOtherProgramsReachTheCacheWithoutAPoll) {
  MonitorThread thread(clock_, 3600 * 1000);
  thread.add(
      std::make_unique<CacheMonitor>(cache_, vdir_, "contacts", Trigger::amount(1), clock_.now_seconds()),
      std::make_unique<BackendMonitor>(cache_, vdir_, "contacts", "text/vcard", kDay, BackendMonitor::Policy::kPush));
  thread.start();
  fs::create_directories(collection());
  std::ofstream(collection() / "khal-1.vcf", std::ios::binary) << "one";
  EXPECT_TRUE(cache_reaches({"one"})) << "an added file";

  std::ofstream(collection() / ".khal-1.tmp", std::ios::binary) << "one, edited";
  fs::rename(collection() / ".khal-1.tmp", collection() / "khal-1.vcf");
  EXPECT_TRUE(cache_reaches({"one, edited"})) << "an edited file";

  // A burst (a vdirsyncer run): all of it arrives.
  std::vector<std::string> burst;
  for (int i = 0; i < 40; ++i) {
    burst.push_back("burst-" + std::to_string(100 + i));
    std::ofstream(collection() / (burst.back() + ".vcf"), std::ios::binary) << burst.back();
  }
  fs::remove(collection() / "khal-1.vcf");
  EXPECT_TRUE(cache_reaches(burst)) << "a burst and a delete";
  thread.stop();
  EXPECT_EQ(cache_->queued("contacts")->size(), 0u) << "nothing echoed back to the back end";
}

// A wrapper overrides only what it changes (caf/adapter_wrapper.h): the
// tests' fault injection in front of a back end that pushes changes still
// delivers them.
TEST_F(VdirPushTest, AWrappedChangeNotifyingAdapterStillNotifies) {
  auto wrapped = std::make_shared<test::FlakyBackendAdapter>(vdir_);
  ASSERT_TRUE(wrapped->caps() & caf::kCapChangeNotify);
  std::mutex mutex;
  std::condition_variable changed;
  std::set<std::string> users;  // guarded by mutex
  auto subscription = wrapped->watch_changes("contacts", [&](const UserId& user) {
    std::lock_guard lock(mutex);
    users.insert(user.str());
    changed.notify_all();
  });
  ASSERT_TRUE(subscription) << subscription.error().to_string();
  fs::create_directories(collection());
  std::ofstream(collection() / "khal-1.vcf", std::ios::binary) << "one";
  std::unique_lock lock(mutex);
  // Bounded so that a lost notification fails the test instead of hanging it.
  EXPECT_TRUE(changed.wait_for(lock, std::chrono::seconds(20), [&] { return users.count("alice") > 0; }));
}

}  // namespace
}  // namespace conflux::cache
