#include "cache/cache_store.h"

#include <charconv>

namespace conflux::cache {

std::optional<int64_t> CacheStore::anchor_revision(const Anchor& anchor) {
  const std::string& text = anchor.str();
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < 0) return std::nullopt;
  return value;
}

Status CacheStore::check_scope(const caf::StoreRef& store) {
  if (store.user.empty()) return Status::invalid_argument("cache: call without a user");
  if (store.database.empty()) return Status::invalid_argument("cache: call without a database");
  return Status::ok();
}

Status CacheStore::check_item(const caf::StoreRef& store, const caf::SyncObj& obj) {
  if ((!obj.user.empty() && obj.user != store.user) || (!obj.database.empty() && obj.database != store.database)) {
    return Status::invalid_argument("item names another user or datastore than the call");
  }
  if (obj.action != caf::Action::kCreate && obj.guid.empty()) {
    return Status::invalid_argument(std::string(caf::action_name(obj.action)) + " without a guid");
  }
  return Status::ok();
}

std::vector<caf::ApplyResult> CacheStore::fail_all(size_t n, const Status& status) {
  std::vector<caf::ApplyResult> results(n);
  for (auto& r : results) r.status = status;
  return results;
}

Result<std::optional<int64_t>> CacheStore::since_revision(const Anchor& since) {
  if (since.empty()) return std::optional<int64_t>();
  std::optional<int64_t> revision = anchor_revision(since);
  if (!revision) {
    return Status::invalid_argument("cache changes_since: '" + since.str() + "' is not an anchor of the cache");
  }
  return revision;
}

caf::ObservedChange CacheStore::observed(const caf::SyncObj& change, const std::string& cuid,
                                         const std::string& content_type, const std::optional<CacheItem>& before) {
  caf::ObservedChange observed;
  observed.now.action = change.action;
  observed.now.guid = Guid(cuid);
  if (change.action != caf::Action::kDelete) {
    observed.now.content_type = content_type;
    observed.now.raw = change.raw;
  }
  if (before && !before->deleted) {
    caf::SyncObj replaced;
    replaced.guid = Guid(cuid);
    replaced.content_type = before->content_type;
    replaced.raw = before->raw;
    observed.before = std::move(replaced);
  }
  return observed;
}

}  // namespace conflux::cache
