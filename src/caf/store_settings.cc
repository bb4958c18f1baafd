#include "caf/store_settings.h"

namespace conflux::caf {

const char* backend_login_name(BackendLogin login) { return login == BackendLogin::kPerUser ? "per-user" : "service"; }

}  // namespace conflux::caf
