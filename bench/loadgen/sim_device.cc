#include "sim_device.h"

#include <algorithm>
#include <map>

#include "common/base64.h"
#include "common/digest.h"
#include "protocol/devinf.h"
#include "protocol/status_code.h"

namespace conflux::loadgen {
namespace {

using protocol::Command;
using protocol::CommandKind;
using protocol::Message;
using Clock = std::chrono::steady_clock;

constexpr const char* kLocalStore = "./contacts";
constexpr const char* kAuthBasic = "syncml:auth-basic";
constexpr const char* kAuthMd5 = "syncml:auth-md5";
constexpr int kMaxAuthRounds = 2;  // a first MD5 try without a nonce, then the real one
constexpr int kMaxMessagesPerPackage = 100000;

// A check that failed. Thrown inside SessionRun and caught in run_session():
// it keeps each of the many checks to one line and never leaves this file.
struct SessionFailure {
  std::string what;
};

std::string devinf_xml(const DeviceConfig& config) {
  protocol::DevInf d;
  d.ver_dtd = "1.2";
  d.man = "Conflux";
  d.mod = "loadgen";
  d.sw_v = "1.0";
  d.dev_id = config.device_id;
  d.dev_typ = "workstation";
  d.utc = true;
  d.support_number_of_changes = true;
  protocol::DevInfDataStore ds;
  ds.source_ref = kLocalStore;
  ds.rx_pref = {"text/vcard", "3.0"};
  ds.rx = {{"text/x-vcard", "2.1"}};
  ds.tx_pref = {"text/vcard", "3.0"};
  ds.sync_types = {1, 2, 3, 4, 5, 6, 7};
  d.datastores.push_back(std::move(ds));
  return protocol::write_devinf_xml(d, protocol::SyncMLVersion::k12);
}

}  // namespace

// One session of one device: the state between its messages.
class SessionRun {
 public:
  SessionRun(SimDevice& device, const SessionPlan& plan, SessionOutcome& out)
      : device_(device), plan_(plan), out_(out), url_(device.config_.server_url) {}

  void run() {
    const auto& config = device_.config_;
    session_id_ = std::to_string(++device_.sessions_started_);
    next_anchor_ = std::to_string(device_.sessions_started_);

    // Package 1: device information (first session only) and the Alert.
    std::vector<Command> pkg1;
    if (!device_.devinf_sent_) pkg1.push_back(put_devinf());
    pkg1.push_back(sync_alert());
    Message reply = send_with_auth(pkg1);
    if (!reply.final) reply = continue_until_final(std::move(reply));
    if (!server_alert_seen_) fail("the server sent no Alert for the datastore");
    device_.devinf_sent_ = true;

    // Package 3: our changes, split to fit the smaller MaxMsgSize.
    std::vector<Command> changes = change_commands();
    out_.items_sent = changes.size();
    const uint64_t budget = message_budget();
    size_t next = 0;
    do {
      Command sync = sync_shell();
      uint64_t used = 1024;  // header, statuses and Sync around the items
      for (const auto& c : owed_) used += protocol::encoded_size(c, protocol::SyncMLVersion::k12, config.encoding);
      while (next < changes.size()) {
        const uint64_t size = protocol::encoded_size(changes[next], protocol::SyncMLVersion::k12, config.encoding);
        if (!sync.children.empty() && used + size > budget) break;
        used += size;
        sync.children.push_back(std::move(changes[next++]));
      }
      const bool last = next == changes.size();
      std::vector<Command> body;
      body.push_back(std::move(sync));
      reply = send(std::move(body), last);
      if (!last && reply.final) fail("the server ended its package while ours was incomplete");
    } while (next < changes.size());
    // The replies to our final message are package 4, maybe in several messages.
    if (!reply.final) reply = continue_until_final(std::move(reply));
    if (!server_sync_seen_) fail("the server sent no Sync in package 4");

    // Package 5: statuses for the server's changes and the Map of its adds.
    size_t mapped = 0;
    do {
      std::vector<Command> body;
      if (!maps_.empty()) {
        Command map;
        map.kind = CommandKind::kMap;
        map.target = protocol::LocRef{config.datastore, {}};
        map.source = protocol::LocRef{kLocalStore, {}};
        uint64_t used = 1024;  // header and Map around the items, as in package 3
        for (const auto& c : owed_) used += protocol::encoded_size(c, protocol::SyncMLVersion::k12, config.encoding);
        while (mapped < maps_.size() && (map.map_items.empty() || used < message_budget())) {
          used += 120 + maps_[mapped].target.size() + maps_[mapped].source.size();
          map.map_items.push_back(maps_[mapped++]);
        }
        body.push_back(std::move(map));
      }
      const bool last = mapped == maps_.size();
      reply = send(std::move(body), last);
    } while (mapped < maps_.size());
    if (!reply.final) reply = continue_until_final(std::move(reply));

    for (const auto& [key, what] : awaiting_) fail("no status for " + what.name + " (" + key + ")");
    if (plan_.expected_from_server && received_ != *plan_.expected_from_server) {
      fail("the server sent " + std::to_string(received_) + " items, expected " +
           std::to_string(*plan_.expected_from_server));
    }
    out_.items_received = received_;
    device_.last_anchor_ = next_anchor_;
  }

