// One loaded plugin shared object and its checked descriptor
// (include/conflux/sdk/adapter.h). Loading checks everything the SDK header
// lists under "What the host checks at load" before any plugin function
// runs, as PostgreSQL's PG_MODULE_MAGIC and Dovecot's <name>_version are
// checked before init; a refusal is one line naming the file, the plugin's
// ABI and ours, and what to do.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "conflux/sdk/adapter.h"

namespace conflux::adapters {

class PluginLibrary {
 public:
  // dlopens `path` (RTLD_NOW | RTLD_LOCAL) and checks its descriptor.
  // kFailedPrecondition for a file that cannot be loaded or is refused; the
  // message starts with the path and ends with the fix.
  static Result<std::shared_ptr<const PluginLibrary>> load(const std::string& path);

  PluginLibrary(const PluginLibrary&) = delete;
  PluginLibrary& operator=(const PluginLibrary&) = delete;
  // An accepted plugin is never dlclosed, as PostgreSQL never unloads a
  // module: a thread or a static the plugin left behind would run unmapped
  // code. Loading the same file again only counts a reference.

  const cfx_adapter_v1& descriptor() const { return *descriptor_; }
  // "csv 1.0.0 (ABI 1.0, MIT)"
  std::string describe() const;

 private:
  explicit PluginLibrary(const cfx_adapter_v1* descriptor) : descriptor_(descriptor) {}

  const cfx_adapter_v1* const descriptor_;  // static in the plugin, which stays loaded
};

// "1.0": the plugin ABI this Conflux speaks.
std::string host_abi();

}  // namespace conflux::adapters
