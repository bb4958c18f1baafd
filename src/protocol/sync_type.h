// Sync types (SyncProt §"Sync types", SYNCML-REFERENCE §4): what one
// datastore's sync does. The Alert codes that ask for them are mapped here
// and nowhere else: 200–205 from the client, 206–210 when the device answers
// a server alert (package 0; there is no server-alerted slow sync).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "protocol/status_code.h"

namespace conflux::protocol {

// Each value is the Alert code a client asks for the type with, which is
// also the number a sync report keeps.
enum class SyncType : uint16_t {
  kTwoWay = 200,
  kSlow = 201,
  kOneWayFromClient = 202,
  kRefreshFromClient = 203,
  kOneWayFromServer = 204,
  kRefreshFromServer = 205,
};

inline int to_int(SyncType type) { return static_cast<int>(type); }

// The sync type an Alert's code asks for: 200–205 and 206–210 (server
// alerted, run as 200 and 202–205); nullopt for any other code.
std::optional<SyncType> sync_type_of_alert(int code);
// The Alert code our own Alert announces a sync of `type` with (200–205).
AlertCode client_alert_code(SyncType type);
// The server-alerted code (206–210) a SAN asks for `type` with; nullopt for
// kSlow, which cannot be server-alerted.
std::optional<AlertCode> server_alert_code(SyncType type);

// "two-way", "slow", "one-way-from-client", "refresh-from-client",
// "one-way-from-server", "refresh-from-server" (the CLI's spelling).
const char* sync_type_name(SyncType type);
std::optional<SyncType> parse_sync_type(std::string_view name);

}  // namespace conflux::protocol
