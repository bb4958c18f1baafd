#include "caf/metered_adapter.h"

namespace conflux::caf {

MeteredAdapter::MeteredAdapter(std::shared_ptr<ContentAdapter> base, std::string datastore, Metrics& metrics)
    : AdapterWrapper(std::move(base)), datastore_(std::move(datastore)), metrics_(metrics) {}

void MeteredAdapter::count(const Status& status) {
  switch (status.code()) {
    case StatusCode::kUnavailable:
    case StatusCode::kResourceExhausted:
    case StatusCode::kInternal: metrics_.backend_error(datastore_, status_code_name(status.code())); return;
    default: return;
  }
}

Result<Anchor> MeteredAdapter::current_anchor(const StoreRef& store) {
  auto anchor = base().current_anchor(store);
  if (!anchor) count(anchor.error());
  return anchor;
}

Result<ChangeSet> MeteredAdapter::changes_since(const StoreRef& store, const Anchor& since) {
  auto changes = base().changes_since(store, since);
  if (!changes) count(changes.error());
  return changes;
}

std::vector<ApplyResult> MeteredAdapter::apply(const StoreRef& store, std::vector<SyncObj>&& batch) {
  auto results = base().apply(store, std::move(batch));
  for (const auto& result : results) count(result.status);
  return results;
}

Result<std::vector<SyncObj>> MeteredAdapter::search(const StoreRef& store, const Query& query) {
  auto found = base().search(store, query);
  if (!found) count(found.error());
  return found;
}

Result<ExecResult> MeteredAdapter::execute(const StoreRef& store, const Command& command) {
  auto result = base().execute(store, command);
  if (!result) count(result.error());
  return result;
}

}  // namespace conflux::caf
