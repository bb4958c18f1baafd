#include "caf/metered_adapter.h"

#include <gtest/gtest.h>

#include "tests/caf/memory_adapter.h"

namespace conflux::caf {
namespace {

// A back end that is down for anchors and has no item a search asks for.
class DownForAnchors : public AdapterWrapper {
 public:
  using AdapterWrapper::AdapterWrapper;
  Result<Anchor> current_anchor(const StoreRef&) override { return Status::unavailable("connection refused"); }
  Result<std::vector<SyncObj>> search(const StoreRef&, const Query&) override {
    return Status::not_found("no such item");
  }
};

TEST(MeteredAdapterTest, CountsFailuresOfTheBackEndNotAnswersAboutItems) {
  Metrics metrics;
  MeteredAdapter adapter(std::make_shared<DownForAnchors>(std::make_shared<test::MemoryAdapter>()), "contacts",
                         metrics);
  const StoreRef store{UserId("alice"), "contacts", Token{}};
  EXPECT_FALSE(adapter.current_anchor(store));
  EXPECT_FALSE(adapter.current_anchor(store));
  EXPECT_FALSE(adapter.search(store, Query{}));
  const std::string text = metrics.text();
  EXPECT_NE(text.find("conflux_backend_errors_total{code=\"UNAVAILABLE\",datastore=\"contacts\"} 2"), std::string::npos)
      << text;
  EXPECT_EQ(text.find("NOT_FOUND"), std::string::npos) << text;
}

}  // namespace
}  // namespace conflux::caf
