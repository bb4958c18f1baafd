#include "adapters/builtin_adapters.h"

#include <memory>

#include "adapters/caldav/caldav_adapter.h"
#include "adapters/plugin/plugin_adapter.h"
#include "adapters/postgresql/postgresql_adapter.h"
#include "adapters/sqlite/sqlite_adapter.h"
#include "adapters/vdir/vdir_adapter.h"

namespace conflux::adapters {

Status register_builtin_adapters(caf::BackendRegistry& registry) {
  CFX_RETURN_IF_ERROR(registry.add_factory(std::make_unique<SqliteAdapterFactory>()));
  CFX_RETURN_IF_ERROR(registry.add_factory(std::make_unique<VdirAdapterFactory>()));
  CFX_RETURN_IF_ERROR(registry.add_factory(std::make_unique<CaldavAdapterFactory>()));
  CFX_RETURN_IF_ERROR(registry.add_factory(std::make_unique<PostgresqlAdapterFactory>()));
  CFX_RETURN_IF_ERROR(registry.add_factory(std::make_unique<PluginAdapterFactory>()));
  return Status::ok();
}

}  // namespace conflux::adapters
