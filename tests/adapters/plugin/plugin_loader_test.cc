// The plugin loader refuses what it cannot safely call, with one line naming
// the file, its ABI and ours, and the fix; a plugin's own keys reach it and
// its errors name them.
#include <gtest/gtest.h>

#include "adapters/plugin/plugin_adapter.h"
#include "adapters/plugin/plugin_library.h"
#include "tests/common/temp_dir.h"

namespace conflux::adapters {
namespace {

std::string plugin(const std::string& name) { return std::string(CONFLUX_TEST_PLUGIN_DIR) + "/" + name + ".so"; }

std::string refusal(const std::string& name) {
  auto loaded = PluginLibrary::load(plugin(name));
  EXPECT_FALSE(loaded.has_value()) << name << " was loaded";
  if (loaded) return "";
  EXPECT_EQ(loaded.error().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(loaded.error().message().find('\n'), std::string::npos) << "not one line";
  EXPECT_EQ(loaded.error().message().rfind(plugin(name), 0), 0u) << "does not start with the file";
  return loaded.error().message();
}

TEST(PluginLoader, LoadsACorrectPluginAndDescribesIt) {
  auto loaded = PluginLibrary::load(plugin("memory_plugin"));
  ASSERT_TRUE(loaded.has_value()) << loaded.error().to_string();
  EXPECT_EQ((*loaded)->describe(), "memory 0.1.0 (ABI " + host_abi() + ", MIT)");
}

TEST(PluginLoader, RefusesAnotherAbiMajorNamingBothAndTheFix) {
  const std::string why = refusal("abi2_plugin");
  EXPECT_NE(why.find("built for plugin ABI 2.0, this Conflux speaks 1.0"), std::string::npos) << why;
  EXPECT_NE(why.find("upgrade Conflux"), std::string::npos) << why;
}

TEST(PluginLoader, RefusesANewerMinor) {
  const std::string why = refusal("newer_minor_plugin");
  EXPECT_NE(why.find("needs plugin ABI 1.1, this Conflux speaks 1.0"), std::string::npos) << why;
}

TEST(PluginLoader, RefusesAShortDescriptor) {
  const std::string why = refusal("short_struct_plugin");
  EXPECT_NE(why.find("its descriptor is"), std::string::npos) << why;
  EXPECT_NE(why.find("rebuild the plugin"), std::string::npos) << why;
}

TEST(PluginLoader, RefusesASharedObjectWithoutTheEntrySymbol) {
  const std::string why = refusal("no_entry_plugin");
  EXPECT_NE(why.find("is not a Conflux plugin: it exports no cfx_adapter_entry"), std::string::npos) << why;
  EXPECT_NE(why.find("CFX_ADAPTER_ENTRY"), std::string::npos) << why;
}

TEST(PluginLoader, RefusesAMissingFile) {
  const std::string why = refusal("not_there");
  EXPECT_NE(why.find("cannot be loaded"), std::string::npos) << why;
}

caf::StoreSettings store_with(caf::StoreOptions options) {
  caf::StoreSettings s;
  s.name = "contacts";
  s.adapter = "plugin";
  s.content_type = "text/vcard";
  s.options = std::move(options);
  return s;
}

// A store of capacity 1: `user`'s first item fits, the second does not.
void expect_room_for_one_item(caf::ContentAdapter& adapter, const std::string& user) {
  caf::StoreRef store{UserId(user), "contacts", caf::Token{"", UserId(user), {}}};
  auto one_card = [&] {
    std::vector<caf::SyncObj> batch(1);
    batch[0].user = store.user;
    batch[0].database = "contacts";
    batch[0].content_type = "text/vcard";
    batch[0].raw = "BEGIN:VCARD\r\nEND:VCARD\r\n";
    return batch;
  };
  EXPECT_TRUE(adapter.apply(store, one_card())[0].status.is_ok());
  EXPECT_EQ(adapter.apply(store, one_card())[0].status.code(), StatusCode::kResourceExhausted);
}

TEST(PluginFactory, RefusesAKeyThePluginDoesNotKnowListingThoseItDoes) {
  PluginAdapterFactory factory;
  Status st = factory.validate(store_with({{"plugin", plugin("memory_plugin")}, {"colour", "blue"}}));
  EXPECT_EQ(
      st.message(),
      "stores.contacts.colour: unknown key for plugin memory (its keys: plugin, plugin_dir, down_file, capacity)");
}

TEST(PluginFactory, TypedValuesReachThePluginAsTheirText) {
  test::TempDir dir;
  PluginAdapterFactory factory;
  // capacity = 1 written as a TOML integer: the plugin reads "1" and the second item does not fit.
  auto created = factory.create(store_with({{"plugin", plugin("memory_plugin")}, {"capacity", int64_t{1}}}),
                                {dir.path().string()});
  ASSERT_TRUE(created.has_value()) << created.error().to_string();
  // Another user than ThePluginsOwnKeysReachIt's: the memory plugin keeps items per process.
  expect_room_for_one_item(**created, "bea");
}

TEST(PluginFactory, TheLoadersOwnKeysAreChecked) {
  PluginAdapterFactory factory;
  EXPECT_EQ(factory.validate(store_with({})).message(),
            "stores.contacts.plugin: missing (adapter plugin needs the plugin's .so)");
  EXPECT_EQ(factory.validate(store_with({{"plugin", int64_t{3}}})).message(),
            "stores.contacts.plugin: must be a non-empty string");
}

TEST(PluginFactory, ThePluginsOwnErrorNamesItsKey) {
  test::TempDir dir;
  PluginAdapterFactory factory;
  auto settings = store_with({{"plugin", plugin("memory_plugin")}, {"capacity", "lots"}});
  ASSERT_TRUE(factory.validate(settings).is_ok());
  auto created = factory.create(settings, {dir.path().string()});
  ASSERT_FALSE(created.has_value());
  EXPECT_EQ(created.error().message(), "stores.contacts.capacity: plugin memory: must be a positive number of items");
}

TEST(PluginFactory, ThePluginsOwnKeysReachIt) {
  test::TempDir dir;
  PluginAdapterFactory factory;
  auto created =
      factory.create(store_with({{"plugin", plugin("memory_plugin")}, {"capacity", "1"}}), {dir.path().string()});
  ASSERT_TRUE(created.has_value()) << created.error().to_string();
  // capacity = 1 reached the plugin.
  expect_room_for_one_item(**created, "ann");
}

TEST(PluginFactory, ABareNameIsLookedUpInPluginDir) {
  PluginAdapterFactory factory;
  EXPECT_TRUE(
      factory.validate(store_with({{"plugin", "memory_plugin"}, {"plugin_dir", CONFLUX_TEST_PLUGIN_DIR}})).is_ok());
  Status relative = factory.validate(store_with({{"plugin", "./memory_plugin.so"}}));
  EXPECT_EQ(relative.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(relative.message().find("stores.contacts.plugin: give an absolute path"), std::string::npos);
}

}  // namespace
}  // namespace conflux::adapters
