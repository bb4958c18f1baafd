#include "engine/conflict_settle.h"

namespace conflux::engine {

Status settle_conflict(SyncStateStore& records, caf::CafInterface& caf, const caf::Token& token,
                       const ConflictRecord& r, KeptVersion keep, bool again, std::string origin) {
  const std::string id = std::to_string(r.id);
  if (r.resolved && !again) {
    return Status::failed_precondition("conflict " + id +
                                       " is already resolved; --force writes the kept version "
                                       "again (only while nobody has changed the item since)");
  }
  const std::string& data = keep == KeptVersion::kServer ? r.server_data : r.client_data;
  const std::string& type = keep == KeptVersion::kServer ? r.server_type : r.client_type;

  caf::StoreRef ref{r.where.user, r.where.database, token};
  ref.origin = std::move(origin);
  ref.session = "conflict-" + id;
  caf::Query one;
  one.guids = {r.guid};
  auto current = caf.search(ref, one);
  if (!current) return current.error();
  const bool exists = !current->empty();
  // A resolved conflict's item has moved on: settling it again must not
  // write an old version over an edit made since. Unchanged means it still
  // holds one of the two versions (or is deleted, as one of them was).
  if (r.resolved) {
    const std::string now = exists ? current->front().raw : std::string();
    if (now != r.server_data && now != r.client_data) {
      return Status::failed_precondition("conflict " + id +
                                         ": the item has changed since the conflict was "
                                         "resolved; not overwriting the newer version");
    }
  }

  caf::SyncObj obj;
  obj.guid = r.guid;
  if (data.empty()) {
    obj.action = caf::Action::kDelete;
  } else {
    obj.action = exists ? caf::Action::kUpdate : caf::Action::kCreate;
    if (!exists) obj.guid = Guid();
    obj.content_type = type;
    obj.raw = data;
  }
  std::vector<caf::SyncObj> batch;
  batch.push_back(std::move(obj));
  auto results = caf.apply(ref, std::move(batch));
  if (results.empty()) return Status::internal("writing the kept version failed: no result");
  if (!results.front().status.is_ok()) {
    return results.front().status.with_context("writing the kept version failed");
  }
  return records.mark_conflict_resolved(r.id);
}

}  // namespace conflux::engine
