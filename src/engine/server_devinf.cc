#include "engine/server_devinf.h"

namespace conflux::engine {

protocol::DevInf server_devinf(const std::vector<caf::StoreSettings>& stores) {
  protocol::DevInf d;
  d.ver_dtd = "1.2";
  d.man = "Conflux";
  d.mod = "Conflux SyncML Server";
  d.sw_v = "0.1";
  d.dev_id = "conflux";
  d.dev_typ = "server";
  d.utc = true;
  d.support_number_of_changes = true;
  d.support_large_objs = true;  // MoreData chunks both ways (engine/datastore_sync.cc)
  for (const auto& store : stores) {
    protocol::DevInfDataStore ds;
    ds.source_ref = store.name;
    ds.display_name = store.name;
    ds.max_guid_size = 64;
    ds.rx_pref = {store.content_type, store.content_version};
    ds.tx_pref = ds.rx_pref;
    // Items are stored as sent; format conversion arrives with the data-object
    // issue, so accept the sibling formats devices commonly send.
    if (store.content_type == "text/vcard") {
      ds.rx.push_back({"text/x-vcard", "2.1"});
      ds.tx.push_back({"text/x-vcard", "2.1"});
    } else if (store.content_type == "text/calendar") {
      ds.rx.push_back({"text/x-vcalendar", "1.0"});
      ds.tx.push_back({"text/x-vcalendar", "1.0"});
    }
    ds.sync_types = {1, 2, 3, 4, 5, 6};  // SyncCap numbers (DevInf), not alert codes
    d.datastores.push_back(std::move(ds));
  }
  return d;
}

}  // namespace conflux::engine
