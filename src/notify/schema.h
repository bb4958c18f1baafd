// Schema of module "notify" in the state database: the outbox and the users'
// webhook subscriptions share it, so both open through these step lists.
#pragma once

#include <string>
#include <vector>

namespace conflux::notify {

const std::vector<std::string>& sqlite_schema();
const std::vector<std::string>& pg_schema();

}  // namespace conflux::notify
