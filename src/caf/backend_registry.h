// Back End Registry (seed FIG. 6): which adapter kinds exist, and which
// adapter serves each configured datastore. A plain object built in main()
// and passed down; built-ins are added by register_builtin_adapters().
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "caf/content_adapter.h"
#include "caf/store_settings.h"
#include "common/status.h"

namespace conflux::caf {

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
  virtual Result<std::shared_ptr<ContentAdapter>> create(const StoreSettings& settings, const AdapterEnv& env) = 0;
  // `conflux doctor`: problems of a valid section that can be seen without
  // changing anything, before create() (which may make what is missing, as
  // the vdir adapter makes its root). One Status per problem, each naming
  // the key at fault and saying what to do; empty when none is found.
  // Reachability and logins are checked on the created adapter instead.
  virtual std::vector<Status> check(const StoreSettings& settings, const AdapterEnv& env) const { return {}; }
};

class BackendRegistry {
 public:
  // kAlreadyExists when a factory of that kind is already registered.
  Status add_factory(std::unique_ptr<AdapterFactory> factory);

  // Validates the settings with the factory of their kind and creates the
  // adapter. kInvalidArgument for an unknown kind or a bad section;
  // kAlreadyExists for a datastore name used twice.
  Status add_store(const StoreSettings& settings, const AdapterEnv& env);

  // Registers datastore `settings.name` with an UnavailableAdapter
  // (caf/unavailable_adapter.h) that answers every call with kUnavailable and
  // `reason`: what add_store returned when the factory refused the section
  // or could not reach its back end at start. The server then starts with
  // every other datastore working. kAlreadyExists as add_store.
  Status add_unavailable_store(const StoreSettings& settings, const Status& reason);
  // Why datastore `name` is unavailable (add_unavailable_store); OK for one
  // whose adapter was made, and for an unknown name.
  Status unavailability(const std::string& name) const;

  // The factory's check() of a valid section (see AdapterFactory::check);
  // the validation error alone when it is not valid.
  std::vector<Status> check_store(const StoreSettings& settings, const AdapterEnv& env) const;
  // Validation alone, for config checks before start.
  Status validate_store(const StoreSettings& settings) const;

  // Replaces the adapter of datastore `name` by wrap(current adapter), e.g.
  // a cache in front of it. kNotFound for an unknown name; the error of
  // `wrap` as it returned it. Call before the registry is shared.
  using AdapterWrap = std::function<Result<std::shared_ptr<ContentAdapter>>(std::shared_ptr<ContentAdapter>)>;
  Status wrap_store(const std::string& name, const AdapterWrap& wrap);

  // nullptr when no datastore of that name is configured.
  ContentAdapter* adapter_for(const std::string& database) const;
  const StoreSettings* settings_for(const std::string& database) const;
  std::vector<StoreSettings> stores() const;
  std::vector<std::string> kinds() const;

 private:
  struct Entry {
    StoreSettings settings;
    std::shared_ptr<ContentAdapter> adapter;
    Status unavailable;  // non-OK: `adapter` is an UnavailableAdapter, for this reason
  };
  std::map<std::string, std::unique_ptr<AdapterFactory>> factories_;
  std::map<std::string, Entry> stores_;
};

}  // namespace conflux::caf
