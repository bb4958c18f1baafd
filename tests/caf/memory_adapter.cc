#include "tests/caf/memory_adapter.h"

#include <algorithm>
#include <charconv>

namespace conflux::test {
namespace {

Status check_scope(const caf::StoreRef& store) {
  if (store.user.empty()) return Status::invalid_argument("memory adapter: call without a user");
  if (store.database.empty()) return Status::invalid_argument("memory adapter: call without a database");
  return Status::ok();
}

std::optional<int64_t> parse_revision(const std::string& text) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < 0) return std::nullopt;
  return value;
}

Anchor revision_anchor(int64_t revision) { return Anchor(std::to_string(revision)); }

}  // namespace

caf::AdapterCaps MemoryAdapter::caps() const { return caf::kCapTombstones | caf::kCapSearch; }

Status MemoryAdapter::verify_credentials(const std::string& database, const caf::Credentials& creds) {
  return Status::unimplemented("memory adapter: accounts are Conflux's own");
}

caf::SyncObj MemoryAdapter::to_obj(const Key& key, const std::string& guid, const Row& row, int64_t since) const {
  caf::SyncObj obj;
  obj.guid = Guid(guid);
  obj.anchor = revision_anchor(row.revision);
  obj.user = UserId(key.first);
  obj.database = key.second;
  if (row.deleted) {
    obj.action = caf::Action::kDelete;
    return obj;
  }
  obj.action = row.created > since ? caf::Action::kCreate : caf::Action::kUpdate;
  obj.content_type = row.content_type;
  obj.raw = row.raw;
  return obj;
}

std::vector<std::pair<std::string, const MemoryAdapter::Row*>> MemoryAdapter::by_revision(const Key& key) const {
  std::vector<std::pair<std::string, const Row*>> rows;
  auto it = stores_.find(key);
  if (it == stores_.end()) return rows;
  for (const auto& [guid, row] : it->second) rows.emplace_back(guid, &row);
  std::sort(rows.begin(), rows.end(),
            [](const auto& a, const auto& b) { return a.second->revision < b.second->revision; });
  return rows;
}

Result<Anchor> MemoryAdapter::current_anchor(const caf::StoreRef& store) {
  CFX_RETURN_IF_ERROR(check_scope(store));
  std::lock_guard lock(mutex_);
  int64_t max = 0;
  if (auto it = stores_.find({store.user.str(), store.database}); it != stores_.end()) {
    for (const auto& [_, row] : it->second) max = std::max(max, row.revision);
  }
  return revision_anchor(max);
}

Result<caf::ChangeSet> MemoryAdapter::changes_since(const caf::StoreRef& store, const Anchor& since) {
  CFX_RETURN_IF_ERROR(check_scope(store));
  std::optional<int64_t> since_revision;
  if (!since.empty()) {
    since_revision = parse_revision(since.str());
    if (!since_revision) {
      return Status::invalid_argument("memory changes_since: '" + since.str() + "' is not an anchor of this back end");
    }
  }
  std::lock_guard lock(mutex_);
  const Key key{store.user.str(), store.database};
  caf::ChangeSet set;
  int64_t max = 0;
  for (const auto& [guid, row] : by_revision(key)) {
    max = std::max(max, row->revision);
    if (since_revision ? row->revision <= *since_revision : row->deleted) continue;
    set.changes.push_back(to_obj(key, guid, *row, since_revision.value_or(0)));
  }
  set.anchor = revision_anchor(max);
  return set;
}

caf::ApplyResult MemoryAdapter::apply_one(const Key& key, caf::SyncObj& obj) {
  caf::ApplyResult result;
  result.guid = obj.guid;
  if ((!obj.user.empty() && obj.user.str() != key.first) || (!obj.database.empty() && obj.database != key.second)) {
    result.status = Status::invalid_argument("item names another user or datastore than the call");
    return result;
  }
  Rows& rows = stores_[key];
  switch (obj.action) {
    case caf::Action::kCreate: {
      std::string guid = obj.guid.str();
      while (guid.empty() || rows.count(guid)) guid = "mem-" + std::to_string(++last_guid_);
      const int64_t revision = ++last_revision_;
      rows[guid] = Row{revision, revision, false, obj.content_type, obj.raw};
      result.outcome = caf::ApplyOutcome::kCreated;
      result.guid = Guid(guid);
      result.anchor = revision_anchor(revision);
      return result;
    }
    case caf::Action::kUpdate: {
      if (obj.guid.empty()) {
        result.status = Status::invalid_argument("update without a guid");
        return result;
      }
      auto it = rows.find(obj.guid.str());
      if (it == rows.end() || it->second.deleted) {
        result.status = Status::not_found("no item " + obj.guid.str());
        return result;
      }
      it->second.revision = ++last_revision_;
      if (!obj.content_type.empty()) it->second.content_type = obj.content_type;
      it->second.raw = obj.raw;
      result.outcome = caf::ApplyOutcome::kUpdated;
      result.anchor = revision_anchor(it->second.revision);
      return result;
    }
    case caf::Action::kDelete: {
      if (obj.guid.empty()) {
        result.status = Status::invalid_argument("delete without a guid");
        return result;
      }
      auto it = rows.find(obj.guid.str());
      if (it == rows.end() || it->second.deleted) {
        result.outcome = caf::ApplyOutcome::kAlreadyDeleted;
        return result;
      }
      it->second.revision = ++last_revision_;
      it->second.deleted = true;
      it->second.raw.clear();
      it->second.content_type.clear();
      result.outcome = caf::ApplyOutcome::kDeleted;
      result.anchor = revision_anchor(it->second.revision);
      return result;
    }
  }
  result.status = Status::invalid_argument("unknown action");
  return result;
}

