// The cache_* keys of [stores.<name>] (config/config.cc): parsed into
// caf::CacheSettings, kept out of the adapter's options, errors naming the key.
#include <gtest/gtest.h>

#include "config/config.h"

namespace conflux::config {
namespace {

const char* kVdir = "[stores.contacts]\nadapter = \"vdir\"\nroot = \"/tmp/x\"\ncontent_type = \"text/vcard\"\n";

TEST(CacheConfigTest, DefaultsAreOffAndTrickle) {
  auto c = load_config_string(kVdir, "t.toml");
  ASSERT_TRUE(c) << c.error().to_string();
  const caf::CacheSettings& cache = c->stores.at(0).cache;
  EXPECT_FALSE(cache.enabled);
  EXPECT_EQ(cache.trigger, caf::CacheTrigger::kAmount);
  EXPECT_EQ(cache.amount, 1);
  EXPECT_EQ(cache.interval_seconds, 5);
  EXPECT_EQ(cache.backend_poll_seconds, 10);
  EXPECT_EQ(cache.backend_monitor, caf::CacheSettings::BackendMonitor::kPoll);
  EXPECT_EQ(cache.stuck_after_attempts, 8);
  EXPECT_EQ(cache.tombstone_max_age_seconds, 30 * 86400);
  EXPECT_EQ(c->node_id, "");
}

TEST(CacheConfigTest, KeysAreReadAndKeptFromTheAdapter) {
  auto c = load_config_string(std::string(kVdir) +
                                  "cache = true\ncache_trigger = \"combined\"\ncache_amount = 7\n"
                                  "cache_interval_seconds = 30\nbackend_poll_seconds = 2\n"
                                  "backend_monitor = \"push\"\ncache_stuck_after_attempts = 4\n"
                                  "cache_tombstone_max_age_seconds = 600\n[storage]\nnode_id = \"node-7\"\n",
                              "t.toml");
  ASSERT_TRUE(c) << c.error().to_string();
  const caf::StoreSettings& s = c->stores.at(0);
  EXPECT_TRUE(s.cache.enabled);
  EXPECT_EQ(s.cache.trigger, caf::CacheTrigger::kCombined);
  EXPECT_EQ(s.cache.amount, 7);
  EXPECT_EQ(s.cache.interval_seconds, 30);
  EXPECT_EQ(s.cache.backend_poll_seconds, 2);
  EXPECT_EQ(s.cache.backend_monitor, caf::CacheSettings::BackendMonitor::kPush);
  EXPECT_EQ(s.cache.stuck_after_attempts, 4);
  EXPECT_EQ(s.cache.tombstone_max_age_seconds, 600);
  EXPECT_EQ(c->node_id, "node-7");
  EXPECT_EQ(s.options.size(), 1u);  // root only: the factory never sees cache keys
  EXPECT_TRUE(s.options.count("root"));
}

TEST(CacheConfigTest, BadValuesNameTheKey) {
  const std::pair<const char*, const char*> cases[] = {
      {"cache = \"yes\"\n", "stores.contacts.cache"},
      {"cache_trigger = \"sometimes\"\n", "stores.contacts.cache_trigger"},
      {"cache_amount = 0\n", "stores.contacts.cache_amount"},
      {"cache_amount = \"3\"\n", "stores.contacts.cache_amount"},
      {"cache_interval_seconds = -5\n", "stores.contacts.cache_interval_seconds"},
      {"backend_poll_seconds = true\n", "stores.contacts.backend_poll_seconds"},
      {"cache_size = 3\n", "stores.contacts.cache_size"},
      {"cache = true\nbackend_monitor = \"inotify\"\n", "stores.contacts.backend_monitor"},
      {"backend_monitor = \"push\"\n", "stores.contacts.backend_monitor"},  // push needs the cache
      {"cache_stuck_after_attempts = 0\n", "stores.contacts.cache_stuck_after_attempts"},
      {"cache_tombstone_max_age_seconds = \"long\"\n", "stores.contacts.cache_tombstone_max_age_seconds"},
      {"backend_pol_seconds = 3\n", "stores.contacts.backend_pol_seconds"},
  };
  for (const auto& [line, key] : cases) {
    auto c = load_config_string(std::string(kVdir) + line, "t.toml");
    ASSERT_FALSE(c) << line;
    EXPECT_EQ(c.error().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(c.error().message().find(key), std::string::npos) << c.error().message();
  }
}

}  // namespace
}  // namespace conflux::config
