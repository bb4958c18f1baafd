// The reader of an adapter's keys: each mistake refused once, naming the key
// and what it must hold; good values typed, absent ones at their default.
#include "caf/store_options.h"

#include <gtest/gtest.h>

#include "caf/store_settings.h"
#include "caf/typed_adapter_factory.h"
#include "tests/caf/memory_adapter.h"

namespace conflux::caf {
namespace {

const OptionKeys& example_keys() {
  static const OptionKeys keys{
      "adapter example",
      {non_empty_option("root", "a directory").needed(), text_option("note", "a remark"),
       integer_option("batch", 1, 1000, "items per request").or_default(int64_t{100}),
       boolean_option("triggers", "whether triggers are installed").or_default(false),
       choice_option("delete", {"hard", "soft"}, "how a deletion is written").or_default("hard"),
       prefix_option("field_", "the column of a field"), scalar_option("anything", "a value passed on as text")}};
  return keys;
}

StoreSettings section(StoreOptions options) {
  StoreSettings s;
  s.name = "contacts";
  s.options = std::move(options);
  return s;
}

std::string error_of(StoreOptions options) {
  auto checked = check_store_options(section(std::move(options)), example_keys());
  EXPECT_FALSE(checked.has_value());
  if (checked) return "";
  EXPECT_EQ(checked.error().code(), StatusCode::kInvalidArgument);
  return checked.error().message();
}

TEST(StoreOptions, TypedValuesAndDefaults) {
  auto checked = check_store_options(
      section({{"root", "/srv"}, {"batch", int64_t{10}}, {"triggers", true}, {"field_email", "mail"}}), example_keys());
  ASSERT_TRUE(checked) << checked.error().message();
  EXPECT_EQ(checked->text("root"), "/srv");
  EXPECT_EQ(checked->integer("batch"), 10);
  EXPECT_TRUE(checked->boolean("triggers"));
  EXPECT_EQ(checked->text("delete"), "hard");  // the default
  EXPECT_FALSE(checked->has("delete"));        // ... which the section did not set
  EXPECT_TRUE(checked->has("batch"));
  EXPECT_EQ(checked->text("note"), "");  // absent, no default
  EXPECT_EQ(checked->with_prefix("field_"), (std::map<std::string, std::string>{{"email", "mail"}}));
  EXPECT_EQ(checked->given_text({"root"}),
            (std::map<std::string, std::string>{{"batch", "10"}, {"field_email", "mail"}, {"triggers", "true"}}));

  auto defaults = check_store_options(section({{"root", "/srv"}}), example_keys());
  ASSERT_TRUE(defaults);
  EXPECT_EQ(defaults->integer("batch"), 100);
  EXPECT_FALSE(defaults->boolean("triggers"));
}

TEST(StoreOptions, AnUnknownKeyIsNamedWithTheKeysThereAre) {
  EXPECT_EQ(error_of({{"root", "/srv"}, {"colour", "blue"}}),
            "stores.contacts.colour: unknown key for adapter example (its keys: root, note, batch, triggers, delete, "
            "field_<name>, anything)");
  // The prefix alone names no field.
  EXPECT_NE(error_of({{"root", "/srv"}, {"field_", "x"}}).find("stores.contacts.field_: unknown key"),
            std::string::npos);
}

TEST(StoreOptions, AWrongTomlTypeIsRefusedNotConverted) {
  EXPECT_EQ(error_of({{"root", "/srv"}, {"batch", "ten"}}), "stores.contacts.batch: must be an integer from 1 to 1000");
  EXPECT_EQ(error_of({{"root", "/srv"}, {"batch", "10"}}), "stores.contacts.batch: must be an integer from 1 to 1000");
  EXPECT_EQ(error_of({{"root", "/srv"}, {"triggers", "yes"}}), "stores.contacts.triggers: must be true or false");
  EXPECT_EQ(error_of({{"root", "/srv"}, {"triggers", "true"}}), "stores.contacts.triggers: must be true or false");
  EXPECT_EQ(error_of({{"root", int64_t{5}}}), "stores.contacts.root: must be a non-empty string");
  EXPECT_EQ(error_of({{"root", "/srv"}, {"note", false}}), "stores.contacts.note: must be a string (in quotes)");
}

TEST(StoreOptions, AnIntegerOutOfRangeNamesTheRange) {
  EXPECT_EQ(error_of({{"root", "/srv"}, {"batch", int64_t{0}}}),
            "stores.contacts.batch: must be an integer from 1 to 1000");
  EXPECT_EQ(error_of({{"root", "/srv"}, {"batch", int64_t{1001}}}),
            "stores.contacts.batch: must be an integer from 1 to 1000");
  auto edge = check_store_options(section({{"root", "/srv"}, {"batch", int64_t{1000}}}), example_keys());
  ASSERT_TRUE(edge);
  EXPECT_EQ(edge->integer("batch"), 1000);
}

TEST(StoreOptions, AMissingRequiredKeyIsNamedWithWhatItHolds) {
  EXPECT_EQ(error_of({}), "stores.contacts.root: missing (adapter example needs a directory)");
  EXPECT_EQ(error_of({{"root", ""}}), "stores.contacts.root: must be a non-empty string");
}

TEST(StoreOptions, AChoiceListsTheChoices) {
  EXPECT_EQ(error_of({{"root", "/srv"}, {"delete", "sometimes"}}), "stores.contacts.delete: must be one of hard, soft");
  auto soft = check_store_options(section({{"root", "/srv"}, {"delete", "soft"}}), example_keys());
  ASSERT_TRUE(soft);
  EXPECT_EQ(soft->text("delete"), "soft");
}

TEST(StoreOptions, PrefixKeysMustNameAColumn) {
  EXPECT_EQ(error_of({{"root", "/srv"}, {"field_email", ""}}),
            "stores.contacts.field_email: must be a non-empty string");
  auto fields = check_store_options(section({{"root", "/srv"}, {"field_a", "x"}, {"field_b", "y"}}), example_keys());
  ASSERT_TRUE(fields);
  EXPECT_EQ(fields->with_prefix("field_"), (std::map<std::string, std::string>{{"a", "x"}, {"b", "y"}}));
}

TEST(StoreOptions, ScalarKeysReadAsTheirTomlText) {
  for (const auto& [value, text] : std::vector<std::pair<OptionValue, std::string>>{
           {std::string("x"), "x"}, {int64_t{-7}, "-7"}, {true, "true"}, {false, "false"}}) {
    auto checked = check_store_options(section({{"root", "/srv"}, {"anything", value}}), example_keys());
    ASSERT_TRUE(checked);
    EXPECT_EQ(checked->text("anything"), text);
    EXPECT_EQ(option_text(value), text);
  }
}

// A factory of one integer key that counts its parses and keeps what make() got.
struct BatchConfig {
  int64_t batch = 0;
};

class BatchFactory final : public TypedAdapterFactory<BatchConfig> {
 public:
  std::string kind() const override { return "batch"; }
  mutable int reads = 0;
  std::optional<int64_t> made_with;

