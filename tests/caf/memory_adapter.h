// MemoryAdapter: a real, small ContentAdapter kept in maps, for tests that
// need a back end without a disk (LevelDB's memenv: swap the seam, not the
// world). It follows the contract of caf/content_adapter.h the way the SQLite
// adapter does:
//   - items per (user, database), each with the revision it was last written
//     at; revisions come from one counter per adapter and strictly increase;
//     an anchor is the decimal text of a revision ("0" for an empty store);
//   - a delete leaves a tombstone (new revision, no data) so changes_since
//     reports it;
//   - changes_since(empty) lists every live item, no deletes; otherwise every
//     row written after the anchor, tombstones included, oldest first;
//   - a create keeps the guid it carries when no row has it, else gets a
//     fresh one ("mem-<n>"); an update of an unknown or deleted guid fails
//     with kNotFound; a delete of one is kAlreadyDeleted;
//   - an item naming another user or database than the call fails with
//     kInvalidArgument (the second wall after the ContentManager);
//   - a StoreRef without user or database is kInvalidArgument.
// Threading: every method may be called from any thread (one mutex).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "caf/backend_registry.h"
#include "caf/content_adapter.h"

namespace conflux::test {

class MemoryAdapter final : public caf::ContentAdapter {
 public:
  // caf::ContentAdapter
  caf::AdapterCaps caps() const override;
  // kUnimplemented: like the embedded back ends, it trusts Conflux's accounts.
  Status verify_credentials(const std::string& database, const caf::Credentials& creds) override;
  Result<Anchor> current_anchor(const caf::StoreRef& store) override;
  Result<caf::ChangeSet> changes_since(const caf::StoreRef& store, const Anchor& since) override;
  std::vector<caf::ApplyResult> apply(const caf::StoreRef& store, std::vector<caf::SyncObj>&& batch) override;
  // Live items, oldest revision first (in the order of `guids` when given;
  // unknown guids are skipped).
  Result<std::vector<caf::SyncObj>> search(const caf::StoreRef& store, const caf::Query& query) override;
  // "count": number of live items; anything else kUnimplemented.
  Result<caf::ExecResult> execute(const caf::StoreRef& store, const caf::Command& command) override;

  // --- inspection for assertions (no token involved)
  size_t live_count(const UserId& user, const std::string& database) const;
  // The live item, or nullopt when absent or deleted.
  std::optional<caf::SyncObj> find(const UserId& user, const std::string& database, const Guid& guid) const;
  // Raw bytes of every live item, oldest first.
  std::vector<std::string> live_raws(const UserId& user, const std::string& database) const;

 private:
  struct Row {
    int64_t revision = 0;
    int64_t created = 0;
    bool deleted = false;
    std::string content_type;
    std::string raw;
  };
  using Rows = std::map<std::string, Row>;          // by guid
  using Key = std::pair<std::string, std::string>;  // (user, database)

  caf::SyncObj to_obj(const Key& key, const std::string& guid, const Row& row, int64_t since) const;
  caf::ApplyResult apply_one(const Key& key, caf::SyncObj& obj);                      // requires mutex_
  std::vector<std::pair<std::string, const Row*>> by_revision(const Key& key) const;  // requires mutex_

  mutable std::mutex mutex_;
  std::map<Key, Rows> stores_;  // guarded by mutex_
  int64_t last_revision_ = 0;   // guarded by mutex_
  int64_t last_guid_ = 0;       // guarded by mutex_
};

// Adapter kind "memory". Every store created by one factory shares one
// MemoryAdapter (items are keyed by database anyway), so a test can look at
// what was written. No options: any key is refused, naming it.
class MemoryAdapterFactory final : public caf::AdapterFactory {
 public:
  static constexpr const char* kKind = "memory";

  explicit MemoryAdapterFactory(std::shared_ptr<MemoryAdapter> adapter = std::make_shared<MemoryAdapter>())
      : adapter_(std::move(adapter)) {}

  std::string kind() const override { return kKind; }
  Status validate(const caf::StoreSettings& settings) const override;
  Result<std::shared_ptr<caf::ContentAdapter>> create(const caf::StoreSettings& settings,
                                                      const caf::AdapterEnv& env) override;

  const std::shared_ptr<MemoryAdapter>& adapter() const { return adapter_; }

 private:
  const std::shared_ptr<MemoryAdapter> adapter_;
};

}  // namespace conflux::test
