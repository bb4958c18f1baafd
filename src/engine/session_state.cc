#include "engine/session_state.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <stdexcept>

#include "common/base64.h"

namespace conflux::engine {

using nlohmann::json;

const char* phase_name(Phase phase) {
  switch (phase) {
    case Phase::kInit: return "init";
    case Phase::kClientSync: return "client-sync";
    case Phase::kServerSync: return "server-sync";
    case Phase::kMapping: return "mapping";
    case Phase::kDone: return "done";
  }
  return "unknown";
}

std::optional<CommandRef> CommandRef::parse(std::string_view text) {
  const auto colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) return std::nullopt;
  return CommandRef{std::string(text.substr(0, colon)), std::string(text.substr(colon + 1))};
}

bool DatastoreState::server_sends() const {
  using protocol::SyncType;
  return sync_type == SyncType::kTwoWay || sync_type == SyncType::kSlow || sync_type == SyncType::kOneWayFromServer ||
         sync_type == SyncType::kRefreshFromServer;
}

bool DatastoreState::client_sends() const {
  using protocol::SyncType;
  return sync_type == SyncType::kTwoWay || sync_type == SyncType::kSlow || sync_type == SyncType::kOneWayFromClient ||
         sync_type == SyncType::kRefreshFromClient;
}

DatastoreState* SessionState::find_by_server_uri(const std::string& uri) {
  for (auto& ds : datastores) {
    if (ds.server_uri == uri) return &ds;
  }
  return nullptr;
}

DatastoreState* SessionState::find_by_client_uri(const std::string& uri) {
  for (auto& ds : datastores) {
    if (ds.client_uri == uri) return &ds;
  }
  return nullptr;
}

namespace {

constexpr int kFormatVersion = 1;

// The collections that grow with the store (a slow sync's seen LUIDs and
// claimed GUIDs, the outgoing list, the Adds awaiting a Map) travel packed,
// one JSON string each: a record a line, "\t" between fields, and "\\",
// "\n", "\t" escaped. As one JSON value per item, saving and loading a
// 10,000-item sync's session after every message took a third of the
// server's CPU (issue #20 item 6).
void pack_field(std::string& out, const std::string& field) {
  for (char c : field) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else {
      out += c;
    }
  }
}

std::string pack_set(const std::set<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    pack_field(out, item);
    out += '\n';
  }
  return out;
}

// The records of `packed`, each with exactly `fields` fields; throws on a damaged one.
std::vector<std::vector<std::string>> unpack(const std::string& packed, size_t fields) {
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> record(1);
  for (size_t i = 0; i < packed.size(); ++i) {
    const char c = packed[i];
    if (c == '\\' && i + 1 < packed.size()) {
      const char e = packed[++i];
      record.back() += e == 'n' ? '\n' : e == 't' ? '\t' : e;
    } else if (c == '\t') {
      record.emplace_back();
    } else if (c == '\n') {
      if (record.size() != fields) throw std::invalid_argument("packed record with a wrong number of fields");
      records.push_back(std::move(record));
      record.assign(1, std::string());
    } else {
      record.back() += c;
    }
  }
  if (record.size() != 1 || !record.front().empty()) throw std::invalid_argument("packed records end unterminated");
  return records;
}

// Packed, or a JSON array as sessions saved before packing have it.
std::set<std::string> set_from_json(const json& j) {
  if (!j.is_string()) return j.get<std::set<std::string>>();
  std::set<std::string> out;
  for (auto& record : unpack(j.get<std::string>(), 1)) out.insert(out.end(), std::move(record.front()));
  return out;
}

json sent_to_json(const SentItem& s) {
  return json::array({static_cast<int>(s.kind), s.guid.str(), s.luid.str(), s.anchor.str()});
}

SentItem sent_from_json(const json& j) {
  return SentItem{static_cast<protocol::CommandKind>(j.at(0).get<int>()), Guid(j.at(1).get<std::string>()),
                  Luid(j.at(2).get<std::string>()), Anchor(j.at(3).get<std::string>())};
}

