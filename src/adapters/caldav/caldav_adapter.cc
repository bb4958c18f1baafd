#include "adapters/caldav/caldav_adapter.h"

#include <curl/curl.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <utility>

#include "caf/tracked_adapter.h"
#include "common/digest.h"
#include "common/log.h"

namespace conflux::adapters {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxIdBytes = 200;
constexpr int kMaxSyncRounds = 10000;  // a server that says "truncated" forever is out of order

const char* kXmlType = "Content-Type: application/xml; charset=utf-8";

auto log() { return logger("adapter.caldav"); }

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string with_slash(std::string url) {
  if (url.empty() || url.back() != '/') url += '/';
  return url;
}

// An id Conflux may turn into an href segment as it is: only characters no
// server percent-encodes, so the href it lists back is the one we wrote.
bool valid_id(const std::string& id) {
  if (id.empty() || id.size() > kMaxIdBytes || id[0] == '.') return false;
  return std::all_of(id.begin(), id.end(),
                     [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '_' || c == '.'; });
}

std::string percent_encode(const std::string& text) {
  char* escaped = curl_easy_escape(nullptr, text.c_str(), static_cast<int>(text.size()));
  if (escaped == nullptr) return text;
  std::string out(escaped);
  curl_free(escaped);
  return out;
}

std::string last_segment(const std::string& path) {
  std::string p = path;
  while (!p.empty() && p.back() == '/') p.pop_back();
  const size_t slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

bool has_condition(const HttpResponse& r, const char* name) {
  auto conditions = parse_error_conditions(r.body);
  return std::find(conditions.begin(), conditions.end(), name) != conditions.end();
}

bool success(const HttpResponse& r) { return r.status >= 200 && r.status < 300; }

std::vector<caf::ApplyResult> fail_all(size_t n, const Status& status) {
  std::vector<caf::ApplyResult> results(n);
  for (auto& r : results) r.status = status;
  return results;
}

std::optional<DavKind> kind_of(const std::string& content_type) {
  std::string type = content_type;
  std::transform(type.begin(), type.end(), type.begin(), [](unsigned char c) { return std::tolower(c); });
  if (type == "text/vcard" || type == "text/x-vcard") return DavKind::kAddressbook;
  if (type == "text/calendar") return DavKind::kCalendar;
  return std::nullopt;
}

Result<std::string> read_secret_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::unavailable("cannot read secret file " + path);
  std::string line;
  std::getline(in, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

// The value of the first UID line of a vCard or iCalendar text; empty when
// there is none. UIDs are short: a folded UID line is not worth unfolding.
std::string uid_of(const std::string& data) {
  size_t at = 0;
  while (at < data.size()) {
    size_t end = data.find('\n', at);
    if (end == std::string::npos) end = data.size();
    std::string line = data.substr(at, end - at);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.size() > 4 && (line.compare(0, 4, "UID:") == 0 || line.compare(0, 4, "UID;") == 0)) {
      return line.substr(line.find(':') + 1);
    }
    at = end + 1;
  }
  return "";
}

// RFC 6352 §5.1 and RFC 4791 §4.1: every address object and calendar
// component on a DAV server has a UID (Radicale refuses one without: 400).
// Devices often send none; `uid` is put in, after BEGIN:VCARD or the first
// BEGIN of a VEVENT/VTODO/VJOURNAL, with the text's own line ends.
std::string with_uid(const std::string& data, const std::string& uid) {
  if (!uid_of(data).empty()) return data;
  const std::string eol = data.find("\r\n") != std::string::npos ? "\r\n" : "\n";
  for (const char* begin : {"BEGIN:VCARD", "BEGIN:VEVENT", "BEGIN:VTODO", "BEGIN:VJOURNAL"}) {
    size_t at = data.find(begin);
    if (at == std::string::npos) continue;
    size_t line_end = data.find('\n', at);
    if (line_end == std::string::npos) break;
    return data.substr(0, line_end + 1) + "UID:" + uid + eol + data.substr(line_end + 1);
  }
  return data;  // no object to give one to: the server says what it thinks of it
}

}  // namespace

// ---------------------------------------------------------------------------
// DavCollections

DavCollections::DavCollections(const CaldavAdapterConfig& config) : config_(config), http_(config.http) {}

void DavCollections::remember_login(const UserId& user, DavLogin login) {
  std::lock_guard guard(mutex_);
  user_logins_[user.str()] = std::move(login);
}

void DavCollections::forget_sync_tokens() {
  std::lock_guard guard(mutex_);
  for (auto& [user, state] : states_) {
    state.sync_token.clear();
    state.ctag.clear();
    state.listed_in_session.clear();
  }
}

std::map<std::string, int64_t> DavCollections::request_counts() const {
  std::lock_guard guard(mutex_);
  return requests_;
}

Result<HttpResponse> DavCollections::send(const std::string& label, const std::string& method, const std::string& url,
                                          const DavLogin& login, const std::vector<std::string>& headers,
                                          const std::string& body) {
  ++requests_[label];
  auto response = http_.request(method, url, login, headers, body);
  if (!response) return response.error();
  log()->debug("{} {} -> {}", label, url_path(url), response->status);
  return response;
}

Result<DavLogin> DavCollections::login_for(const caf::StoreRef& store) {
  if (config_.login == caf::BackendLogin::kService) return *config_.service_login;
  if (store.credentials && store.credentials->user == store.user &&
      store.credentials->scheme == caf::CredentialScheme::kPassword) {
    user_logins_[store.user.str()] = DavLogin{store.user.str(), store.credentials->secret};
  }
  auto it = user_logins_.find(store.user.str());
  // Not kUnauthenticated: the user did nothing wrong; the Cache Monitor
  // retries, and the user's next login brings the password.
  if (it == user_logins_.end()) {
    return Status::unavailable("per-user login: no password of user '" + store.user.str() +
                               "' since the server started (it comes with the user's next login)");
  }
  return it->second;
}

Status DavCollections::check_login(const UserId& user, const DavLogin& login) {
  std::lock_guard guard(mutex_);
  const std::string url = !config_.url.empty() ? config_.url : with_slash(url_origin(config_.collection_url));
  auto r = send("PROPFIND login", "PROPFIND", url, login, {"Depth: 0", kXmlType}, propfind_discovery_body());
  if (!r) return r.error();
  if (r->status == 401) return http_status_error("PROPFIND " + url_path(url), *r);
  if (r->status >= 500) return http_status_error("PROPFIND " + url_path(url), *r);
  // Any other answer (207, or 403/404 for a root the login may not list)
  // means the server took the login.
  return Status::ok();
}

Result<std::string> DavCollections::discover(const UserId& user, const DavLogin& login) {
  if (!config_.collection_url.empty()) {
    std::string url = config_.collection_url;
    const std::string encoded = percent_encode(user.str());
    for (size_t at = url.find("{user}"); at != std::string::npos; at = url.find("{user}", at + encoded.size())) {
      url.replace(at, 6, encoded);
    }
    return with_slash(url);
  }
  auto propfind = [&](const std::string& url, const char* depth) -> Result<Multistatus> {
    auto r = send("PROPFIND discovery", "PROPFIND", url, login, {depth, kXmlType}, propfind_discovery_body());
    if (!r) return r.error();
    if (r->status != 207) return http_status_error("discovery PROPFIND " + url_path(url), *r);
    return parse_multistatus(r->body);
  };
  // RFC 6764 §6: the configured URL, else the well-known one.
  std::string principal;
  const char* well_known = config_.kind == DavKind::kAddressbook ? "/.well-known/carddav" : "/.well-known/caldav";
  for (const std::string& url : {config_.url, url_origin(config_.url) + well_known}) {
    auto ms = propfind(url, "Depth: 0");
    if (!ms) {
      if (ms.error().is_unavailable() || ms.error().code() == StatusCode::kUnauthenticated) return ms.error();
      continue;
    }
    for (const auto& r : ms->responses) {
      if (!r.principal_href.empty()) principal = absolute_url(url, r.principal_href);
    }
    if (!principal.empty()) break;
  }
  if (principal.empty()) {
    return Status::failed_precondition("discovery: " + config_.url + " names no current-user-principal");
  }
  auto ms = propfind(principal, "Depth: 0");
  if (!ms) return ms.error().with_context("discovery");
  std::string home;
  for (const auto& r : ms->responses) {
    if (!r.home_href.empty()) home = absolute_url(principal, r.home_href);
  }
  if (home.empty())
    return Status::failed_precondition("discovery: principal " + url_path(principal) + " has no home set");
  ms = propfind(home, "Depth: 1");
  if (!ms) return ms.error().with_context("discovery");
  for (const auto& r : ms->responses) {
    const bool fits = config_.kind == DavKind::kAddressbook
                          ? r.is_addressbook
                          : r.is_calendar && (r.components.empty() || r.components.count(config_.component));
    if (!fits) continue;
    if (!config_.collection.empty() && last_segment(url_path(absolute_url(home, r.href))) != config_.collection)
      continue;
    return with_slash(absolute_url(home, r.href));
  }
  return Status::not_found(
      "discovery: no " +
      std::string(config_.kind == DavKind::kAddressbook ? "address book" : "calendar for " + config_.component) +
      (config_.collection.empty() ? "" : " named '" + config_.collection + "'") + " under " + url_path(home));
}

Status DavCollections::probe(UserState& state, const DavLogin& login) {
  auto r =
      send("PROPFIND collection", "PROPFIND", state.url, login, {"Depth: 0", kXmlType}, propfind_collection_body());
  if (!r) return r.error();
  if (r->status == 404) return Status::not_found("DAV collection " + url_path(state.url) + " does not exist");
  if (r->status != 207) return http_status_error("PROPFIND " + url_path(state.url), *r);
  auto ms = parse_multistatus(r->body);
  if (!ms) return ms.error();
  if (ms->responses.empty()) return Status::unavailable("PROPFIND " + url_path(state.url) + ": empty multistatus");
  const DavResponse& c = ms->responses.front();
  if (config_.kind == DavKind::kAddressbook && !c.is_addressbook) {
    return Status::failed_precondition(url_path(state.url) + " is no address book");
  }
  if (config_.kind == DavKind::kCalendar) {
    if (!c.is_calendar) return Status::failed_precondition(url_path(state.url) + " is no calendar");
    if (!c.components.empty() && !c.components.count(config_.component)) {
      return Status::failed_precondition(url_path(state.url) + " holds no " + config_.component);
    }
  }
  state.sync_collection = c.reports.count("sync-collection") && config_.quirks.trust_sync_collection;
  state.probed = true;
  log()->info("collection {}: {}", url_path(state.url),
              state.sync_collection ? "sync-collection (RFC 6578)" : "CTag and ETag listing");
  return Status::ok();
}

Result<DavCollections::UserState*> DavCollections::state_for(const caf::StoreRef& store, const DavLogin& login) {
  UserState& state = states_[store.user.str()];
  if (state.url.empty()) {
    auto url = discover(store.user, login);
    if (!url) return url.error();
    state.url = *url;
  }
  if (!state.probed) CFX_RETURN_IF_ERROR(probe(state, login));
  return &state;
}

std::string DavCollections::id_for_href(const std::string& href, const std::map<std::string, Member>& taken) const {
  std::string segment = last_segment(url_path(href));
  if (ends_with(segment, config_.extension) && segment.size() > config_.extension.size()) {
    std::string id = segment.substr(0, segment.size() - config_.extension.size());
    if (!taken.count(id)) return id;
  }
  return segment;
}

DavCollections::Member DavCollections::listed_member(const UserState& state, const std::string& id,
                                                     const std::string& path, const std::string& etag) {
  Member m{path, etag, "", ""};
  if (auto old = state.members.find(id); old != state.members.end() && old->second.etag == etag) {
    m.revision = old->second.revision;
    m.uid = old->second.uid;
  }
  return m;
}

Status DavCollections::list_by_sync_collection(UserState& state, const DavLogin& login) {
  const std::string collection_path = url_path(state.url);
  for (int round = 0; round < kMaxSyncRounds; ++round) {
    const bool full = state.sync_token.empty();
    auto r = send("REPORT sync-collection", "REPORT", state.url, login, {"Depth: 0", kXmlType},
                  sync_collection_body(state.sync_token));
    if (!r) return r.error();
    // RFC 6578 §3.2: a token the server no longer knows; Radicale says 403,
    // others 409. List everything again; the tracker reconciles.
    if ((r->status == 403 || r->status == 409) && !full && has_condition(*r, "valid-sync-token")) {
      log()->info("collection {}: the server no longer knows our sync token; listing it in full", collection_path);
      state.sync_token.clear();
      continue;
    }
    if (r->status == 404) return Status::not_found("DAV collection " + collection_path + " does not exist");
    if (r->status != 207) return http_status_error("REPORT sync-collection " + collection_path, *r);
    auto ms = parse_multistatus(r->body);
    if (!ms) return ms.error();

    std::map<std::string, Member> members = full ? std::map<std::string, Member>() : state.members;
    std::map<std::string, std::string> id_by_href;
    for (const auto& [id, m] : state.members) id_by_href[url_path(absolute_url(state.url, m.href))] = id;
    bool truncated = false;
    for (const DavResponse& item : ms->responses) {
      const std::string path = url_path(absolute_url(state.url, item.href));
      if (with_slash(path) == collection_path) {
        truncated = truncated || item.status == 507;  // RFC 6578 §3.6
        continue;
      }
      if (ends_with(path, "/")) continue;  // a sub-collection is no item
      auto known = id_by_href.find(path);
      if (item.status == 404 || item.status == 410) {
        if (known != id_by_href.end()) members.erase(known->second);
        continue;
      }
      const std::string id = known != id_by_href.end() ? known->second : id_for_href(path, members);
      members[id] = listed_member(state, id, path, item.etag);
    }
    state.members = std::move(members);
    state.sync_token = ms->sync_token;
    if (!truncated) return Status::ok();
    log()->debug("collection {}: result truncated (507), asking again", collection_path);
  }
  return Status::unavailable("REPORT sync-collection " + collection_path + ": the server never stops truncating");
}

Status DavCollections::list_by_propfind(UserState& state, const DavLogin& login) {
  auto r =
      send("PROPFIND collection", "PROPFIND", state.url, login, {"Depth: 0", kXmlType}, propfind_collection_body());
  if (!r) return r.error();
  if (r->status == 404) return Status::not_found("DAV collection " + url_path(state.url) + " does not exist");
  if (r->status != 207) return http_status_error("PROPFIND " + url_path(state.url), *r);
  auto head = parse_multistatus(r->body);
  if (!head) return head.error();
  const std::string ctag = head->responses.empty() ? "" : head->responses.front().ctag;
  if (!ctag.empty() && ctag == state.ctag) return Status::ok();  // nothing changed: one request

  r = send("PROPFIND members", "PROPFIND", state.url, login, {"Depth: 1", kXmlType}, propfind_etags_body());
  if (!r) return r.error();
  if (r->status != 207) return http_status_error("PROPFIND " + url_path(state.url), *r);
  auto ms = parse_multistatus(r->body);
  if (!ms) return ms.error();
  std::map<std::string, std::string> id_by_href;
  for (const auto& [id, m] : state.members) id_by_href[m.href] = id;
  std::map<std::string, Member> members;
  const std::string collection_path = url_path(state.url);
  for (const DavResponse& item : ms->responses) {
    const std::string path = url_path(absolute_url(state.url, item.href));
    if (with_slash(path) == collection_path || ends_with(path, "/") || item.is_collection) continue;
    auto known = id_by_href.find(path);
    const std::string id = known != id_by_href.end() ? known->second : id_for_href(path, members);
    members[id] = listed_member(state, id, path, item.etag);
  }
  state.members = std::move(members);
  state.ctag = ctag;
  return Status::ok();
}

Status DavCollections::settle_revisions(UserState& state, const DavLogin& login,
                                        const std::map<std::string, std::string>& old_etags) {
  std::vector<std::string> to_hash;
  for (auto& [id, m] : state.members) {
    const bool hash = config_.quirks.etags_unreliable || m.etag.empty();
    if (!hash) {
      m.revision = m.etag;
      continue;
    }
    auto old = old_etags.find(id);
    if (m.revision.empty() || m.etag.empty() || old == old_etags.end() || old->second != m.etag) to_hash.push_back(id);
  }
  if (to_hash.empty()) return Status::ok();
  CFX_RETURN_IF_ERROR(multiget(state, login, to_hash));
  for (const std::string& id : to_hash) {
    auto body = state.bodies.find(id);
    if (body == state.bodies.end()) {
      state.members.erase(id);  // gone between listing and fetching: the next listing agrees
      continue;
    }
    state.members[id].revision = "sha256:" + sha256_hex(body->second);
  }
  return Status::ok();
}

Status DavCollections::multiget(UserState& state, const DavLogin& login, const std::vector<std::string>& ids) {
  const size_t batch = std::max<size_t>(1, std::min(config_.multiget_batch, config_.quirks.max_multiget));
  const char* label =
      config_.kind == DavKind::kAddressbook ? "REPORT addressbook-multiget" : "REPORT calendar-multiget";
  for (size_t begin = 0; begin < ids.size(); begin += batch) {
    std::vector<std::string> hrefs;
    std::map<std::string, std::string> id_by_path;
    for (size_t i = begin; i < std::min(ids.size(), begin + batch); ++i) {
      auto m = state.members.find(ids[i]);
      if (m == state.members.end()) continue;
      hrefs.push_back(m->second.href);
      id_by_path[m->second.href] = ids[i];
    }
    if (hrefs.empty()) continue;
    auto r = send(label, "REPORT", state.url, login, {"Depth: 1", kXmlType}, multiget_body(config_.kind, hrefs));
    if (!r) return r.error();
    if (r->status != 207) return http_status_error(std::string(label) + " " + url_path(state.url), *r);
    auto ms = parse_multistatus(r->body);
    if (!ms) return ms.error();
    for (DavResponse& item : ms->responses) {
      if (!item.has_data) continue;
      auto id = id_by_path.find(url_path(absolute_url(state.url, item.href)));
      if (id == id_by_path.end()) continue;
      state.members[id->second].uid = uid_of(item.data);
      state.bodies[id->second] = std::move(item.data);
    }
  }
  return Status::ok();
}

Result<std::map<std::string, std::string>> DavCollections::list(const caf::StoreRef& store) {
  std::lock_guard guard(mutex_);
  auto login = login_for(store);
  if (!login) return login.error();
  auto state = state_for(store, *login);
  if (!state) return state.error();
  UserState& s = **state;
  s.bodies.clear();  // what the last call prefetched and did not read
  // One listing per sync session: the session's later calls (a message's
  // read, a batch's writes) take it with Conflux's own writes folded in,
  // instead of asking again (on Radicale each sync-collection hashes every
  // member). Others' changes meanwhile come with the next session; a write
  // over one meets its If-Match and is refused (412), never lost. Keyed by
  // the session, not the token: two sessions in one second get equal tokens.
  if (!store.session.empty() && s.listed_in_session == store.session) return listing_of(s);
  std::map<std::string, std::string> old_etags;
  for (const auto& [id, m] : s.members) old_etags[id] = m.etag;
  CFX_RETURN_IF_ERROR(s.sync_collection ? list_by_sync_collection(s, *login) : list_by_propfind(s, *login));
  CFX_RETURN_IF_ERROR(settle_revisions(s, *login, old_etags));
  s.listed_in_session = store.session;
  return listing_of(s);
}

std::map<std::string, std::string> DavCollections::listing_of(const UserState& state) {
  std::map<std::string, std::string> listing;
  for (const auto& [id, m] : state.members) listing.emplace(id, m.revision);
  return listing;
}

void DavCollections::prefetch(const caf::StoreRef& store, const std::vector<std::string>& ids) {
  std::lock_guard guard(mutex_);
  auto login = login_for(store);
  if (!login) return;
  auto state = state_for(store, *login);
  if (!state) return;
  std::vector<std::string> wanted;
  for (const std::string& id : ids) {
    if (!(*state)->bodies.count(id)) wanted.push_back(id);
  }
  if (Status fetched = multiget(**state, *login, wanted); !fetched.is_ok()) {
    log()->debug("prefetch of {} items failed, reading one by one: {}", wanted.size(), fetched.to_string());
  }
}

Result<std::string> DavCollections::read(const caf::StoreRef& store, const std::string& id) {
  std::lock_guard guard(mutex_);
  auto login = login_for(store);
  if (!login) return login.error();
  auto state = state_for(store, *login);
  if (!state) return state.error();
  UserState& s = **state;
  if (auto body = s.bodies.find(id); body != s.bodies.end()) {
    std::string data = std::move(body->second);
    s.bodies.erase(body);
    return data;
  }
  auto m = s.members.find(id);
  if (m == s.members.end()) return Status::not_found("no DAV item '" + id + "'");
  auto r = send("GET", "GET", absolute_url(s.url, m->second.href), *login, {}, "");
  if (!r) return r.error();
  if (r->status != 200) return http_status_error("GET " + m->second.href, *r);
  m->second.uid = uid_of(r->body);
  return std::move(r->body);
}

std::string DavCollections::if_match(const std::string& etag) const {
  if (config_.quirks.quote_bare_etags && !etag.empty() && etag.front() != '"' && etag.rfind("W/", 0) != 0) {
    return "If-Match: \"" + etag + "\"";
  }
  return "If-Match: " + etag;
}

Result<std::string> DavCollections::etag_after_put(UserState& state, const DavLogin& login, const std::string& href,
                                                   const HttpResponse& response) {
  if (const std::string* etag = response.header("etag"); etag && !etag->empty()) return *etag;
  // A server that changed what we sent returns no ETag (RFC 4791 §5.3.4):
  // ask for it, or the next listing would take our own write for a change.
  auto r = send("PROPFIND etag", "PROPFIND", absolute_url(state.url, href), login, {"Depth: 0", kXmlType},
                propfind_etags_body());
  if (!r) return r.error();
  if (r->status != 207) return std::string();
  auto ms = parse_multistatus(r->body);
  if (!ms || ms->responses.empty()) return std::string();
  return ms->responses.front().etag;
}

Result<std::string> DavCollections::write(const caf::StoreRef& store, const std::string& id, std::string_view raw,
                                          WriteMode mode) {
  std::lock_guard guard(mutex_);
  auto login = login_for(store);
  if (!login) return login.error();
  auto state = state_for(store, *login);
  if (!state) return state.error();
  return put(**state, *login, id, raw, mode, nullptr);
}

Result<caf::TrackedBackend::Created> DavCollections::create(const caf::StoreRef& store, const std::string& id,
                                                            std::string_view raw) {
  std::lock_guard guard(mutex_);
  auto login = login_for(store);
  if (!login) return login.error();
  auto state = state_for(store, *login);
  if (!state) return state.error();
  UserState& s = **state;
  bool uid_taken = false;
  auto revision = put(s, *login, id, raw, WriteMode::kCreate, &uid_taken);
  if (revision) return Created{std::move(*revision), id};
  if (!uid_taken) return revision.error();
  // RFC 6352 §6.3.2.1, RFC 4791 §5.3.2.1: the server holds this UID under
  // another href already (SyncEvolution looks it up the same way): the
  // device sends an item the server has, so it becomes an update of that one.
  const std::string raw_uid = uid_of(std::string(raw));
  auto holder = find_by_uid(s, *login, raw_uid.empty() ? id : raw_uid);
  if (!holder) return holder.error();
  if (holder->empty()) return revision.error();
  log()->info("collection {}: the new item's UID is held by member {}: updating that one", url_path(s.url), *holder);
  auto updated = put(s, *login, *holder, raw, WriteMode::kReplace, nullptr);
  if (!updated) return updated.error();
  return Created{std::move(*updated), *holder};
}

Result<std::string> DavCollections::find_by_uid(UserState& s, const DavLogin& login, const std::string& uid) {
  const char* label = config_.kind == DavKind::kAddressbook ? "REPORT addressbook-query" : "REPORT calendar-query";
  auto r =
      send(label, "REPORT", s.url, login, {"Depth: 1", kXmlType}, uid_query_body(config_.kind, config_.component, uid));
  if (!r) return r.error();
  if (r->status != 207) return http_status_error(std::string(label) + " " + url_path(s.url), *r);
  auto ms = parse_multistatus(r->body);
  if (!ms) return ms.error();
  std::map<std::string, std::string> id_by_path;
  for (const auto& [id, m] : s.members) id_by_path[url_path(absolute_url(s.url, m.href))] = id;
  for (const DavResponse& item : ms->responses) {
    if (!item.has_data || uid_of(item.data) != uid) continue;  // CalDAV's text-match finds substrings
    const std::string path = url_path(absolute_url(s.url, item.href));
    auto known = id_by_path.find(path);
    if (known != id_by_path.end()) return known->second;
    // Put there since our listing (by another client): a member from now on.
    const std::string id = id_for_href(path, s.members);
    s.members[id] = Member{path, item.etag, item.etag, uid};
    return id;
  }
  return std::string();
}

Result<std::string> DavCollections::put(UserState& s, const DavLogin& login, const std::string& id,
                                        std::string_view raw, WriteMode mode, bool* uid_taken) {
  std::vector<std::string> headers = {"Content-Type: " + config_.content_type + "; charset=utf-8"};
  std::string href;
  auto existing = s.members.find(id);
  if (mode == WriteMode::kCreate) {
    if (!valid_id(id)) return Status::invalid_argument("'" + id + "' cannot be a DAV href");
    if (existing != s.members.end()) return Status::already_exists("DAV item '" + id + "' exists");
    href = url_path(s.url) + id + config_.extension;
    headers.push_back("If-None-Match: *");
  } else {
    if (existing == s.members.end()) return Status::not_found("no DAV item '" + id + "'");
    href = existing->second.href;
    if (!existing->second.etag.empty()) headers.push_back(if_match(existing->second.etag));
  }
  // An edit keeps the item's UID on the server (other clients know it by
  // that); a new item without one gets its id.
  std::string uid = mode == WriteMode::kCreate ? id : existing->second.uid;
  if (uid.empty() && uid_of(std::string(raw)).empty()) {
    auto r = send("GET", "GET", absolute_url(s.url, href), login, {}, "");
    if (!r) return r.error();
    if (r->status == 200) uid = uid_of(r->body);
    if (uid.empty()) uid = id;
  }
  const std::string body = with_uid(std::string(raw), uid);
  const std::string what = "PUT " + href;
  auto r = send("PUT", "PUT", absolute_url(s.url, href), login, headers, body);
  if (!r) return r.error();
  if (!success(*r)) {
    if ((r->status == 409 || r->status == 403) && has_condition(*r, "no-uid-conflict")) {
      const std::string other = parse_no_uid_conflict_href(r->body);
      if (uid_taken) *uid_taken = true;
      return Status::failed_precondition(what + ": the DAV server holds this UID already" +
                                         (other.empty() ? "" : " as " + other));
    }
    if (r->status == 412 && mode == WriteMode::kCreate) return Status::already_exists(what + ": exists");
    // Changed by another client since our listing: the session's next call
    // lists again, so the engine's conflict policy sees the server's version.
    if (r->status == 412) s.listed_in_session.clear();
    return http_status_error(what, *r);
  }
  auto etag = etag_after_put(s, login, href, *r);
  if (!etag) return etag.error();
  Member m{href, *etag, "", uid_of(body)};
  m.revision = config_.quirks.etags_unreliable || etag->empty() ? "sha256:" + sha256_hex(body) : *etag;
  std::string revision = m.revision;
  s.members[id] = std::move(m);
  return revision;
}

Status DavCollections::remove(const caf::StoreRef& store, const std::string& id) {
  std::lock_guard guard(mutex_);
  auto login = login_for(store);
  if (!login) return login.error();
  auto state = state_for(store, *login);
  if (!state) return state.error();
  UserState& s = **state;
  auto m = s.members.find(id);
  if (m == s.members.end()) return Status::not_found("no DAV item '" + id + "'");
  std::vector<std::string> headers;
  if (!m->second.etag.empty()) headers.push_back(if_match(m->second.etag));
  const std::string href = m->second.href;
  auto r = send("DELETE", "DELETE", absolute_url(s.url, href), *login, headers, "");
  if (!r) return r.error();
  if (success(*r) || r->status == 404 || r->status == 410) s.members.erase(id);
  if (success(*r)) return Status::ok();
  if (r->status == 412) s.listed_in_session.clear();  // as in put()
  return http_status_error("DELETE " + href, *r);
}

// ---------------------------------------------------------------------------
// CaldavAdapter

CaldavAdapter::CaldavAdapter(const CaldavAdapterConfig& config, const caf::StoreSettings& settings)
    : store_name_(settings.name),
      content_type_(settings.content_type),
      collections_(std::make_unique<DavCollections>(config)) {}

Result<std::shared_ptr<CaldavAdapter>> CaldavAdapter::open(const CaldavAdapterConfig& config,
                                                           const caf::StoreSettings& settings) {
  std::shared_ptr<CaldavAdapter> adapter(new CaldavAdapter(config, settings));
  auto tracker = caf::RevisionTracker::open(config.tracker_file, *adapter->collections_, settings.content_type);
  if (!tracker) return tracker.error();
  adapter->tracker_ = std::move(*tracker);
  return adapter;
}

caf::AdapterCaps CaldavAdapter::caps() const { return caf::kCapOwnAccounts | caf::kCapTombstones | caf::kCapSearch; }

Status CaldavAdapter::verify_credentials(const std::string& database, const caf::Credentials& creds) {
  if (creds.scheme != caf::CredentialScheme::kPassword) {
    return Status::unauthenticated("the DAV server needs the password itself (syncml:auth-basic), not an MD5 digest");
  }
  DavLogin login{creds.user.str(), creds.secret};
  Status accepted = collections_->check_login(creds.user, login);
  if (accepted.is_ok()) collections_->remember_login(creds.user, std::move(login));
  return accepted;
}

Status CaldavAdapter::begin_connect(const UserId& user, const caf::Credentials* credentials) {
  if (credentials && credentials->scheme == caf::CredentialScheme::kPassword && credentials->user == user) {
    collections_->remember_login(user, DavLogin{user.str(), credentials->secret});
  }
  return Status::ok();
}

Result<Anchor> CaldavAdapter::current_anchor(const caf::StoreRef& store) {
  auto anchor = tracker_->current_anchor(store);
  if (!anchor) return anchor.error().with_context("caldav current_anchor");
  return anchor;
}

Result<caf::ChangeSet> CaldavAdapter::changes_since(const caf::StoreRef& store, const Anchor& since) {
  auto set = tracker_->changes_since(store, since);
  if (!set) return set.error().with_context("caldav changes_since");
  return set;
}

std::vector<caf::ApplyResult> CaldavAdapter::apply(const caf::StoreRef& store, std::vector<caf::SyncObj>&& batch) {
  if (store.user.empty() || store.database.empty()) {
    return fail_all(batch.size(), Status::invalid_argument("caldav adapter: call without a user or database"));
  }
  if (batch.empty()) return {};
  const auto store_kind = kind_of(content_type_);
  return caf::apply_tracked(
      *tracker_, store, std::move(batch),
      [&](const caf::SyncObj& obj) {
        if (obj.action == caf::Action::kDelete || obj.content_type.empty() || kind_of(obj.content_type) == store_kind) {
          return Status::ok();
        }
        return Status::invalid_argument("caldav: an item of type " + obj.content_type +
                                        " cannot go into a collection of " + content_type_);
      },
      "caldav");
}

Result<std::vector<caf::SyncObj>> CaldavAdapter::search(const caf::StoreRef& store, const caf::Query& query) {
  auto found = tracker_->search(store, query);
  if (!found) return found.error().with_context("caldav search");
  return found;
}

Result<caf::ExecResult> CaldavAdapter::execute(const caf::StoreRef& store, const caf::Command& command) {
  if (!command.args.empty()) {
    return Status::invalid_argument("caldav " + command.name + ": unknown argument '" + command.args.begin()->first +
                                    "'");
  }
  if (command.name == "resync") {
    collections_->forget_sync_tokens();
    auto changes = tracker_->refresh(store);
    if (!changes) return changes.error().with_context("caldav resync");
    return caf::ExecResult{std::to_string(*changes)};
  }
  if (auto answered = caf::tracked_command(*tracker_, store, command, "caldav")) return std::move(*answered);
  if (command.name == "requests") {
    std::string out;
    for (const auto& [label, n] : collections_->request_counts()) out += label + ": " + std::to_string(n) + "\n";
    return caf::ExecResult{out};
  }
  return Status::unimplemented("caldav adapter: unknown command '" + command.name + "'");
}

// ---------------------------------------------------------------------------
// CaldavAdapterFactory

Result<caf::OptionKeys> CaldavAdapterFactory::keys(const caf::StoreSettings&) const {
  std::vector<std::string> quirks;
  for (const auto& q : dav_server_quirks()) quirks.push_back(q.name);
  return caf::OptionKeys{
      "adapter caldav",
      {caf::non_empty_option("url", "a base URL to discover collections from"),
       caf::non_empty_option("collection_url", "each user's collection URL, with {user}"),
       caf::non_empty_option("collection", "the collection's last path segment"),
       caf::choice_option("component", {"VEVENT", "VTODO"}, "the calendar component kept").or_default("VEVENT"),
       caf::integer_option("multiget_batch", 1, 1000, "items per multiget").or_default(int64_t{100}),
       caf::integer_option("timeout_seconds", 1, 3600, "seconds to wait for one request").or_default(int64_t{120}),
       caf::choice_option("server_quirks", quirks, "the DAV server's known deviations").or_default("generic"),
       caf::non_empty_option("ca_file", "a file of CA certificates for https")}};
}

Result<CaldavAdapterConfig> CaldavAdapterFactory::read(const caf::CheckedOptions& options,
                                                       const caf::StoreSettings& settings) const {
  const std::string prefix = "stores." + settings.name + ".";
  auto bad = [&](const std::string& key, const std::string& why) {
    return Status::invalid_argument(prefix + key + ": " + why);
  };
  const auto kind = kind_of(settings.content_type);
  if (!kind) {
    return bad("content_type",
               "adapter caldav stores text/vcard, text/x-vcard or text/calendar, not '" + settings.content_type + "'");
  }
  auto http_url = [](const std::string& v) { return v.starts_with("http://") || v.starts_with("https://"); };
  for (const char* key : {"url", "collection_url"}) {
    if (options.has(key) && !http_url(options.text(key))) return bad(key, "must be an http:// or https:// URL");
  }
  if (options.has("collection_url") && options.text("collection_url").find("{user}") == std::string::npos) {
    return bad("collection_url", "must contain {user}: each user has a collection of their own");
  }
  if (options.has("component") && *kind != DavKind::kCalendar) {
    return bad("component", "only for content_type text/calendar");
  }
  if (options.has("url") == options.has("collection_url")) {
    return bad("url", "give either url (discovery from a base URL) or collection_url (with {user})");
  }
  if (settings.login == caf::BackendLogin::kService && options.has("url")) {
    // Discovery finds the collections of whoever logs in: the service account's, not the user's.
    return bad("url", "login = \"service\" needs collection_url with {user}");
  }
  if (options.has("collection_url") && options.has("collection")) {
    return bad("collection", "only with url (discovery); collection_url names the collection already");
  }
  CaldavAdapterConfig config;
  config.url = options.text("url");
  config.collection_url = options.text("collection_url");
  config.collection = options.text("collection");
  config.kind = *kind;
  config.component = config.kind == DavKind::kCalendar ? options.text("component") : "";
  config.content_type = config.kind == DavKind::kAddressbook ? "text/vcard" : "text/calendar";
  config.extension = config.kind == DavKind::kAddressbook ? ".vcf" : ".ics";
  config.multiget_batch = static_cast<size_t>(options.integer("multiget_batch"));
  config.quirks = *find_dav_server_quirks(options.text("server_quirks"));
  config.http.request_timeout_ms = options.integer("timeout_seconds") * 1000;
  config.http.ca_file = options.text("ca_file");
  config.login = settings.login;
  return config;
}

Result<std::shared_ptr<caf::ContentAdapter>> CaldavAdapterFactory::make(CaldavAdapterConfig config,
                                                                        const caf::StoreSettings& settings,
                                                                        const caf::AdapterEnv& env) {
  std::string& ca_file = config.http.ca_file;
  if (!ca_file.empty() && fs::path(ca_file).is_relative()) ca_file = (fs::path(env.data_dir) / ca_file).string();
  if (!ca_file.empty() && !fs::is_regular_file(ca_file)) {
    return Status::invalid_argument("stores." + settings.name + ".ca_file: " + ca_file + " is no readable file");
  }
  if (settings.login == caf::BackendLogin::kService) {
    if (settings.service_user.empty()) {
      return Status::invalid_argument("stores." + settings.name +
                                      ".service_user: login = \"service\" at a DAV server needs the service account");
    }
    auto password = read_secret_file(settings.service_password_file);
    if (!password) return password.error().with_context("stores." + settings.name + ".service_password_file");
    config.service_login = DavLogin{settings.service_user, std::move(*password)};
  }
  config.tracker_file = (fs::path(env.data_dir) / ("caldav-" + settings.name + ".db")).lexically_normal().string();
  std::error_code ec;
  fs::create_directories(fs::path(config.tracker_file).parent_path(), ec);
  auto adapter = CaldavAdapter::open(config, settings);
  if (!adapter) return adapter.error().with_context("stores." + settings.name);
  log()->info("store '{}' at {} ({} login, server quirks '{}'), revisions in {}", settings.name,
              config.collection_url.empty() ? config.url + " (discovery)" : config.collection_url,
              caf::backend_login_name(config.login), config.quirks.name, config.tracker_file);
  return std::shared_ptr<caf::ContentAdapter>(std::move(*adapter));
}

}  // namespace conflux::adapters