 private:
  // What a status from the server must say about one of our commands.
  struct Expectation {
    std::string name;  // "Add c17": the command and our LUID, for messages
    std::vector<int> codes;
  };

  [[noreturn]] void fail(const std::string& what) { throw SessionFailure{what}; }

  uint64_t message_budget() const {
    const uint64_t ours = device_.config_.max_msg_size;
    const uint64_t theirs = server_max_msg_size_ ? server_max_msg_size_ : ours;
    return std::min(ours, theirs) * 9 / 10;
  }

  Command put_devinf() const {
    Command put;
    put.kind = CommandKind::kPut;
    put.meta = protocol::Meta{};
    put.meta->type = device_.config_.encoding == protocol::Encoding::kWbxml ? "application/vnd.syncml-devinf+wbxml"
                                                                            : "application/vnd.syncml-devinf+xml";
    protocol::Item item;
    item.source = protocol::LocRef{"./devinf12", {}};
    item.data_kind = protocol::DataKind::kXml;
    item.data = devinf_xml(device_.config_);
    put.items.push_back(std::move(item));
    return put;
  }

  Command sync_alert() const {
    Command alert;
    alert.kind = CommandKind::kAlert;
    alert.code = plan_.alert;
    protocol::Item item;
    item.target = protocol::LocRef{device_.config_.datastore, {}};
    item.source = protocol::LocRef{kLocalStore, {}};
    item.meta = protocol::Meta{};
    item.meta->anchor = protocol::MetAnchor{device_.last_anchor_, next_anchor_};
    item.meta->max_obj_size = 4 * 1024 * 1024;
    alert.items.push_back(std::move(item));
    return alert;
  }

  Command sync_shell() const {
    Command sync;
    sync.kind = CommandKind::kSync;
    sync.target = protocol::LocRef{device_.config_.datastore, {}};
    sync.source = protocol::LocRef{kLocalStore, {}};
    sync.number_of_changes = static_cast<uint32_t>(plan_.adds.size() + plan_.replaces.size() + plan_.deletes.size());
    return sync;
  }

  std::vector<Command> change_commands() const {
    std::vector<Command> out;
    auto item_command = [](CommandKind kind, const std::string& luid, const std::string* card) {
      Command c;
      c.kind = kind;
      protocol::Item item;
      item.source = protocol::LocRef{luid, {}};
      if (card) {
        c.meta = protocol::Meta{};
        c.meta->type = "text/vcard";
        item.data_kind = protocol::DataKind::kText;
        item.data = *card;
      }
      c.items.push_back(std::move(item));
      return c;
    };
    for (const auto& [luid, card] : plan_.adds) out.push_back(item_command(CommandKind::kAdd, luid, &card));
    for (const auto& [luid, card] : plan_.replaces) out.push_back(item_command(CommandKind::kReplace, luid, &card));
    for (const auto& luid : plan_.deletes) out.push_back(item_command(CommandKind::kDelete, luid, nullptr));
    return out;
  }

