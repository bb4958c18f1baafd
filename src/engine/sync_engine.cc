#include "engine/sync_engine.h"

#include <algorithm>
#include <array>
#include <functional>
#include <map>

#include "common/base64.h"
#include "common/log.h"
#include "common/log_context.h"
#include "engine/credentials.h"
#include "engine/late_message.h"
#include "engine/message_run.h"
#include "engine/server_devinf.h"
#include "engine/status_map.h"
#include "engine/store_identity.h"
#include "protocol/devinf.h"

namespace conflux::engine {

namespace {

using SessionTally = std::map<std::string, ItemTally>;  // per datastore

SessionTally tally_items(const SessionState& session) {
  SessionTally tally;
  for (const auto& ds : session.datastores) tally[ds.server_uri] = item_tally(ds);
  return tally;
}

// Tells /metrics the items a message applied or sent (after - before), so
// the counters move during a long sync, and count a sync that never ends.
void count_new_items(Metrics& metrics, const SessionTally& before, const SessionTally& after) {
  for (const auto& [datastore, now] : after) {
    const auto earlier = before.find(datastore);
    for (size_t i = 0; i < now.size(); ++i) {
      const int n = now[i].n - (earlier == before.end() ? 0 : earlier->second[i].n);
      if (n <= 0) continue;
      if (*now[i].direction == '\0') {
        metrics.conflicts(datastore, static_cast<uint64_t>(n));
      } else {
        metrics.items(datastore, now[i].direction, now[i].outcome, static_cast<uint64_t>(n));
      }
    }
  }
}

}  // namespace

using protocol::Command;
using protocol::CommandKind;
using protocol::StatusCode;

namespace {

// The status the reply gives the client's SyncHdr: what ended a session that
// ends here.
int header_status(const protocol::Message& reply) {
  for (const auto& command : reply.commands) {
    if (command.kind == CommandKind::kStatus && command.cmd_ref == "0") return command.code;
  }
  return 0;
}

// Whether `in` carries client changes (a Sync with commands in it).
bool carries_changes(const protocol::Message& in) {
  return std::any_of(in.commands.begin(), in.commands.end(),
                     [](const Command& c) { return c.kind == CommandKind::kSync && !c.children.empty(); });
}

}  // namespace

SyncEngine::SyncEngine(caf::CafInterface& caf, SyncStateStore& state, std::vector<caf::StoreSettings> stores,
                       const EngineOptions& options, const Clock& clock)
    : caf_(caf),
      state_(state),
      stores_(std::move(stores)),
      options_(options),
      clock_(clock),
      throttle_(clock, options.login_free_failures, options.login_first_delay_seconds, options.login_max_delay_seconds,
                options.shared_limits, "syncml-login"),
      unauthenticated_(clock, options.unauthenticated_burst, options.unauthenticated_per_minute, options.shared_limits),
      session_ids_(options.server_secret),
      nonces_(options.server_secret, clock) {
  set_conflict_policies(stores_);
}

void SyncEngine::set_conflict_policies(const std::vector<caf::StoreSettings>& stores) {
  std::lock_guard lock(policies_mutex_);
  for (const auto& s : stores) {
    bool served = std::any_of(stores_.begin(), stores_.end(),
                              [&](const caf::StoreSettings& mine) { return mine.name == s.name; });
    if (served) conflict_policies_[s.name] = s.conflict_policy;
  }
}

std::mutex& SyncEngine::lock_for(const SessionKey& key) {
  return session_locks_[std::hash<std::string>()(key.str()) % session_locks_.size()];
}

uint64_t SyncEngine::message_budget(uint64_t client_max) {
  // Leave room for the header's RespURI and Final that are written after the
  // budget is checked; libsynthesis measures the whole encoded buffer.
  constexpr uint64_t kReserve = 1024;
  constexpr uint64_t kDefault = 64 * 1024;  // a client that names no limit
  uint64_t limit = client_max == 0 ? kDefault : client_max;
  return limit > 2 * kReserve ? limit - kReserve : limit / 2;
}

uint32_t SyncEngine::continued_msg_id(const std::string& client_msg_id) {
  if (client_msg_id.empty() || client_msg_id.size() > 6 ||
      client_msg_id.find_first_not_of("0123456789") != std::string::npos) {
    return 0;
  }
  const auto n = static_cast<uint32_t>(std::stoul(client_msg_id));
  return n > 0 ? n - 1 : 0;
}

bool SyncEngine::known_device(const std::string& user, const DeviceId& device) {
  if (user.empty()) return false;
  auto devinf = state_.device_info(UserId(user), device);
  return devinf && devinf->has_value();
}

Status SyncEngine::purge_expired() {
  auto sessions = state_.expire_sessions(options_.session_timeout_seconds);
  if (!sessions) return sessions.error();
  // A completed session is kept until it expires (late messages); any other
  // is one the client left unfinished.
  int unfinished = 0;
  for (const std::string& blob : *sessions) {
    SessionState session;
    if (deserialize(blob, session) && session.phase == Phase::kDone && !session.suspended) continue;
    ++unfinished;
    if (options_.metrics) options_.metrics->session_expired();
  }
  auto nonces = state_.expire_auth_nonces(kNonceMaxAgeSeconds);
  if (!nonces) return nonces.error();
  if (!sessions->empty() || *nonces > 0) {
    logger("engine")->debug("purged {} expired sessions ({} left unfinished by the client) and {} old nonces",
                            sessions->size(), unfinished, *nonces);
  }
  return Status::ok();
}

Result<Outbound> SyncEngine::handle(const protocol::Message& in, const Inbound& where) {
  // Every line logged while this message is handled names its sync.
  LogScope log_scope;
  SessionState session;
  std::unique_lock<std::mutex> lock;
  std::unique_ptr<SyncStateStore::SessionHold> hold;  // released before `lock`
  if (where.session.empty()) {
    CFX_RETURN_IF_ERROR(start_session(in, where, session));
    lock = std::unique_lock(lock_for(session.key));
  } else {
    CFX_RETURN_IF_ERROR(resume_session(in, where, session, lock, hold));
  }

  log_context() = LogContext{session.key.str(), session.user.str(), session.device.str(), ""};

  // A resent message (same MsgID: the client lost our answer) gets the same
  // answer again; running it twice would apply its changes twice.
  if (!where.session.empty() && !session.last_client_msg_id.empty() && in.hdr.msg_id == session.last_client_msg_id &&
      where.encoding == session.last_reply_encoding) {
    logger("engine")->info("session {}: message {} received again; answer repeated", session.key.str(), in.hdr.msg_id);
    Outbound again;
    again.encoded = session.last_reply;
    return again;
  }

  if (session.phase == Phase::kDone) return answer_after_end(session, in, where);

  // Writes to the back end and the save of the session below are two
  // databases: a server that dies between them leaves the message's changes
  // stored but unanswered, and the client sends it again. Marked before it
  // runs, a message seen again is known to be such a rerun.
  const bool rerun =
      !where.session.empty() && !session.running_msg_id.empty() && session.running_msg_id == in.hdr.msg_id;
  if (rerun) {
    logger("engine")->warn("session {}: message {} began before and did not end; its adds are matched first",
                           session.key.str(), in.hdr.msg_id);
  } else if (!where.session.empty() && carries_changes(in)) {
    session.running_msg_id = in.hdr.msg_id;
    CFX_RETURN_IF_ERROR(state_.save_session(session.key, serialize(session)));
  }
  SessionTally counted = tally_items(session);
  MessageRun run(*this, session, in, where, rerun);
  auto out = run.run();
  if (!out) return out.error();
  session.running_msg_id.clear();
  if (options_.metrics) {
    for (const auto& [datastore, tally] : session.resumed_tallies) counted[datastore] = tally;
    count_new_items(*options_.metrics, counted, tally_items(session));
  }
  out->encoded = protocol::encode(out->reply, where.encoding);
  session.last_reply = out->encoded;
  session.last_reply_encoding = where.encoding;
  CFX_RETURN_IF_ERROR(keep_session(session, *out, where));
  return out;
}

Status SyncEngine::start_session(const protocol::Message& in, const Inbound& where, SessionState& session) {
  // Over the limit only a known device's login is still read: strangers
  // must not be able to shut real devices out from a shared address.
  if (int64_t wait = unauthenticated_.wait_seconds(where.remote_address);
      wait > 0 && !(in.hdr.cred && known_device(claimed_user(*in.hdr.cred, in.hdr.source.loc_name),
                                                DeviceId(in.hdr.source.loc_uri)))) {
    if (options_.metrics) options_.metrics->login_throttled("syncml", "unauthenticated_rate");
    return Status::resource_exhausted("too many unauthenticated messages from " + where.remote_address + "; retry in " +
                                      std::to_string(wait) + " s");
  }
  session.key = SessionKey(random_hex(16));
  // A client that was challenged sends its credentials as message 2, 3 …
  // of what is to it one session, though nothing of it was kept; our
  // MsgIDs go on in step with its own, as if the session had been kept.
  session.server_msg_id = continued_msg_id(in.hdr.msg_id);
  session.device = DeviceId(in.hdr.source.loc_uri);
  session.client_session_id = in.hdr.session_id;
  session.version = in.version;
  return Status::ok();
}

Status SyncEngine::resume_session(const protocol::Message& in, const Inbound& where, SessionState& session,
                                  std::unique_lock<std::mutex>& lock,
                                  std::unique_ptr<SyncStateStore::SessionHold>& hold) {
  auto key = session_ids_.key_of(where.session.str());
  if (!key) return Status::not_found("unknown or expired session");
  lock = std::unique_lock(lock_for(*key));
  // Other servers sharing the store: one message of a session at a time
  // there too, so one resent to two nodes at once runs only once.
  auto held = state_.hold_session(*key);
  if (!held) return held.error();
  hold = std::move(*held);
  auto blob = state_.load_session(*key);
  if (!blob) return blob.error();
  // A session of another device is answered like an unknown one: a client
  // must not learn which session keys exist.
  if (!blob->has_value() || !deserialize(**blob, session) || session.device.str() != in.hdr.source.loc_uri ||
      (session.phase == Phase::kDone && session.suspended)) {
    return Status::not_found("unknown or expired session");
  }
  return Status::ok();
}

Status SyncEngine::keep_session(SessionState& session, const Outbound& out, const Inbound& where) {
  if (!session.authenticated) {
    // A new session that did not authenticate leaves nothing behind.
    unauthenticated_.charge(where.remote_address);
    return Status::ok();
  }
  if (options_.metrics && where.session.empty()) options_.metrics->session_started();
  if (out.session_ended && !session.suspended && session.phase != Phase::kDone) {
    if (options_.metrics) options_.metrics->session_failed(header_status(out.reply));
    return state_.delete_session(session.key);
  }
  // A completed session is kept (phase kDone) until it expires, so a
  // message the client sends after its end is answered (late_message.h).
  return state_.save_session(session.key, serialize(session));
}

Result<Outbound> SyncEngine::answer_after_end(SessionState& session, const protocol::Message& in,
                                              const Inbound& where) {
  auto reply = answer_late_message(state_, session, in);
  if (!reply) return reply.error();
  Outbound out;
  out.reply = std::move(*reply);
  out.encoded = protocol::encode(out.reply, where.encoding);
  out.session_ended = true;
  session.last_client_msg_id = in.hdr.msg_id;
  session.last_reply = out.encoded;
  session.last_reply_encoding = where.encoding;
  CFX_RETURN_IF_ERROR(state_.save_session(session.key, serialize(session)));
  return out;
}

// ---------------------------------------------------------------------------

SyncEngine::MessageRun::MessageRun(SyncEngine& engine, SessionState& session, const protocol::Message& in,
                                   const Inbound& where, bool rerun)
    : engine_(engine), session_(session), in_(in), where_(where), rerun_(rerun) {}

Command& SyncEngine::MessageRun::add_status(const std::string& cmd_ref, const char* cmd_name, StatusCode code,
                                            bool wanted) {
  Command status;
  status.kind = CommandKind::kStatus;
  // NoResp on the message (RepPro §"SyncHdr") silences every status but the
  // header's, which authenticate() decides on.
  if (in_.hdr.no_resp && cmd_ref != "0") wanted = false;
  status.cmd_id = wanted ? next_cmd_id() : kUnsent;
  status.msg_ref = in_.hdr.msg_id;
  status.cmd_ref = cmd_ref;
  status.cmd_name = cmd_name;
  status.code = protocol::to_int(code);
  statuses_.push_back(std::move(status));
  return statuses_.back();
}

Command& SyncEngine::MessageRun::add_status(const Command& answered, StatusCode code) {
  return add_status(std::to_string(answered.cmd_id), protocol::command_name(answered.kind), code, !answered.no_resp);
}

void SyncEngine::MessageRun::drop_unsent_statuses() {
  std::erase_if(statuses_, [](const Command& s) { return s.cmd_id == kUnsent; });
}

caf::StoreRef SyncEngine::MessageRun::store_ref(const DatastoreState& ds) const { return store_ref(ds.server_uri); }

caf::StoreRef SyncEngine::MessageRun::store_ref(const std::string& database) const {
  return caf::StoreRef{session_.user,
                       database,
                       caf::Token{session_.token, session_.user, {}},
                       credentials_,
                       "device " + session_.device.str(),
                       session_.key.str(),
                       session_.device};
}

std::string SyncEngine::MessageRun::normalize_store_uri(const std::string& uri) const {
  // Clients address a datastore as "contacts", "./contacts" or a full URL
  // ending in it; the configured name is the last path segment.
  std::string name = uri;
  if (auto q = name.find('?'); q != std::string::npos) name.resize(q);
  while (!name.empty() && name.back() == '/') name.pop_back();
  if (auto slash = name.rfind('/'); slash != std::string::npos) name = name.substr(slash + 1);
  return name;
}

Result<protocol::Chal> SyncEngine::MessageRun::challenge() {
  // SyncML 1.0's MD5 digest is made from the clear password, which is never
  // stored (only B64(MD5(user:password)) is): a 1.0 client is asked for basic.
  if (!engine_.options_.md5_auth || session_.version == protocol::SyncMLVersion::k10) return basic_challenge();
  // A device that has not authenticated gets a derived nonce: nothing is
  // stored for strangers (auth_nonces.h).
  if (!session_.authenticated) {
    auto stored = engine_.state_.auth_nonce(session_.device);
    if (!stored) return stored.error();
    // Derived from the device id and the nonce its last 212 stored (empty for
    // a stranger), which every md5 login replaces: a digest, once accepted,
    // is never accepted again (credential_check.cc derives the same).
    return md5_challenge(engine_.nonces_.issue(session_.device.str() + '\n' + *stored));
  }
  // A fresh nonce for every challenge (SyncML DS Protocol §"MD5 digest"):
  // a digest seen once can never be replayed.
  const std::string nonce = base64_encode(random_hex(8));
  CFX_RETURN_IF_ERROR(engine_.state_.save_auth_nonce(session_.device, nonce));
  return md5_challenge(nonce);
}

CheckedLogin SyncEngine::MessageRun::check_login(const std::string& claimed, const std::vector<std::string>& nonces) {
  if (int64_t wait = engine_.throttle_.wait_seconds(claimed, where_.remote_address);
      wait > 0 && !engine_.known_device(claimed, session_.device)) {
    logger("engine")->warn(
        "session {} device {} from {}: login for '{}' refused unchecked: wrong passwords, next check in {} s",
        session_.key.str(), session_.device.str(), where_.remote_address, claimed, wait);
    if (engine_.options_.metrics) engine_.options_.metrics->login_throttled("syncml", "wrong_passwords");
    return CheckedLogin{Status::unauthenticated("no credentials checked"),
                        Status::unauthenticated("too many wrong passwords; try again later"), ""};
  }
  CheckedLogin checked = check_credentials(*in_.hdr.cred, nonces);
  header_nonce_ = checked.nonce;
  // Only a checked and wrong password counts.
  if (checked.creds && !checked.token) {
    engine_.throttle_.record_failure(claimed, where_.remote_address);
    if (engine_.options_.metrics) engine_.options_.metrics->login_failed("syncml");
  }
  return checked;
}

void SyncEngine::MessageRun::count_refused_login(const std::string& claimed, const Status& why) {
  ++session_.auth_failures;
  // A device that never logged in makes its first MD5 attempt before it has
  // our nonce: the handshake's normal first step, the challenge follows.
  // The throttle warns when wrong guesses pile up.
  const bool md5_handshake = in_.hdr.cred->meta.type == kAuthMd5 && !engine_.known_device(claimed, session_.device);
  logger("engine")->log(md5_handshake ? spdlog::level::debug : spdlog::level::info,
                        "session {} device {}: authentication refused ({}: {})", session_.key.str(),
                        session_.device.str(), in_.hdr.cred->meta.type.empty() ? kAuthBasic : in_.hdr.cred->meta.type,
                        why.message());
  // A failure inside an authenticated session ends it: the earlier login
  // no longer vouches for this sender.
  if (session_.authenticated || session_.auth_failures >= engine_.options_.max_auth_failures) end_session_ = true;
}

Result<bool> SyncEngine::MessageRun::authenticate() {
  Command& hdr_status = add_status("0", "SyncHdr", StatusCode::kOk);
  hdr_status.target_refs = {in_.hdr.target.loc_uri};
  hdr_status.source_refs = {in_.hdr.source.loc_uri};
  auto log = logger("engine");
  // Once authenticated (212) a client stops sending Cred. Credentials that do
  // come later are checked all the same: a message must never be accepted on
  // the strength of someone else's earlier login.
  if (session_.authenticated && !in_.hdr.cred) return true;
  auto refuse = [&](StatusCode code) -> Result<bool> {
    hdr_status.code = protocol::to_int(code);
    auto chal = challenge();
    if (!chal) return chal.error();
    hdr_status.chal = std::move(*chal);
    return false;
  };
  if (!in_.hdr.cred) return refuse(StatusCode::kMissingCredentials);

  auto nonces = credential_nonces(*in_.hdr.cred);
  if (!nonces) return nonces.error();
  const std::string claimed = claimed_user(*in_.hdr.cred, in_.hdr.source.loc_name);
  CheckedLogin login = check_login(claimed, *nonces);
  if (!login.token) {
    count_refused_login(claimed, login.token.error());
    return refuse(StatusCode::kInvalidCredentials);
  }
  const caf::Credentials& creds = *login.creds;
  if (session_.authenticated && creds.user != session_.user) {
    log->warn("session {} of user {}: a message carried credentials of user {}; session ended", session_.key.str(),
              session_.user.str(), creds.user.str());
    end_session_ = true;
    return refuse(StatusCode::kInvalidCredentials);
  }
  engine_.throttle_.record_success(creds.user.str(), where_.remote_address);
  credentials_ = creds;
  session_.authenticated = true;
  session_.user = creds.user;
  session_.token = login.token->value;
  log_context().user = session_.user.str();
  hdr_status.code = protocol::to_int(StatusCode::kAuthenticationAccepted);
  if (creds.scheme == caf::CredentialScheme::kMd5Digest) {
    // The nonce for the device's next session travels with the 212.
    auto chal = challenge();
    if (!chal) return chal.error();
    hdr_status.chal = std::move(*chal);
  }
  log->debug("session {} device {}: user {} authenticated", session_.key.str(), session_.device.str(),
             session_.user.str());
  if (in_.hdr.no_resp) {
    // The sender wants no statuses for this message, the accepted header's included.
    hdr_status.cmd_id = kUnsent;
    cmd_id_ = 0;
  }
  return true;
}

Result<Outbound> SyncEngine::MessageRun::run() {
  ++session_.server_msg_id;
  session_.last_client_msg_id = in_.hdr.msg_id;
  if (in_.hdr.meta && in_.hdr.meta->max_msg_size) session_.client_max_msg_size = *in_.hdr.meta->max_msg_size;

  reply_.version = session_.version;
  reply_.hdr.ver_dtd = protocol::ver_dtd(session_.version);
  reply_.hdr.ver_proto = protocol::ver_proto(session_.version);
  reply_.hdr.session_id = in_.hdr.session_id;
  reply_.hdr.msg_id = std::to_string(session_.server_msg_id);
  reply_.hdr.target = in_.hdr.source;
  reply_.hdr.source.loc_uri = in_.hdr.target.loc_uri;
  reply_.hdr.meta = protocol::Meta{};
  reply_.hdr.meta->max_msg_size = engine_.options_.max_msg_size;

  auto authenticated = authenticate();
  if (!authenticated) return authenticated.error();
  if (*authenticated) {
    // Before any command: the writes of this message are answered with the
    // quirks of the device as this message describes it.
    std::optional<protocol::DevInf> carried = devinf_in_message();
    if (auto st = identify_device(carried ? &*carried : nullptr); !st.is_ok()) return st;
    // Statuses held back from the last reply go first.
    for (auto& pending : session_.pending_statuses) {
      pending.cmd_id = next_cmd_id();
      statuses_.push_back(std::move(pending));
    }
    session_.pending_statuses.clear();
    for (const auto& cmd : in_.commands) CFX_RETURN_IF_ERROR(run_command(cmd));
    if (auto st = flush_map_changes(); !st.is_ok()) return st;
    drop_unsent_statuses();
    const bool package_ended = in_.final || session_.package_end_pending;
    session_.package_end_pending = false;
    if (session_.suspended) {
      reply_.final = true;  // nothing more in this session (handle_suspend)
    } else if (spill_statuses()) {
      // Answers still owed: the package step waits until they are out; the
      // client asks for them with Alert 222.
      session_.package_end_pending = package_ended;
    } else if (auto st = finish_package(package_ended); !st.is_ok()) {
      return st;
    }
  } else {
    // Nothing else of an unauthenticated message is processed; the client
    // resends its package with credentials (SyncProt §"Authentication").
    reply_.final = true;
  }

  // Only an authenticated session is kept, so only it gets a RespURI.
  if (!end_session_ && session_.authenticated) {
    reply_.hdr.resp_uri = where_.base_url + "?sid=" + engine_.session_ids_.id_for(session_.key);
  }
  reply_.commands = std::move(statuses_);
  for (auto& c : commands_) reply_.commands.push_back(std::move(c));
  return Outbound{std::move(reply_), {}, end_session_};
}

Status SyncEngine::MessageRun::run_command(const Command& cmd) {
  // The lines logged for a datastore's command name it.
  LogScope log_scope;
  log_context().datastore = datastore_of(cmd);
  switch (cmd.kind) {
    case CommandKind::kStatus: return handle_status(cmd);
    case CommandKind::kAlert: return handle_alert(cmd);
    case CommandKind::kPut: return handle_put(cmd);
    case CommandKind::kGet: handle_get(cmd); return Status::ok();
    case CommandKind::kSync: return handle_sync(cmd);
    case CommandKind::kMap: return handle_map(cmd);
    case CommandKind::kAtomic: return handle_atomic(cmd, nullptr);
    case CommandKind::kSequence: return handle_sequence(cmd, nullptr);
    case CommandKind::kResults: return handle_put(cmd);  // the device's DevInf, answering our Get
    default:
      // Exec and Search (device management, server-side search), and item
      // commands outside a Sync, which name no datastore: a DS server may
      // leave them out (RepPro §"Exec", §"Search").
      add_status(cmd, StatusCode::kOptionalFeatureNotSupported);
      return Status::ok();
  }
}

Status SyncEngine::MessageRun::handle_put(const Command& cmd) {
  StatusCode code = StatusCode::kOk;
  for (const auto& item : cmd.items) {
    if (item.data_kind != protocol::DataKind::kXml) continue;
    auto devinf = protocol::parse_devinf_xml(item.data);
    if (!devinf) {
      code = StatusCode::kBadRequest;
      continue;
    }
    CFX_RETURN_IF_ERROR(engine_.state_.save_device_info(session_.user, session_.device, item.data));
    // run() identified the device from this DevInf already (devinf_in_message).
    logger("engine")->debug("session {}: device {} is {} {} {}", session_.key.str(), session_.device.str(), devinf->man,
                            devinf->mod, devinf->sw_v);
  }
  add_status(cmd, code);
  return Status::ok();
}

std::optional<protocol::DevInf> SyncEngine::MessageRun::devinf_in_message() const {
  std::optional<protocol::DevInf> found;
  for (const auto& cmd : in_.commands) {
    if (cmd.kind != CommandKind::kPut && cmd.kind != CommandKind::kResults) continue;
    for (const auto& item : cmd.items) {
      if (item.data_kind != protocol::DataKind::kXml) continue;
      if (auto devinf = protocol::parse_devinf_xml(item.data)) found = std::move(*devinf);
    }
  }
  return found;
}

Status SyncEngine::MessageRun::identify_device(const protocol::DevInf* devinf) {
  if (!engine_.options_.quirks) return Status::ok();
  std::optional<protocol::DevInf> stored;
  if (!devinf) {
    auto xml = engine_.state_.device_info(session_.user, session_.device);
    if (!xml) return xml.error();
    if (xml->has_value()) {
      auto parsed = protocol::parse_devinf_xml(**xml);
      if (parsed) stored = std::move(*parsed);
    }
    if (stored) devinf = &*stored;
  }
  DeviceIdentity who;
  who.device_id = session_.device.str();
  if (devinf) {
    who.man = devinf->man;
    who.mod = devinf->mod;
    who.sw_v = devinf->sw_v;
    who.fw_v = devinf->fw_v;
    who.oem = devinf->oem;
    who.dev_typ = devinf->dev_typ;
  }
  quirks_ = engine_.options_.quirks->lookup(who);
  for (const auto& rule : quirks_.matched_rules) {
    logger("engine")->debug("session {} device {}: quirk rule '{}' applies", session_.key.str(), session_.device.str(),
                            rule);
  }
  return Status::ok();
}

uint64_t SyncEngine::MessageRun::client_max_msg_size() const {
  const uint64_t announced = session_.client_max_msg_size;
  if (!quirks_.max_msg_size) return announced;
  return announced == 0 ? *quirks_.max_msg_size : std::min(announced, *quirks_.max_msg_size);
}

StatusCode SyncEngine::MessageRun::item_write_status(const Status& status, CommandKind command) const {
  const StatusCode code = to_syncml_status(status, command);
  return code == StatusCode::kPermissionDenied ? quirks_.denied_write_status : code;
}

void SyncEngine::MessageRun::handle_get(const Command& cmd) {
  const bool wants_devinf =
      !cmd.items.empty() && cmd.items[0].target && cmd.items[0].target->loc_uri.rfind("./devinf", 0) == 0;
  if (!wants_devinf) {
    add_status(cmd, StatusCode::kNotFound);
    return;
  }
  add_status(cmd, StatusCode::kOk);
  Command results;
  results.kind = CommandKind::kResults;
  results.cmd_id = next_cmd_id();
  results.msg_ref = in_.hdr.msg_id;
  results.cmd_ref = std::to_string(cmd.cmd_id);
  results.meta = protocol::Meta{};
  results.meta->type = where_.encoding == protocol::Encoding::kWbxml ? "application/vnd.syncml-devinf+wbxml"
                                                                     : "application/vnd.syncml-devinf+xml";
  protocol::Item item;
  item.source = protocol::LocRef{protocol::devinf_uri(session_.version), {}};
  item.data_kind = protocol::DataKind::kXml;
  item.data = protocol::write_devinf_xml(server_devinf(engine_.stores_), session_.version);
  results.items.push_back(std::move(item));
  commands_.push_back(std::move(results));
}

Status SyncEngine::MessageRun::ask_for_devinf() {
  const bool put_now = std::any_of(in_.commands.begin(), in_.commands.end(),
                                   [](const Command& c) { return c.kind == CommandKind::kPut; });
  if (put_now) return Status::ok();
  auto stored = engine_.state_.device_info(session_.user, session_.device);
  if (!stored) return stored.error();
  if (stored->has_value()) return Status::ok();
  Command get;
  get.kind = CommandKind::kGet;
  get.cmd_id = next_cmd_id();
  get.meta = protocol::Meta{};
  get.meta->type = where_.encoding == protocol::Encoding::kWbxml ? "application/vnd.syncml-devinf+wbxml"
                                                                 : "application/vnd.syncml-devinf+xml";
  protocol::Item item;
  item.target = protocol::LocRef{protocol::devinf_uri(session_.version), {}};
  get.items.push_back(std::move(item));
  commands_.push_back(std::move(get));
  return Status::ok();
}

Status SyncEngine::MessageRun::handle_status(const Command& cmd) {
  // Statuses answer our commands; only item statuses change state.
  const CommandRef key{cmd.msg_ref, cmd.cmd_ref};
  for (auto& ds : session_.datastores) {
    auto it = ds.awaiting_status.find(key);
    if (it == ds.awaiting_status.end()) continue;
    for (const auto& sent : it->second) CFX_RETURN_IF_ERROR(on_item_status(ds, sent, cmd.code));
    ds.awaiting_status.erase(it);
    return Status::ok();
  }
  if (cmd.cmd_ref == "0" && cmd.code >= 400) {
    logger("engine")->warn("session {}: client rejected our header with {}", session_.key.str(), cmd.code);
  }
  return Status::ok();
}

bool SyncEngine::MessageRun::spill_statuses() {
  const uint64_t budget = message_budget(client_max_msg_size());
  protocol::Message shell = reply_;
  shell.hdr.resp_uri = where_.base_url + "?sid=" + session_.key.str();
  shell.final = true;
  uint64_t used = protocol::encoded_overhead(shell, where_.encoding);
  for (const auto& c : commands_) used += protocol::encoded_size(c, session_.version, where_.encoding);
  size_t fits = 0;
  for (; fits < statuses_.size(); ++fits) {
    const uint64_t size = protocol::encoded_size(statuses_[fits], session_.version, where_.encoding);
    // The SyncHdr's Status always goes, whatever the budget.
    if (fits > 0 && used + size > budget) break;
    used += size;
  }
  if (fits == statuses_.size()) return false;
  session_.pending_statuses.assign(std::make_move_iterator(statuses_.begin() + static_cast<std::ptrdiff_t>(fits)),
                                   std::make_move_iterator(statuses_.end()));
  statuses_.resize(fits);
  return true;
}

Status SyncEngine::MessageRun::finish_package(bool package_ended) {
  switch (session_.phase) {
    case Phase::kInit:
      if (package_ended) {
        CFX_RETURN_IF_ERROR(ask_for_devinf());
        session_.phase = Phase::kClientSync;
        reply_.final = true;
      }
      return Status::ok();
    case Phase::kClientSync:
      if (!package_ended) return Status::ok();
      for (auto& ds : session_.datastores) CFX_RETURN_IF_ERROR(prepare_server_changes(ds));
      session_.phase = Phase::kServerSync;
      [[fallthrough]];
    case Phase::kServerSync: {
      auto done = add_server_changes();
      if (!done) return done.error();
      if (*done) {
        session_.phase = Phase::kMapping;
        reply_.final = true;
      }
      return Status::ok();
    }
    case Phase::kMapping:
      if (!package_ended) return Status::ok();
      if (quirks_.missing_status_means_ok) {
        // The device left out statuses for some of our changes although it
        // applied them; taking them as 200 keeps them from coming again.
        for (auto& ds : session_.datastores) {
          for (const auto& [ref, sent] : ds.awaiting_status) {
            for (const auto& item : sent) {
              CFX_RETURN_IF_ERROR(on_item_status(ds, item, protocol::to_int(StatusCode::kOk)));
            }
          }
          ds.awaiting_status.clear();
        }
        CFX_RETURN_IF_ERROR(flush_map_changes());
      }
      CFX_RETURN_IF_ERROR(commit_session());
      reply_.final = true;
      session_.phase = Phase::kDone;
      end_session_ = true;
      return Status::ok();
    case Phase::kDone: return Status::ok();
  }
  return Status::ok();
}

Status SyncEngine::MessageRun::commit_session() {
  for (const auto& ds : session_.datastores) {
    DeviceStore key{session_.user, session_.device, ds.server_uri};
    // The server anchor saved is the Next announced in our pkg-2 Alert: the
    // client compares our next Last with it. Changes read at pkg 4 that are
    // newer are harmless to read again: the map's revisions filter them.
    CFX_RETURN_IF_ERROR(engine_.state_.save_anchors(
        key, SyncAnchors{ds.client_next, ds.server_next, store_identity_of(engine_.stores_, ds.server_uri)}));
    CFX_RETURN_IF_ERROR(engine_.state_.forget_resume_point(key));
    SyncReport report;
    report.session = session_.key;
    report.where = key;
    report.sync_type = ds.sync_type;
    report.counts = ds.counts;
    report.problems = ds.problems;
    CFX_RETURN_IF_ERROR(engine_.state_.save_report(report));
    LogScope log_scope;
    log_context().datastore = ds.server_uri;
    logger("engine")->info(
        "session {} user {} device {} datastore {} sync {} done: from client {} added {} updated {} deleted {} "
        "failed; to client {} added {} updated {} deleted; {} conflicts",
        session_.key.str(), session_.user.str(), session_.device.str(), ds.server_uri, protocol::to_int(ds.sync_type),
        ds.counts.client_adds, ds.counts.client_updates, ds.counts.client_deletes, ds.counts.client_errors,
        ds.counts.server_adds, ds.counts.server_updates, ds.counts.server_deletes, ds.counts.conflicts);
  }
  if (engine_.options_.metrics) engine_.options_.metrics->session_completed();
  return Status::ok();
}

std::string SyncEngine::MessageRun::datastore_of(const Command& cmd) const {
  switch (cmd.kind) {
    case CommandKind::kAlert:
      return !cmd.items.empty() && cmd.items[0].target ? normalize_store_uri(cmd.items[0].target->loc_uri) : "";
    case CommandKind::kSync:
    case CommandKind::kMap: return cmd.target ? normalize_store_uri(cmd.target->loc_uri) : "";
    default: return "";
  }
}

}  // namespace conflux::engine
