// FlakyBackendAdapter: forwards every call to a real adapter unless told the back
// end is down — for everyone, or for some users — and then answers
// kUnavailable, as a vdir on an unmounted disk does; or told to refuse items
// whose data holds a marker (kInvalidArgument, as a back end that cannot
// store an item does). Counts the applies that reached it, and can run a hook
// before each apply (another node's monitor, mid-replication). Tests of the
// cache swap the seam with it (LevelDB's fault_injection_test), not the world.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "caf/adapter_wrapper.h"

namespace conflux::test {

class FlakyBackendAdapter final : public caf::AdapterWrapper {
 public:
  explicit FlakyBackendAdapter(std::shared_ptr<caf::ContentAdapter> inner) : AdapterWrapper(std::move(inner)) {}

  void set_down(bool down) { down_ = down; }
  void set_user_down(const std::string& user, bool down) {
    std::lock_guard lock(mutex_);
    if (down) {
      down_users_.insert(user);
    } else {
      down_users_.erase(user);
    }
  }
  // Items whose raw data contains `marker` are refused; empty: none.
  void set_refuse(const std::string& marker) {
    std::lock_guard lock(mutex_);
    refuse_ = marker;
  }
  // Runs before every apply, outside any lock; it may call apply again.
  void set_before_apply(std::function<void()> hook) { before_apply_ = std::move(hook); }
  int applied_items() const { return applied_items_; }
  int apply_calls() const { return apply_calls_; }

  Result<Anchor> current_anchor(const caf::StoreRef& store) override {
    if (Status s = check(store); !s.is_ok()) return s;
    return base().current_anchor(store);
  }
  Result<caf::ChangeSet> changes_since(const caf::StoreRef& store, const Anchor& since) override {
    if (Status s = check(store); !s.is_ok()) return s;
    return base().changes_since(store, since);
  }
  std::vector<caf::ApplyResult> apply(const caf::StoreRef& store, std::vector<caf::SyncObj>&& batch) override {
    if (before_apply_) before_apply_();
    ++apply_calls_;
    if (Status s = check(store); !s.is_ok()) {
      std::vector<caf::ApplyResult> failed(batch.size());
      for (auto& r : failed) r.status = s;
      return failed;
    }
    if (refused(batch)) {
      std::vector<caf::ApplyResult> failed(batch.size());
      for (auto& r : failed) r.status = Status::invalid_argument("injected: item refused");
      return failed;
    }
    applied_items_ += static_cast<int>(batch.size());
    return base().apply(store, std::move(batch));
  }
  Result<std::vector<caf::SyncObj>> search(const caf::StoreRef& store, const caf::Query& query) override {
    if (Status s = check(store); !s.is_ok()) return s;
    return base().search(store, query);
  }
  Result<caf::ExecResult> execute(const caf::StoreRef& store, const caf::Command& command) override {
    if (Status s = check(store); !s.is_ok()) return s;
    return base().execute(store, command);
  }

 private:
  Status check(const caf::StoreRef& store) {
    std::lock_guard lock(mutex_);
    if (down_ || down_users_.count(store.user.str())) return Status::unavailable("injected: back end down");
    return Status::ok();
  }

  bool refused(const std::vector<caf::SyncObj>& batch) {
    std::lock_guard lock(mutex_);
    if (refuse_.empty()) return false;
    for (const auto& obj : batch) {
      if (obj.raw.find(refuse_) != std::string::npos) return true;
    }
    return false;
  }

  std::function<void()> before_apply_;  // set before the calls
  std::atomic<bool> down_{false};
  std::atomic<int> applied_items_{0};
  std::atomic<int> apply_calls_{0};
  std::mutex mutex_;
  std::set<std::string> down_users_;  // guarded by mutex_
  std::string refuse_;                // guarded by mutex_
};

}  // namespace conflux::test
