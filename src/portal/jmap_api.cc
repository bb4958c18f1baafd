#include "portal/jmap_api.h"

#include <algorithm>
#include <ctime>
#include <map>
#include <set>

#include "common/base64.h"
#include "common/log.h"
#include "data/vcard.h"
#include "engine/conflict_settle.h"
#include "portal/jscalendar.h"
#include "portal/jscontact.h"
#include "portal/jsnote.h"

namespace conflux::portal {

using nlohmann::json;

namespace {

constexpr const char* kCore = "urn:ietf:params:jmap:core";
constexpr const char* kContacts = "urn:ietf:params:jmap:contacts";
constexpr const char* kCalendars = "urn:ietf:params:jmap:calendars";
constexpr const char* kTasks = "urn:ietf:params:jmap:tasks";     // draft JMAP for Tasks: Task objects
constexpr const char* kNotes = "urn:conflux:params:jmap:notes";  // Conflux's own Note objects
constexpr const char* kSyncRecords = "urn:conflux:params:jmap:sync";
constexpr const char* kWebhooks = "urn:conflux:params:jmap:webhooks";  // the user's WebhookSubscriptions
// Each subscription costs a delivery per change batch: a user's are bounded.
constexpr size_t kMaxSubscriptionsPerUser = 20;
constexpr const char* kRawProperty = "conflux:raw";  // the item as stored (vCard / iCalendar text)
constexpr const char* kAccountProperty = "conflux:accountId";

// JMAP ids are 1-255 of [A-Za-z0-9_-] (RFC 8620 §1.2): base64url, unpadded.
std::string base64url(std::string_view bytes) {
  std::string b = base64_encode(bytes);
  while (!b.empty() && b.back() == '=') b.pop_back();
  for (char& c : b) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return b;
}

std::optional<std::string> from_base64url(std::string text) {
  for (char& c : text) {
    if (c == '-')
      c = '+';
    else if (c == '_')
      c = '/';
    else if (!std::isalnum(static_cast<unsigned char>(c)))
      return std::nullopt;
  }
  while (text.size() % 4 != 0) text += '=';
  return base64_decode(text);
}

bool id_safe(const std::string& s) {
  return !s.empty() && s.size() <= 255 && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
}

std::string item_id(const std::string& store, const Guid& guid) { return base64url(store + "\n" + guid.str()); }

// (datastore, guid) of an item id; nullopt for anything that is not one of ours.
std::optional<std::pair<std::string, Guid>> parse_item_id(const std::string& id) {
  auto bytes = from_base64url(id);
  if (!bytes) return std::nullopt;
  const size_t nl = bytes->find('\n');
  if (nl == std::string::npos || nl == 0 || nl + 1 == bytes->size()) return std::nullopt;
  return std::make_pair(bytes->substr(0, nl), Guid(bytes->substr(nl + 1)));
}

json method_error(const std::string& type, const std::string& description = "") {
  json e = {{"type", type}};
  if (!description.empty()) e["description"] = description;
  return e;
}

// A method call that failed: thrown inside one method, caught by the
// dispatcher and answered as ["error", {...}, callId] (RFC 8620 §3.6.2).
struct MethodError {
  json error;
};

[[noreturn]] void fail(const std::string& type, const std::string& description = "") {
  throw MethodError{method_error(type, description)};
}

JmapReply problem(const std::string& type, const std::string& detail, int status = 400) {
  json p = {{"type", "urn:ietf:params:jmap:error:" + type}, {"status", status}, {"detail", detail}};
  return JmapReply{status, "application/problem+json", p.dump()};
}

// The method error for a CAF failure that concerns the whole call.
[[noreturn]] void fail_with(const Status& st) {
  switch (st.code()) {
    case StatusCode::kPermissionDenied: fail("forbidden", st.message());
    case StatusCode::kUnavailable:
    case StatusCode::kResourceExhausted: fail("serverUnavailable", st.message());
    default: fail("serverFail", st.message());
  }
}

// The SetError for one refused item write (RFC 8620 §5.3).
json set_error(const Status& st) {
  switch (st.code()) {
    case StatusCode::kPermissionDenied: return method_error("forbidden", st.message());
    case StatusCode::kNotFound: return method_error("notFound", st.message());
    case StatusCode::kInvalidArgument: return method_error("invalidProperties", st.message());
    default: return method_error("serverFail", st.message());
  }
}

// RFC 8620 §3.7 / RFC 6901 with JMAP's "*": the value at `path` in `value`.
std::optional<json> evaluate_pointer(const json& value, std::string_view path) {
  if (path.empty()) return value;
  if (path[0] != '/') return std::nullopt;
  path.remove_prefix(1);
  const size_t slash = path.find('/');
  std::string token(path.substr(0, slash));
  const std::string_view rest = slash == std::string_view::npos ? std::string_view() : path.substr(slash);
  for (size_t at; (at = token.find("~1")) != std::string::npos;) token.replace(at, 2, "/");
  for (size_t at; (at = token.find("~0")) != std::string::npos;) token.replace(at, 2, "~");
  if (value.is_array()) {
    if (token == "*") {
      json out = json::array();
      for (const auto& item : value) {
        auto sub = evaluate_pointer(item, rest);
        if (!sub) return std::nullopt;
        if (sub->is_array()) {
          for (auto& x : *sub) out.push_back(std::move(x));
        } else {
          out.push_back(std::move(*sub));
        }
      }
      return out;
    }
    if (token.empty() || !std::all_of(token.begin(), token.end(), ::isdigit)) return std::nullopt;
    const size_t index = std::stoul(token);
    if (index >= value.size()) return std::nullopt;
    return evaluate_pointer(value[index], rest);
  }
  if (value.is_object()) {
    auto it = value.find(token);
    if (it == value.end()) return std::nullopt;
    return evaluate_pointer(*it, rest);
  }
  return std::nullopt;
}

// RFC 8620 §5.3 PatchObject: "a/b" paths, null removes. An error names the
// path that cannot be applied (invalidPatch).
std::optional<std::string> apply_patch(json& target, const json& patch) {
  for (const auto& [path, value] : patch.items()) {
    json* at = &target;
    std::vector<std::string> tokens;
    size_t start = 0;
    for (size_t slash; (slash = path.find('/', start)) != std::string::npos; start = slash + 1) {
      tokens.push_back(path.substr(start, slash - start));
    }
    tokens.push_back(path.substr(start));
    for (auto& t : tokens) {
      for (size_t i; (i = t.find("~1")) != std::string::npos;) t.replace(i, 2, "/");
      for (size_t i; (i = t.find("~0")) != std::string::npos;) t.replace(i, 2, "~");
    }
    for (size_t i = 0; i + 1 < tokens.size(); ++i) {
      if (!at->is_object() || !at->contains(tokens[i])) return path;
      at = &(*at)[tokens[i]];
    }
    if (!at->is_object()) return path;
    if (value.is_null())
      at->erase(tokens.back());
    else
      (*at)[tokens.back()] = value;
  }
  return std::nullopt;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// Every string value in `value`, lower case, joined — what "text" filters on.
void collect_text(const json& value, std::string& out) {
  if (value.is_string()) {
    out += lower(value.get<std::string>());
    out += '\n';
  } else if (value.is_structured()) {
    for (const auto& v : value) collect_text(v, out);
  }
}

std::string name_part(const json& card, const std::string& kind) {
  auto name = card.find("name");
  if (name == card.end()) return "";
  if (kind == "full") return lower(name->value("full", ""));
  std::string out;
  for (const auto& c : name->value("components", json::array())) {
    if (c.value("kind", "") == kind) out += lower(c.value("value", ""));
  }
  return out;
}

// The optional unsigned integer argument `key`; invalidArguments otherwise.
std::optional<int64_t> int_arg(const json& args, const char* key) {
  auto it = args.find(key);
  if (it == args.end() || it->is_null()) return std::nullopt;
  if (!it->is_number_integer()) fail("invalidArguments", std::string(key) + " must be an integer");
  return it->get<int64_t>();
}

using Kind = JmapApi::Kind;
using Type = JmapApi::Type;

// What the API calls each type, the capability it needs, and the kind of
// datastore that holds it.
struct TypeInfo {
  Type type;
  const char* name;
  const char* capability;
  Kind kind;
};

const std::vector<TypeInfo>& type_infos() {
  static const std::vector<TypeInfo> infos = {
      {Type::kContact, "ContactCard", kContacts, Kind::kContacts},
      {Type::kEvent, "CalendarEvent", kCalendars, Kind::kCalendars},
      {Type::kTask, "Task", kTasks, Kind::kCalendars},
      {Type::kNote, "Note", kNotes, Kind::kNotes},
  };
  return infos;
}

const TypeInfo& info(Type type) {
  for (const auto& i : type_infos()) {
    if (i.type == type) return i;
  }
  return type_infos().front();  // unreachable: every Type is listed
}

// The object an item's stored bytes read as when it is a `type`.
std::optional<json> object_of(Type type, const std::string& raw, const PortalStore& store) {
  switch (type) {
    case Type::kContact: {
      auto card = data::parse_vcard(raw);
      if (!card) return std::nullopt;
      return card_from_vcard(*card);
    }
    case Type::kEvent: return event_from_icalendar(raw);
    case Type::kTask: return task_from_icalendar(raw);
    case Type::kNote: return note_from_stored(raw, lower(store.content_type), store.content_version);
  }
  return std::nullopt;
}

}  // namespace

struct JmapApi::Item {
  Guid guid;
  std::string id;
  json object;  // ContactCard / CalendarEvent, with id
  std::string raw;
};

struct JmapApi::Call {
  const caf::Token& token;
  std::string name;
  json args;
  std::set<std::string> using_caps;
  std::map<std::string, std::string>& created_ids;  // creation id → id, for the whole request
};

JmapApi::JmapApi(caf::CafInterface& caf, engine::SyncStateStore& records, std::vector<PortalStore> stores,
                 JmapLimits limits, JmapWebhooks webhooks)
    : caf_(caf), records_(records), stores_(std::move(stores)), limits_(limits), webhooks_(std::move(webhooks)) {}

std::string JmapApi::account_id(const std::string& store) { return id_safe(store) ? store : "x" + base64url(store); }

std::string JmapApi::store_of_account(const std::string& id) const {
  for (const auto& s : stores_) {
    if (account_id(s.name) == id) return s.name;
  }
  return "";
}

std::vector<JmapApi::Account> JmapApi::accounts_for(const caf::Token& token) const {
  std::vector<Account> out;
  for (const auto& s : stores_) {
    if (!token.kind_for(s.name)) continue;
    const std::string type = lower(s.content_type);
    if (type.find("vcard") != std::string::npos || type == "text/directory") {
      out.push_back({account_id(s.name), &s, Kind::kContacts});
    } else if (type.find("calendar") != std::string::npos) {
      out.push_back({account_id(s.name), &s, Kind::kCalendars});
    } else if (type == "text/plain" || type == "text/x-vnote") {
      out.push_back({account_id(s.name), &s, Kind::kNotes});
    }
  }
  return out;
}

std::optional<JmapApi::Account> JmapApi::account(const caf::Token& token, const std::string& id) const {
  for (const auto& a : accounts_for(token)) {
    if (a.id == id) return a;
  }
  return std::nullopt;
}

caf::StoreRef JmapApi::store_ref(const caf::Token& token, const PortalStore& store) const {
  caf::StoreRef ref{token.user, store.name, token};
  ref.origin = "portal";  // the writer the item history names
  return ref;
}

json JmapApi::session(const caf::Token& token, const std::string& base_url) const {
  json accounts = json::object();
  json primary = json::object();
  std::string state;
  for (const auto& a : accounts_for(token)) {
    json caps = json::object();
    for (const auto& t : type_infos()) {
      if (t.kind != a.kind) continue;
      caps[t.capability] = json::object();
      if (!primary.contains(t.capability)) primary[t.capability] = a.id;
    }
    accounts[a.id] = {{"name", a.store->name},
                      {"isPersonal", true},
                      {"isReadOnly", token.kind_for(a.store->name) == caf::TokenKind::kReadOnly},
                      {"accountCapabilities", caps}};
    state += a.id + ";";
  }
  json core = {{"maxSizeUpload", 0},
               {"maxConcurrentUpload", 1},
               {"maxSizeRequest", limits_.max_size_request},
               {"maxConcurrentRequests", 4},
               {"maxCallsInRequest", limits_.max_calls_in_request},
               {"maxObjectsInGet", limits_.max_objects_in_get},
               {"maxObjectsInSet", limits_.max_objects_in_set},
               {"collationAlgorithms", json::array({"i;ascii-casemap"})}};
  return {{"capabilities",
           {{kCore, core},
            {kContacts, json::object()},
            {kCalendars, json::object()},
            {kTasks, json::object()},
            {kNotes, json::object()},
            {kSyncRecords, json::object()},
            {kWebhooks, json::object()}}},
          {"accounts", accounts},
          {"primaryAccounts", primary},
          {"username", token.user.str()},
          {"apiUrl", base_url + "/jmap/api"},
          {"downloadUrl", base_url + "/jmap/download/{accountId}/{blobId}/{name}?accept={type}"},
          {"uploadUrl", base_url + "/jmap/upload/{accountId}"},
          {"eventSourceUrl", base_url + "/jmap/eventsource?types={types}&closeafter={closeafter}&ping={ping}"},
          {"state", base64url(state)}};
}

json JmapApi::states(const caf::Token& token) {
  json changed = json::object();
  for (const auto& a : accounts_for(token)) {
    auto anchor = caf_.current_anchor(store_ref(token, *a.store));
    if (!anchor) continue;
    json types = json::object();
    for (const auto& t : type_infos()) {
      if (t.kind == a.kind) types[t.name] = anchor->str();
    }
    changed[a.id] = std::move(types);
  }
  return changed;
}

Result<std::vector<JmapApi::Item>> JmapApi::read_items(const caf::Token& token, const Account& account, Type type,
                                                       const std::vector<Guid>& guids, bool with_raw) {
  caf::Query q;
  q.guids = guids;
  auto found = caf_.search(store_ref(token, *account.store), q);
  if (!found) return found.error();
  std::vector<Item> out;
  for (auto& obj : *found) {
    Item item{obj.guid, item_id(account.store->name, obj.guid), json(), {}};
    auto object = object_of(type, obj.raw, *account.store);
    if (!object) {
      // A task beside the events is no CalendarEvent (and the other way
      // round); a contact or note that does not read is worth a word.
      if (type == Type::kContact || type == Type::kNote) {
        logger("portal")->warn("store '{}': item {} of user '{}' is not a {} the portal reads", account.store->name,
                               obj.guid.str(), token.user.str(), info(type).name);
      }
      continue;
    }
    item.object = std::move(*object);
    if (type == Type::kContact) item.object["addressBookIds"] = {{"default", true}};
    if (type == Type::kEvent) item.object["calendarIds"] = {{"default", true}};
    if (type == Type::kTask) item.object["taskListId"] = "default";
    item.object["id"] = item.id;
    item.object[kAccountProperty] = account.id;
    if (with_raw) item.raw = std::move(obj.raw);
    out.push_back(std::move(item));
  }
  return out;
}

std::vector<JmapApi::Account> JmapApi::scope(Call& call, Type type, bool& all_accounts_r) const {
  const json& args = call.args;
  all_accounts_r = !args.contains("accountId") || args["accountId"].is_null();
  std::vector<Account> out;
  if (all_accounts_r) {
    for (const auto& a : accounts_for(call.token)) {
      if (a.kind == info(type).kind) out.push_back(a);
    }
    return out;
  }
  out.push_back(one_account(call, type));
  return out;
}

JmapApi::Account JmapApi::one_account(Call& call, Type type) const {
  const json& args = call.args;
  if (!args.contains("accountId") || !args["accountId"].is_string()) {
    fail("invalidArguments", "accountId is required");
  }
  const auto a = account(call.token, args["accountId"]);
  if (!a || a->kind != info(type).kind) fail("accountNotFound");
  return *a;
}

// Foo/get (RFC 8620 §5.1).
json JmapApi::get(Call& call, Type type) {
  const json& args = call.args;
  bool all_accounts = false;
  const std::vector<Account> scope = this->scope(call, type, all_accounts);
  std::optional<std::vector<std::string>> ids;
  if (args.contains("ids") && !args["ids"].is_null()) {
    if (!args["ids"].is_array()) fail("invalidArguments", "ids must be an array of ids or null");
    ids.emplace();
    for (const auto& id : args["ids"]) {
      if (!id.is_string()) fail("invalidArguments", "ids must be an array of ids or null");
      std::string s = id.get<std::string>();
      if (s.size() > 1 && s[0] == '#') {
        auto created = call.created_ids.find(s.substr(1));
        if (created != call.created_ids.end()) s = created->second;
      }
      ids->push_back(s);
    }
    if (ids->size() > limits_.max_objects_in_get) fail("requestTooLarge");
  }
  std::optional<std::set<std::string>> properties;
  if (args.contains("properties") && !args["properties"].is_null()) {
    if (!args["properties"].is_array()) fail("invalidArguments", "properties must be an array or null");
    properties.emplace();
    for (const auto& p : args["properties"]) {
      if (!p.is_string()) fail("invalidArguments", "properties must be an array of strings");
      properties->insert(p.get<std::string>());
    }
  }
  const bool with_raw = properties && properties->count(kRawProperty);

  json list = json::array();
  json not_found = json::array();
  std::string state;
  std::set<std::string> seen;
  for (const auto& a : scope) {
    if (!all_accounts) {
      auto anchor = caf_.current_anchor(store_ref(call.token, *a.store));
      if (!anchor) fail_with(anchor.error());
      state = anchor->str();
    }
    std::vector<Guid> guids;
    if (ids) {
      for (const auto& id : *ids) {
        auto parsed = parse_item_id(id);
        if (parsed && parsed->first == a.store->name) guids.push_back(parsed->second);
      }
      if (guids.empty()) continue;
    }
    auto items = read_items(call.token, a, type, guids, with_raw);
    if (!items) fail_with(items.error());
    if (!ids && list.size() + items->size() > limits_.max_objects_in_get) fail("requestTooLarge");
    for (auto& item : *items) {
      json object = std::move(item.object);
      if (with_raw) object[kRawProperty] = std::move(item.raw);
      if (properties) {
        json only = {{"id", object["id"]}};
        for (const auto& p : *properties) {
          if (object.contains(p)) only[p] = object[p];
        }
        object = std::move(only);
      }
      seen.insert(item.id);
      list.push_back(std::move(object));
    }
  }
  if (ids) {
    for (const auto& id : *ids) {
      if (!seen.count(id)) not_found.push_back(id);
    }
  }
  json out = {{"list", list}, {"notFound", not_found}, {"state", all_accounts ? "" : state}};
  if (!all_accounts) out["accountId"] = args["accountId"];
  return out;
}

// Foo/changes (RFC 8620 §5.2): sinceState is a CAF anchor.
json JmapApi::changes(Call& call, Type type) {
  const json& args = call.args;
  const std::optional<Account> a = one_account(call, type);
  if (!args.contains("sinceState") || !args["sinceState"].is_string() ||
      args["sinceState"].get<std::string>().empty()) {
    fail("invalidArguments", "sinceState must be a state string from an earlier /get or /changes");
  }
  const auto max_changes = int_arg(args, "maxChanges");
  if (max_changes && *max_changes <= 0) fail("invalidArguments", "maxChanges must be positive");
  const std::string since = args["sinceState"];
  const caf::StoreRef ref = store_ref(call.token, *a->store);
  auto changed = caf_.changes_since(ref, Anchor(since));
  if (!changed) {
    if (changed.error().is_unavailable()) fail_with(changed.error());
    fail("cannotCalculateChanges", changed.error().message());
  }
  // The CAF reports each item once, in its latest state, without the
  // intermediate anchors: a page smaller than that cannot be cut out.
  if (max_changes && changed->changes.size() > static_cast<size_t>(*max_changes)) {
    fail("cannotCalculateChanges", "more than maxChanges changes; fetch everything again");
  }
  json created = json::array(), updated = json::array(), destroyed = json::array();
  for (const auto& obj : changed->changes) {
    const std::string id = item_id(a->store->name, obj.guid);
    // A task beside the events is no CalendarEvent, and the other way round
    // (a delete cannot be told apart: its id is listed, and is simply
    // unknown to the client).
    if ((type == Type::kEvent || type == Type::kTask) && obj.action != caf::Action::kDelete &&
        !object_of(type, obj.raw, *a->store)) {
      continue;
    }
    switch (obj.action) {
      case caf::Action::kCreate: created.push_back(id); break;
      case caf::Action::kUpdate: updated.push_back(id); break;
      case caf::Action::kDelete: destroyed.push_back(id); break;
    }
  }
  return {{"accountId", a->id},      {"oldState", since},  {"newState", changed->anchor.str()},
          {"hasMoreChanges", false}, {"created", created}, {"updated", updated},
          {"destroyed", destroyed}};
}

// Foo/set (RFC 8620 §5.3): creates, then updates, then destroys, each one CAF
// apply batch; a refused item is a SetError, the others go on.
json JmapApi::set(Call& call, Type type) {
  const json& args = call.args;
  const Account acct = one_account(call, type);
  const caf::StoreRef ref = store_ref(call.token, *acct.store);
  auto object_arg = [&](const char* key) -> json {
    auto it = args.find(key);
    if (it == args.end() || it->is_null()) return json::object();
    if (!it->is_object()) fail("invalidArguments", std::string(key) + " must be an object");
    return *it;
  };
  const json create = object_arg("create");
  const json update = object_arg("update");
  json destroy = json::array();
  if (args.contains("destroy") && !args["destroy"].is_null()) {
    if (!args["destroy"].is_array()) fail("invalidArguments", "destroy must be an array of ids");
    destroy = args["destroy"];
  }
  if (create.size() + update.size() + destroy.size() > limits_.max_objects_in_set) fail("requestTooLarge");

  auto anchor = caf_.current_anchor(ref);
  if (!anchor) fail_with(anchor.error());
  const std::string old_state = anchor->str();
  if (args.contains("ifInState") && !args["ifInState"].is_null() && args["ifInState"] != old_state) {
    fail("stateMismatch");
  }

  // The content in the datastore's format from an object (and the stored item on an update).
  auto to_raw = [&](const json& object, const std::string& base_raw, json& error_r) -> std::optional<std::string> {
    std::vector<InvalidProperty> invalid;
    std::optional<std::string> raw;
    if (object.is_object() && object.contains(kRawProperty)) {
      // The item as the client wrote it; checked as the type it must be.
      const json& text = object[kRawProperty];
      if (text.is_string() && object_of(type, text.get<std::string>(), *acct.store)) return text.get<std::string>();
      static const std::map<Type, const char*> expected = {{Type::kContact, "must be one vCard"},
                                                           {Type::kEvent, "must be an iCalendar object with a VEVENT"},
                                                           {Type::kTask, "must be an iCalendar object with a VTODO"},
                                                           {Type::kNote, "must be a note in the datastore's format"}};
      invalid.push_back({kRawProperty, expected.at(type)});
    } else if (type == Type::kContact) {
      data::VCard base;
      if (!base_raw.empty()) {
        if (auto parsed = data::parse_vcard(base_raw)) base = std::move(*parsed);
      } else {
        base.version = acct.store->content_version == "2.1"   ? data::VCardVersion::k21
                       : acct.store->content_version == "4.0" ? data::VCardVersion::k40
                                                              : data::VCardVersion::k30;
      }
      if (auto card = vcard_from_card(object, base, invalid)) {
        const bool v21 = acct.store->content_type == "text/x-vcard" || card->version == data::VCardVersion::k21;
        raw = data::write_vcard(*card, v21 ? data::VCardVersion::k21 : card->version);
      }
    } else if (type == Type::kEvent) {
      raw = icalendar_from_event(object, base_raw, invalid);
    } else if (type == Type::kTask) {
      raw = icalendar_from_task(object, base_raw, invalid);
    } else {
      raw = stored_from_note(object, base_raw, lower(acct.store->content_type), acct.store->content_version, invalid);
    }
    if (!invalid.empty()) {
      json paths = json::array();
      std::string why;
      for (const auto& p : invalid) {
        paths.push_back(p.path);
        why += (why.empty() ? "" : "; ") + p.path + " " + p.why;
      }
      error_r = method_error("invalidProperties", why);
      error_r["properties"] = paths;
      return std::nullopt;
    }
    return raw;
  };
  // The item an id names in this account, or nullopt (another account's or
  // user's id, a deleted item, nonsense: all alike notFound).
  auto resolve = [&](std::string id) -> std::optional<Guid> {
    if (id.size() > 1 && id[0] == '#') {
      auto it = call.created_ids.find(id.substr(1));
      if (it == call.created_ids.end()) return std::nullopt;
      id = it->second;
    }
    auto parsed = parse_item_id(id);
    if (!parsed || parsed->first != acct.store->name) return std::nullopt;
    return parsed->second;
  };

  json created = json::object(), not_created = json::object();
  json updated = json::object(), not_updated = json::object();
  json destroyed = json::array(), not_destroyed = json::object();

  {  // create
    std::vector<caf::SyncObj> batch;
    std::vector<std::string> cids;
    for (const auto& [cid, object] : create.items()) {
      json error;
      auto raw = to_raw(object, "", error);
      if (!raw) {
        not_created[cid] = error;
        continue;
      }
      caf::SyncObj obj;
      obj.action = caf::Action::kCreate;
      obj.database = acct.store->name;
      obj.user = call.token.user;
      obj.content_type = acct.store->content_type;
      obj.raw = std::move(*raw);
      batch.push_back(std::move(obj));
      cids.push_back(cid);
    }
    if (!batch.empty()) {
      auto results = caf_.apply(ref, std::move(batch));
      for (size_t i = 0; i < cids.size(); ++i) {
        const caf::ApplyResult& r = results.at(i);
        if (!r.status.is_ok()) {
          not_created[cids[i]] = set_error(r.status);
          continue;
        }
        const std::string id = item_id(acct.store->name, r.guid);
        call.created_ids[cids[i]] = id;
        created[cids[i]] = {{"id", id}, {kAccountProperty, acct.id}};
      }
    }
  }
  {  // update
    std::vector<caf::SyncObj> batch;
    std::vector<std::string> ids;
    for (const auto& [id, patch] : update.items()) {
      auto guid = resolve(id);
      if (!guid) {
        not_updated[id] = method_error("notFound");
        continue;
      }
      if (!patch.is_object()) {
        not_updated[id] = method_error("invalidPatch", "an update must be a PatchObject");
        continue;
      }
      auto current = read_items(call.token, acct, type, {*guid}, true);
      if (!current) fail_with(current.error());
      if (current->empty()) {
        not_updated[id] = method_error("notFound");
        continue;
      }
      json object = current->front().object;
      if (patch.contains(kRawProperty)) {
        object = json::object({{kRawProperty, patch[kRawProperty]}});
      } else if (auto bad_path = apply_patch(object, patch)) {
        json e = method_error("invalidPatch", "cannot apply " + *bad_path);
        e["properties"] = json::array({*bad_path});
        not_updated[id] = e;
        continue;
      }
      json error;
      auto raw = to_raw(object, current->front().raw, error);
      if (!raw) {
        not_updated[id] = error;
        continue;
      }
      caf::SyncObj obj;
      obj.action = caf::Action::kUpdate;
      obj.guid = *guid;
      obj.database = acct.store->name;
      obj.user = call.token.user;
      obj.content_type = acct.store->content_type;
      obj.raw = std::move(*raw);
      batch.push_back(std::move(obj));
      ids.push_back(id);
    }
    if (!batch.empty()) {
      auto results = caf_.apply(ref, std::move(batch));
      for (size_t i = 0; i < ids.size(); ++i) {
        if (results.at(i).status.is_ok())
          updated[ids[i]] = nullptr;
        else
          not_updated[ids[i]] = set_error(results.at(i).status);
      }
    }
  }
  {  // destroy
    std::vector<caf::SyncObj> batch;
    std::vector<std::string> ids;
    for (const auto& id_value : destroy) {
      const std::string id = id_value.is_string() ? id_value.get<std::string>() : id_value.dump();
      auto guid = id_value.is_string() ? resolve(id) : std::nullopt;
      if (!guid) {
        not_destroyed[id] = method_error("notFound");
        continue;
      }
      caf::SyncObj obj;
      obj.action = caf::Action::kDelete;
      obj.guid = *guid;
      obj.database = acct.store->name;
      obj.user = call.token.user;
      batch.push_back(std::move(obj));
      ids.push_back(id);
    }
    if (!batch.empty()) {
      auto results = caf_.apply(ref, std::move(batch));
      for (size_t i = 0; i < ids.size(); ++i) {
        const caf::ApplyResult& r = results.at(i);
        if (!r.status.is_ok())
          not_destroyed[ids[i]] = set_error(r.status);
        else if (r.outcome == caf::ApplyOutcome::kAlreadyDeleted)
          not_destroyed[ids[i]] = method_error("notFound");
        else
          destroyed.push_back(ids[i]);
      }
    }
  }
  auto after = caf_.current_anchor(ref);
  json out = {{"accountId", acct.id}, {"oldState", old_state}, {"newState", after ? after->str() : old_state},
              {"created", created},   {"updated", updated},    {"destroyed", destroyed}};
  if (!not_created.empty()) out["notCreated"] = not_created;
  if (!not_updated.empty()) out["notUpdated"] = not_updated;
  if (!not_destroyed.empty()) out["notDestroyed"] = not_destroyed;
  return out;
}

// Foo/query (RFC 8620 §5.5): filter {"text": ...} (case-insensitive, any
// text of the object), sort, position/limit paging.
json JmapApi::query(Call& call, Type type) {
  const json& args = call.args;
  bool all_accounts = false;
  const std::vector<Account> scope = this->scope(call, type, all_accounts);
  std::string text;
  if (args.contains("filter") && !args["filter"].is_null()) {
    const json& filter = args["filter"];
    if (!filter.is_object()) fail("invalidArguments", "filter must be a FilterCondition object");
    for (const auto& [key, value] : filter.items()) {
      if (key != "text") fail("unsupportedFilter", "filter property '" + key + "' is not supported (only \"text\")");
      if (!value.is_string()) fail("invalidArguments", "filter/text must be a string");
      text = lower(value.get<std::string>());
    }
  }
  struct Comparator {
    std::string property;
    bool ascending;
  };
  std::vector<Comparator> sort;
  static const std::map<Type, std::set<std::string>> sortable_by_type = {
      {Type::kContact, {"name/full", "name/given", "name/surname"}},
      {Type::kEvent, {"start", "title"}},
      {Type::kTask, {"due", "start", "title"}},
      {Type::kNote, {"title"}}};
  const std::set<std::string>& sortable = sortable_by_type.at(type);
  if (args.contains("sort") && !args["sort"].is_null()) {
    if (!args["sort"].is_array()) fail("invalidArguments", "sort must be an array of Comparator");
    for (const auto& c : args["sort"]) {
      if (!c.is_object() || !c.contains("property") || !c["property"].is_string()) {
        fail("invalidArguments", "each Comparator needs a property");
      }
      if (!sortable.count(c["property"])) fail("unsupportedSort", "cannot sort by " + c["property"].get<std::string>());
      sort.push_back({c["property"], c.value("isAscending", true)});
    }
  }
  static const std::map<Type, const char*> default_sort = {
      {Type::kContact, "name/full"}, {Type::kEvent, "start"}, {Type::kTask, "due"}, {Type::kNote, "title"}};
  if (sort.empty()) sort.push_back({default_sort.at(type), true});
  int64_t position = int_arg(args, "position").value_or(0);
  const auto limit = int_arg(args, "limit");
  if (limit && *limit < 0) fail("invalidArguments", "limit must not be negative");
  if (args.contains("anchor") && !args["anchor"].is_null()) fail("unsupportedFilter", "anchor is not supported");

  struct Row {
    std::vector<std::string> keys;
    std::string id;
  };
  std::vector<Row> rows;
  std::string state;
  for (const auto& a : scope) {
    auto anchor = caf_.current_anchor(store_ref(call.token, *a.store));
    if (!anchor) fail_with(anchor.error());
    state += anchor->str() + ";";
    auto items = read_items(call.token, a, type, {}, false);
    if (!items) fail_with(items.error());
    for (const auto& item : *items) {
      if (!text.empty()) {
        std::string all;
        collect_text(item.object, all);
        if (all.find(text) == std::string::npos) continue;
      }
      Row row{{}, item.id};
      for (const auto& c : sort) {
        if (c.property.rfind("name/", 0) == 0)
          row.keys.push_back(name_part(item.object, c.property.substr(5)));
        else
          row.keys.push_back(lower(item.object.value(c.property, "")));
      }
      rows.push_back(std::move(row));
    }
  }
  std::sort(rows.begin(), rows.end(), [&sort](const Row& x, const Row& y) {
    for (size_t i = 0; i < sort.size(); ++i) {
      if (x.keys[i] != y.keys[i]) return sort[i].ascending ? x.keys[i] < y.keys[i] : x.keys[i] > y.keys[i];
    }
    return x.id < y.id;
  });
  const int64_t total = static_cast<int64_t>(rows.size());
  if (position < 0) position = std::max<int64_t>(0, total + position);  // RFC 8620 §5.5: from the end
  json ids = json::array();
  for (int64_t i = position; i < total && (!limit || static_cast<int64_t>(ids.size()) < *limit); ++i) {
    ids.push_back(rows[i].id);
  }
  json out = {{"queryState", base64url(state)}, {"canCalculateChanges", false}, {"position", position}, {"ids", ids}};
  if (!all_accounts) out["accountId"] = args["accountId"];
  if (args.value("calculateTotal", false)) out["total"] = total;
  if (limit) out["limit"] = *limit;
  return out;
}

// AddressBook/get, Calendar/get, TaskList/get: one collection per account.
json JmapApi::collections(Call& call, Type type) {
  const std::optional<Account> a = one_account(call, type);
  const bool read_only = call.token.kind_for(a->store->name) == caf::TokenKind::kReadOnly;
  json list = json::array(
      {{{"id", "default"},
        {"name", a->store->name},
        {"isDefault", true},
        {"isSubscribed", true},
        {"myRights", {{"mayRead", true}, {"mayWrite", !read_only}, {"mayDelete", false}, {"mayShare", false}}}}});
  return {{"accountId", a->id}, {"list", list}, {"notFound", json::array()}, {"state", "0"}};
}

namespace {

std::string utc(int64_t unix_seconds) {
  char text[32];
  const time_t t = static_cast<time_t>(unix_seconds);
  struct tm parts;
  gmtime_r(&t, &parts);
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &parts);
  return text;
}

}  // namespace

// One side of a conflict: the bytes, and the ContactCard / CalendarEvent
// they read as (when they do).
json JmapApi::version_json(const std::string& database, const std::string& content_type, const std::string& raw) const {
  if (raw.empty()) return {{"deleted", true}};
  json out = {{"contentType", content_type}, {kRawProperty, raw}};
  if (lower(content_type).find("vcard") != std::string::npos) {
    if (auto card = data::parse_vcard(raw)) out["card"] = card_from_vcard(*card);
  } else if (auto event = event_from_icalendar(raw)) {
    out["event"] = std::move(*event);
  } else if (auto task = task_from_icalendar(raw)) {
    out["task"] = std::move(*task);
  }
  return out;
}

// Conflict/get: the user's conflicts (open ones; "includeResolved": true
// for all), both versions side by side.
json JmapApi::conflicts_get(Call& call) {
  const bool include_resolved = call.args.value("includeResolved", false);
  auto records = records_.conflicts(call.token.user, include_resolved);
  if (!records) fail_with(records.error());
  json list = json::array();
  for (const auto& r : *records) {
    if (r.where.user != call.token.user || !call.token.kind_for(r.where.database)) continue;
    list.push_back({{"id", std::to_string(r.id)},
                    {"accountId", account_id(r.where.database)},
                    {"itemId", item_id(r.where.database, r.guid)},
                    {"device", r.where.device.str()},
                    {"policy", r.policy},
                    {"outcome", r.outcome},
                    {"created", utc(r.created_at)},
                    {"resolved", r.resolved},
                    {"serverVersion", version_json(r.where.database, r.server_type, r.server_data)},
                    {"deviceVersion", version_json(r.where.database, r.client_type, r.client_data)}});
  }
  return {{"list", list}, {"notFound", json::array()}, {"state", ""}};
}

// Conflict/set: update {id: {"keep": "server" | "device"}} writes the kept
// version through the CAF (engine::settle_conflict) and marks it resolved.
json JmapApi::conflicts_set(Call& call) {
  json updated = json::object(), not_updated = json::object();
  auto it = call.args.find("update");
  if (it == call.args.end() || !it->is_object()) fail("invalidArguments", "update must be an object");
  for (const auto& [id, change] : it->items()) {
    if (!change.is_object() || !change.contains("keep") || (change["keep"] != "server" && change["keep"] != "device")) {
      json e = method_error("invalidProperties", "keep must be \"server\" or \"device\"");
      e["properties"] = json::array({"keep"});
      not_updated[id] = e;
      continue;
    }
    const bool numeric = !id.empty() && id.size() < 19 && std::all_of(id.begin(), id.end(), ::isdigit);
    auto record =
        numeric ? records_.conflict(std::stoll(id)) : Result<std::optional<engine::ConflictRecord>>(std::nullopt);
    if (!record) fail_with(record.error());
    // Another user's conflict is not found, as their items are.
    if (!record->has_value() || (*record)->where.user != call.token.user) {
      not_updated[id] = method_error("notFound");
      continue;
    }
    const auto keep = change["keep"] == "server" ? engine::KeptVersion::kServer : engine::KeptVersion::kDevice;
    Status st = engine::settle_conflict(records_, caf_, call.token, **record, keep, /*again=*/false, "portal");
    if (st.is_ok())
      updated[id] = nullptr;
    else if (st.code() == StatusCode::kFailedPrecondition)
      not_updated[id] = method_error("forbidden", st.message());
    else
      not_updated[id] = set_error(st);
  }
  json out = {{"updated", updated}, {"created", json::object()}, {"destroyed", json::array()}};
  if (!not_updated.empty()) out["notUpdated"] = not_updated;
  return out;
}

// SyncSession/get: the user's last sessions, one entry per datastore synced,
// newest first, with the items that failed.
json JmapApi::sessions_get(Call& call) {
  const int64_t limit = std::clamp<int64_t>(int_arg(call.args, "limit").value_or(50), 1, 500);
  auto reports = records_.reports(call.token.user, static_cast<int>(limit));
  if (!reports) fail_with(reports.error());
  json list = json::array();
  for (const auto& r : *reports) {
    json problems = json::array();
    for (const auto& p : r.problems) {
      problems.push_back(
          {{"direction", p.direction == engine::ItemProblem::Direction::kFromDevice ? "fromDevice" : "toDevice"},
           {"item", p.item},
           {"status", p.status},
           {"what", p.what}});
    }
    const auto& c = r.counts;
    list.push_back(
        {{"session", r.session.str()},
         {"device", r.where.device.str()},
         {"accountId", account_id(r.where.database)},
         {"syncType", r.sync_type},
         {"finished", utc(r.finished_at)},
         {"fromDevice",
          {{"added", c.client_adds},
           {"updated", c.client_updates},
           {"deleted", c.client_deletes},
           {"errors", c.client_errors}}},
         {"toDevice", {{"added", c.server_adds}, {"updated", c.server_updates}, {"deleted", c.server_deletes}}},
         {"conflicts", c.conflicts},
         {"problems", problems}});
  }
  return {{"list", list}, {"notFound", json::array()}, {"state", ""}};
}

// Device/get: the devices of the user's recent sessions, with their last sync.
json JmapApi::devices_get(Call& call) {
  auto reports = records_.reports(call.token.user, 500);
  if (!reports) fail_with(reports.error());
  std::map<std::string, json> devices;
  for (const auto& r : *reports) {
    json& d = devices[r.where.device.str()];
    if (d.is_null())
      d = {{"id", r.where.device.str()},
           {"lastSync", utc(r.finished_at)},
           {"accountIds", json::array()},
           {"problems", 0}};
    if (std::find(d["accountIds"].begin(), d["accountIds"].end(), account_id(r.where.database)) ==
        d["accountIds"].end()) {
      d["accountIds"].push_back(account_id(r.where.database));
    }
    if (utc(r.finished_at) > d["lastSync"].get<std::string>()) d["lastSync"] = utc(r.finished_at);
    d["problems"] = d["problems"].get<int>() + static_cast<int>(r.problems.size());
  }
  json list = json::array();
  for (auto& [id, d] : devices) list.push_back(std::move(d));
  return {{"list", list}, {"notFound", json::array()}, {"state", ""}};
}

namespace {

json subscription_json(const notify::UserSubscription& s) {
  json accounts = json::array();
  for (const auto& store : s.datastores) accounts.push_back(JmapApi::account_id(store));
  return {{"id", s.id}, {"url", s.url}, {"accountIds", accounts}, {"createdAt", utc(s.created_at)}};
}

}  // namespace

// WebhookSubscription/get: the caller's own; the secret is never shown again.
json JmapApi::subscriptions_get(Call& call) {
  auto own = webhooks_.store->of_user(call.token.user.str());
  if (!own) fail_with(own.error());
  std::optional<std::set<std::string>> wanted;
  if (call.args.contains("ids") && !call.args["ids"].is_null()) {
    if (!call.args["ids"].is_array()) fail("invalidArguments", "ids must be an array of ids or null");
    wanted.emplace();
    for (const auto& id : call.args["ids"]) {
      if (!id.is_string()) fail("invalidArguments", "ids must be an array of ids or null");
      wanted->insert(id.get<std::string>());
    }
  }
  json list = json::array(), not_found = json::array();
  for (const auto& s : *own) {
    if (!wanted || wanted->erase(s.id)) list.push_back(subscription_json(s));
  }
  if (wanted) {
    for (const auto& id : *wanted) not_found.push_back(id);  // another user's ids too
  }
  return {{"list", list}, {"notFound", not_found}, {"state", ""}};
}

// WebhookSubscription/set: create {url, accountIds (default: every account of
// the token)}, destroy [ids]; update is not offered (destroy and create).
json JmapApi::subscriptions_set(Call& call) {
  json created = json::object(), not_created = json::object();
  json destroyed = json::array(), not_destroyed = json::object();
  if (call.args.contains("update") && !call.args["update"].is_null()) {
    fail("invalidArguments", "a subscription cannot be updated: destroy it and create another");
  }
  auto invalid = [](const std::string& property, const std::string& description) {
    json e = method_error("invalidProperties", description);
    e["properties"] = json::array({property});
    return e;
  };
  if (auto it = call.args.find("create"); it != call.args.end() && !it->is_null()) {
    if (!it->is_object()) fail("invalidArguments", "create must be an object");
    auto existing = webhooks_.store->of_user(call.token.user.str());
    if (!existing) fail_with(existing.error());
    size_t held = existing->size();
    for (const auto& [cid, spec] : it->items()) {
      if (held >= kMaxSubscriptionsPerUser) {
        not_created[cid] = method_error("overQuota", "at most " + std::to_string(kMaxSubscriptionsPerUser) +
                                                         " webhook subscriptions per user: destroy one first");
        continue;
      }
      if (!spec.is_object() || !spec.contains("url") || !spec["url"].is_string()) {
        not_created[cid] = invalid("url", "url must be an http:// or https:// URL");
        continue;
      }
      notify::UserSubscription s;
      s.url = spec["url"].get<std::string>();
      const auto granted = accounts_for(call.token);
      if (!spec.contains("accountIds") || spec["accountIds"].is_null()) {
        for (const auto& a : granted) s.datastores.push_back(a.store->name);
      } else if (spec["accountIds"].is_array()) {
        for (const auto& id : spec["accountIds"]) {
          auto a = id.is_string() ? account(call.token, id.get<std::string>()) : std::nullopt;
          if (!a) {
            s.datastores.clear();
            break;
          }
          if (std::find(s.datastores.begin(), s.datastores.end(), a->store->name) == s.datastores.end()) {
            s.datastores.push_back(a->store->name);
          }
        }
      }
      if (s.datastores.empty()) {
        not_created[cid] = invalid("accountIds", "accountIds must name at least one of your accounts");
        continue;
      }
      if (Status st = webhooks_.check_url(s.url); !st.is_ok()) {
        not_created[cid] = invalid("url", st.message());
        continue;
      }
      s.id = notify::new_subscription_id();
      s.user = call.token.user.str();
      s.secret = notify::new_subscription_secret();
      s.created_at = webhooks_.clock->now_seconds();
      if (Status st = webhooks_.store->add(s); !st.is_ok()) {
        not_created[cid] = set_error(st);
        continue;
      }
      ++held;
      call.created_ids[cid] = s.id;
      json c = subscription_json(s);
      c["secret"] = s.secret;  // shown this once
      created[cid] = c;
    }
  }
  if (auto it = call.args.find("destroy"); it != call.args.end() && !it->is_null()) {
    if (!it->is_array()) fail("invalidArguments", "destroy must be an array of ids");
    for (const auto& entry : *it) {
      if (!entry.is_string()) fail("invalidArguments", "destroy must be an array of ids");
      std::string id = entry.get<std::string>();
      if (id.size() > 1 && id[0] == '#') {
        if (auto c = call.created_ids.find(id.substr(1)); c != call.created_ids.end()) id = c->second;
      }
      auto removed = webhooks_.store->remove(call.token.user.str(), id);
      if (!removed)
        not_destroyed[id] = set_error(removed.error());
      else if (!*removed)
        not_destroyed[id] = method_error("notFound");  // also another user's
      else
        destroyed.push_back(id);
    }
  }
  json out = {
      {"created", created}, {"updated", json::object()}, {"destroyed", destroyed}, {"oldState", ""}, {"newState", ""}};
  if (!not_created.empty()) out["notCreated"] = not_created;
  if (!not_destroyed.empty()) out["notDestroyed"] = not_destroyed;
  return out;
}

json JmapApi::run_method(Call& call) {
  const std::string& name = call.name;
  const size_t slash = name.find('/');
  const std::string type = slash == std::string::npos ? name : name.substr(0, slash);
  const std::string method = slash == std::string::npos ? "" : name.substr(slash + 1);
  if (name == "Core/echo") return call.args;
  if (type == "WebhookSubscription") {
    if (!call.using_caps.count(kWebhooks)) fail("unknownMethod", name + " needs " + kWebhooks + " in using");
    if (!webhooks_.store) fail("unknownMethod", "webhook subscriptions are not available on this server");
    if (method == "get") return subscriptions_get(call);
    if (method == "set") return subscriptions_set(call);
    fail("unknownMethod", "no method " + name);
  }
  if (type == "Conflict" || type == "SyncSession" || type == "Device") {
    if (!call.using_caps.count(kSyncRecords)) fail("unknownMethod", name + " needs " + kSyncRecords + " in using");
    if (name == "Conflict/get") return conflicts_get(call);
    if (name == "Conflict/set") return conflicts_set(call);
    if (name == "SyncSession/get") return sessions_get(call);
    if (name == "Device/get") return devices_get(call);
    fail("unknownMethod", "no method " + name);
  }
  // The collections: one per account, of the type of objects they hold.
  static const std::map<std::string, Type> collection_types = {
      {"AddressBook", Type::kContact}, {"Calendar", Type::kEvent}, {"TaskList", Type::kTask}};
  const TypeInfo* object_type = nullptr;
  for (const auto& t : type_infos()) {
    if (type == t.name) object_type = &t;
  }
  if (auto c = collection_types.find(type); c != collection_types.end()) object_type = &info(c->second);
  if (!object_type) fail("unknownMethod", "no method " + name);
  if (!call.using_caps.count(object_type->capability)) {
    fail("unknownMethod", name + " needs " + object_type->capability + " in using");
  }
  if (collection_types.count(type)) {
    if (method == "get") return collections(call, object_type->type);
    fail("unknownMethod", "no method " + name);
  }
  if (method == "get") return get(call, object_type->type);
  if (method == "changes") return changes(call, object_type->type);
  if (method == "set") return set(call, object_type->type);
  if (method == "query") return query(call, object_type->type);
  if (method == "queryChanges") {
    // RFC 8620 §5.6 lets a server always answer so; the client queries again.
    one_account(call, object_type->type);
    fail("cannotCalculateChanges", "query results are not tracked; run " + type + "/query again");
  }
  fail("unknownMethod", "no method " + name);
}

JmapReply JmapApi::api(const caf::Token& token, const std::string& content_type, const std::string& body) {
  if (lower(content_type).rfind("application/json", 0) != 0) {
    return problem("notJSON", "the request's Content-Type must be application/json");
  }
  json request = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (request.is_discarded()) return problem("notJSON", "the request body is not valid JSON");
  if (!request.is_object() || !request.contains("using") || !request["using"].is_array() ||
      !request.contains("methodCalls") || !request["methodCalls"].is_array()) {
    return problem("notRequest", "a Request object needs \"using\" and \"methodCalls\" arrays");
  }
  std::set<std::string> using_caps;
  for (const auto& cap : request["using"]) {
    if (!cap.is_string()) return problem("notRequest", "\"using\" must hold capability strings");
    if (cap != kCore && cap != kContacts && cap != kCalendars && cap != kTasks && cap != kNotes &&
        cap != kSyncRecords && cap != kWebhooks) {
      return problem("unknownCapability", "the server does not support " + cap.get<std::string>());
    }
    using_caps.insert(cap.get<std::string>());
  }
  const json& calls = request["methodCalls"];
  if (calls.size() > limits_.max_calls_in_request) {
    json p = json::parse(problem("limit", "more than maxCallsInRequest method calls").body);
    p["limit"] = "maxCallsInRequest";
    return JmapReply{400, "application/problem+json", p.dump()};
  }
  for (const auto& c : calls) {
    if (!c.is_array() || c.size() != 3 || !c[0].is_string() || !c[1].is_object() || !c[2].is_string()) {
      return problem("notRequest", "each method call is [name, arguments object, call id]");
    }
  }

  std::map<std::string, std::string> created_ids;
  if (request.contains("createdIds") && request["createdIds"].is_object()) {
    for (const auto& [cid, id] : request["createdIds"].items()) {
      if (id.is_string()) created_ids[cid] = id.get<std::string>();
    }
  }
  json responses = json::array();
  for (const auto& c : calls) {
    const std::string name = c[0];
    const std::string call_id = c[2];
    json args = c[1];
    try {
      // Back-references (RFC 8620 §3.7).
      json resolved = json::object();
      for (const auto& [key, value] : args.items()) {
        if (key.empty() || key[0] != '#') continue;
        if (args.contains(key.substr(1))) fail("invalidArguments", key.substr(1) + " is given twice");
        if (!value.is_object() || !value.contains("resultOf") || !value.contains("name") || !value.contains("path") ||
            !value["path"].is_string()) {
          fail("invalidResultReference", key + " is not a ResultReference");
        }
        const json* source = nullptr;
        for (const auto& r : responses) {
          if (r[2] == value["resultOf"] && r[0] == value["name"]) source = &r[1];
        }
        if (!source) fail("invalidResultReference", key + ": no earlier response " + value["name"].dump());
        auto result = evaluate_pointer(*source, value["path"].get<std::string>());
        if (!result) fail("invalidResultReference", key + ": path " + value["path"].dump() + " does not resolve");
        resolved[key.substr(1)] = std::move(*result);
      }
      for (auto it = args.begin(); it != args.end();) {
        if (!it.key().empty() && it.key()[0] == '#')
          it = args.erase(it);
        else
          ++it;
      }
      for (auto& [key, value] : resolved.items()) args[key] = std::move(value);

      Call call{token, name, std::move(args), using_caps, created_ids};
      json result = run_method(call);
      responses.push_back(json::array({name, std::move(result), call_id}));
    } catch (const MethodError& e) {
      responses.push_back(json::array({"error", e.error, call_id}));
    } catch (const json::exception& e) {
      // An argument of the wrong JSON type deep in a method.
      responses.push_back(json::array({"error", method_error("invalidArguments", e.what()), call_id}));
    }
  }
  json out = {{"methodResponses", std::move(responses)}, {"sessionState", session(token, "")["state"]}};
  if (!created_ids.empty()) out["createdIds"] = created_ids;
  return JmapReply{200, "application/json", out.dump()};
}

}  // namespace conflux::portal
