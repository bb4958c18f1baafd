// Back End Registry (seed FIG. 6): which adapter kinds exist, and which
// adapter serves each configured datastore. A plain object built in main()
// and passed down; built-ins are added by register_builtin_adapters().
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "caf/content_adapter.h"
#include "common/status.h"

namespace conflux::caf {

// One configured datastore ("[stores.contacts]" in the config file).
struct StoreSettings {
  std::string name;          // datastore URI the devices use: "contacts"
  std::string adapter;       // adapter kind: "sqlite"
  std::string content_type;  // canonical storage format: "text/vcard"
  std::string content_version;  // "3.0"
  // What the sync engine does when a device and the server both changed an
  // item: server-wins, client-wins, duplicate or report (engine/conflict_policy.h).
  std::string conflict_policy = "server-wins";
  // Adapter-specific keys of the section, as strings; the adapter's factory
  // validates them and names the bad key in its error.
  std::map<std::string, std::string> options;
};

// What every adapter may use when it is created.
struct AdapterEnv {
  std::string data_dir;  // Conflux's data directory (absolute)
};

// Makes adapters of one kind. validate() runs before anything starts, so a bad
// section stops the server with one line naming the key.
class AdapterFactory {
 public:
  virtual ~AdapterFactory() = default;
  virtual std::string kind() const = 0;
  virtual Status validate(const StoreSettings& settings) const = 0;
  virtual Result<std::shared_ptr<ContentAdapter>> create(const StoreSettings& settings,
                                                         const AdapterEnv& env) = 0;
};

class BackendRegistry {
 public:
  // kAlreadyExists when a factory of that kind is already registered.
  Status add_factory(std::unique_ptr<AdapterFactory> factory);

  // Validates the settings with the factory of their kind and creates the
  // adapter. kInvalidArgument for an unknown kind or a bad section;
  // kAlreadyExists for a datastore name used twice.
  Status add_store(const StoreSettings& settings, const AdapterEnv& env);

  // Validation alone, for config checks before start.
  Status validate_store(const StoreSettings& settings) const;

  // nullptr when no datastore of that name is configured.
  ContentAdapter* adapter_for(const std::string& database) const;
  const StoreSettings* settings_for(const std::string& database) const;
  std::vector<StoreSettings> stores() const;
  std::vector<std::string> kinds() const;

 private:
  struct Entry {
    StoreSettings settings;
    std::shared_ptr<ContentAdapter> adapter;
  };
  std::map<std::string, std::unique_ptr<AdapterFactory>> factories_;
  std::map<std::string, Entry> stores_;
};

}  // namespace conflux::caf
