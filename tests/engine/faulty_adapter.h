// FaultyAdapter: forwards every call to a real adapter, except the
// operations it was told to fail, which answer kUnavailable ("back end
// down") or, for poison items, kInvalidArgument, without touching the
// adapter underneath (LevelDB's
// fault_injection_test: swap the seam, not the world).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "caf/adapter_wrapper.h"
#include "caf/backend_registry.h"
#include "caf/content_adapter.h"

namespace conflux::test {

class FaultyAdapter final : public caf::AdapterWrapper {
 public:
  explicit FaultyAdapter(std::shared_ptr<caf::ContentAdapter> base) : AdapterWrapper(std::move(base)) {}

  void fail_apply(bool fail) { fail_apply_ = fail; }
  // Fails, with kInvalidArgument, every write whose bytes contain `marker`
  // (a poison item); the rest of the batch goes to the adapter. Empty: none.
  void fail_items_containing(const std::string& marker) {
    if (marker.empty()) return fail_items(nullptr);
    fail_items([marker](const caf::SyncObj& obj) { return obj.raw.find(marker) != std::string::npos; },
               Status::invalid_argument("injected: item cannot be stored"));
  }
  // Fails every read of items (changes_since and search): the back end is down.
  void fail_reads(bool fail) { fail_reads_ = fail; }
  void fail_current_anchor(bool fail) { fail_current_anchor_ = fail; }
  // Fails the items of a batch for which `which` is true (empty: none) with
  // `how`; the others are applied.
  void fail_items(std::function<bool(const caf::SyncObj&)> which,
                  Status how = Status::unavailable("injected: back end refused this item")) {
    std::lock_guard lock(mutex_);
    fail_items_ = std::move(which);
    item_failure_ = std::move(how);
  }

  Result<Anchor> current_anchor(const caf::StoreRef& store) override {
    if (fail_current_anchor_) return Status::unavailable("injected: back end down (current_anchor)");
    return base().current_anchor(store);
  }
  Result<caf::ChangeSet> changes_since(const caf::StoreRef& store, const Anchor& since) override {
    if (fail_reads_) return Status::unavailable("injected: back end down (changes_since)");
    return base().changes_since(store, since);
  }
  std::vector<caf::ApplyResult> apply(const caf::StoreRef& store, std::vector<caf::SyncObj>&& batch) override {
    if (fail_apply_) {
      std::vector<caf::ApplyResult> failed(batch.size());
      for (auto& r : failed) r.status = Status::unavailable("injected: back end down (apply)");
      return failed;
    }
    std::function<bool(const caf::SyncObj&)> which;
    Status how;
    {
      std::lock_guard lock(mutex_);
      which = fail_items_;
      how = item_failure_;
    }
    if (!which) return base().apply(store, std::move(batch));
    std::vector<caf::ApplyResult> results(batch.size());
    std::vector<caf::SyncObj> passed;
    std::vector<size_t> passed_at;
    for (size_t i = 0; i < batch.size(); ++i) {
      if (which(batch[i])) {
        results[i].status = how;
      } else {
        passed.push_back(std::move(batch[i]));
        passed_at.push_back(i);
      }
    }
    if (!passed.empty()) {
      auto applied = base().apply(store, std::move(passed));
      for (size_t k = 0; k < applied.size(); ++k) results[passed_at[k]] = std::move(applied[k]);
    }
    return results;
  }
  Result<std::vector<caf::SyncObj>> search(const caf::StoreRef& store, const caf::Query& query) override {
    if (fail_reads_) return Status::unavailable("injected: back end down (search)");
    return base().search(store, query);
  }

 private:
  std::atomic<bool> fail_apply_{false};
  std::atomic<bool> fail_reads_{false};
  std::atomic<bool> fail_current_anchor_{false};
  std::mutex mutex_;
  std::function<bool(const caf::SyncObj&)> fail_items_;  // guarded by mutex_
  Status item_failure_;                                  // guarded by mutex_
};

// Adapter kind "faulty": every store gets the same FaultyAdapter.
class FaultyAdapterFactory final : public caf::AdapterFactory {
 public:
  static constexpr const char* kKind = "faulty";
  explicit FaultyAdapterFactory(std::shared_ptr<FaultyAdapter> adapter) : adapter_(std::move(adapter)) {}
  std::string kind() const override { return kKind; }
  Status validate(const caf::StoreSettings&) const override { return Status::ok(); }
  Result<std::shared_ptr<caf::ContentAdapter>> create(const caf::StoreSettings&, const caf::AdapterEnv&) override {
    return std::shared_ptr<caf::ContentAdapter>(adapter_);
  }

 private:
  const std::shared_ptr<FaultyAdapter> adapter_;
};

}  // namespace conflux::test
