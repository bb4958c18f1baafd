// `conflux conflicts list|show|resolve`: what the engine recorded when a
// device and the server changed the same item, and settling it.
#pragma once

#include <cstdint>
#include <string>

#include "cli/services.h"

namespace conflux::app {

enum class Keep { kServer, kClient };

int conflicts_list(Services& services, const std::string& user, bool include_resolved);
int conflicts_show(Services& services, int64_t id);
// Writes the kept version back through the CAF as a new revision, so every
// device converges on it at its next sync, and marks the record resolved.
// A resolved conflict is refused unless `force`, and even then when the item
// changed since (it holds neither recorded version): never over a newer edit.
int conflicts_resolve(Services& services, int64_t id, Keep keep, bool force);

}  // namespace conflux::app
