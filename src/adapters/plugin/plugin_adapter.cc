#include "adapters/plugin/plugin_adapter.h"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>

#include "caf/tracked_adapter.h"
#include "common/log.h"

namespace conflux::adapters {

namespace fs = std::filesystem;

namespace {

// The loader's own keys; every other key of the section is the plugin's.
constexpr const char* kPluginKey = "plugin";
constexpr const char* kPluginDirKey = "plugin_dir";

Status check_scope(const caf::StoreRef& store) {
  if (store.user.empty()) return Status::invalid_argument("plugin adapter: call without a user");
  if (store.database.empty()) return Status::invalid_argument("plugin adapter: call without a database");
  // The SDK promises plugins no '/' or NUL (they often build paths from these).
  for (const std::string* part : {&store.user.str(), &store.database}) {
    if (part->find_first_of(std::string_view("/\0", 2)) != std::string::npos || *part == "." || *part == "..") {
      return Status::invalid_argument("plugin adapter: user or database name not usable by a plugin");
    }
  }
  return Status::ok();
}

std::vector<caf::ApplyResult> fail_all(size_t n, const Status& status) {
  std::vector<caf::ApplyResult> results(n);
  for (auto& r : results) r.status = status;
  return results;
}

// The loader's own keys, checked before the plugin is loaded; the options the
// plugin declares complete the list (PluginAdapterFactory::keys).
const std::vector<caf::OptionSpec>& loader_keys() {
  static const std::vector<caf::OptionSpec> keys = {
      caf::non_empty_option(kPluginKey, "the plugin's .so").needed(),
      caf::non_empty_option(kPluginDirKey, "the directory of plugins named without a path"),
  };
  return keys;
}

// The path a `plugin` value names: an absolute path as it is, a bare name in
// the plugin directory.
Result<std::string> plugin_path(const std::string& store, const caf::CheckedOptions& options) {
  const std::string key = "stores." + store + ".";
  const std::string value = options.text(kPluginKey);
  if (value.find('/') == std::string::npos) {
    const std::string base = options.has(kPluginDirKey) ? options.text(kPluginDirKey) : default_plugin_dir();
    if (!fs::path(base).is_absolute()) {
      return Status::invalid_argument(key + kPluginDirKey + ": must be an absolute path");
    }
    return (fs::path(base) / (value + ".so")).string();
  }
  if (!fs::path(value).is_absolute()) {
    return Status::invalid_argument(key + kPluginKey + ": give an absolute path or a bare name looked up in " +
                                    kPluginDirKey);
  }
  return value;
}

struct HostBytes {
  std::string bytes;
  static void put(void* host, const char* data, size_t size) {
    static_cast<HostBytes*>(host)->bytes.append(data, size);
  }
};

struct HostListing {
  std::map<std::string, std::string> items;
  static void put(void* host, const char* id, const char* revision) {
    if (id == nullptr) return;
    static_cast<HostListing*>(host)->items[id] = revision ? revision : "";
  }
};

// Calls back into Conflux from a plugin thread until unwatch returned.
class PluginSubscription final : public caf::ChangeSubscription {
 public:
  explicit PluginSubscription(caf::ChangeCallback on_change) : on_change_(std::move(on_change)) {}
  ~PluginSubscription() override {
    if (stop_) stop_();
  }
  static void notify(void* host, const char* user) {
    static_cast<PluginSubscription*>(host)->on_change_(UserId(user ? user : ""));
  }
  // Set once the plugin's watch succeeded: calls its unwatch.
  void set_stop(std::function<void()> stop) { stop_ = std::move(stop); }
  // Keeps the adapter (and so the plugin's ctx) alive while this lives.
  void keep(std::shared_ptr<const void> owner) { owner_ = std::move(owner); }

