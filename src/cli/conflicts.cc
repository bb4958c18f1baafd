#include "cli/conflicts.h"

#include <ctime>
#include <iostream>

namespace conflux::app {
namespace {

std::string when(int64_t unix_seconds) {
  std::time_t t = unix_seconds;
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", std::gmtime(&t));
  return buf;
}

int fail(const std::string& message) {
  std::cerr << "conflux: " << message << "\n";
  return 1;
}

}  // namespace

int conflicts_list(Services& s, const std::string& user, bool include_resolved) {
  auto records = s.state->conflicts(UserId(user), include_resolved);
  if (!records) return fail(records.error().message());
  for (const auto& r : *records) {
    std::cout << r.id << "\t" << when(r.created_at) << "\t" << r.where.user.str() << "\t" << r.where.database
              << "\t" << r.where.device.str() << "\t" << r.policy << (r.resolved ? "\tresolved" : "\topen") << "\t"
              << r.outcome << "\n";
  }
  return 0;
}

int conflicts_show(Services& s, int64_t id) {
  auto record = s.state->conflict(id);
  if (!record) return fail(record.error().message());
  if (!record->has_value()) return fail("no conflict " + std::to_string(id));
  const auto& r = **record;
  std::cout << "conflict " << r.id << " (" << (r.resolved ? "resolved" : "open") << ")\n"
            << "when:      " << when(r.created_at) << " UTC\n"
            << "user:      " << r.where.user.str() << "\n"
            << "datastore: " << r.where.database << "\n"
            << "device:    " << r.where.device.str() << " (item " << r.luid.str() << ")\n"
            << "item:      " << r.guid.str() << "\n"
            << "policy:    " << r.policy << "\n"
            << "outcome:   " << r.outcome << "\n"
            << "--- server version (" << (r.server_data.empty() ? "deleted" : r.server_type) << ")\n"
            << r.server_data << (r.server_data.empty() || r.server_data.back() == '\n' ? "" : "\n")
            << "--- device version (" << (r.client_data.empty() ? "deleted" : r.client_type) << ")\n"
            << r.client_data << (r.client_data.empty() || r.client_data.back() == '\n' ? "" : "\n");
  return 0;
}

int conflicts_resolve(Services& s, int64_t id, Keep keep) {
  auto record = s.state->conflict(id);
  if (!record) return fail(record.error().message());
  if (!record->has_value()) return fail("no conflict " + std::to_string(id));
  const auto& r = **record;
  const std::string& data = keep == Keep::kServer ? r.server_data : r.client_data;
  const std::string& type = keep == Keep::kServer ? r.server_type : r.client_type;

  // An administrator acts for the user: the CAF still scopes every call to them.
  caf::StoreRef ref{r.where.user, r.where.database, s.tokens->issue(r.where.user, caf::TokenKind::kReadWrite),
                    std::nullopt, "conflux conflicts resolve", "conflict-" + std::to_string(id)};
  caf::Query one;
  one.guids = {r.guid};
  one.metadata_only = true;
  auto current = s.content->search(ref, one);
  if (!current) return fail(current.error().message());
  const bool exists = !current->empty();

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
  auto results = s.content->apply(ref, std::move(batch));
  if (results.empty() || !results.front().status.is_ok()) {
    return fail("writing the kept version failed: " + (results.empty() ? std::string("no result")
                                                                       : results.front().status.message()));
  }
  if (auto st = s.state->mark_conflict_resolved(id); !st.is_ok()) return fail(st.message());
  std::cout << "conflict " << id << " resolved: " << (keep == Keep::kServer ? "server" : "device")
            << " version kept; devices receive it at their next sync\n";
  return 0;
}

}  // namespace conflux::app