json problems_to_json(const std::vector<ItemProblem>& problems) {
  json out = json::array();
  for (const auto& p : problems) {
    out.push_back({p.direction == ItemProblem::Direction::kToDevice, p.item, p.status, p.what});
  }
  return out;
}

std::vector<ItemProblem> problems_from_json(const json& j) {
  std::vector<ItemProblem> out;
  for (const auto& p : j) {
    out.push_back(
        ItemProblem{p.at(0).get<bool>() ? ItemProblem::Direction::kToDevice : ItemProblem::Direction::kFromDevice,
                    p.at(1).get<std::string>(), p.at(2).get<int>(), p.at(3).get<std::string>()});
  }
  return out;
}

std::string pack_outgoing(const std::vector<Outgoing>& outgoing) {
  std::string out;
  for (const auto& o : outgoing) {
    out += std::to_string(static_cast<int>(o.kind));
    out += '\t';
    pack_field(out, o.guid.str());
    out += '\t';
    pack_field(out, o.luid.str());
    out += '\n';
  }
  return out;
}

std::vector<Outgoing> outgoing_from_json(const json& j) {
  std::vector<Outgoing> out;
  if (!j.is_string()) {
    for (const auto& o : j) {
      out.push_back(Outgoing{static_cast<protocol::CommandKind>(o.at(0).get<int>()), Guid(o.at(1).get<std::string>()),
                             Luid(o.at(2).get<std::string>())});
    }
    return out;
  }
  for (auto& r : unpack(j.get<std::string>(), 3)) {
    out.push_back(
        Outgoing{static_cast<protocol::CommandKind>(std::stoi(r[0])), Guid(std::move(r[1])), Luid(std::move(r[2]))});
  }
  return out;
}

std::string pack_awaiting_map(const std::map<std::string, Anchor>& awaiting) {
  std::string out;
  for (const auto& [guid, anchor] : awaiting) {
    pack_field(out, guid);
    out += '\t';
    pack_field(out, anchor.str());
    out += '\n';
  }
  return out;
}

std::map<std::string, Anchor> awaiting_map_from_json(const json& j) {
  std::map<std::string, Anchor> out;
  if (!j.is_string()) {
    for (const auto& [guid, anchor] : j.items()) out[guid] = Anchor(anchor.get<std::string>());
    return out;
  }
  for (auto& r : unpack(j.get<std::string>(), 2)) out.emplace_hint(out.end(), std::move(r[0]), Anchor(std::move(r[1])));
  return out;
}

json datastore_to_json(const DatastoreState& d) {
  json awaiting = json::object();
  for (const auto& [ref, items] : d.awaiting_status) {
    json list = json::array();
    for (const auto& s : items) list.push_back(sent_to_json(s));
    awaiting[ref.str()] = list;
  }
  return {
      {"server_uri", d.server_uri},
      {"client_uri", d.client_uri},
      {"alert", protocol::to_int(d.sync_type)},
      {"client_last", d.client_last},
      {"client_next", d.client_next},
      {"server_next", d.server_next.str()},
      {"content_type", d.content_type},
      {"client_sync_seen", d.client_sync_seen},
      {"server_sync_sent", d.server_sync_sent},
      {"prepared", d.prepared},
      {"resumed", d.resumed},
      {"slow_seen", pack_set(d.slow_seen_luids)},
      {"slow_claimed", pack_set(d.slow_claimed_guids)},
      {"outgoing", pack_outgoing(d.outgoing)},
      {"outgoing_offset", d.outgoing_offset},
      {"partial", d.partial ? json{{"kind", static_cast<int>(d.partial->kind)},
                                   {"luid", d.partial->luid},
                                   {"type", d.partial->type},
                                   {"format", protocol::item_format_name(d.partial->format)},
                                   {"size", d.partial->declared_size},
                                   // chunks may end inside a UTF-8 sequence: JSON needs base64 here
                                   {"data", base64_encode(d.partial->data)}}
                            : json()},
      {"awaiting_status", awaiting},
      {"awaiting_map", pack_awaiting_map(d.awaiting_map)},
      {"problems", problems_to_json(d.problems)},
      {"rejected", d.rejected_guids},
      {"unacknowledged_adds", d.unacknowledged_adds},
      {"deferred_deletes", d.deferred_deletes},
      {"counts",
       {d.counts.client_adds, d.counts.client_updates, d.counts.client_deletes, d.counts.client_errors,
        d.counts.server_adds, d.counts.server_updates, d.counts.server_deletes, d.counts.conflicts}},
  };
}

