#include "tests/engine/sync_client.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "common/base64.h"
#include "protocol/status_code.h"

namespace conflux::test {

using protocol::Command;
using protocol::CommandKind;
using protocol::Item;
using protocol::LocRef;
using protocol::Message;
using protocol::Meta;

protocol::Cred basic_cred(const std::string& user, const std::string& password) {
  protocol::Cred cred;
  cred.meta.type = "syncml:auth-basic";
  cred.meta.format = "b64";
  cred.data = base64_encode(user + ":" + password);
  return cred;
}

Command alert(int code, const std::string& db, std::optional<std::string> last, const std::string& next) {
  Command c;
  c.kind = CommandKind::kAlert;
  c.code = code;
  Item item;
  item.target = LocRef{db, {}};
  item.source = LocRef{"./" + db, {}};
  item.meta = Meta{};
  item.meta->anchor = protocol::MetAnchor{std::move(last), next};
  item.meta->max_obj_size = 4'000'000;
  c.items.push_back(std::move(item));
  return c;
}

Command alert_next_message(const std::string& db) {
  Command c;
  c.kind = CommandKind::kAlert;
  c.code = protocol::to_int(protocol::AlertCode::kNextMessage);
  Item item;
  item.target = LocRef{db, {}};
  item.source = LocRef{"./" + db, {}};
  c.items.push_back(std::move(item));
  return c;
}

Command change(CommandKind kind, const std::string& luid, const std::string& data, const std::string& type) {
  Command c;
  c.kind = kind;
  Item item;
  item.source = LocRef{luid, {}};
  if (kind != CommandKind::kDelete) {
    c.meta = Meta{};
    c.meta->type = type;
    item.data_kind = protocol::DataKind::kText;
    item.data = data;
  }
  c.items.push_back(std::move(item));
  return c;
}

Command sync_cmd(const std::string& db, std::vector<Command> children) {
  Command c;
  c.kind = CommandKind::kSync;
  c.target = LocRef{db, {}};
  c.source = LocRef{"./" + db, {}};
  c.children = std::move(children);
  return c;
}

Command map_cmd(const std::string& db, const std::vector<std::pair<std::string, std::string>>& guid_luid) {
  Command c;
  c.kind = CommandKind::kMap;
  c.target = LocRef{db, {}};
  c.source = LocRef{"./" + db, {}};
  for (const auto& [guid, luid] : guid_luid) c.map_items.push_back(protocol::MapItem{guid, luid});
  return c;
}

Command status_cmd(const std::string& msg_ref, uint32_t cmd_ref, const char* cmd_name, int code) {
  Command c;
  c.kind = CommandKind::kStatus;
  c.msg_ref = msg_ref;
  c.cmd_ref = std::to_string(cmd_ref);
  c.cmd_name = cmd_name;
  c.code = code;
  return c;
}

std::string vcard(const std::string& name) {
  return "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:" + name + "\r\nN:" + name + ";;;;\r\nEND:VCARD\r\n";
}

const Command* find_status(const Message& m, const std::string& cmd_name, uint32_t cmd_ref) {
  for (const auto& c : m.commands) {
    if (c.kind == CommandKind::kStatus && c.cmd_name == cmd_name &&
        (cmd_ref == 0 || c.cmd_ref == std::to_string(cmd_ref))) {
      return &c;
    }
  }
  return nullptr;
}

std::vector<const Command*> find_statuses(const Message& m, const std::string& cmd_name) {
  std::vector<const Command*> out;
  for (const auto& c : m.commands) {
    if (c.kind == CommandKind::kStatus && c.cmd_name == cmd_name) out.push_back(&c);
  }
  return out;
}

const Command* find_command(const Message& m, CommandKind kind) {
  for (const auto& c : m.commands) {
    if (c.kind == kind) return &c;
  }
  return nullptr;
}

int hdr_status_code(const Message& m) {
  if (m.commands.empty()) return -1;
  const Command& first = m.commands[0];
  if (first.kind != CommandKind::kStatus || first.cmd_ref != "0" || first.cmd_name != "SyncHdr") return -1;
  return first.code;
}

std::vector<Message> SyncRun::pkg4() const {
  if (replies.size() < 2) return {};
  const size_t end = completed ? replies.size() - 1 : replies.size();
  return std::vector<Message>(replies.begin() + 1, replies.begin() + static_cast<std::ptrdiff_t>(end));
}

std::vector<const Command*> SyncRun::received_of(CommandKind kind) const {
  std::vector<const Command*> out;
  for (const auto& c : received) {
    if (c.kind == kind) out.push_back(&c);
  }
  return out;
}

Device::Device(engine::SyncEngine& engine, std::string id, std::string db, std::string user, std::string password)
    : engine_(engine), id_(std::move(id)), db_(std::move(db)), user_(std::move(user)), password_(std::move(password)) {}

void Device::start_session() {
  ++session_seq_;
  msg_id_ = 0;
  key_ = SessionKey();
}

void Device::number(std::vector<Command>& commands) {
  for (auto& c : commands) {
    c.cmd_id = ++cmd_id_;
    number(c.children);
  }
}

Result<engine::Outbound> Device::send(std::vector<Command> commands, bool final, bool with_cred) {
  Message m;
  m.version = protocol::SyncMLVersion::k12;
  m.hdr.ver_dtd = "1.2";
  m.hdr.ver_proto = "SyncML/1.2";
  m.hdr.session_id = std::to_string(session_seq_);
  m.hdr.msg_id = std::to_string(++msg_id_);
  m.hdr.target = LocRef{kServerUrl, {}};
  m.hdr.source = LocRef{id_, user_};
  if (with_cred) m.hdr.cred = cred ? *cred : basic_cred(user_, password_);
  if (max_msg_size) {
    m.hdr.meta = Meta{};
    m.hdr.meta->max_msg_size = *max_msg_size;
  }
  cmd_id_ = 0;
  number(commands);
  m.commands = std::move(commands);
  m.final = final;

  engine::Inbound where;
  where.session = key_;
  where.base_url = kServerUrl;
  where.remote_address = "192.0.2.1";  // documentation range: never contacted
  auto out = engine_.handle(m, where);
  if (out) {
    const std::string prefix = std::string(kServerUrl) + "?sid=";
    const std::string& resp = out->reply.hdr.resp_uri;
    key_ = resp.rfind(prefix, 0) == 0 ? SessionKey(resp.substr(prefix.size())) : SessionKey();
  }
  return out;
}

std::string Device::add(const std::string& data) {
  std::string luid = "L" + std::to_string(++luid_seq_);
  items_[luid] = data;
  new_.insert(luid);
  return luid;
}

void Device::edit(const std::string& luid, const std::string& data) {
  items_[luid] = data;
  if (!new_.count(luid)) modified_.insert(luid);
}

void Device::remove(const std::string& luid) {
  items_.erase(luid);
  if (new_.erase(luid)) return;
  modified_.erase(luid);
  deleted_.insert(luid);
}

void Device::restore_with_new_luids() {
  std::map<std::string, std::string> old;
  old.swap(items_);
  new_.clear();
  modified_.clear();
  deleted_.clear();
  for (const auto& [_, data] : old) add(data);
  last_anchor.clear();
}

std::string Device::luid_of(const std::string& data) const {
  for (const auto& [luid, d] : items_) {
    if (d == data) return luid;
  }
  return "";
}

Command Device::take(const Message& from, const Command& cmd, std::vector<std::pair<std::string, std::string>>& maps) {
  const Item* item = cmd.items.empty() ? nullptr : &cmd.items[0];
  int code = answer ? answer(cmd) : (cmd.kind == CommandKind::kAdd ? 201 : 200);
  Command st = status_cmd(from.hdr.msg_id, cmd.cmd_id, protocol::command_name(cmd.kind), code);
  if (!item) return st;
  const bool ok = code >= 200 && code < 300;
  switch (cmd.kind) {
    case CommandKind::kAdd:
      if (item->source) st.source_refs.push_back(item->source->loc_uri);
      if (ok && item->source) {
        auto known =
            std::find_if(maps.begin(), maps.end(), [&](const auto& m) { return m.first == item->source->loc_uri; });
        if (known != maps.end()) {
          items_[known->second] = item->data;
          break;
        }
        std::string luid = "L" + std::to_string(++luid_seq_);
        items_[luid] = item->data;
        maps.emplace_back(item->source->loc_uri, luid);
      }
      break;
    case CommandKind::kReplace:
      if (item->target) st.target_refs.push_back(item->target->loc_uri);
      if (ok && item->target) items_[item->target->loc_uri] = item->data;
      break;
    case CommandKind::kDelete:
      if (item->target) st.target_refs.push_back(item->target->loc_uri);
      if (ok && item->target) items_.erase(item->target->loc_uri);
      break;
    default: break;
  }
  return st;
}

SyncRun Device::sync(int alert_code, Stop stop) {
  SyncRun run;
  start_session();
  last_next = std::to_string(++anchor_seq_) + "-" + id_;
  const bool resuming = alert_code == protocol::to_int(protocol::AlertCode::kResume);
  const std::optional<std::string> last = last_anchor.empty() ? std::nullopt : std::optional(last_anchor);

  // pkg 1
  auto r = send({alert(alert_code, db_, last, last_next)}, /*final=*/true, /*with_cred=*/true);
  if (!r) {
    ADD_FAILURE() << "pkg 1: " << r.error().to_string();
    return run;
  }
  run.replies.push_back(r->reply);
  const Message pkg2 = r->reply;
  if (hdr_status_code(pkg2) != 212) return run;
  if (const Command* st = find_status(pkg2, "Alert")) run.alert_status = st->code;
  const Command* server_alert = find_command(pkg2, CommandKind::kAlert);
  if (!server_alert) return run;
  run.server_alert = server_alert->code;

  // pkg 3: all items in a slow sync, else the marked changes.
  std::vector<Command> changes;
  std::set<std::string> sent;
  if (run.server_alert == 201 || run.server_alert == 203) {
    for (const auto& [luid, data] : items_) changes.push_back(change(CommandKind::kAdd, luid, data));
    for (const auto& [luid, _] : items_) sent.insert(luid);
  } else if (run.server_alert == 200 || run.server_alert == 202 || (resuming && run.alert_status == 200)) {
    for (const auto& luid : new_) changes.push_back(change(CommandKind::kAdd, luid, items_.at(luid)));
    for (const auto& luid : modified_) changes.push_back(change(CommandKind::kReplace, luid, items_.at(luid)));
    for (const auto& luid : deleted_) changes.push_back(change(CommandKind::kDelete, luid));
    sent.insert(new_.begin(), new_.end());
    sent.insert(modified_.begin(), modified_.end());
    sent.insert(deleted_.begin(), deleted_.end());
  }
  std::vector<Command> pkg3;
  pkg3.push_back(status_cmd(pkg2.hdr.msg_id, 0, "SyncHdr", 200));
  pkg3.push_back(status_cmd(pkg2.hdr.msg_id, server_alert->cmd_id, "Alert", 200));
  for (const auto& c : pkg3_before_sync) pkg3.push_back(c);
  pkg3.push_back(sync_cmd(db_, std::move(changes)));
  r = send(std::move(pkg3), /*final=*/true);

  // pkg 4, maybe over several messages; each non-final one is answered with
  // our statuses and Alert 222.
  std::vector<std::pair<std::string, std::string>> maps;
  if (resuming && run.alert_status == 200) maps = std::move(pending_maps_);
  pending_maps_.clear();
  std::vector<Command> answers;
  // Marks what the server acknowledged as done; refused changes stay marked.
  auto settle = [&]() {
    for (const auto& luid : sent) {
      auto it = run.item_status.find(luid);
      if (it == run.item_status.end() || it->second < 200 || it->second >= 300) continue;
      new_.erase(luid);
      modified_.erase(luid);
      deleted_.erase(luid);
    }
  };
  int pkg4_messages = 0;
  for (;;) {
    if (!r) {
      ADD_FAILURE() << "pkg 4: " << r.error().to_string();
      return run;
    }
    run.replies.push_back(r->reply);
    const Message m = r->reply;
    answers.clear();
    answers.push_back(status_cmd(m.hdr.msg_id, 0, "SyncHdr", 200));
    for (const auto& c : m.commands) {
      if (c.kind == CommandKind::kStatus &&
          (c.cmd_name == "Add" || c.cmd_name == "Replace" || c.cmd_name == "Delete")) {
        for (const auto& ref : c.source_refs) run.item_status[ref] = c.code;
      }
      if (c.kind != CommandKind::kSync) continue;
      answers.push_back(status_cmd(m.hdr.msg_id, c.cmd_id, "Sync", 200));
      for (const auto& child : c.children) {
        run.received.push_back(child);
        answers.push_back(take(m, child, maps));
      }
    }
    if (m.final || r->session_ended) break;
    ++pkg4_messages;
    if (stop == Stop::kVanishInPkg4 && pkg4_messages == 2) {
      pending_maps_ = std::move(maps);
      settle();
      return run;
    }
    if (stop == Stop::kSuspendInPkg4) {
      Command suspend;
      suspend.kind = CommandKind::kAlert;
      suspend.code = protocol::to_int(protocol::AlertCode::kSuspend);
      answers.push_back(std::move(suspend));
      r = send(answers, /*final=*/true);
      if (r) {
        run.replies.push_back(r->reply);
        const Command* st = find_status(r->reply, "Alert");
        run.suspended = st && st->code == 200 && r->session_ended;
      }
      pending_maps_ = std::move(maps);
      settle();
      return run;
    }
    answers.push_back(alert_next_message(db_));
    r = send(answers, /*final=*/false);
  }
  if (stop == Stop::kBeforePkg5) return run;

  // pkg 5: statuses and Map.
  if (!maps.empty()) answers.push_back(map_cmd(db_, maps));
  r = send(answers, /*final=*/true);
  if (!r) {
    ADD_FAILURE() << "pkg 5: " << r.error().to_string();
    return run;
  }
  run.replies.push_back(r->reply);
  run.completed = r->session_ended && r->reply.final && hdr_status_code(r->reply) == 200;
  if (run.completed) {
    last_anchor = last_next;
    settle();
  }
  return run;
}

}  // namespace conflux::test
