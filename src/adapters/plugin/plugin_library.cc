#include "adapters/plugin/plugin_library.h"

#include <dlfcn.h>

namespace conflux::adapters {

namespace {

const std::string kRebuild = "rebuild the plugin against this Conflux's SDK (pkg-config conflux-sdk)";

Status refuse(const std::string& path, const std::string& why, const std::string& fix) {
  return Status::failed_precondition(path + ": " + why + "; " + fix);
}

std::string abi_of(const cfx_adapter_v1& d) { return std::to_string(d.abi_major) + "." + std::to_string(d.abi_minor); }

// The fields the host reads without calling anything: set, and sane.
Status check_descriptor(const std::string& path, const cfx_adapter_v1& d) {
  const std::string plugin_abi = "plugin ABI " + abi_of(d) + ", this Conflux speaks " + host_abi();
  if (d.abi_major != CFX_ABI_MAJOR) {
    return refuse(path, "built for " + plugin_abi,
                  d.abi_major > CFX_ABI_MAJOR
                      ? "upgrade Conflux, or use a build of the plugin for ABI " + std::to_string(CFX_ABI_MAJOR) + ".x"
                      : kRebuild);
  }
  if (d.abi_minor > CFX_ABI_MINOR) {
    return refuse(path, "needs " + plugin_abi, "upgrade Conflux, or use a build of the plugin for ABI " + host_abi());
  }
  if (d.struct_size < CFX_ADAPTER_V1_0_SIZE) {
    return refuse(path,
                  "its descriptor is " + std::to_string(d.struct_size) + " bytes, ABI 1.0's is " +
                      std::to_string(CFX_ADAPTER_V1_0_SIZE) + " (" + plugin_abi + ")",
                  kRebuild);
  }
  auto missing = [&](const char* field) {
    return refuse(path, std::string("its descriptor has no ") + field + " (" + plugin_abi + ")",
                  "set it in the plugin's cfx_adapter_v1");
  };
  if (d.name == nullptr || *d.name == '\0') return missing("name");
  if (d.version == nullptr || *d.version == '\0') return missing("version");
  if (d.licence == nullptr || *d.licence == '\0') return missing("licence");
  if (d.option_count > 0 && d.options == nullptr) return missing("options (option_count is not 0)");
  for (size_t i = 0; i < d.option_count; ++i) {
    if (d.options[i].key == nullptr || *d.options[i].key == '\0') return missing("key in one of its options");
  }
  if (!d.open) return missing("open function");
  if (!d.close) return missing("close function");
  if (!d.list) return missing("list function");
  if (!d.read) return missing("read function");
  if (!d.write) return missing("write function");
  if (!d.remove) return missing("remove function");
  if ((d.capabilities & CFX_CAP_OWN_ACCOUNTS) && !d.verify_credentials) {
    return missing("verify_credentials function (it claims CFX_CAP_OWN_ACCOUNTS)");
  }
  if ((d.capabilities & CFX_CAP_CHANGE_NOTIFY) && (!d.watch || !d.unwatch)) {
    return missing("watch/unwatch functions (it claims CFX_CAP_CHANGE_NOTIFY)");
  }
  return Status::ok();
}

}  // namespace

std::string host_abi() { return std::to_string(CFX_ABI_MAJOR) + "." + std::to_string(CFX_ABI_MINOR); }

Result<std::shared_ptr<const PluginLibrary>> PluginLibrary::load(const std::string& path) {
  // RTLD_LOCAL: two plugins may use the same symbol names; RTLD_NOW: an
  // unresolved symbol is refused here, not mid-sync.
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = ::dlerror();
    return refuse(path, std::string("cannot be loaded: ") + (why ? why : "unknown error"),
                  "check the path and that its libraries are installed");
  }
  auto close = [&] { ::dlclose(handle); };
  ::dlerror();
  auto entry = reinterpret_cast<cfx_adapter_entry_fn>(::dlsym(handle, CFX_ADAPTER_ENTRY_SYMBOL));
  if (entry == nullptr) {
    close();
    return refuse(path,
                  std::string("is not a Conflux plugin: it exports no ") + CFX_ADAPTER_ENTRY_SYMBOL +
                      " (this Conflux speaks plugin ABI " + host_abi() + ")",
                  "declare it with CFX_ADAPTER_ENTRY from <conflux/sdk/adapter.h>");
  }
  const cfx_adapter_v1* descriptor = entry(CFX_ABI_MAJOR);
  if (descriptor == nullptr) {
    close();
    return refuse(path, "refused this Conflux's plugin ABI " + host_abi() + " (its entry returned NULL)",
                  "use a build of the plugin for ABI " + host_abi());
  }
  if (auto st = check_descriptor(path, *descriptor); !st.is_ok()) {
    close();
    return st;
  }
  return std::shared_ptr<const PluginLibrary>(new PluginLibrary(descriptor));
}

std::string PluginLibrary::describe() const {
  const auto& d = *descriptor_;
  return std::string(d.name) + " " + d.version + " (ABI " + abi_of(d) + ", " + d.licence + ")";
}

}  // namespace conflux::adapters