 protected:
  Result<OptionKeys> keys(const StoreSettings&) const override {
    return OptionKeys{"adapter batch", {integer_option("batch", 1, 10, "items per request").or_default(int64_t{5})}};
  }
  Result<BatchConfig> read(const CheckedOptions& options, const StoreSettings&) const override {
    ++reads;
    return BatchConfig{options.integer("batch")};
  }
  Result<std::shared_ptr<ContentAdapter>> make(BatchConfig config, const StoreSettings&, const AdapterEnv&) override {
    made_with = config.batch;
    return std::shared_ptr<ContentAdapter>(std::make_shared<test::MemoryAdapter>());
  }
};

TEST(TypedAdapterFactory, ValidateCreateAndCheckShareOneParse) {
  BatchFactory factory;
  EXPECT_TRUE(factory.validate(section({{"batch", int64_t{7}}})).is_ok());
  EXPECT_EQ(factory.reads, 1);
  ASSERT_TRUE(factory.create(section({{"batch", int64_t{7}}}), AdapterEnv{"/tmp"}));
  EXPECT_EQ(factory.reads, 2);  // once per call, never twice
  EXPECT_EQ(factory.made_with, 7);
  ASSERT_TRUE(factory.create(section({}), AdapterEnv{"/tmp"}));
  EXPECT_EQ(factory.made_with, 5);  // the default

  // A bad key stops all three before read() and make().
  factory.made_with.reset();
  const StoreSettings bad = section({{"batch", "7"}});
  EXPECT_EQ(factory.validate(bad).message(), "stores.contacts.batch: must be an integer from 1 to 10");
  EXPECT_FALSE(factory.create(bad, AdapterEnv{"/tmp"}));
  auto found = factory.check(bad, AdapterEnv{"/tmp"});
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].message(), "stores.contacts.batch: must be an integer from 1 to 10");
  EXPECT_EQ(factory.reads, 3);
  EXPECT_FALSE(factory.made_with.has_value());
}

}  // namespace
}  // namespace conflux::caf
