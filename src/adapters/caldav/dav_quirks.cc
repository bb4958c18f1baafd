#include "adapters/caldav/dav_quirks.h"

namespace conflux::adapters {

const std::vector<DavServerQuirks>& dav_server_quirks() {
  static const std::vector<DavServerQuirks> table = {
      {"generic"},
      // Radicale 3.1.8: sync-collection works (403 valid-sync-token on an
      // unknown token, never truncates); quoted SHA-256 ETags; refuses
      // If-Match: * on update, which this adapter never sends anyway.
      {"radicale"},
      // Cyrus before the fix of cyrusimap/cyrus-imapd#4985 returned no
      // members for an empty sync-token: list by PROPFIND instead.
      {"cyrus", /*trust_sync_collection=*/false},
      // Group-Office sent ETags without quotes and broke If-Match uploads
      // (Intermesh/groupoffice#556).
      {"groupoffice", true, false, /*quote_bare_etags=*/true},
      // Generated collections (birthday calendars) whose ETags change on
      // every listing (pimutils/vdirsyncer#262); Posteo answered items
      // without ETags (bitfireAT/davx5-ose#1700).
      {"unstable-etags", true, /*etags_unreliable=*/true},
  };
  return table;
}

const DavServerQuirks* find_dav_server_quirks(const std::string& name) {
  for (const auto& q : dav_server_quirks()) {
    if (q.name == name) return &q;
  }
  return nullptr;
}

}  // namespace conflux::adapters
