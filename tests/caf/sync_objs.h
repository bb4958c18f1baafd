// SyncObjs for the tests of the CAF and of the cache that write through an
// adapter or the ContentManager.
#pragma once

#include <string>

#include "caf/sync_obj.h"

namespace conflux::test {

// A create of a text/vcard item with bytes `raw`; the back end picks the guid.
inline caf::SyncObj create(const std::string& raw) {
  caf::SyncObj obj;
  obj.action = caf::Action::kCreate;
  obj.content_type = "text/vcard";
  obj.raw = raw;
  return obj;
}

}  // namespace conflux::test
