// MeteredAdapter counts the failures of a datastore's back end for
// /metrics (Metrics::backend_error), by datastore and status code, and
// forwards everything else unchanged. It sits directly on the adapter, under
// the cache when there is one, so replication's failures count too.
//
// Counted: kUnavailable, kResourceExhausted, kInternal — the back end
// failing. Not counted: answers about the request or the item (not found, a
// concurrent change, bad data, refused credentials, a command the adapter
// does not have), which a healthy back end gives.
//
// Thread rule: as the wrapped adapter's; Metrics is thread-safe.
#pragma once

#include <memory>
#include <string>

#include "caf/adapter_wrapper.h"
#include "common/metrics.h"

namespace conflux::caf {

class MeteredAdapter : public AdapterWrapper {
 public:
  // `metrics` must outlive the adapter.
  MeteredAdapter(std::shared_ptr<ContentAdapter> base, std::string datastore, Metrics& metrics);

  Result<Anchor> current_anchor(const StoreRef& store) override;
  Result<ChangeSet> changes_since(const StoreRef& store, const Anchor& since) override;
  std::vector<ApplyResult> apply(const StoreRef& store, std::vector<SyncObj>&& batch) override;
  Result<std::vector<SyncObj>> search(const StoreRef& store, const Query& query) override;
  Result<ExecResult> execute(const StoreRef& store, const Command& command) override;

 private:
  void count(const Status& status);

  const std::string datastore_;
  Metrics& metrics_;
};

}  // namespace conflux::caf
