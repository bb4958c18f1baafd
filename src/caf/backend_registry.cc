#include "caf/backend_registry.h"

namespace conflux::caf {

const char* backend_login_name(BackendLogin login) { return login == BackendLogin::kPerUser ? "per-user" : "service"; }

Status BackendRegistry::add_factory(std::unique_ptr<AdapterFactory> factory) {
  std::string kind = factory->kind();
  if (factories_.count(kind)) return Status::already_exists("adapter kind '" + kind + "' registered twice");
  factories_.emplace(kind, std::move(factory));
  return Status::ok();
}

Status BackendRegistry::validate_store(const StoreSettings& settings) const {
  auto it = factories_.find(settings.adapter);
  if (it == factories_.end()) {
    std::string known;
    for (const auto& [kind, _] : factories_) known += (known.empty() ? "" : ", ") + kind;
    return Status::invalid_argument("stores." + settings.name + ".adapter: unknown adapter '" + settings.adapter +
                                    "' (known: " + known + ")");
  }
  return it->second->validate(settings);
}

Status BackendRegistry::add_store(const StoreSettings& settings, const AdapterEnv& env) {
  if (stores_.count(settings.name)) return Status::already_exists("datastore '" + settings.name + "' configured twice");
  CFX_RETURN_IF_ERROR(validate_store(settings));
  auto adapter = factories_.at(settings.adapter)->create(settings, env);
  if (!adapter) {
    // Adapters name the key at fault ("stores.x.root: ..."); others get the store's name.
    const std::string key = "stores." + settings.name;
    if (adapter.error().message().starts_with(key)) return adapter.error();
    return adapter.error().with_context(key);
  }
  stores_.emplace(settings.name, Entry{settings, std::move(*adapter)});
  return Status::ok();
}

std::vector<Status> BackendRegistry::check_store(const StoreSettings& settings, const AdapterEnv& env) const {
  if (Status valid = validate_store(settings); !valid.is_ok()) return {valid};
  return factories_.at(settings.adapter)->check(settings, env);
}

Status BackendRegistry::wrap_store(const std::string& name, const AdapterWrap& wrap) {
  auto it = stores_.find(name);
  if (it == stores_.end()) return Status::not_found("no datastore '" + name + "'");
  auto wrapped = wrap(it->second.adapter);
  if (!wrapped) return wrapped.error();
  if (!*wrapped) return Status::internal("stores." + name + ": wrapping gave no adapter");
  it->second.adapter = std::move(*wrapped);
  return Status::ok();
}

ContentAdapter* BackendRegistry::adapter_for(const std::string& database) const {
  auto it = stores_.find(database);
  return it == stores_.end() ? nullptr : it->second.adapter.get();
}

const StoreSettings* BackendRegistry::settings_for(const std::string& database) const {
  auto it = stores_.find(database);
  return it == stores_.end() ? nullptr : &it->second.settings;
}

std::vector<StoreSettings> BackendRegistry::stores() const {
  std::vector<StoreSettings> out;
  for (const auto& [_, entry] : stores_) out.push_back(entry.settings);
  return out;
}

std::vector<std::string> BackendRegistry::kinds() const {
  std::vector<std::string> out;
  for (const auto& [kind, _] : factories_) out.push_back(kind);
  return out;
}

}  // namespace conflux::caf
