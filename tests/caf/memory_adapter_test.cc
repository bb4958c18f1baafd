// The test back end must keep the ContentAdapter contract itself, or tests
// built on it prove nothing. Same points the SQLite adapter's tests check.
#include "tests/caf/memory_adapter.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace conflux::test {
namespace {

caf::SyncObj change(caf::Action action, const std::string& guid, const std::string& raw = "") {
  caf::SyncObj obj;
  obj.action = action;
  obj.guid = Guid(guid);
  obj.content_type = raw.empty() ? "" : "text/plain";
  obj.raw = raw;
  return obj;
}

class MemoryAdapterTest : public ::testing::Test {
 protected:
  caf::ApplyResult apply1(caf::SyncObj obj, const caf::StoreRef& store) {
    std::vector<caf::SyncObj> batch;
    batch.push_back(std::move(obj));
    auto results = adapter_.apply(store, std::move(batch));
    EXPECT_EQ(results.size(), 1u);
    return results.empty() ? caf::ApplyResult{} : results[0];
  }

  MemoryAdapter adapter_;
  const caf::StoreRef alice_{UserId("alice"), "notes", {}};
  const caf::StoreRef bob_{UserId("bob"), "notes", {}};
};

TEST_F(MemoryAdapterTest, EmptyStoreHasAnchorZeroAndNoChanges) {
  EXPECT_EQ(adapter_.current_anchor(alice_).value(), Anchor("0"));
  auto all = adapter_.changes_since(alice_, Anchor());
  ASSERT_TRUE(all);
  EXPECT_TRUE(all->changes.empty());
  EXPECT_EQ(all->anchor, Anchor("0"));
}

TEST_F(MemoryAdapterTest, CreateUpdateDeleteWithRevisionsAndTombstones) {
  auto created = apply1(change(caf::Action::kCreate, "", "one"), alice_);
  ASSERT_TRUE(created.status.is_ok());
  EXPECT_EQ(created.outcome, caf::ApplyOutcome::kCreated);
  const Anchor after_create = *adapter_.current_anchor(alice_);
  EXPECT_EQ(after_create, created.anchor);

  auto updated = apply1(change(caf::Action::kUpdate, created.guid.str(), "two"), alice_);
  ASSERT_TRUE(updated.status.is_ok());
  EXPECT_EQ(updated.outcome, caf::ApplyOutcome::kUpdated);
  EXPECT_NE(updated.anchor, created.anchor);

  auto since = adapter_.changes_since(alice_, after_create);
  ASSERT_TRUE(since);
  ASSERT_EQ(since->changes.size(), 1u);
  EXPECT_EQ(since->changes[0].action, caf::Action::kUpdate);
  EXPECT_EQ(since->changes[0].raw, "two");
  EXPECT_EQ(since->changes[0].anchor, updated.anchor);

  auto deleted = apply1(change(caf::Action::kDelete, created.guid.str()), alice_);
  ASSERT_TRUE(deleted.status.is_ok());
  EXPECT_EQ(deleted.outcome, caf::ApplyOutcome::kDeleted);
  auto after_delete = adapter_.changes_since(alice_, after_create);
  ASSERT_TRUE(after_delete);
  ASSERT_EQ(after_delete->changes.size(), 1u);
  EXPECT_EQ(after_delete->changes[0].action, caf::Action::kDelete);
  EXPECT_TRUE(after_delete->changes[0].raw.empty());
  // A full listing has no deletes.
  EXPECT_TRUE(adapter_.changes_since(alice_, Anchor())->changes.empty());
  EXPECT_EQ(adapter_.live_count(UserId("alice"), "notes"), 0u);

  EXPECT_EQ(apply1(change(caf::Action::kDelete, created.guid.str()), alice_).outcome,
            caf::ApplyOutcome::kAlreadyDeleted);
  EXPECT_EQ(apply1(change(caf::Action::kUpdate, created.guid.str(), "x"), alice_).status.code(), StatusCode::kNotFound);
}

TEST_F(MemoryAdapterTest, ChangesSinceReportsCreateVersusUpdate) {
  auto a = apply1(change(caf::Action::kCreate, "", "a"), alice_);
  const Anchor mid = *adapter_.current_anchor(alice_);
  apply1(change(caf::Action::kCreate, "", "b"), alice_);
  apply1(change(caf::Action::kUpdate, a.guid.str(), "a2"), alice_);
  auto since = adapter_.changes_since(alice_, mid);
  ASSERT_TRUE(since);
  ASSERT_EQ(since->changes.size(), 2u);
  EXPECT_EQ(since->changes[0].raw, "b");
  EXPECT_EQ(since->changes[0].action, caf::Action::kCreate);
  EXPECT_EQ(since->changes[1].raw, "a2");
  EXPECT_EQ(since->changes[1].action, caf::Action::kUpdate);
  EXPECT_EQ(adapter_.changes_since(alice_, Anchor("nonsense")).error().code(), StatusCode::kInvalidArgument);
}

TEST_F(MemoryAdapterTest, CreateKeepsAFreeGuidAndReplacesATakenOne) {
  auto first = apply1(change(caf::Action::kCreate, "wanted", "1"), alice_);
  EXPECT_EQ(first.guid, Guid("wanted"));
  auto second = apply1(change(caf::Action::kCreate, "wanted", "2"), alice_);
  ASSERT_TRUE(second.status.is_ok());
  EXPECT_NE(second.guid, Guid("wanted"));
}

TEST_F(MemoryAdapterTest, UsersAndDatastoresAreSeparate) {
  apply1(change(caf::Action::kCreate, "", "alice's"), alice_);
  EXPECT_EQ(adapter_.live_count(UserId("bob"), "notes"), 0u);
  EXPECT_TRUE(adapter_.search(bob_, caf::Query{})->empty());
  EXPECT_EQ(adapter_.current_anchor(bob_).value(), Anchor("0"));

  caf::SyncObj foreign = change(caf::Action::kCreate, "", "x");
  foreign.user = UserId("bob");
  EXPECT_EQ(apply1(foreign, alice_).status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(adapter_.current_anchor(caf::StoreRef{UserId(), "notes", {}}).error().code(), StatusCode::kInvalidArgument);
}

TEST_F(MemoryAdapterTest, SearchByGuidsContainsAndLimit) {
  auto a = apply1(change(caf::Action::kCreate, "", "apple"), alice_);
  auto b = apply1(change(caf::Action::kCreate, "", "banana"), alice_);
  auto by_guid = adapter_.search(alice_, caf::Query{{b.guid, Guid("missing"), a.guid}, "", 0});
  ASSERT_TRUE(by_guid);
  ASSERT_EQ(by_guid->size(), 2u);
  EXPECT_EQ((*by_guid)[0].raw, "banana");
  EXPECT_EQ((*by_guid)[1].raw, "apple");
  auto contains = adapter_.search(alice_, caf::Query{{}, "nan", 0});
  ASSERT_EQ(contains->size(), 1u);
  EXPECT_EQ((*contains)[0].guid, b.guid);
  EXPECT_EQ(adapter_.search(alice_, caf::Query{{}, "", 1})->size(), 1u);
  EXPECT_EQ(adapter_.execute(alice_, caf::Command{"count", {}})->output, "2");
  EXPECT_EQ(adapter_.execute(alice_, caf::Command{"purge", {}}).error().code(), StatusCode::kUnimplemented);
}

}  // namespace
}  // namespace conflux::test
