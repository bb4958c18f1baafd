#include "caf/tracked_adapter.h"

#include <utility>

#include "common/log.h"

namespace conflux::caf {

std::vector<ApplyResult> apply_tracked(RevisionTracker& tracker, const StoreRef& store, std::vector<SyncObj>&& batch,
                                       const std::function<Status(const SyncObj&)>& refuse,
                                       const std::string& adapter) {
  std::vector<ApplyResult> results(batch.size());
  std::vector<size_t> forwarded_at;
  std::vector<SyncObj> forwarded;
  for (size_t i = 0; i < batch.size(); ++i) {
    SyncObj& obj = batch[i];
    if (refuse) {
      if (Status refused = refuse(obj); !refused.is_ok()) {
        results[i].guid = obj.guid;
        results[i].status = std::move(refused);
        continue;
      }
    }
    forwarded_at.push_back(i);
    forwarded.push_back(std::move(obj));
  }
  auto written = tracker.apply(store, std::move(forwarded));
  for (size_t k = 0; k < written.size() && k < forwarded_at.size(); ++k) {
    results[forwarded_at[k]] = std::move(written[k]);
  }
  auto log = logger("adapter." + adapter);
  size_t failed = 0;
  for (auto& r : results) {
    if (r.status.is_ok()) continue;
    if (failed++ == 0) {
      log->warn("store '{}' user '{}': item {} not applied: {}", store.database, store.user.str(),
                r.guid.empty() ? "(new)" : r.guid.str(), r.status.to_string());
    }
    r.status = r.status.with_context(adapter + " apply");
  }
  log->debug("store '{}' user '{}': applied {} items, {} failed", store.database, store.user.str(), results.size(),
             failed);
  return results;
}

std::optional<Result<ExecResult>> tracked_command(RevisionTracker& tracker, const StoreRef& store,
                                                  const Command& command, const std::string& adapter) {
  if (command.name == "count") {
    Query all;
    all.metadata_only = true;
    auto found = tracker.search(store, all);
    if (!found) return Result<ExecResult>(found.error().with_context(adapter + " count"));
    return Result<ExecResult>(ExecResult{std::to_string(found->size())});
  }
  if (command.name == "rescan") {
    auto changes = tracker.refresh(store);
    if (!changes) return Result<ExecResult>(changes.error().with_context(adapter + " rescan"));
    return Result<ExecResult>(ExecResult{std::to_string(*changes)});
  }
  return std::nullopt;
}

}  // namespace conflux::caf