  protocol::Cred credentials() const {
    const auto& config = device_.config_;
    protocol::Cred cred;
    cred.meta.format = "b64";
    if (config.auth == AuthScheme::kBasic) {
      cred.meta.type = kAuthBasic;
      cred.data = base64_encode(config.user + ":" + config.password);
    } else {
      // syncml:auth-md5 (SyncML DS Protocol 1.2 §"MD5 digest access"):
      // B64(MD5(B64(MD5(user:password)) ":" nonce)), the nonce as raw bytes.
      cred.meta.type = kAuthMd5;
      const std::string nonce = base64_decode(device_.nonce_).value_or("");
      cred.data = md5_base64(md5_base64(config.user + ":" + config.password) + ":" + nonce);
    }
    return cred;
  }

  // Package 1 with credentials; a 401/407 carrying a challenge (a nonce to
  // use, or another scheme) is answered by sending the package again.
  Message send_with_auth(const std::vector<Command>& pkg1) {
    for (int round = 0;; ++round) {
      with_credentials_ = true;
      Message reply = send(std::vector<Command>(pkg1), true);
      if (authenticated_) return reply;
      if (round + 1 >= kMaxAuthRounds || !challenged_) fail("authentication refused with " + std::to_string(hdr_code_));
      // The server ran nothing of the refused message: no statuses will come.
      awaiting_.clear();
      challenged_ = false;
    }
  }

  // Statuses we owe plus an Alert 222, until the server's package is complete.
  Message continue_until_final(Message reply) {
    for (int i = 0; i < kMaxMessagesPerPackage && !reply.final; ++i) {
      Command next;
      next.kind = CommandKind::kAlert;
      next.code = protocol::to_int(protocol::AlertCode::kNextMessage);
      protocol::Item item;
      item.target = protocol::LocRef{device_.config_.server_url, {}};
      item.source = protocol::LocRef{device_.config_.device_id, {}};
      next.items.push_back(std::move(item));
      std::vector<Command> body;
      body.push_back(std::move(next));
      reply = send(std::move(body), true);
    }
    if (!reply.final) fail("the server never ended its package");
    return reply;
  }

  // One message: our owed statuses first, then `commands`; the reply is
  // decoded and every part of it checked or answered.
  Message send(std::vector<Command> commands, bool final) {
    const auto& config = device_.config_;
    Message m;
    m.version = protocol::SyncMLVersion::k12;
    m.hdr.ver_dtd = "1.2";
    m.hdr.ver_proto = "SyncML/1.2";
    m.hdr.session_id = session_id_;
    m.hdr.msg_id = std::to_string(++msg_id_);
    m.hdr.target = protocol::LocRef{config.server_url, {}};
    m.hdr.source = protocol::LocRef{config.device_id, config.user};
    m.hdr.meta = protocol::Meta{};
    m.hdr.meta->max_msg_size = config.max_msg_size;
    if (with_credentials_) m.hdr.cred = credentials();
    with_credentials_ = false;
    uint32_t cmd_id = 0;
    for (auto& s : owed_) {
      s.cmd_id = ++cmd_id;
      m.commands.push_back(std::move(s));
    }
    owed_.clear();
    for (auto& c : commands) {
      c.cmd_id = ++cmd_id;
      expect(c);
      for (auto& child : c.children) {
        child.cmd_id = ++cmd_id;
        expect(child);
      }
      m.commands.push_back(std::move(c));
    }
    m.final = final;

    const std::string bytes = protocol::encode(m, config.encoding);
    const auto started = Clock::now();
    auto http = device_.transport_->post(url_, protocol::media_type(config.encoding), bytes);
    out_.message_latencies.push_back(Clock::now() - started);
    if (!http) fail(http.error().message());
    out_.bytes_sent += bytes.size();
    out_.bytes_received += http->body.size();
    if (http->status != 200) fail("HTTP " + std::to_string(http->status) + " for message " + m.hdr.msg_id);
    protocol::DecodeLimits limits;
    limits.max_bytes = 64 * 1024 * 1024;
    auto reply = protocol::decode(http->body, config.encoding, limits);
    if (!reply) fail("undecodable reply: " + reply.error().message());
    if (!reply->hdr.resp_uri.empty()) url_ = reply->hdr.resp_uri;
    read_reply(*reply);
    return std::move(*reply);
  }

