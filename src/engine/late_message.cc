#include "engine/late_message.h"

#include <algorithm>
#include <map>

#include "common/log.h"

namespace conflux::engine {
namespace {

using protocol::Command;
using protocol::CommandKind;
using protocol::StatusCode;

// "contacts", "./contacts" or a URL ending in it -> "contacts".
std::string store_name(std::string uri) {
  if (auto q = uri.find('?'); q != std::string::npos) uri.resize(q);
  while (!uri.empty() && uri.back() == '/') uri.pop_back();
  if (auto slash = uri.rfind('/'); slash != std::string::npos) uri = uri.substr(slash + 1);
  return uri;
}

class LateAnswer {
 public:
  LateAnswer(SyncStateStore& state, SessionState& session, const protocol::Message& in)
      : state_(state), session_(session), in_(in) {}

  Result<protocol::Message> run() {
    reply_.version = session_.version;
    reply_.hdr.ver_dtd = protocol::ver_dtd(session_.version);
    reply_.hdr.ver_proto = protocol::ver_proto(session_.version);
    reply_.hdr.session_id = in_.hdr.session_id;
    reply_.hdr.msg_id = std::to_string(++session_.server_msg_id);
    reply_.hdr.target = in_.hdr.source;
    reply_.hdr.source.loc_uri = in_.hdr.target.loc_uri;
    reply_.final = true;  // the session has nothing more to send
    Command& hdr = add_status("0", "SyncHdr", StatusCode::kOk, true);
    hdr.target_refs = {in_.hdr.target.loc_uri};
    hdr.source_refs = {in_.hdr.source.loc_uri};
    for (const Command& cmd : in_.commands) {
      if (auto st = answer(cmd); !st.is_ok()) return st;
    }
    for (auto& [uri, entries] : map_upserts_) {
      CFX_RETURN_IF_ERROR(state_.upsert_map(DeviceStore{session_.user, session_.device, uri}, entries));
    }
    logger("engine")->info("session {} user {} device {}: message {} after the session's end answered",
                           session_.key.str(), session_.user.str(), session_.device.str(), in_.hdr.msg_id);
    return std::move(reply_);
  }

 private:
  Command& add_status(const std::string& cmd_ref, const char* name, StatusCode code, bool wanted) {
    Command status;
    status.kind = CommandKind::kStatus;
    status.cmd_id = ++cmd_id_;
    status.msg_ref = in_.hdr.msg_id;
    status.cmd_ref = cmd_ref;
    status.cmd_name = name;
    status.code = protocol::to_int(code);
    // NoResp (on the header or the command) silences all but the header's.
    if (!wanted || (in_.hdr.no_resp && cmd_ref != "0")) {
      --cmd_id_;
      discarded_ = std::move(status);
      return discarded_;
    }
    reply_.commands.push_back(std::move(status));
    return reply_.commands.back();
  }

  Command& add_status(const Command& cmd, StatusCode code) {
    return add_status(std::to_string(cmd.cmd_id), protocol::command_name(cmd.kind), code, !cmd.no_resp);
  }

  Status answer(const Command& cmd) {
    switch (cmd.kind) {
      case CommandKind::kStatus: return Status::ok();  // statuses are not answered (RepPro §"Status")
      case CommandKind::kMap: return answer_map(cmd);
      case CommandKind::kAlert:
        // 222 asks for the rest of our package: there is none, and saying so
        // is a success. Any other alert would start a sync in a session that
        // is over: the client starts a new session for that.
        add_status(cmd, cmd.code == protocol::to_int(protocol::AlertCode::kNextMessage)
                            ? StatusCode::kOk
                            : StatusCode::kCommandNotAllowed);
        return Status::ok();
      default:
        // Changes and requests in an ended session are not run; the
        // client sends them again in its next session.
        add_status(cmd, StatusCode::kCommandNotAllowed);
        return Status::ok();
    }
  }

  Status answer_map(const Command& map) {
    const std::string target = map.target ? map.target->loc_uri : "";
    DatastoreState* ds = session_.find_by_server_uri(store_name(target));
    Command& status = add_status(map, StatusCode::kOk);
    if (map.target) status.target_refs = {map.target->loc_uri};
    if (map.source) status.source_refs = {map.source->loc_uri};
    if (!ds) {
      status.code = protocol::to_int(StatusCode::kNotFound);
      return Status::ok();
    }
    const DeviceStore where{session_.user, session_.device, ds->server_uri};
    auto mapped = state_.map_entries(where);
    if (!mapped) return mapped.error();
    bool incomplete = false;
    std::vector<protocol::MapItem> unknown;
    for (const auto& item : map.map_items) {
      if (item.source.empty() || item.target.empty()) {
        incomplete = true;  // RepPro §"MapItem": both ids; the rest of the Map stands
        continue;
      }
      if (auto it = ds->awaiting_map.find(item.target); it != ds->awaiting_map.end()) {
        map_upserts_[ds->server_uri].push_back(MapEntry{Luid(item.source), Guid(item.target), it->second});
        ds->awaiting_map.erase(it);
        continue;
      }
      if (!map_item_known(*mapped, item)) unknown.push_back(item);
    }
    if (incomplete) status.code = protocol::to_int(StatusCode::kIncompleteCommand);
    for (const auto& item : unknown) {
      log_unknown_map_item(session_, ds->server_uri, item);
      Command& refused = add_status(map, StatusCode::kNotFound);
      refused.target_refs = {item.target};
      refused.source_refs = {item.source};
    }
    return Status::ok();
  }

  SyncStateStore& state_;
  SessionState& session_;
  const protocol::Message& in_;
  protocol::Message reply_;
  uint32_t cmd_id_ = 0;
  Command discarded_;  // a status the client asked not to get
  std::map<std::string, std::vector<MapEntry>> map_upserts_;
};

}  // namespace

bool map_item_known(const std::vector<MapEntry>& mapped, const protocol::MapItem& item) {
  return std::any_of(mapped.begin(), mapped.end(),
                     [&](const MapEntry& e) { return e.guid.str() == item.target && e.luid.str() == item.source; });
}

void log_unknown_map_item(const SessionState& session, const std::string& datastore, const protocol::MapItem& item) {
  logger("engine")->warn(
      "session {} user {} device {} datastore {}: Map names server id {} (client id {}), which was never sent to "
      "this device; refused",
      session.key.str(), session.user.str(), session.device.str(), datastore, item.target, item.source);
}

Result<protocol::Message> answer_late_message(SyncStateStore& state, SessionState& session,
                                              const protocol::Message& in) {
  return LateAnswer(state, session, in).run();
}

}  // namespace conflux::engine