std::vector<caf::ApplyResult> MemoryAdapter::apply(const caf::StoreRef& store, std::vector<caf::SyncObj>&& batch) {
  if (Status scope = check_scope(store); !scope.is_ok()) {
    std::vector<caf::ApplyResult> refused(batch.size());
    for (auto& r : refused) r.status = scope;
    return refused;
  }
  std::lock_guard lock(mutex_);
  const Key key{store.user.str(), store.database};
  std::vector<caf::ApplyResult> results;
  results.reserve(batch.size());
  for (auto& obj : batch) results.push_back(apply_one(key, obj));
  return results;
}

Result<std::vector<caf::SyncObj>> MemoryAdapter::search(const caf::StoreRef& store, const caf::Query& query) {
  CFX_RETURN_IF_ERROR(check_scope(store));
  std::lock_guard lock(mutex_);
  const Key key{store.user.str(), store.database};
  std::vector<caf::SyncObj> out;
  auto matches = [&](const Row& row) {
    return !row.deleted && (query.contains.empty() || row.raw.find(query.contains) != std::string::npos);
  };
  auto full = [&] { return query.limit != 0 && out.size() >= query.limit; };
  if (!query.guids.empty()) {
    auto it = stores_.find(key);
    if (it == stores_.end()) return out;
    for (const auto& guid : query.guids) {
      auto row = it->second.find(guid.str());
      if (row == it->second.end() || !matches(row->second)) continue;
      if (full()) break;
      out.push_back(to_obj(key, guid.str(), row->second, 0));
    }
    return out;
  }
  for (const auto& [guid, row] : by_revision(key)) {
    if (!matches(*row)) continue;
    if (full()) break;
    out.push_back(to_obj(key, guid, *row, 0));
  }
  return out;
}

Result<caf::ExecResult> MemoryAdapter::execute(const caf::StoreRef& store, const caf::Command& command) {
  CFX_RETURN_IF_ERROR(check_scope(store));
  if (command.name != "count") return Status::unimplemented("memory adapter: no command '" + command.name + "'");
  return caf::ExecResult{std::to_string(live_count(store.user, store.database))};
}

size_t MemoryAdapter::live_count(const UserId& user, const std::string& database) const {
  std::lock_guard lock(mutex_);
  auto it = stores_.find({user.str(), database});
  if (it == stores_.end()) return 0;
  return static_cast<size_t>(
      std::count_if(it->second.begin(), it->second.end(), [](const auto& kv) { return !kv.second.deleted; }));
}

std::optional<caf::SyncObj> MemoryAdapter::find(const UserId& user, const std::string& database,
                                                const Guid& guid) const {
  std::lock_guard lock(mutex_);
  const Key key{user.str(), database};
  auto it = stores_.find(key);
  if (it == stores_.end()) return std::nullopt;
  auto row = it->second.find(guid.str());
  if (row == it->second.end() || row->second.deleted) return std::nullopt;
  return to_obj(key, guid.str(), row->second, 0);
}

std::vector<std::string> MemoryAdapter::live_raws(const UserId& user, const std::string& database) const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  for (const auto& [_, row] : by_revision({user.str(), database})) {
    if (!row->deleted) out.push_back(row->raw);
  }
  return out;
}

Status MemoryAdapterFactory::validate(const caf::StoreSettings& settings) const {
  if (settings.options.empty()) return Status::ok();
  const std::string& key = settings.options.begin()->first;
  return Status::invalid_argument("stores." + settings.name + "." + key + ": unknown key for adapter memory");
}

Result<std::shared_ptr<caf::ContentAdapter>> MemoryAdapterFactory::create(const caf::StoreSettings& settings,
                                                                          const caf::AdapterEnv& env) {
  return std::shared_ptr<caf::ContentAdapter>(adapter_);
}

}  // namespace conflux::test
