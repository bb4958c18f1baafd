// The factory base of an adapter kind whose section reads into a Config
// struct: the section is checked against the kind's keys (caf/store_options.h)
// and its cross-key rules once, in parse(), which validate(), create() and
// check() share; an adapter writes only keys(), read() and make().
#pragma once

#include <memory>
#include <vector>

#include "caf/backend_registry.h"
#include "caf/store_options.h"

namespace conflux::caf {

template <typename Config>
class TypedAdapterFactory : public AdapterFactory {
 public:
  // The section as a Config, or kInvalidArgument naming the key at fault.
  // Depends on the section alone: paths stay as written until make().
  Result<Config> parse(const StoreSettings& settings) const {
    auto specs = keys(settings);
    if (!specs) return specs.error();
    auto options = check_store_options(settings, *specs);
    if (!options) return options.error();
    return read(*options, settings);
  }

  Status validate(const StoreSettings& settings) const final { return parse(settings).status(); }

  Result<std::shared_ptr<ContentAdapter>> create(const StoreSettings& settings, const AdapterEnv& env) final {
    auto config = parse(settings);
    if (!config) return config.error();
    return make(std::move(*config), settings, env);
  }

  std::vector<Status> check(const StoreSettings& settings, const AdapterEnv& env) const final {
    auto config = parse(settings);
    if (!config) return {config.error()};
    return check_config(*config, settings, env);
  }

 protected:
  // The keys a section of this kind may hold (a plugin's depend on the plugin it names).
  virtual Result<OptionKeys> keys(const StoreSettings& settings) const = 0;
  // The checked keys as a Config, after the rules that join several keys.
  virtual Result<Config> read(const CheckedOptions& options, const StoreSettings& settings) const = 0;
  // The adapter of a parsed section; may touch the file system and the network.
  virtual Result<std::shared_ptr<ContentAdapter>> make(Config config, const StoreSettings& settings,
                                                       const AdapterEnv& env) = 0;
  // AdapterFactory::check of a parsed section.
  virtual std::vector<Status> check_config(const Config& config, const StoreSettings& settings,
                                           const AdapterEnv& env) const {
    return {};
  }
};

}  // namespace conflux::caf
