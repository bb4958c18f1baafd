// Preferences: the system-preferences registry. Components subscribe to the
// keys they read live; a reload validates the whole new Config, refuses it
// (old settings kept) on any error, calls only the subscribers whose keys
// changed, and names the changed keys nobody follows as needing a restart.
#include "config/preferences.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace conflux::config {
namespace {

Config with_policy(const std::string& policy) {
  Config c = default_config();
  for (auto& store : c.stores) {
    if (store.name == "contacts") store.conflict_policy = caf::parse_conflict_policy(policy).value();
  }
  return c;
}

std::string contacts_policy(const Config& c) {
  for (const auto& store : c.stores) {
    if (store.name == "contacts") return caf::conflict_policy_name(store.conflict_policy);
  }
  return "";
}

class PreferencesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    prefs_.on_change({"engine", {"stores.*.conflict_policy"}, nullptr, [this](const Config& c) {
                        engine_calls_.push_back(contacts_policy(c));
                      }});
    prefs_.on_change({"log", {"log.level"}, nullptr, [this](const Config& c) { log_levels_.push_back(c.log.level); }});
  }

  Preferences prefs_{with_policy("server-wins")};
  std::vector<std::string> engine_calls_;
  std::vector<std::string> log_levels_;
};

TEST_F(PreferencesTest, ChangedKeyReachesOnlyItsSubscriberWithTheNewValues) {
  auto report = prefs_.reload(with_policy("client-wins"));
  ASSERT_TRUE(report.status.is_ok()) << report.status.to_string();
  EXPECT_EQ(report.changed, std::vector<std::string>{"stores.contacts.conflict_policy"});
  EXPECT_EQ(report.applied_by, std::vector<std::string>{"engine"});
  EXPECT_TRUE(report.needs_restart.empty());
  EXPECT_EQ(engine_calls_, std::vector<std::string>{"client-wins"});
  EXPECT_TRUE(log_levels_.empty());
  EXPECT_EQ(contacts_policy(*prefs_.current()), "client-wins");
}

TEST_F(PreferencesTest, NothingChangedCallsNobody) {
  auto report = prefs_.reload(with_policy("server-wins"));
  ASSERT_TRUE(report.status.is_ok());
  EXPECT_TRUE(report.changed.empty());
  EXPECT_TRUE(engine_calls_.empty());
}

TEST_F(PreferencesTest, ConfigThatFailedToLoadIsRefusedAndTheOldStays) {
  auto report = prefs_.reload(load_config_string("[stores.contacts]\nconflict_policy = \"coin-toss\"\n", "bad.toml"));
  EXPECT_EQ(report.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(report.status.message().find("conflict_policy"), std::string::npos) << report.status.message();
  EXPECT_TRUE(engine_calls_.empty());
  EXPECT_EQ(contacts_policy(*prefs_.current()), "server-wins");
}

TEST_F(PreferencesTest, FailedCheckRefusesTheWholeReload) {
  prefs_.add_check("stores", [](const Config& c) {
    return c.log.level == "debug" ? Status::invalid_argument("stores.x.adapter: refused") : Status::ok();
  });
  Config candidate = with_policy("duplicate");
  candidate.log.level = "debug";
  auto report = prefs_.reload(candidate);
  EXPECT_FALSE(report.status.is_ok());
  EXPECT_TRUE(engine_calls_.empty());  // not even the part that was fine
  EXPECT_TRUE(log_levels_.empty());
  EXPECT_EQ(contacts_policy(*prefs_.current()), "server-wins");
}

TEST_F(PreferencesTest, SubscriberCheckRefusesOnlyWhenItsKeysChanged) {
  prefs_.on_change(
      {"picky", {"auth.md5"}, [](const Config&) { return Status::invalid_argument("no"); }, [](const Config&) {}});
  EXPECT_TRUE(prefs_.reload(with_policy("report")).status.is_ok());
  Config md5_off = with_policy("report");
  md5_off.auth.md5 = false;
  EXPECT_FALSE(prefs_.reload(md5_off).status.is_ok());
  EXPECT_TRUE(prefs_.current()->auth.md5);
}

TEST_F(PreferencesTest, KeysNobodyFollowsNeedARestart) {
  Config candidate = with_policy("server-wins");
  candidate.server.listen = "0.0.0.0";
  candidate.data_dir = "/elsewhere";
  candidate.stores.pop_back();  // a datastore removed
  auto report = prefs_.reload(candidate);
  ASSERT_TRUE(report.status.is_ok());
  const auto& restart = report.needs_restart;
  auto has = [&](const std::string& key) { return std::find(restart.begin(), restart.end(), key) != restart.end(); };
  EXPECT_TRUE(has("server.listen"));
  EXPECT_TRUE(has("storage.data_dir"));
  EXPECT_TRUE(has("stores.notes.adapter"));
  // The removed store's conflict_policy has a live follower: not listed.
  EXPECT_FALSE(has("stores.notes.conflict_policy"));
}

TEST_F(PreferencesTest, SubscriberWithoutKeysHearsEveryAcceptedReload) {
  int quirks_reloads = 0;
  prefs_.on_change({"device-quirks", {}, nullptr, [&](const Config&) { ++quirks_reloads; }});
  EXPECT_TRUE(prefs_.reload(with_policy("server-wins")).status.is_ok());
  EXPECT_FALSE(prefs_.reload(Status::invalid_argument("broken file")).status.is_ok());
  EXPECT_EQ(quirks_reloads, 1);
}

TEST(PreferencesCoversTest, WildcardsMatchOneSegmentAndPatternsCoverWhatIsBelow) {
  EXPECT_TRUE(Preferences::covers("stores.*.access", "stores.contacts.access"));
  EXPECT_FALSE(Preferences::covers("stores.*.access", "stores.contacts.login"));
  EXPECT_TRUE(Preferences::covers("log", "log.level"));
  EXPECT_TRUE(Preferences::covers("stores.contacts", "stores.contacts.root"));
  EXPECT_FALSE(Preferences::covers("stores.contacts.access", "stores.contacts"));
  EXPECT_FALSE(Preferences::covers("server.listen", "server.listen_backlog"));
}

}  // namespace
}  // namespace conflux::config
