// The server's own device information, built from the configured datastores.
#pragma once

#include <vector>

#include "caf/store_settings.h"
#include "protocol/devinf.h"

namespace conflux::engine {

protocol::DevInf server_devinf(const std::vector<caf::StoreSettings>& stores);

}  // namespace conflux::engine
