// BackendRegistry: adapter kinds by name, datastores by name, one error per
// mistake, each naming what is wrong.
#include "caf/backend_registry.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "tests/caf/memory_adapter.h"
#include "tests/caf/sync_objs.h"

namespace conflux::caf {
namespace {

using conflux::test::MemoryAdapterFactory;

// A second kind whose create() fails, to check the registry reports it and
// registers nothing.
class BrokenFactory final : public AdapterFactory {
 public:
  std::string kind() const override { return "broken"; }
  Status validate(const StoreSettings&) const override { return Status::ok(); }
  Result<std::shared_ptr<ContentAdapter>> create(const StoreSettings&, const AdapterEnv&) override {
    return Status::unavailable("server unreachable");
  }
};

StoreSettings store(const std::string& name, const std::string& adapter) {
  StoreSettings s;
  s.name = name;
  s.adapter = adapter;
  s.content_type = "text/vcard";
  s.content_version = "3.0";
  return s;
}

class BackendRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(registry_.add_factory(std::make_unique<MemoryAdapterFactory>()).is_ok());
    ASSERT_TRUE(registry_.add_factory(std::make_unique<BrokenFactory>()).is_ok());
  }

  BackendRegistry registry_;
  const AdapterEnv env_{"/nonexistent"};
};

TEST_F(BackendRegistryTest, KindsListsRegisteredFactories) {
  EXPECT_EQ(registry_.kinds(), (std::vector<std::string>{"broken", "memory"}));
}

TEST_F(BackendRegistryTest, DuplicateFactoryIsAlreadyExists) {
  Status st = registry_.add_factory(std::make_unique<MemoryAdapterFactory>());
  EXPECT_EQ(st.code(), StatusCode::kAlreadyExists);
  EXPECT_NE(st.message().find("memory"), std::string::npos) << st.message();
  EXPECT_EQ(registry_.kinds().size(), 2u);
}

TEST_F(BackendRegistryTest, AddStoreCreatesAdapterAndKeepsSettings) {
  ASSERT_TRUE(registry_.add_store(store("contacts", "memory"), env_).is_ok());
  EXPECT_NE(registry_.adapter_for("contacts"), nullptr);
  const StoreSettings* settings = registry_.settings_for("contacts");
  ASSERT_NE(settings, nullptr);
  EXPECT_EQ(settings->adapter, "memory");
  EXPECT_EQ(settings->content_type, "text/vcard");
  EXPECT_EQ(settings->content_version, "3.0");
  ASSERT_EQ(registry_.stores().size(), 1u);
  EXPECT_EQ(registry_.stores()[0].name, "contacts");
}

TEST_F(BackendRegistryTest, UnknownDatastoreHasNoAdapter) {
  EXPECT_EQ(registry_.adapter_for("contacts"), nullptr);
  EXPECT_EQ(registry_.settings_for("contacts"), nullptr);
  EXPECT_TRUE(registry_.stores().empty());
}

TEST_F(BackendRegistryTest, DuplicateStoreIsAlreadyExists) {
  ASSERT_TRUE(registry_.add_store(store("contacts", "memory"), env_).is_ok());
  Status st = registry_.add_store(store("contacts", "memory"), env_);
  EXPECT_EQ(st.code(), StatusCode::kAlreadyExists);
  EXPECT_NE(st.message().find("contacts"), std::string::npos) << st.message();
  EXPECT_EQ(registry_.stores().size(), 1u);
}

TEST_F(BackendRegistryTest, UnknownAdapterKindNamesTheKnownOnes) {
  Status st = registry_.add_store(store("contacts", "postgres"), env_);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("stores.contacts.adapter"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("'postgres'"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("known: broken, memory"), std::string::npos) << st.message();
  EXPECT_EQ(registry_.adapter_for("contacts"), nullptr);
  EXPECT_EQ(registry_.validate_store(store("contacts", "postgres")).code(), StatusCode::kInvalidArgument);
}

TEST_F(BackendRegistryTest, FactoryValidationErrorIsReturnedAndNothingAdded) {
  StoreSettings s = store("contacts", "memory");
  s.options["colour"] = "blue";
  Status validated = registry_.validate_store(s);
  EXPECT_EQ(validated.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(validated.message().find("stores.contacts.colour"), std::string::npos) << validated.message();
  Status added = registry_.add_store(s, env_);
  EXPECT_EQ(added.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(registry_.adapter_for("contacts"), nullptr);
}

TEST_F(BackendRegistryTest, CreateFailureNamesTheStoreAndAddsNothing) {
  Status st = registry_.add_store(store("remote", "broken"), env_);
  EXPECT_EQ(st.code(), StatusCode::kUnavailable);
  EXPECT_NE(st.message().find("stores.remote"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("server unreachable"), std::string::npos) << st.message();
  EXPECT_EQ(registry_.adapter_for("remote"), nullptr);
  // The name stays free for a corrected section.
  EXPECT_TRUE(registry_.add_store(store("remote", "memory"), env_).is_ok());
}

TEST_F(BackendRegistryTest, AStoreWhoseFactoryFailedAnswersUnavailableAndTheOthersWork) {
  const Status failed = registry_.add_store(store("remote", "broken"), env_);
  ASSERT_EQ(failed.code(), StatusCode::kUnavailable);
  ASSERT_TRUE(registry_.add_unavailable_store(store("remote", "broken"), failed).is_ok());
  ASSERT_TRUE(registry_.add_store(store("contacts", "memory"), env_).is_ok());

  EXPECT_EQ(registry_.unavailability("remote").code(), StatusCode::kUnavailable);
  EXPECT_TRUE(registry_.unavailability("contacts").is_ok());
  ASSERT_NE(registry_.settings_for("remote"), nullptr);
  ContentAdapter* remote = registry_.adapter_for("remote");
  ASSERT_NE(remote, nullptr);
  EXPECT_EQ(remote->caps(), 0u);
  const StoreRef alice_remote{UserId("alice"), "remote", {}};
  auto anchor = remote->current_anchor(alice_remote);
  ASSERT_FALSE(anchor);
  EXPECT_EQ(anchor.error().code(), StatusCode::kUnavailable);
  EXPECT_NE(anchor.error().message().find("datastore 'remote' is unavailable"), std::string::npos)
      << anchor.error().message();
  EXPECT_NE(anchor.error().message().find("server unreachable"), std::string::npos) << anchor.error().message();
  std::vector<SyncObj> batch;
  batch.push_back(test::create("BEGIN:VCARD\r\nFN:A\r\nEND:VCARD\r\n"));
  batch.push_back(test::create("BEGIN:VCARD\r\nFN:B\r\nEND:VCARD\r\n"));
  auto results = remote->apply(alice_remote, std::move(batch));
  ASSERT_EQ(results.size(), 2u);
  for (const auto& result : results) EXPECT_EQ(result.status.code(), StatusCode::kUnavailable);
  auto watched = remote->watch_changes("remote", [](const UserId&) {});
  ASSERT_FALSE(watched);
  EXPECT_EQ(watched.error().code(), StatusCode::kUnavailable);

  EXPECT_TRUE(registry_.adapter_for("contacts")->current_anchor(StoreRef{UserId("alice"), "contacts", {}}));
  EXPECT_EQ(registry_.add_unavailable_store(store("remote", "memory"), failed).code(), StatusCode::kAlreadyExists);
}

TEST_F(BackendRegistryTest, EmptyRegistryNamesNoKinds) {
  BackendRegistry empty;
  Status st = empty.validate_store(store("contacts", "sqlite"));
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("known: )"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace conflux::caf