  void expect(const Command& c) {
    // Alert 222 only asks for more; servers differ in whether they answer it.
    if (c.kind == CommandKind::kAlert && c.code == protocol::to_int(protocol::AlertCode::kNextMessage)) return;
    const std::string key = std::to_string(msg_id_) + ":" + std::to_string(c.cmd_id);
    const std::string luid = !c.items.empty() && c.items[0].source ? " " + c.items[0].source->loc_uri : "";
    Expectation e{std::string(protocol::command_name(c.kind)) + luid, {200}};
    switch (c.kind) {
      case CommandKind::kAlert:
        if (c.code == plan_.alert) e.codes = {plan_.expected_alert_status};
        break;
      case CommandKind::kAdd: e.codes = {201}; break;
      default: break;
    }
    awaiting_[key] = std::move(e);
  }

  void owe_status(const Message& reply, const Command& c, int code, const std::string& source_ref = {}) {
    if (c.no_resp) return;
    Command s;
    s.kind = CommandKind::kStatus;
    s.msg_ref = reply.hdr.msg_id;
    s.cmd_ref = std::to_string(c.cmd_id);
    s.cmd_name = protocol::command_name(c.kind);
    s.code = code;
    if (!source_ref.empty()) s.source_refs = {source_ref};
    owed_.push_back(std::move(s));
  }

  void read_reply(const Message& reply) {
    const auto& config = device_.config_;
    if (reply.hdr.meta && reply.hdr.meta->max_msg_size) server_max_msg_size_ = *reply.hdr.meta->max_msg_size;
    // Our SyncHdr is answered on every message (RepPro §"SyncHdr status").
    Command hdr_status;
    hdr_status.kind = CommandKind::kStatus;
    hdr_status.msg_ref = reply.hdr.msg_id;
    hdr_status.cmd_ref = "0";
    hdr_status.cmd_name = "SyncHdr";
    hdr_status.code = 200;
    hdr_status.target_refs = {reply.hdr.source.loc_uri};
    hdr_status.source_refs = {reply.hdr.target.loc_uri};
    owed_.push_back(std::move(hdr_status));

    bool hdr_answered = false;
    for (const auto& c : reply.commands) {
      if (c.kind != CommandKind::kStatus) continue;
      if (c.cmd_ref == "0") {
        hdr_answered = true;
        hdr_code_ = c.code;
        if (c.chal) {
          device_.nonce_ = c.chal->meta.next_nonce;
          challenged_ = true;
        }
        if (c.code == 200 || c.code == 212) {
          authenticated_ = true;  // 200: already logged in this session, or no login needed
        } else if ((c.code == 401 || c.code == 407) && !authenticated_) {
          // send_with_auth() answers the challenge.
        } else {
          fail("SyncHdr status " + std::to_string(c.code));
        }
        continue;
      }
      const std::string key = c.msg_ref + ":" + c.cmd_ref;
      auto it = awaiting_.find(key);
      if (it == awaiting_.end()) continue;  // e.g. the status of a status-less 222
      const auto& codes = it->second.codes;
      if (std::find(codes.begin(), codes.end(), c.code) == codes.end()) {
        fail(it->second.name + ": status " + std::to_string(c.code) + ", expected " + std::to_string(codes.front()));
      }
      awaiting_.erase(it);
    }
    if (!hdr_answered) fail("no status for our SyncHdr in message " + reply.hdr.msg_id);
    if (!authenticated_) return;

    for (const auto& c : reply.commands) {
      switch (c.kind) {
        case CommandKind::kStatus: break;
        case CommandKind::kAlert:
          if (c.code == protocol::to_int(protocol::AlertCode::kNextMessage)) {
            owe_status(reply, c, 200);
          } else {
            if (c.code != plan_.expected_server_alert) {
              fail("server Alert " + std::to_string(c.code) + ", expected " +
                   std::to_string(plan_.expected_server_alert));
            }
            server_alert_seen_ = true;
            owe_status(reply, c, 200);
          }
          break;
        case CommandKind::kSync:
          server_sync_seen_ = true;
          owe_status(reply, c, 200);
          for (const auto& change : c.children) read_server_change(reply, change);
          break;
        case CommandKind::kPut: owe_status(reply, c, 200); break;
        case CommandKind::kGet: {
          owe_status(reply, c, 200);
          Command results;
          results.kind = CommandKind::kResults;
          results.msg_ref = reply.hdr.msg_id;
          results.cmd_ref = std::to_string(c.cmd_id);
          results.meta = protocol::Meta{};
          results.meta->type = "application/vnd.syncml-devinf+xml";
          protocol::Item item;
          item.source = protocol::LocRef{"./devinf12", {}};
          item.data_kind = protocol::DataKind::kXml;
          item.data = devinf_xml(config);
          results.items.push_back(std::move(item));
          owed_.push_back(std::move(results));  // sent right after the statuses
          break;
        }
        case CommandKind::kResults: owe_status(reply, c, 200); break;
        default: fail(std::string("unexpected ") + protocol::command_name(c.kind) + " from the server");
      }
    }
  }

