// The state of one SyncML session between two messages. It is serialized into
// the SyncStateStore after every message, so the next message may be served
// by another process or node; nothing of a session lives only in memory.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/ids.h"
#include "engine/sync_state_store.h"
#include "protocol/codec.h"
#include "protocol/message.h"
#include "protocol/sync_type.h"

namespace conflux::engine {

// Where a session stands (SyncML packages, SyncProt §"Sync protocol").
enum class Phase : uint8_t {
  kInit,        // waiting for the client's pkg 1 (alerts) to end
  kClientSync,  // pkg 2 sent; receiving the client's Sync (pkg 3)
  kServerSync,  // sending our Sync (pkg 4), maybe over several messages
  kMapping,     // pkg 4 complete; receiving statuses and Map (pkg 5)
  kDone,
};

const char* phase_name(Phase phase);

// A change the server still has to send, by reference: the data is read from
// the CAF when the message is built, so the session blob stays small.
struct Outgoing {
  protocol::CommandKind kind = protocol::CommandKind::kAdd;  // Add, Replace or Delete
  Guid guid;
  Luid luid;  // client id for Replace/Delete; empty for Add
};

// An item we sent and whose Status we wait for ("msgid:cmdid" → these).
struct SentItem {
  protocol::CommandKind kind = protocol::CommandKind::kAdd;
  Guid guid;
  Luid luid;
  Anchor anchor;  // revision sent; becomes the map's `synced` once acknowledged
};

// One of our commands, as a Status names it: its MsgRef and CmdRef are the
// MsgID and CmdID we sent. Text, as the client echoes them.
struct CommandRef {
  std::string msg_id;
  std::string cmd_id;
  auto operator<=>(const CommandRef&) const = default;
  std::string str() const { return msg_id + ":" + cmd_id; }  // "2:5", its key in the saved session
  // nullopt for text str() did not write.
  static std::optional<CommandRef> parse(std::string_view text);
};

// A large object the client is sending in chunks (RepPro §"Large objects").
struct PartialItem {
  protocol::CommandKind kind = protocol::CommandKind::kAdd;
  std::string luid;
  std::string type;
  protocol::ItemFormat format = protocol::ItemFormat::kChr;
  uint64_t declared_size = 0;
  std::string data;  // the chunks so far
};

struct DatastoreState {
  std::string server_uri;                                      // our datastore name ("contacts")
  std::string client_uri;                                      // the client's ("./contacts")
  protocol::SyncType sync_type = protocol::SyncType::kTwoWay;  // agreed for this session
  std::string client_last;                                     // anchors the client sent in pkg 1
  std::string client_next;
  Anchor server_next;        // back-end anchor our pkg-2 Alert announced
  std::string content_type;  // the store's canonical type
  bool client_sync_seen = false;
  bool server_sync_sent = false;  // our Sync command for this package went out (maybe empty)
  // The one-time steps before pkg 4 (refresh: clear the map, delete what the
  // client did not send; slow: drop stale map rows) are done; a resumed sync
  // must not repeat them.
  bool prepared = false;
  bool resumed = false;                      // this sync continues a suspended one (Alert 225)
  std::set<std::string> slow_seen_luids;     // slow sync: LUIDs the client sent
  std::set<std::string> slow_claimed_guids;  // slow sync: server items already matched to one of them
  std::vector<Outgoing> outgoing;            // not yet sent
  uint64_t outgoing_offset = 0;              // bytes of outgoing.front() already sent in chunks
  std::optional<PartialItem> partial;        // a client item still arriving in chunks
  std::map<CommandRef, std::vector<SentItem>> awaiting_status;  // our commands a Status has yet to answer
  std::map<std::string, Anchor> awaiting_map;                   // GUID sent in an Add → revision sent
  // Resumed sync: Adds sent before the suspend without a Status back. They
  // are sent again unless a Map or the client's own items show that the
  // device has them; their revision stays in awaiting_map for that Map.
  std::set<std::string> unacknowledged_adds;
  // Counters for the session's log line.
  SyncCounts counts;
  // Items that failed this session, for its report.
  std::vector<ItemProblem> problems;
  // Server items this device had refused before this session (GUIDs): a
  // delivery clears their record.
  std::set<std::string> rejected_guids;
  // The device's deletes of this sync (LUID -> GUID), applied or held once
  // its changes are all in (engine/deletion_guard.h).
  std::map<std::string, std::string> deferred_deletes;

  bool is_slow() const { return sync_type == protocol::SyncType::kSlow; }
  // The client sends everything it has (slow sync, refresh from client):
  // its items are matched with the server's by content, not by change marks.
  bool sends_everything() const {
    return sync_type == protocol::SyncType::kSlow || sync_type == protocol::SyncType::kRefreshFromClient;
  }
  // The server sends changes in these sync types (two-way, slow, one-way from server, refresh from server).
  bool server_sends() const;
  // The client sends changes in these sync types.
  bool client_sends() const;
};

// One figure of a datastore's sync for /metrics: `n` items that went
// `direction` ("from_device", "to_device") with `outcome` ("added",
// "updated", "deleted", "failed"), or with an empty direction `n` conflicts.
struct ItemCount {
  const char* direction;
  const char* outcome;
  int n;
};
// What a datastore's sync has counted so far: from the device added,
// updated, deleted, failed; to the device the same four; conflicts. Each
// figure carries its name, so the order is written down here only.
using ItemTally = std::array<ItemCount, 9>;
ItemTally item_tally(const DatastoreState& ds);

struct SessionState {
  SessionKey key;
  DeviceId device;
  std::string client_session_id;
  protocol::SyncMLVersion version = protocol::SyncMLVersion::k12;
  Phase phase = Phase::kInit;
  uint32_t server_msg_id = 0;
  std::string last_client_msg_id;
  // Our answer to last_client_msg_id, encoded: a client that lost it resends
  // the same message and gets the same answer, and nothing runs twice.
  std::string last_reply;
  protocol::Encoding last_reply_encoding = protocol::Encoding::kXml;
  // The client MsgID of a message with changes whose run began but never
  // ended (saved before the run): its server died with part of its writes
  // done. When it comes again, its Adds are matched by content first.
  std::string running_msg_id;
  bool authenticated = false;
  int auth_failures = 0;
  UserId user;
  std::string token;                 // CAF session token (signed; never logged)
  uint64_t client_max_msg_size = 0;  // 0: the client named no limit
  // Statuses that did not fit into the last reply (RepPro: every response
  // within the client's MaxMsgSize); they lead the next one.
  std::vector<protocol::Command> pending_statuses;
  // The client's package ended (Final) while statuses were still pending:
  // the package step runs once they are out.
  bool package_end_pending = false;
  // The client suspended the session (Alert 224): it is kept, not deleted,
  // so that a later Alert 225 can resume its datastores.
  bool suspended = false;
  std::vector<DatastoreState> datastores;
  // Not saved: the tallies that datastores resumed in this message brought
  // from their earlier session, where /metrics was told of them already.
  std::map<std::string, ItemTally> resumed_tallies;

  DatastoreState* find_by_server_uri(const std::string& uri);
  DatastoreState* find_by_client_uri(const std::string& uri);
};

std::string serialize(const SessionState& state);
// false when `blob` is not a session this version can read.
bool deserialize(const std::string& blob, SessionState& state);

}  // namespace conflux::engine
