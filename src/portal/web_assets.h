// The portal page's files (src/portal/web/), built into the binary by CMake
// so that the page needs no installed directory and no network.
#pragma once

#include <string_view>

namespace conflux::portal {

struct WebAsset {
  std::string_view content_type;
  std::string_view body;
};

// The file served at `path` ("/portal/", "/portal/app.js"); null when none.
const WebAsset* web_asset(std::string_view path);

}  // namespace conflux::portal