  void read_server_change(const Message& reply, const Command& change) {
    if (change.kind != CommandKind::kAdd && change.kind != CommandKind::kReplace &&
        change.kind != CommandKind::kDelete) {
      fail(std::string("unexpected ") + protocol::command_name(change.kind) + " inside the server's Sync");
    }
    for (const auto& item : change.items) {
      const std::string server_id = item.source   ? item.source->loc_uri
                                    : item.target ? item.target->loc_uri
                                                  : std::string();
      if (server_id.empty()) fail("a server change without an item id");
      if (item.more_data) fail("chunked items are not expected from the server");
      if (change.kind == CommandKind::kAdd) {
        maps_.push_back(protocol::MapItem{server_id, "srv-" + std::to_string(++received_luids_)});
      }
      ++received_;
      owe_status(reply, change, change.kind == CommandKind::kAdd ? 201 : 200, server_id);
    }
  }

  SimDevice& device_;
  const SessionPlan& plan_;
  SessionOutcome& out_;
  std::string url_;  // the server's RespURI once it gave one
  std::string session_id_;
  std::string next_anchor_;
  uint32_t msg_id_ = 0;
  uint64_t server_max_msg_size_ = 0;
  bool with_credentials_ = false;
  bool authenticated_ = false;
  bool challenged_ = false;
  int hdr_code_ = 0;
  bool server_alert_seen_ = false;
  bool server_sync_seen_ = false;
  std::vector<Command> owed_;                    // statuses (and Results) for the server's last message
  std::map<std::string, Expectation> awaiting_;  // "msgid:cmdid" of our commands
  std::vector<protocol::MapItem> maps_;
  size_t received_ = 0;
  size_t received_luids_ = 0;
};

SimDevice::SimDevice(DeviceConfig config)
    : config_(std::move(config)), transport_(std::make_unique<HttpClient>(config_.http_timeout)) {}

SimDevice::SimDevice(DeviceConfig config, std::unique_ptr<Transport> transport)
    : config_(std::move(config)), transport_(std::move(transport)) {}

SessionOutcome SimDevice::run_session(const SessionPlan& plan) {
  SessionOutcome out;
  const auto started = std::chrono::steady_clock::now();
  try {
    SessionRun(*this, plan, out).run();
    out.ok = true;
  } catch (const SessionFailure& f) {
    out.error = f.what;
  }
  out.duration = std::chrono::steady_clock::now() - started;
  return out;
}

}  // namespace conflux::loadgen
