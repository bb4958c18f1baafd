// `conflux sessions list|show`: the post-synchronisation reports the engine
// stores when a session completes.
#pragma once

#include <string>

#include "cli/services.h"

namespace conflux::app {

int sessions_list(Services& services, const std::string& user, int limit);
int sessions_show(Services& services, const std::string& session);

}  // namespace conflux::app
