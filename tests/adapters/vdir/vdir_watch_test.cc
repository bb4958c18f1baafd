// VdirWatch over a real directory and real inotify: files other programs
// add, edit, move in or delete are reported for their user; files that are
// not items are not. Waits are bounded waits for the notification itself.
#include "adapters/vdir/vdir_watch.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "adapters/vdir/vdir_adapter.h"
#include "tests/common/temp_dir.h"

namespace conflux::adapters {
namespace {

namespace fs = std::filesystem;
using conflux::test::TempDir;

constexpr auto kPatience = std::chrono::seconds(20);  // bound for a notification that should come at once

const char* const kCard = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Watched\r\nN:;Watched;;;\r\nEND:VCARD\r\n";

void spit(const fs::path& path, const std::string& data) { std::ofstream(path, std::ios::binary) << data; }

// The users notified, in order.
class Notes {
 public:
  caf::ChangeCallback callback() {
    return [this](const UserId& user) {
      std::lock_guard lock(mutex_);
      users_.push_back(user.str());
      changed_.notify_all();
    };
  }
  // Waits until `user` was notified; returns every user notified up to then
  // and forgets them.
  std::vector<std::string> wait_for(const std::string& user) {
    std::unique_lock lock(mutex_);
    const bool seen = changed_.wait_for(lock, kPatience,
                                        [&] { return std::find(users_.begin(), users_.end(), user) != users_.end(); });
    EXPECT_TRUE(seen) << "no notification for '" << user << "'";
    return std::exchange(users_, {});
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> users_;  // guarded by mutex_
};

class VdirWatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_.data_dir = dir_.path().string();
    caf::StoreSettings settings;
    settings.name = "contacts";
    settings.adapter = "vdir";
    settings.content_type = "text/vcard";
    settings.options = {{"root", "vdir"}};
    auto adapter = VdirAdapterFactory().create(settings, env_);
    ASSERT_TRUE(adapter) << adapter.error().to_string();
    adapter_ = *adapter;
  }
  fs::path collection(const std::string& user, const std::string& db = "contacts") const {
    return dir_.path() / "vdir" / user / db;
  }

  TempDir dir_;
  caf::AdapterEnv env_;
  std::shared_ptr<caf::ContentAdapter> adapter_;
  Notes notes_;
};

TEST_F(VdirWatchTest, ReportsChangesByOtherProgramsPerUser) {
  ASSERT_NE(adapter_->caps() & caf::kCapChangeNotify, 0u);
  fs::create_directories(collection("alice"));
  auto watch = adapter_->watch_changes("contacts", notes_.callback());
  ASSERT_TRUE(watch) << watch.error().to_string();

  // Added, in an existing collection.
  spit(collection("alice") / "khard-1.vcf", kCard);
  notes_.wait_for("alice");

  // A user and collection made after the watch started.
  fs::create_directories(collection("bob"));
  spit(collection("bob") / "b.vcf", kCard);
  notes_.wait_for("bob");

  // Not items: dotfiles, other extensions, other datastores. A later item
  // file of bob's is the sentinel: inotify keeps the order of events.
  spit(collection("alice") / ".khard-1.vcf.tmp", kCard);
  spit(collection("alice") / "readme.txt", "x");
  fs::create_directories(collection("alice", "calendar"));
  spit(collection("alice", "calendar") / "e.vcf", kCard);
  spit(collection("bob") / "sentinel.vcf", kCard);
  auto seen = notes_.wait_for("bob");
  EXPECT_EQ(std::count(seen.begin(), seen.end(), "alice"), 0) << "no notification for files that are no items";

  // Edited the vdirsyncer way (a dotfile renamed over the item), then deleted.
  spit(collection("alice") / ".edit.tmp", std::string(kCard) + "\r\n");
  fs::rename(collection("alice") / ".edit.tmp", collection("alice") / "khard-1.vcf");
  notes_.wait_for("alice");
  fs::remove(collection("alice") / "khard-1.vcf");
  notes_.wait_for("alice");

  // The collection moved away and back (an unmounted share, a restore).
  fs::rename(collection("alice"), collection("alice", "contacts.aside"));
  notes_.wait_for("alice");
  fs::rename(collection("alice", "contacts.aside"), collection("alice"));
  notes_.wait_for("alice");
  spit(collection("alice") / "back.vcf", kCard);
  notes_.wait_for("alice");

  watch->reset();  // stops and joins; later writes reach nobody
  spit(collection("alice") / "after.vcf", kCard);
}

TEST_F(VdirWatchTest, RefusesADatabaseThatIsNoDirectoryName) {
  EXPECT_EQ(adapter_->watch_changes("../x", notes_.callback()).error().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace conflux::adapters
