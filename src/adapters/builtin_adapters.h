// The adapters built into Conflux, added to a registry by one plain function
// (no static registration), as main() and tests call it.
#pragma once

#include "caf/backend_registry.h"
#include "common/status.h"

namespace conflux::adapters {

// Adds a factory for every built-in adapter kind ("sqlite", "vdir", "caldav", "plugin").
// kAlreadyExists when one of them is registered already.
Status register_builtin_adapters(caf::BackendRegistry& registry);

}  // namespace conflux::adapters