 private:
  const caf::ChangeCallback on_change_;
  std::function<void()> stop_;
  std::shared_ptr<const void> owner_;  // destroyed after stop_ ran
};

// The plugin's status and message as a Status ("plugin csv: ...").
Status plugin_status(const char* plugin_name, cfx_status code, const cfx_error& err) {
  std::string message(err.message, strnlen(err.message, sizeof err.message));
  if (message.empty()) message = "no message";
  message = std::string("plugin ") + plugin_name + ": " + message;
  switch (code) {
    case CFX_OK: return Status::ok();
    case CFX_INVALID_ARGUMENT: return Status::invalid_argument(message);
    case CFX_NOT_FOUND: return Status::not_found(message);
    case CFX_ALREADY_EXISTS: return Status::already_exists(message);
    case CFX_PERMISSION_DENIED: return Status::permission_denied(message);
    case CFX_UNAUTHENTICATED: return Status::unauthenticated(message);
    case CFX_RESOURCE_EXHAUSTED: return Status::resource_exhausted(message);
    case CFX_FAILED_PRECONDITION: return Status::failed_precondition(message);
    case CFX_ABORTED: return Status::aborted(message);
    case CFX_UNAVAILABLE: return Status::unavailable(message);
    case CFX_UNIMPLEMENTED: return Status::unimplemented(message);
    case CFX_INTERNAL: return Status::internal(message);
    default:  // a plugin of a later minor, or a bad one
      return Status::internal(message + " (unknown status " + std::to_string(static_cast<int>(code)) + ")");
  }
}

}  // namespace

std::string default_plugin_dir() { return CONFLUX_PLUGIN_DIR; }

// --- PluginBackend

PluginBackend::PluginBackend(std::shared_ptr<const PluginLibrary> library, std::string content_type, cfx_ctx* ctx)
    : library_(std::move(library)), content_type_(std::move(content_type)), ctx_(ctx) {}

PluginBackend::~PluginBackend() { library_->descriptor().close(ctx_); }

Result<std::unique_ptr<PluginBackend>> PluginBackend::open(std::shared_ptr<const PluginLibrary> library,
                                                           const std::string& store_name, std::string content_type,
                                                           const std::map<std::string, std::string>& options) {
  std::vector<cfx_option> c_options;
  c_options.reserve(options.size());
  for (const auto& [k, v] : options) c_options.push_back(cfx_option{k.c_str(), v.c_str()});
  const cfx_adapter_v1& d = library->descriptor();
  cfx_ctx* ctx = nullptr;
  cfx_error err{};
  cfx_status code = d.open(store_name.c_str(), c_options.data(), c_options.size(), &ctx, &err);
  if (code == CFX_OK && ctx == nullptr) {
    code = CFX_INTERNAL;
    snprintf(err.message, sizeof err.message, "open returned no context");
  }
  if (code != CFX_OK) {
    const std::string key(err.key, strnlen(err.key, sizeof err.key));
    return plugin_status(d.name, code, err).with_context("stores." + store_name + (key.empty() ? "" : "." + key));
  }
  return std::unique_ptr<PluginBackend>(new PluginBackend(std::move(library), std::move(content_type), ctx));
}

std::unique_lock<std::mutex> PluginBackend::serialise() {
  if (library_->descriptor().capabilities & CFX_CAP_CONCURRENT) return {};
  return std::unique_lock<std::mutex>(call_mutex_);
}

Status PluginBackend::to_status(cfx_status code, const cfx_error& err) const {
  return plugin_status(library_->descriptor().name, code, err);
}

Result<std::map<std::string, std::string>> PluginBackend::list(const caf::StoreRef& store) {
  const cfx_store_ref ref{store.user.str().c_str(), store.database.c_str()};
  HostListing listing;
  const cfx_list_sink sink{&listing, &HostListing::put};
  cfx_error err{};
  auto lock = serialise();
  const cfx_status code = library_->descriptor().list(ctx_, &ref, &sink, &err);
  if (code != CFX_OK) return to_status(code, err);
  return std::move(listing.items);
}

Result<std::string> PluginBackend::read(const caf::StoreRef& store, const std::string& id) {
  const cfx_store_ref ref{store.user.str().c_str(), store.database.c_str()};
  HostBytes item;
  const cfx_bytes_sink sink{&item, &HostBytes::put};
  cfx_error err{};
  auto lock = serialise();
  const cfx_status code = library_->descriptor().read(ctx_, &ref, id.c_str(), &sink, &err);
  if (code != CFX_OK) return to_status(code, err);
  return std::move(item.bytes);
}

Result<std::string> PluginBackend::write(const caf::StoreRef& store, const std::string& id, std::string_view raw,
                                         WriteMode mode) {
  // The tracker passes the content type of the item it writes as the store's.
  const cfx_store_ref ref{store.user.str().c_str(), store.database.c_str()};
  const cfx_sync_obj obj{mode == WriteMode::kCreate ? CFX_ACTION_CREATE : CFX_ACTION_UPDATE,
                         id.c_str(),
                         store.user.str().c_str(),
                         store.database.c_str(),
                         content_type_.c_str(),
                         raw.data(),
                         raw.size()};
  HostBytes revision;
  const cfx_bytes_sink sink{&revision, &HostBytes::put};
  cfx_error err{};
  auto lock = serialise();
  const cfx_status code = library_->descriptor().write(
      ctx_, &ref, &obj, mode == WriteMode::kCreate ? CFX_WRITE_CREATE : CFX_WRITE_REPLACE, &sink, &err);
  if (code != CFX_OK) return to_status(code, err);
  if (revision.bytes.empty()) {
    return Status::internal(std::string("plugin ") + library_->descriptor().name + ": write gave no revision");
  }
  return std::move(revision.bytes);
}

Status PluginBackend::remove(const caf::StoreRef& store, const std::string& id) {
  const cfx_store_ref ref{store.user.str().c_str(), store.database.c_str()};
  cfx_error err{};
  auto lock = serialise();
  return to_status(library_->descriptor().remove(ctx_, &ref, id.c_str(), &err), err);
}

Status PluginBackend::verify_credentials(const std::string& database, const caf::Credentials& creds) {
  const auto& d = library_->descriptor();
  if (!(d.capabilities & CFX_CAP_OWN_ACCOUNTS)) {
    return Status::unimplemented(std::string("plugin ") + d.name + ": accounts are Conflux's own");
  }
  const cfx_credentials c{creds.user.str().c_str(), creds.secret.c_str(),
                          creds.scheme == caf::CredentialScheme::kMd5Digest ? CFX_CRED_MD5_DIGEST : CFX_CRED_PASSWORD,
                          creds.nonce.data(), creds.nonce.size()};
  cfx_error err{};
  auto lock = serialise();
  return to_status(d.verify_credentials(ctx_, database.c_str(), &c, &err), err);
}

Result<std::unique_ptr<caf::ChangeSubscription>> PluginBackend::watch(caf::ChangeCallback on_change) {
  const auto& d = library_->descriptor();
  if (!(d.capabilities & CFX_CAP_CHANGE_NOTIFY)) {
    return Status::unimplemented(std::string("plugin ") + d.name + " does not report changes");
  }
  auto subscription = std::make_unique<PluginSubscription>(std::move(on_change));
  cfx_watch* handle = nullptr;
  cfx_error err{};
  auto lock = serialise();
  const cfx_status code = d.watch(ctx_, &PluginSubscription::notify, subscription.get(), &handle, &err);
  if (code != CFX_OK) return to_status(code, err);
  subscription->set_stop([this, handle] {
    auto stop_lock = serialise();
    library_->descriptor().unwatch(ctx_, handle);
  });
  return std::unique_ptr<caf::ChangeSubscription>(std::move(subscription));
}

// --- PluginAdapter

Result<std::shared_ptr<PluginAdapter>> PluginAdapter::open(const PluginAdapterConfig& config,
                                                           const caf::StoreSettings& settings) {
  auto library = PluginLibrary::load(config.path);
  if (!library) return library.error();
  const std::string described = (*library)->describe();
  auto backend = PluginBackend::open(std::move(*library), settings.name, settings.content_type, config.plugin_options);
  if (!backend) return backend.error();
  std::shared_ptr<PluginAdapter> adapter(new PluginAdapter(std::move(*backend)));
  auto tracker = caf::RevisionTracker::open(config.tracker_file, *adapter->backend_, settings.content_type);
  if (!tracker) return tracker.error().with_context("stores." + settings.name);
  adapter->tracker_ = std::move(*tracker);
  logger("adapter.plugin")->info("store '{}': plugin {} from {}", settings.name, described, config.path);
  return adapter;
}

caf::AdapterCaps PluginAdapter::caps() const {
  const uint32_t claimed = backend_->library().descriptor().capabilities;
  caf::AdapterCaps caps = caf::kCapTombstones | caf::kCapSearch;
  if (claimed & CFX_CAP_OWN_ACCOUNTS) caps |= caf::kCapOwnAccounts;
  if (claimed & CFX_CAP_CHANGE_NOTIFY) caps |= caf::kCapChangeNotify;
  return caps;
}

Status PluginAdapter::verify_credentials(const std::string& database, const caf::Credentials& creds) {
  return backend_->verify_credentials(database, creds);
}

Result<Anchor> PluginAdapter::current_anchor(const caf::StoreRef& store) {
  CFX_RETURN_IF_ERROR(check_scope(store));
  return tracker_->current_anchor(store);
}

Result<caf::ChangeSet> PluginAdapter::changes_since(const caf::StoreRef& store, const Anchor& since) {
  CFX_RETURN_IF_ERROR(check_scope(store));
  return tracker_->changes_since(store, since);
}

std::vector<caf::ApplyResult> PluginAdapter::apply(const caf::StoreRef& store, std::vector<caf::SyncObj>&& batch) {
  if (Status scope = check_scope(store); !scope.is_ok()) return fail_all(batch.size(), scope);
  return caf::apply_tracked(*tracker_, store, std::move(batch), {}, "plugin");
}

Result<std::vector<caf::SyncObj>> PluginAdapter::search(const caf::StoreRef& store, const caf::Query& query) {
  CFX_RETURN_IF_ERROR(check_scope(store));
  return tracker_->search(store, query);
}

Result<caf::ExecResult> PluginAdapter::execute(const caf::StoreRef& store, const caf::Command& command) {
  CFX_RETURN_IF_ERROR(check_scope(store));
  if (auto answered = caf::tracked_command(*tracker_, store, command, "plugin")) return std::move(*answered);
  return Status::unimplemented("plugin adapter: unknown command '" + command.name + "'");
}

Result<std::unique_ptr<caf::ChangeSubscription>> PluginAdapter::watch_changes(const std::string& database,
                                                                              caf::ChangeCallback on_change) {
  auto subscription = backend_->watch(std::move(on_change));
  if (!subscription) return subscription.error();
  static_cast<PluginSubscription&>(**subscription).keep(shared_from_this());
  return subscription;
}

// --- PluginAdapterFactory

Result<caf::OptionKeys> PluginAdapterFactory::keys(const caf::StoreSettings& settings) const {
  caf::StoreSettings loader_part = settings;
  std::erase_if(loader_part.options,
                [](const auto& entry) { return entry.first != kPluginKey && entry.first != kPluginDirKey; });
  auto loader = caf::check_store_options(loader_part, caf::OptionKeys{"adapter plugin", loader_keys()});
  if (!loader) return loader.error();
  auto path = plugin_path(settings.name, *loader);
  if (!path) return path.error();
  auto library = PluginLibrary::load(*path);
  if (!library) return library.error().with_context("stores." + settings.name + "." + kPluginKey);
  const cfx_adapter_v1& d = (*library)->descriptor();
  caf::OptionKeys all{std::string("plugin ") + d.name, loader_keys()};
  for (size_t i = 0; i < d.option_count; ++i) {
    const cfx_option_spec& spec = d.options[i];
    // The SDK passes every value as text: any TOML scalar will do.
    caf::OptionSpec option =
        caf::scalar_option(spec.key, spec.help ? std::string("this key: ") + spec.help : "this key");
    all.specs.push_back(spec.required ? option.needed() : option);
  }
  return all;
}

Result<PluginAdapterConfig> PluginAdapterFactory::read(const caf::CheckedOptions& options,
                                                       const caf::StoreSettings& settings) const {
  auto path = plugin_path(settings.name, options);
  if (!path) return path.error();
  PluginAdapterConfig config;
  config.path = std::move(*path);
  config.plugin_options = options.given_text({kPluginKey, kPluginDirKey});
  return config;
}

Result<std::shared_ptr<caf::ContentAdapter>> PluginAdapterFactory::make(PluginAdapterConfig config,
                                                                        const caf::StoreSettings& settings,
                                                                        const caf::AdapterEnv& env) {
  config.tracker_file = (fs::path(env.data_dir) / ("plugin-" + settings.name + ".db")).string();
  auto adapter = PluginAdapter::open(config, settings);
  if (!adapter) return adapter.error();
  return std::shared_ptr<caf::ContentAdapter>(std::move(*adapter));
}

}  // namespace conflux::adapters
