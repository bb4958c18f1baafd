#include "caf/item_history.h"

#include "common/log.h"

namespace conflux::caf {
namespace {

template <typename Retention>
std::map<std::string, Retention> retention_by_store(const std::vector<StoreSettings>& stores) {
  std::map<std::string, Retention> by_store;
  for (const auto& s : stores) by_store[s.name] = Retention{s.history_days, s.history_versions};
  return by_store;
}

bool exists_after(const ItemVersion& v) { return v.kind != VersionKind::kDeleted; }

}  // namespace

const char* version_kind_name(VersionKind kind) {
  switch (kind) {
    case VersionKind::kFound: return "found";
    case VersionKind::kCreated: return "created";
    case VersionKind::kUpdated: return "updated";
    case VersionKind::kDeleted: return "deleted";
  }
  return "updated";
}

std::vector<SyncObj> plan_restore(const std::vector<ItemVersion>& versions, int64_t cut_id,
                                  const std::optional<Guid>& only) {
  struct Item {
    const ItemVersion* then = nullptr;  // the last version before the cut (kFound counts: it is older)
    const ItemVersion* now = nullptr;   // the last version of all
    bool changed_since = false;
  };
  std::map<std::string, Item> items;
  for (const auto& v : versions) {
    if (only && v.guid != *only) continue;
    Item& item = items[v.guid.str()];
    if (v.kind == VersionKind::kFound || v.id < cut_id) {
      item.then = &v;
    } else {
      item.changed_since = true;
    }
    item.now = &v;
  }
  std::vector<SyncObj> changes;
  for (const auto& [guid, item] : items) {
    if (!item.changed_since) continue;
    const bool existed = item.then && exists_after(*item.then);
    const bool exists = item.now && exists_after(*item.now);
    SyncObj obj;
    if (!existed && exists) {
      obj.action = Action::kDelete;
      obj.guid = Guid(guid);
    } else if (existed && !exists) {
      obj.action = Action::kCreate;  // the back end gives it a new GUID
      obj.content_type = item.then->content_type;
      obj.raw = item.then->raw;
    } else if (existed && item.now->raw != item.then->raw) {
      obj.action = Action::kUpdate;
      obj.guid = Guid(guid);
      obj.content_type = item.then->content_type;
      obj.raw = item.then->raw;
    } else {
      continue;  // gone then and now, or back to the same bytes
    }
    changes.push_back(std::move(obj));
  }
  return changes;
}

HistoryRecorder::HistoryRecorder(HistoryStore& store, const Clock& clock, const std::vector<StoreSettings>& stores)
    : store_(store), clock_(clock), retention_(retention_by_store<Retention>(stores)) {}

int HistoryRecorder::history_days(const std::string& database) const {
  auto it = retention_.find(database);
  return it == retention_.end() ? 0 : it->second.days;
}

int HistoryRecorder::history_versions(const std::string& database) const {
  auto it = retention_.find(database);
  return it == retention_.end() ? 0 : it->second.versions;
}

HistoryRecorder::Pending HistoryRecorder::before_apply(ContentAdapter& adapter, const StoreRef& store,
                                                       const std::vector<SyncObj>& batch) {
  Pending pending;
  if (history_days(store.database) <= 0) return pending;
  pending.keep = true;
  const int64_t now = clock_.now_seconds();
  std::vector<Guid> touched;
  for (const auto& obj : batch) {
    ItemVersion v;
    v.user = store.user;
    v.database = store.database;
    v.guid = obj.action == Action::kCreate ? Guid() : obj.guid;
    v.kind = obj.action == Action::kCreate   ? VersionKind::kCreated
             : obj.action == Action::kUpdate ? VersionKind::kUpdated
                                             : VersionKind::kDeleted;
    if (obj.action != Action::kDelete) {
      v.content_type = obj.content_type;
      v.raw = obj.raw;
    }
    v.origin = store.origin;
    v.session = store.session;
    v.at = now;
    pending.changes.push_back(std::move(v));
    if (obj.action != Action::kCreate && !obj.guid.empty()) touched.push_back(obj.guid);
  }
  if (touched.empty()) return pending;
  // Items changed for the first time since history began: their current
  // version is the state every restore to an earlier moment goes back to.
  auto known = store_.known(store.user, store.database, touched);
  if (!known) {
    logger("caf")->warn("history of {} {}: {}", store.user.str(), store.database, known.error().to_string());
    return pending;
  }
  Query unknown;
  for (const auto& guid : touched) {
    if (!known->count(guid.str())) unknown.guids.push_back(guid);
  }
  if (unknown.guids.empty()) return pending;
  auto current = adapter.search(store, unknown);
  if (!current) {
    logger("caf")->warn("history of {} {}: reading the versions before a change failed: {}", store.user.str(),
                        store.database, current.error().to_string());
    return pending;
  }
  for (auto& obj : *current) {
    ItemVersion v;
    v.user = store.user;
    v.database = store.database;
    v.guid = obj.guid;
    v.kind = VersionKind::kFound;
    v.content_type = std::move(obj.content_type);
    v.raw = std::move(obj.raw);
    v.origin = "before history";
    v.at = now;
    pending.found.push_back(std::move(v));
  }
  return pending;
}

void HistoryRecorder::after_apply(const StoreRef& store, Pending&& pending, const std::vector<ApplyResult>& results) {
  if (!pending.keep) return;
  std::vector<ItemVersion> versions = std::move(pending.found);
  for (size_t i = 0; i < results.size() && i < pending.changes.size(); ++i) {
    const ApplyResult& r = results[i];
    if (!r.status.is_ok() || r.outcome == ApplyOutcome::kAlreadyDeleted) continue;
    ItemVersion& v = pending.changes[i];
    if (v.guid.empty()) v.guid = r.guid;
    versions.push_back(std::move(v));
  }
  if (versions.empty()) return;
  if (auto st = store_.record(versions); !st.is_ok()) {
    logger("caf")->error("history of {} {}: {} versions not recorded: {}", store.user.str(), store.database,
                         versions.size(), st.to_string());
  }
}

void HistoryRecorder::record_observed(const StoreRef& store, const std::vector<ObservedChange>& changes) {
  if (history_days(store.database) <= 0 || changes.empty()) return;
  const int64_t now = clock_.now_seconds();
  std::vector<Guid> guids;
  guids.reserve(changes.size());
  for (const auto& c : changes) guids.push_back(c.now.guid);
  auto known = store_.known(store.user, store.database, guids);
  if (!known) {
    logger("caf")->warn("history of {} {}: {}", store.user.str(), store.database, known.error().to_string());
    return;
  }
  auto version = [&](const SyncObj& obj, VersionKind kind, const std::string& origin, const std::string& session) {
    ItemVersion v;
    v.user = store.user;
    v.database = store.database;
    v.guid = obj.guid;
    v.kind = kind;
    if (kind != VersionKind::kDeleted) {
      v.content_type = obj.content_type;
      v.raw = obj.raw;
    }
    v.origin = origin;
    v.session = session;
    v.at = now;
    return v;
  };
  const std::string session = "backend-" + std::to_string(now);
  std::vector<ItemVersion> versions;
  for (const auto& c : changes) {
    if (c.before && !known->count(c.now.guid.str())) {
      versions.push_back(version(*c.before, VersionKind::kFound, "before history", ""));
    }
    const VersionKind kind = c.now.action == Action::kDelete ? VersionKind::kDeleted
                             : c.before                      ? VersionKind::kUpdated
                                                             : VersionKind::kCreated;
    versions.push_back(version(c.now, kind, "back end", session));
  }
  if (auto st = store_.record(versions); !st.is_ok()) {
    logger("caf")->error("history of {} {}: {} changes by others not recorded: {}", store.user.str(), store.database,
                         changes.size(), st.to_string());
  }
}

Result<int64_t> HistoryRecorder::purge_expired() {
  int64_t dropped = 0;
  const int64_t now = clock_.now_seconds();
  for (const auto& [database, keep] : retention_) {
    if (keep.days <= 0) continue;
    auto n = store_.purge(database, now - int64_t{keep.days} * 86400, keep.versions);
    if (!n) return n.error();
    dropped += *n;
  }
  return dropped;
}

}  // namespace conflux::caf
