#include "caf/content_manager.h"

#include <fstream>
#include <sstream>

#include "common/log.h"

namespace conflux::caf {

Result<std::string> read_secret_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::unavailable("cannot read secret file " + path);
  std::string line;
  std::getline(in, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

ContentManager::ContentManager(const BackendRegistry& registry, AccountDirectory& accounts, const TokenService& tokens,
                               const Clock& clock, ConnectionPoolOptions pool_options)
    : registry_(registry), accounts_(accounts), tokens_(tokens), connections_(clock, pool_options) {}

void ContentManager::set_store_access(const std::vector<StoreSettings>& stores) {
  std::lock_guard lock(access_mutex_);
  for (const auto& s : stores) access_[s.name] = s.access;
}

TokenKind ContentManager::store_access(const std::string& database) const {
  std::lock_guard lock(access_mutex_);
  if (auto it = access_.find(database); it != access_.end()) return it->second;
  const StoreSettings* settings = registry_.settings_for(database);
  return settings ? settings->access : TokenKind::kReadOnly;
}

Status ContentManager::verify_with_directory(const Credentials& creds) {
  return creds.scheme == CredentialScheme::kMd5Digest
             ? accounts_.verify_md5_digest(creds.user, creds.nonce, creds.secret)
             : accounts_.verify_password(creds.user, creds.secret);
}

Result<std::optional<Credentials>> ContentManager::backend_login(const StoreSettings& settings, ContentAdapter& adapter,
                                                                 const StoreRef& store) const {
  if (settings.login == BackendLogin::kPerUser) return store.credentials;
  if (!(adapter.caps() & kCapOwnAccounts)) return std::optional<Credentials>();
  auto password = read_secret_file(settings.service_password_file);
  if (!password) return password.error().with_context("stores." + settings.name + ".service_password_file");
  return std::optional<Credentials>(Credentials::with_password(UserId(settings.service_user), std::move(*password)));
}

Status ContentManager::check_login(const StoreSettings& settings, ContentAdapter& adapter, const Credentials& creds,
                                   const Status& directory) const {
  if (settings.login == BackendLogin::kPerUser) return adapter.verify_credentials(settings.name, creds);
  CFX_RETURN_IF_ERROR(directory);
  auto service = backend_login(settings, adapter, StoreRef{creds.user, settings.name, {}});
  if (!service) return service.error();
  if (!*service) return Status::ok();
  Status accepted = adapter.verify_credentials(settings.name, **service);
  if (accepted.code() == StatusCode::kUnauthenticated) {
    // The user did nothing wrong: the administrator's service account is refused.
    logger("caf")->error("store '{}': the back end refuses the service account '{}'", settings.name,
                         settings.service_user);
    return Status::unavailable("the back end refuses the service account");
  }
  if (accepted.is_unavailable() && settings.cache.enabled) {
    // Conflux's own accounts took the user; the service account cannot be
    // checked while the back end is down, and with a cache the device syncs
    // against it meanwhile (the Cache Monitor replicates once it is back).
    logger("caf")->warn("store '{}': back end down, service account not checked: {}", settings.name,
                        accepted.message());
    return Status::ok();
  }
  return accepted;
}

Result<Token> ContentManager::authenticate(const Credentials& given, TokenKind kind) {
  Credentials creds = given;
  Status directory;
  if (creds.scheme == CredentialScheme::kApiToken) {
    auto holder = accounts_.verify_api_token(creds.secret);
    if (!holder) return holder.error();
    creds.user = holder->user;
    if (holder->read_only) kind = narrower(kind, TokenKind::kReadOnly);
  } else {
    if (creds.user.empty()) return Status::unauthenticated("no user name");
    directory = verify_with_directory(creds);
  }
  auto overrides = accounts_.access_overrides(creds.user);
  if (!overrides) return overrides.error();
  std::map<std::string, TokenKind> grants;
  Status first_refusal = directory;
  for (const auto& settings : registry_.stores()) {
    ContentAdapter* adapter = registry_.adapter_for(settings.name);
    // A back end that logs each user in wants their password; a program's
    // token is none.
    Status verified = creds.scheme == CredentialScheme::kApiToken && settings.login == BackendLogin::kPerUser
                          ? Status::unauthenticated("store '" + settings.name + "' needs the user's own password")
                          : check_login(settings, *adapter, creds, directory);
    if (!verified.is_ok()) {
      if (first_refusal.is_ok()) first_refusal = verified;
      continue;
    }
    auto override_it = overrides->find(settings.name);
    TokenKind allowed = override_it != overrides->end() ? override_it->second : store_access(settings.name);
    grants[settings.name] = narrower(kind, allowed);
  }
  if (grants.empty()) {
    // debug: the engine logs the refusal once, with session and device.
    logger("caf")->debug("authentication failed for user '{}': {}", creds.user.str(), first_refusal.message());
    return first_refusal.is_ok() ? Status::unauthenticated("no datastore accepts this user") : first_refusal;
  }
  return tokens_.issue(creds.user, std::move(grants));
}

Result<ContentManager::Admitted> ContentManager::admit(const StoreRef& store, Access access) {
  if (store.user.empty()) return Status::invalid_argument("CAF call without a user id");
  auto token = tokens_.verify(store.token.value);
  if (!token) return token.error();
  if (token->user != store.user) {
    logger("caf")->warn("token of user '{}' used for user '{}'; refused", token->user.str(), store.user.str());
    return Status::permission_denied("token does not belong to this user");
  }
  ContentAdapter* adapter = registry_.adapter_for(store.database);
  const StoreSettings* settings = registry_.settings_for(store.database);
  if (!adapter || !settings) return Status::not_found("no datastore '" + store.database + "'");
  auto kind = token->kind_for(store.database);
  if (!kind) return Status::permission_denied("no access to datastore '" + store.database + "'");
  if (access == Access::kWrite && *kind == TokenKind::kReadOnly) {
    return Status::permission_denied("a read-only token cannot write");
  }
  if (access == Access::kWrite && *kind == TokenKind::kUnrestrictedRead) {
    // Seed FIG. 8: "write must be authenticated each time", at the back end.
    if (!store.credentials || store.credentials->user != store.user) {
      return Status::permission_denied("an unrestricted-read token writes only with the user's credentials");
    }
    const Status directory =
        settings->login == BackendLogin::kService ? verify_with_directory(*store.credentials) : Status::ok();
    if (Status again = check_login(*settings, *adapter, *store.credentials, directory); !again.is_ok()) {
      logger("caf")->info("store '{}': write of user '{}' refused at re-authentication: {}", store.database,
                          store.user.str(), again.message());
      if (again.code() == StatusCode::kUnavailable) return again;
      return Status::permission_denied("the back end refused the write's credentials");
    }
  }
  Admitted admitted{adapter, std::nullopt};
  if (!settings->cache.enabled) {
    auto login = backend_login(*settings, *adapter, store);
    if (!login) return login.error();
    auto lease = connections_.lease(store.database, *adapter, store.user, *login ? &**login : nullptr);
    if (!lease) return lease.error().with_context("store '" + store.database + "' connection");
    admitted.connection.emplace(std::move(*lease));
  }
  return admitted;
}

Result<Anchor> ContentManager::current_anchor(const StoreRef& store) {
  auto admitted = admit(store, Access::kRead);
  if (!admitted) return admitted.error();
  return admitted->adapter->current_anchor(store);
}

Result<ChangeSet> ContentManager::changes_since(const StoreRef& store, const Anchor& since) {
  auto admitted = admit(store, Access::kRead);
  if (!admitted) return admitted.error();
  return admitted->adapter->changes_since(store, since);
}

std::vector<ApplyResult> ContentManager::apply(const StoreRef& store, std::vector<SyncObj>&& batch) {
  auto admitted = admit(store, Access::kWrite);
  if (!admitted) {
    std::vector<ApplyResult> refused(batch.size());
    for (auto& r : refused) r.status = admitted.error();
    return refused;
  }
  // The objects belong to the caller's user and datastore, whatever they say.
  for (auto& obj : batch) {
    obj.user = store.user;
    obj.database = store.database;
  }
  std::vector<ApplyResult> results;
  if (history_) {
    auto pending = history_->before_apply(*admitted->adapter, store, batch);
    results = admitted->adapter->apply(store, std::move(batch));
    history_->after_apply(store, std::move(pending), results);
  } else {
    results = admitted->adapter->apply(store, std::move(batch));
  }
  if (events_) {
    ChangeEvent event{store.user,
                      store.database,
                      store.device.empty() ? ChangeSource::kPortal : ChangeSource::kDevice,
                      store.device,
                      {}};
    for (const ApplyResult& r : results) {
      if (!r.status.is_ok() || r.outcome == ApplyOutcome::kAlreadyDeleted) continue;
      event.items.push_back({r.outcome == ApplyOutcome::kCreated   ? Action::kCreate
                             : r.outcome == ApplyOutcome::kDeleted ? Action::kDelete
                                                                   : Action::kUpdate,
                             r.guid});
    }
    events_->publish(event);
  }
  return results;
}

Result<std::vector<SyncObj>> ContentManager::search(const StoreRef& store, const Query& query) {
  auto admitted = admit(store, Access::kRead);
  if (!admitted) return admitted.error();
  return admitted->adapter->search(store, query);
}

Result<ExecResult> ContentManager::execute(const StoreRef& store, const Command& command) {
  // Commands may change the store (purge): they need write access.
  auto admitted = admit(store, Access::kWrite);
  if (!admitted) return admitted.error();
  return admitted->adapter->execute(store, command);
}

std::vector<std::string> ContentManager::databases() const {
  std::vector<std::string> names;
  for (const auto& s : registry_.stores()) names.push_back(s.name);
  return names;
}

}  // namespace conflux::caf
