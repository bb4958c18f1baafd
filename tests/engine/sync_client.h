// Test-side SyncML client for engine tests: builders for the messages a
// device sends, readers for the server's answers, and a Device that keeps a
// little item store (LUID -> data), its anchors and its change marks, and
// can run a whole session (pkg 1 … pkg 6) against a SyncEngine.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "engine/sync_engine.h"
#include "protocol/message.h"

namespace conflux::test {

inline constexpr const char* kServerUrl = "https://sync.example.org/sync";

// --- builders (CmdIDs are assigned by Device::send)

protocol::Cred basic_cred(const std::string& user, const std::string& password);
// A sync Alert for datastore `db` (Target) from the client's "./<db>" (Source).
protocol::Command alert(int code, const std::string& db, std::optional<std::string> last, const std::string& next);
// Alert 222 "next message" for the datastore pair.
protocol::Command alert_next_message(const std::string& db);
// Add / Replace carry Source = LUID, Meta Type and data; Delete carries Source = LUID.
protocol::Command change(protocol::CommandKind kind, const std::string& luid, const std::string& data = "",
                         const std::string& type = "text/vcard");
protocol::Command sync_cmd(const std::string& db, std::vector<protocol::Command> children);
// MapItems as (server GUID, client LUID).
protocol::Command map_cmd(const std::string& db, const std::vector<std::pair<std::string, std::string>>& guid_luid);
protocol::Command status_cmd(const std::string& msg_ref, uint32_t cmd_ref, const char* cmd_name, int code);

std::string vcard(const std::string& name);

// --- readers

// The Status answering `cmd_name` (and `cmd_ref` when non-zero); nullptr when absent.
const protocol::Command* find_status(const protocol::Message& m, const std::string& cmd_name, uint32_t cmd_ref = 0);
std::vector<const protocol::Command*> find_statuses(const protocol::Message& m, const std::string& cmd_name);
const protocol::Command* find_command(const protocol::Message& m, protocol::CommandKind kind);
// Data of the first Status (the one for SyncHdr); -1 when the message does not start with it.
int hdr_status_code(const protocol::Message& m);

// --- a device

struct SyncRun {
  bool completed = false;                   // pkg 6 came, with Final, and the session ended
  int alert_status = 0;                     // the server's Status for our Alert
  int server_alert = 0;                     // the sync type of the server's Alert (0: none)
  std::vector<protocol::Message> replies;   // every server message, in order
  std::vector<protocol::Command> received;  // server Add/Replace/Delete, in order
  std::map<std::string, int> item_status;   // our LUID -> code the server answered
  bool suspended = false;                   // the server answered our Alert 224 with 200

  // The server messages of pkg 4 (between pkg 2 and pkg 6).
  std::vector<protocol::Message> pkg4() const;
  std::vector<const protocol::Command*> received_of(protocol::CommandKind kind) const;
};

class Device {
 public:
  Device(engine::SyncEngine& engine, std::string id, std::string db = "contacts", std::string user = "alice",
         std::string password = "secret");

  // --- transport
  // Starts a new session: new SessionID, MsgID restarts at 1, no session key.
  void start_session();
  // Sends one message of the current session (to its RespURI key) and takes
  // the key of the answer's RespURI. Fills the header: SessionID, MsgID,
  // Target, Source, Cred when `with_cred`, Meta MaxMsgSize when set.
  Result<engine::Outbound> send(std::vector<protocol::Command> commands, bool final, bool with_cred = false);
  const SessionKey& key() const { return key_; }
  // The next message takes the last one's MsgID again: a client resending.
  void repeat_msg_id() { --msg_id_; }
  void set_key(SessionKey key) { key_ = std::move(key); }
  const std::string& id() const { return id_; }

  // --- local store
  std::string add(const std::string& data);
  void edit(const std::string& luid, const std::string& data);  // an unknown LUID is marked as changed too
  void remove(const std::string& luid);                         // an unknown LUID is marked as deleted too
  // The device lost its database and restored the same data under new
  // LUIDs; it forgets its anchor, so its next sync must be slow.
  void restore_with_new_luids();
  const std::map<std::string, std::string>& items() const { return items_; }
  // The device's LUID for `data`, or "" when it has no such item.
  std::string luid_of(const std::string& data) const;

  // --- a whole session
  enum class Stop {
    kNever,
    kBeforePkg5,     // vanish after pkg 4 (aborted session)
    kSuspendInPkg4,  // after pkg 4's first message: our statuses with Alert 224, then stop
    kVanishInPkg4,   // after pkg 4's second message: vanish without answering it
  };
  // alert_code 225 resumes: Last stays the suspended sync's; when the server
  // accepts (200), what it acknowledged before is not sent again and Maps
  // still owed go in pkg 5.
  SyncRun sync(int alert_code = 200, Stop stop = Stop::kNever);

  // --- knobs
  std::optional<uint64_t> max_msg_size;                 // announced in every SyncHdr
  std::function<int(const protocol::Command&)> answer;  // code for a server change; default 201 Add, else 200
  std::string last_anchor;                              // our Last; empty: none (first sync)
  std::string last_next;                                // the Next of the last session begun
  std::optional<protocol::Cred> cred;                   // sent instead of basic credentials when set
  // Sent in pkg 3 ahead of the Sync, e.g. Results with the device's DevInf
  // (SyncEvolution answers the server's Get that way).
  std::vector<protocol::Command> pkg3_before_sync;

 private:
  void number(std::vector<protocol::Command>& commands);
  // Applies one server change locally; returns its Status and notes a Map
  // pair. An Add of a GUID with a Map pair already (sent again after a
  // resume) replaces that item instead of adding a second.
  protocol::Command take(const protocol::Message& from, const protocol::Command& cmd,
                         std::vector<std::pair<std::string, std::string>>& maps);

  engine::SyncEngine& engine_;
  const std::string id_;
  const std::string db_;
  const std::string user_;
  const std::string password_;

  int session_seq_ = 0;
  int msg_id_ = 0;
  uint32_t cmd_id_ = 0;
  SessionKey key_;
  int anchor_seq_ = 0;
  int luid_seq_ = 0;

  std::map<std::string, std::string> items_;
  std::set<std::string> new_, modified_, deleted_;                 // changes not yet acknowledged by the server
  std::vector<std::pair<std::string, std::string>> pending_maps_;  // (GUID, LUID) not yet sent in a Map
};

}  // namespace conflux::test
