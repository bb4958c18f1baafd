// What particular DAV servers do differently, as data in one table (as the
// device quirks are): the adapter reads these fields and never asks which
// server it talks to. A store picks an entry with `server_quirks` (default
// "generic"); each entry says where its facts come from.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace conflux::adapters {

struct DavServerQuirks {
  std::string name;
  // RFC 6578 sync-collection is used when the collection advertises it and
  // this is true; false for servers whose reports are known to be wrong.
  bool trust_sync_collection = true;
  // ETags that change without the content changing (or are missing): an
  // item's revision is then the SHA-256 of its content (vdirsyncer's rule:
  // changed only when the ETag and the content changed).
  bool etags_unreliable = false;
  // The server sends ETags without the quotes RFC 9110 §8.8.3 requires but
  // compares If-Match with quotes: quote them before sending.
  bool quote_bare_etags = false;
  // Upper bound of hrefs per multiget, below the store's multiget_batch.
  size_t max_multiget = 1000;
};

// The table; the first entry is "generic".
const std::vector<DavServerQuirks>& dav_server_quirks();
// The entry named `name`, or nullptr.
const DavServerQuirks* find_dav_server_quirks(const std::string& name);

}  // namespace conflux::adapters