// nullopt for a value of the right JSON type that means nothing; json's own
// exceptions for the wrong types (deserialize catches them).
std::optional<DatastoreState> datastore_from_json(const json& j) {
  DatastoreState d;
  d.server_uri = j.at("server_uri");
  d.client_uri = j.at("client_uri");
  // A damaged row's unknown type syncs slow: it matches and loses nothing.
  d.sync_type = protocol::sync_type_of_alert(j.at("alert").get<int>()).value_or(protocol::SyncType::kSlow);
  d.client_last = j.at("client_last");
  d.client_next = j.at("client_next");
  d.server_next = Anchor(j.at("server_next").get<std::string>());
  d.content_type = j.at("content_type");
  d.client_sync_seen = j.at("client_sync_seen");
  d.server_sync_sent = j.at("server_sync_sent");
  d.prepared = j.value("prepared", false);
  d.resumed = j.value("resumed", false);
  d.slow_seen_luids = set_from_json(j.at("slow_seen"));
  d.slow_claimed_guids = set_from_json(j.at("slow_claimed"));
  d.outgoing_offset = j.at("outgoing_offset");
  if (const json& partial = j.at("partial"); !partial.is_null()) {
    d.partial = PartialItem{
        static_cast<protocol::CommandKind>(partial.at("kind").get<int>()),
        partial.at("luid"),
        partial.at("type"),
        protocol::parse_item_format(partial.at("format").get<std::string>()).value_or(protocol::ItemFormat::kChr),
        partial.at("size"),
        base64_decode(partial.at("data").get<std::string>()).value_or("")};
  }
  d.outgoing = outgoing_from_json(j.at("outgoing"));
  for (const auto& [text, list] : j.at("awaiting_status").items()) {
    auto ref = CommandRef::parse(text);
    if (!ref) return std::nullopt;
    auto& items = d.awaiting_status[*ref];
    for (const auto& s : list) items.push_back(sent_from_json(s));
  }
  d.awaiting_map = awaiting_map_from_json(j.at("awaiting_map"));
  // Absent in sessions saved before these fields existed.
  if (j.contains("problems")) d.problems = problems_from_json(j.at("problems"));
  if (j.contains("rejected")) d.rejected_guids = j.at("rejected").get<std::set<std::string>>();
  if (j.contains("deferred_deletes")) {
    d.deferred_deletes = j.at("deferred_deletes").get<std::map<std::string, std::string>>();
  }
  if (j.contains("unacknowledged_adds")) {
    d.unacknowledged_adds = j.at("unacknowledged_adds").get<std::set<std::string>>();
  }
  const auto& c = j.at("counts");
  d.counts.client_adds = c.at(0);
  d.counts.client_updates = c.at(1);
  d.counts.client_deletes = c.at(2);
  d.counts.client_errors = c.at(3);
  d.counts.server_adds = c.at(4);
  d.counts.server_updates = c.at(5);
  d.counts.server_deletes = c.at(6);
  d.counts.conflicts = c.at(7);
  return d;
}

// Only what a pending Status carries.
json status_to_json(const protocol::Command& c) {
  return {{"msg_ref", c.msg_ref}, {"cmd_ref", c.cmd_ref},         {"cmd", c.cmd_name},
          {"code", c.code},       {"target_refs", c.target_refs}, {"source_refs", c.source_refs}};
}

protocol::Command status_from_json(const json& j) {
  protocol::Command c;
  c.kind = protocol::CommandKind::kStatus;
  c.msg_ref = j.at("msg_ref");
  c.cmd_ref = j.at("cmd_ref");
  c.cmd_name = j.at("cmd");
  c.code = j.at("code");
  c.target_refs = j.at("target_refs").get<std::vector<std::string>>();
  c.source_refs = j.at("source_refs").get<std::vector<std::string>>();
  return c;
}

}  // namespace

