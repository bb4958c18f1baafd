// Adapter kind "plugin": a content adapter built out of tree against the SDK
// (include/conflux/sdk/) and loaded at start. The plugin supplies the
// primitives of caf::TrackedBackend in C (list, read, write, remove); this
// adapter turns them into a caf::ContentAdapter with a caf::RevisionTracker,
// whose state is <data_dir>/plugin-<store>.db, so a plugin never keeps a
// change log of its own.
//
// Config ([stores.<name>]):
//   adapter = "plugin"
//   plugin  = "/usr/lib/x86_64-linux-gnu/conflux/plugins/conflux-csv.so"
//             or a bare name ("conflux-csv"), looked up as <plugin_dir>/<name>.so
//   plugin_dir = "/some/dir"   (optional; default: the install's plugin directory)
//   every other key is the plugin's own; it must be one of the descriptor's
//   `options`, may be any TOML string, integer or boolean, and reaches the
//   plugin's open() as text ("10", "true").
//
// Start: validate() loads the plugin and checks its descriptor and the
// store's keys, so check-config and serve refuse a bad plugin with one line
// before anything runs; create() opens it. A refused plugin stops the
// server: a store is configured whole or the server does not start.
//
// Threading: any method from any thread. Unless the plugin claims
// CFX_CAP_CONCURRENT every call into it holds one mutex per store.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "adapters/plugin/plugin_library.h"
#include "caf/backend_registry.h"
#include "caf/content_adapter.h"
#include "caf/revision_tracker.h"
#include "caf/typed_adapter_factory.h"

namespace conflux::adapters {

// The store section (PluginAdapterFactory::parse); tracker_file is named
// when the adapter is made.
struct PluginAdapterConfig {
  std::string path;                                   // absolute path of the shared object
  std::string tracker_file;                           // absolute path of the RevisionTracker state
  std::map<std::string, std::string> plugin_options;  // the plugin's own keys, as their TOML text
};

// One plugin context (one open() of one store) as the tracker's back end.
class PluginBackend final : public caf::TrackedBackend {
 public:
  // Calls the plugin's open(); its error names the store and the key.
  // `content_type`: the store's, given to the plugin with every write.
  static Result<std::unique_ptr<PluginBackend>> open(std::shared_ptr<const PluginLibrary> library,
                                                     const std::string& store_name, std::string content_type,
                                                     const std::map<std::string, std::string>& options);
  PluginBackend(const PluginBackend&) = delete;
  PluginBackend& operator=(const PluginBackend&) = delete;
  ~PluginBackend() override;  // close()

  // caf::TrackedBackend
  Result<std::map<std::string, std::string>> list(const caf::StoreRef& store) override;
  Result<std::string> read(const caf::StoreRef& store, const std::string& id) override;
  Result<std::string> write(const caf::StoreRef& store, const std::string& id, std::string_view raw,
                            WriteMode mode) override;
  Status remove(const caf::StoreRef& store, const std::string& id) override;

  Status verify_credentials(const std::string& database, const caf::Credentials& creds);
  // The subscription must not outlive this backend (PluginAdapter sees to it).
  Result<std::unique_ptr<caf::ChangeSubscription>> watch(caf::ChangeCallback on_change);

  const PluginLibrary& library() const { return *library_; }

 private:
  PluginBackend(std::shared_ptr<const PluginLibrary> library, std::string content_type, cfx_ctx* ctx);
  // Holds the per-store lock unless the plugin is CFX_CAP_CONCURRENT.
  std::unique_lock<std::mutex> serialise();
  Status to_status(cfx_status code, const cfx_error& err) const;

  const std::shared_ptr<const PluginLibrary> library_;  // outlives ctx_: the code is in there
  const std::string content_type_;
  cfx_ctx* const ctx_;
  std::mutex call_mutex_;
};

class PluginAdapter final : public caf::ContentAdapter, public std::enable_shared_from_this<PluginAdapter> {
 public:
  static Result<std::shared_ptr<PluginAdapter>> open(const PluginAdapterConfig& config,
                                                     const caf::StoreSettings& settings);

  // caf::ContentAdapter
  // kCapTombstones | kCapSearch, plus kCapOwnAccounts and kCapChangeNotify
  // when the plugin claims them.
  caf::AdapterCaps caps() const override;
  // kUnimplemented when the plugin has no accounts of its own.
  Status verify_credentials(const std::string& database, const caf::Credentials& creds) override;
  Result<Anchor> current_anchor(const caf::StoreRef& store) override;
  Result<caf::ChangeSet> changes_since(const caf::StoreRef& store, const Anchor& since) override;
  // One plugin write or remove per item, as caf::RevisionTracker::apply says.
  std::vector<caf::ApplyResult> apply(const caf::StoreRef& store, std::vector<caf::SyncObj>&& batch) override;
  Result<std::vector<caf::SyncObj>> search(const caf::StoreRef& store, const caf::Query& query) override;
  // "count": live items; "rescan": lists the back end now, output is the
  // number of changes found. Others: kUnimplemented.
  Result<caf::ExecResult> execute(const caf::StoreRef& store, const caf::Command& command) override;
  // The subscription keeps this adapter alive until it is destroyed.
  Result<std::unique_ptr<caf::ChangeSubscription>> watch_changes(const std::string& database,
                                                                 caf::ChangeCallback on_change) override;

 private:
  explicit PluginAdapter(std::unique_ptr<PluginBackend> backend) : backend_(std::move(backend)) {}

  const std::unique_ptr<PluginBackend> backend_;   // before tracker_, which uses it
  std::unique_ptr<caf::RevisionTracker> tracker_;  // set once by open()
};

// Adapter kind "plugin" (see the top of this file).
class PluginAdapterFactory final : public caf::TypedAdapterFactory<PluginAdapterConfig> {
 public:
  static constexpr const char* kKind = "plugin";

  std::string kind() const override { return kKind; }

 protected:
  // Loads the plugin: its keys are `plugin`, `plugin_dir` and the options its
  // descriptor declares. The loader's one line for a plugin it refuses.
  Result<caf::OptionKeys> keys(const caf::StoreSettings& settings) const override;
  Result<PluginAdapterConfig> read(const caf::CheckedOptions& options,
                                   const caf::StoreSettings& settings) const override;
  Result<std::shared_ptr<caf::ContentAdapter>> make(PluginAdapterConfig config, const caf::StoreSettings& settings,
                                                    const caf::AdapterEnv& env) override;
};

// Where a bare `plugin = "<name>"` is looked up unless `plugin_dir` is set.
std::string default_plugin_dir();

}  // namespace conflux::adapters
