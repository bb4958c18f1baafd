#include "caf/content_manager.h"

#include "common/log.h"

namespace conflux::caf {

ContentManager::ContentManager(const BackendRegistry& registry, AccountDirectory& accounts,
                               const TokenService& tokens)
    : registry_(registry), accounts_(accounts), tokens_(tokens) {}

Result<Token> ContentManager::authenticate(const Credentials& creds, TokenKind kind) {
  if (creds.user.empty()) return Status::unauthenticated("no user name");
  // The embedded back ends trust Conflux's account directory. Back ends with
  // their own accounts (kCapOwnAccounts) and per-store ACLs arrive with the
  // CAF-complete issue; they will verify per datastore here.
  Status verified = creds.scheme == CredentialScheme::kMd5Digest
                        ? accounts_.verify_md5_digest(creds.user, creds.nonce, creds.secret)
                        : accounts_.verify_password(creds.user, creds.secret);
  if (!verified.is_ok()) {
    logger("caf")->info("authentication failed for user '{}': {}", creds.user.str(), verified.message());
    return verified;
  }
  return tokens_.issue(creds.user, kind);
}

Result<ContentAdapter*> ContentManager::admit(const StoreRef& store, Access access) const {
  if (store.user.empty()) return Status::invalid_argument("CAF call without a user id");
  auto token = tokens_.verify(store.token.value);
  if (!token) return token.error();
  if (token->user != store.user) {
    logger("caf")->warn("token of user '{}' used for user '{}'; refused", token->user.str(), store.user.str());
    return Status::permission_denied("token does not belong to this user");
  }
  if (access == Access::kWrite && token->kind != TokenKind::kReadWrite) {
    return Status::permission_denied(std::string("a ") + token_kind_name(token->kind) + " token cannot write");
  }
  ContentAdapter* adapter = registry_.adapter_for(store.database);
  if (!adapter) return Status::not_found("no datastore '" + store.database + "'");
  return adapter;
}

Result<Anchor> ContentManager::current_anchor(const StoreRef& store) {
  auto adapter = admit(store, Access::kRead);
  if (!adapter) return adapter.error();
  return (*adapter)->current_anchor(store);
}

Result<ChangeSet> ContentManager::changes_since(const StoreRef& store, const Anchor& since) {
  auto adapter = admit(store, Access::kRead);
  if (!adapter) return adapter.error();
  return (*adapter)->changes_since(store, since);
}

std::vector<ApplyResult> ContentManager::apply(const StoreRef& store, std::vector<SyncObj>&& batch) {
  auto adapter = admit(store, Access::kWrite);
  if (!adapter) {
    std::vector<ApplyResult> refused(batch.size());
    for (auto& r : refused) r.status = adapter.error();
    return refused;
  }
  // The objects belong to the caller's user and datastore, whatever they say.
  for (auto& obj : batch) {
    obj.user = store.user;
    obj.database = store.database;
  }
  return (*adapter)->apply(store, std::move(batch));
}

Result<std::vector<SyncObj>> ContentManager::search(const StoreRef& store, const Query& query) {
  auto adapter = admit(store, Access::kRead);
  if (!adapter) return adapter.error();
  return (*adapter)->search(store, query);
}

Result<ExecResult> ContentManager::execute(const StoreRef& store, const Command& command) {
  // Commands may change the store (purge): they need a read-write token.
  auto adapter = admit(store, Access::kWrite);
  if (!adapter) return adapter.error();
  return (*adapter)->execute(store, command);
}

std::vector<std::string> ContentManager::databases() const {
  std::vector<std::string> names;
  for (const auto& s : registry_.stores()) names.push_back(s.name);
  return names;
}

}  // namespace conflux::caf
