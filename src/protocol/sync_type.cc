#include "protocol/sync_type.h"

#include <array>
#include <utility>

namespace conflux::protocol {

namespace {

// (sync type, the server-alerted code that asks for it).
constexpr std::array<std::pair<SyncType, AlertCode>, 5> kServerAlerted = {{
    {SyncType::kTwoWay, AlertCode::kTwoWayByServer},
    {SyncType::kOneWayFromClient, AlertCode::kOneWayFromClientByServer},
    {SyncType::kRefreshFromClient, AlertCode::kRefreshFromClientByServer},
    {SyncType::kOneWayFromServer, AlertCode::kOneWayFromServerByServer},
    {SyncType::kRefreshFromServer, AlertCode::kRefreshFromServerByServer},
}};

constexpr std::array<SyncType, 6> kAll = {SyncType::kTwoWay,           SyncType::kSlow,
                                          SyncType::kOneWayFromClient, SyncType::kRefreshFromClient,
                                          SyncType::kOneWayFromServer, SyncType::kRefreshFromServer};

}  // namespace

std::optional<SyncType> sync_type_of_alert(int code) {
  for (SyncType type : kAll) {
    if (code == to_int(client_alert_code(type))) return type;
  }
  for (const auto& [type, alert] : kServerAlerted) {
    if (code == to_int(alert)) return type;
  }
  return std::nullopt;
}

AlertCode client_alert_code(SyncType type) { return static_cast<AlertCode>(to_int(type)); }

std::optional<AlertCode> server_alert_code(SyncType type) {
  for (const auto& [server_type, alert] : kServerAlerted) {
    if (server_type == type) return alert;
  }
  return std::nullopt;
}

const char* sync_type_name(SyncType type) {
  switch (type) {
    case SyncType::kTwoWay: return "two-way";
    case SyncType::kSlow: return "slow";
    case SyncType::kOneWayFromClient: return "one-way-from-client";
    case SyncType::kRefreshFromClient: return "refresh-from-client";
    case SyncType::kOneWayFromServer: return "one-way-from-server";
    case SyncType::kRefreshFromServer: return "refresh-from-server";
  }
  return "other";
}

std::optional<SyncType> parse_sync_type(std::string_view name) {
  for (SyncType type : kAll) {
    if (name == sync_type_name(type)) return type;
  }
  return std::nullopt;
}

}  // namespace conflux::protocol