ItemTally item_tally(const DatastoreState& ds) {
  const SyncCounts& c = ds.counts;
  const int to_device_failed =
      static_cast<int>(std::count_if(ds.problems.begin(), ds.problems.end(),
                                     [](const auto& p) { return p.direction == ItemProblem::Direction::kToDevice; }));
  return {{{"from_device", "added", c.client_adds},
           {"from_device", "updated", c.client_updates},
           {"from_device", "deleted", c.client_deletes},
           {"from_device", "failed", c.client_errors},
           {"to_device", "added", c.server_adds},
           {"to_device", "updated", c.server_updates},
           {"to_device", "deleted", c.server_deletes},
           {"to_device", "failed", to_device_failed},
           {"", "", c.conflicts}}};
}

std::string serialize(const SessionState& s) {
  json stores = json::array();
  for (const auto& d : s.datastores) stores.push_back(datastore_to_json(d));
  json pending = json::array();
  for (const auto& c : s.pending_statuses) pending.push_back(status_to_json(c));
  json j = {
      {"format", kFormatVersion},
      {"key", s.key.str()},
      {"device", s.device.str()},
      {"client_session_id", s.client_session_id},
      {"version", static_cast<int>(s.version)},
      {"phase", static_cast<int>(s.phase)},
      {"server_msg_id", s.server_msg_id},
      {"last_client_msg_id", s.last_client_msg_id},
      {"running_msg_id", s.running_msg_id},
      {"last_reply", base64_encode(s.last_reply)},
      {"last_reply_encoding", static_cast<int>(s.last_reply_encoding)},
      {"authenticated", s.authenticated},
      {"auth_failures", s.auth_failures},
      {"user", s.user.str()},
      {"token", s.token},
      {"client_max_msg_size", s.client_max_msg_size},
      {"datastores", stores},
      {"pending_statuses", pending},
      {"package_end_pending", s.package_end_pending},
      {"suspended", s.suspended},
  };
  // Ids come from devices: invalid UTF-8 is replaced rather than thrown on.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

bool deserialize(const std::string& blob, SessionState& s) {
  json j = json::parse(blob, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return false;
  try {
    if (j.at("format").get<int>() != kFormatVersion) return false;
    s.key = SessionKey(j.at("key").get<std::string>());
    s.device = DeviceId(j.at("device").get<std::string>());
    s.client_session_id = j.at("client_session_id");
    s.version = static_cast<protocol::SyncMLVersion>(j.at("version").get<int>());
    s.phase = static_cast<Phase>(j.at("phase").get<int>());
    s.server_msg_id = j.at("server_msg_id");
    s.last_client_msg_id = j.at("last_client_msg_id");
    s.running_msg_id = j.value("running_msg_id", "");  // absent before it existed
    auto reply = base64_decode(j.at("last_reply").get<std::string>());
    if (!reply) return false;
    s.last_reply = std::move(*reply);
    s.last_reply_encoding = static_cast<protocol::Encoding>(j.at("last_reply_encoding").get<int>());
    s.authenticated = j.at("authenticated");
    s.auth_failures = j.at("auth_failures");
    s.user = UserId(j.at("user").get<std::string>());
    s.token = j.at("token");
    s.client_max_msg_size = j.at("client_max_msg_size");
    s.datastores.clear();
    for (const auto& saved : j.at("datastores")) {
      auto d = datastore_from_json(saved);
      if (!d) return false;
      s.datastores.push_back(std::move(*d));
    }
    s.pending_statuses.clear();
    for (const auto& c : j.at("pending_statuses")) s.pending_statuses.push_back(status_from_json(c));
    s.package_end_pending = j.at("package_end_pending");
    s.suspended = j.value("suspended", false);
    if (s.phase > Phase::kDone || s.version > protocol::SyncMLVersion::k12) return false;
  } catch (const json::exception&) {
    return false;
  } catch (const std::invalid_argument&) {  // a damaged packed collection (or its kind)
    return false;
  } catch (const std::out_of_range&) {
    return false;
  }
  return true;
}

}  // namespace conflux::engine
