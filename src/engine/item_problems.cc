// Poison items (MISSION §3, issue #4 item 7): an item that fails every time
// fails alone with its status and is reported; it never blocks the rest of
// the sync or loops. A device's change that cannot be applied is answered
// with its own error Status while the rest of its Sync goes through; a server
// item a device keeps refusing stops being sent to it.
#include <unordered_map>

#include "common/log.h"
#include "engine/message_run.h"

namespace conflux::engine {

namespace {

// Consecutive refusals of one revision after which a server item is no
// longer sent to that device. Three lets a passing fault on the device (full,
// busy, a crash mid-write) clear up over the next syncs, yet keeps a broken
// item from being sent, and failing, at every sync forever.
constexpr int kPoisonAfterRejections = 3;

bool is_success(int code) { return code >= 200 && code < 300; }

}  // namespace

void SyncEngine::MessageRun::report_client_failure(DatastoreState& ds, const Luid& luid, protocol::StatusCode code,
                                                   const std::string& why) {
  ds.problems.push_back(ItemProblem{ItemProblem::Direction::kFromDevice, luid.str(), protocol::to_int(code), why});
  logger("engine")->warn("session {} user {} datastore {}: item {} from the device failed with {}: {}",
                         session_.key.str(), session_.user.str(), ds.server_uri, luid.str(), protocol::to_int(code),
                         why);
}

Status SyncEngine::MessageRun::track_device_answer(DatastoreState& ds, const SentItem& sent, int code) {
  if (sent.kind != protocol::CommandKind::kAdd && sent.kind != protocol::CommandKind::kReplace) return Status::ok();
  const DeviceStore key{session_.user, session_.device, ds.server_uri};
  if (is_success(code)) {
    if (ds.rejected_guids.erase(sent.guid.str())) return engine_.state_.clear_rejections(key, {sent.guid});
    return Status::ok();
  }
  // 404/410 to a Replace: the device lost its copy and gets it anew as an
  // Add (on_item_status); that is no refusal of the item.
  if (code == 404 || code == 410) return Status::ok();
  CFX_RETURN_IF_ERROR(engine_.state_.record_rejection(key, sent.guid, sent.anchor, code));
  ds.rejected_guids.insert(sent.guid.str());
  ds.problems.push_back(ItemProblem{
      ItemProblem::Direction::kToDevice, sent.guid.str(), code,
      std::string("refused by the device (") + protocol::command_name(sent.kind) + "); sent again next sync"});
  return Status::ok();
}

Result<std::set<std::string>> SyncEngine::MessageRun::poison_items(DatastoreState& ds,
                                                                   const std::vector<caf::SyncObj>& live) {
  const DeviceStore key{session_.user, session_.device, ds.server_uri};
  auto records = engine_.state_.rejections(key);
  if (!records) return records.error();
  std::set<std::string> poison;
  if (records->empty()) return poison;
  std::unordered_map<std::string, const caf::SyncObj*> by_guid;
  for (const auto& obj : live) by_guid.emplace(obj.guid.str(), &obj);
  std::vector<Guid> gone;
  for (const auto& r : *records) {
    auto it = by_guid.find(r.guid.str());
    if (it == by_guid.end()) {
      gone.push_back(r.guid);
      continue;
    }
    ds.rejected_guids.insert(r.guid.str());
    // A changed item gets a new chance: the record counts one revision only.
    if (r.count < kPoisonAfterRejections || it->second->anchor != r.revision) continue;
    poison.insert(r.guid.str());
    ds.problems.push_back(ItemProblem{
        ItemProblem::Direction::kToDevice, r.guid.str(), r.status,
        "poison: refused " + std::to_string(r.count) + " times in a row; not sent to this device until it changes"});
    logger("engine")->warn(
        "session {} user {} datastore {}: item {} not sent: the device refused it {} times "
        "(last status {})",
        session_.key.str(), session_.user.str(), ds.server_uri, r.guid.str(), r.count, r.status);
  }
  if (!gone.empty()) CFX_RETURN_IF_ERROR(engine_.state_.clear_rejections(key, gone));
  return poison;
}

}  // namespace conflux::engine
