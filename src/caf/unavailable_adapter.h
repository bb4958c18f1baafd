// UnavailableAdapter stands in for a datastore whose adapter could not be
// made at start (its factory refused the section, or the back end it must
// reach then was down), as Dovecot's fail storage and SyncEvolution's
// InactiveSource do: every call answers kUnavailable with the reason, so the
// datastore's devices get a clear answer (SyncML 503 on their Alert) while
// every other datastore of the server works. Fixing the cause needs a
// restart; the adapter never retries.
//
// Thread rule: any thread; it holds only the constant reason.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "caf/content_adapter.h"

namespace conflux::caf {

class UnavailableAdapter final : public ContentAdapter {
 public:
  // `reason`: why the adapter could not be made; its message is what every
  // call answers with, after "datastore '<name>' is unavailable: ".
  UnavailableAdapter(const std::string& datastore, const Status& reason)
      : reason_(Status::unavailable("datastore '" + datastore + "' is unavailable: " + reason.message())) {}

  // No capabilities: nothing is known of the back end that failed.
  AdapterCaps caps() const override { return 0; }
  Status verify_credentials(const std::string&, const Credentials&) override { return reason_; }
  Result<Anchor> current_anchor(const StoreRef&) override { return reason_; }
  Result<ChangeSet> changes_since(const StoreRef&, const Anchor&) override { return reason_; }
  std::vector<ApplyResult> apply(const StoreRef&, std::vector<SyncObj>&& batch) override {
    std::vector<ApplyResult> results(batch.size());
    for (auto& result : results) result.status = reason_;
    return results;
  }
  Result<std::vector<SyncObj>> search(const StoreRef&, const Query&) override { return reason_; }
  Result<ExecResult> execute(const StoreRef&, const Command&) override { return reason_; }
  Result<std::unique_ptr<ChangeSubscription>> watch_changes(const std::string&, ChangeCallback) override {
    return reason_;
  }

  const Status& reason() const { return reason_; }

 private:
  const Status reason_;
};

}  // namespace conflux::caf
