#include "engine/store_identity.h"

#include "common/log.h"
#include "engine/message_run.h"

namespace conflux::engine {
namespace {

bool names_a_secret(const std::string& key) {
  for (const char* word : {"password", "secret", "token"}) {
    if (key.find(word) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

std::string store_identity(const caf::StoreSettings& settings) {
  std::string identity = settings.adapter;
  for (const auto& [key, value] : settings.options) {  // std::map: in key order
    if (names_a_secret(key)) continue;
    identity += " " + key + "=" + caf::option_text(value);
  }
  return identity;
}

std::string store_identity_of(const std::vector<caf::StoreSettings>& stores, const std::string& database) {
  for (const auto& s : stores) {
    if (s.name == database) return store_identity(s);
  }
  return "";
}

bool store_moved(const std::optional<SyncAnchors>& stored, const std::string& current) {
  return stored && !stored->store_identity.empty() && stored->store_identity != current;
}

}  // namespace conflux::engine

namespace conflux::engine {

Result<bool> SyncEngine::MessageRun::forget_map_of_moved_store(const DeviceStore& key,
                                                               const std::optional<SyncAnchors>& stored) {
  const std::string current = store_identity_of(engine_.stores_, key.database);
  if (!store_moved(stored, current)) return false;
  logger("engine")->warn(
      "session {} user {} device {} datastore {}: back end changed from '{}' to '{}'; the device's map is "
      "forgotten and it slow-syncs (items are matched, nothing is deleted)",
      session_.key.str(), key.user.str(), key.device.str(), key.database, stored->store_identity, current);
  CFX_RETURN_IF_ERROR(engine_.state_.clear_map(key));
  return true;
}

}  // namespace conflux::engine
