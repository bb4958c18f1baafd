#include "engine/server_devinf.h"

namespace conflux::engine {
namespace {

std::vector<protocol::ContentTypeRef> sibling_formats(const std::string& content_type) {
  if (content_type == "text/vcard" || content_type == "text/x-vcard") {
    return {{"text/vcard", "3.0"}, {"text/x-vcard", "2.1"}, {"text/vcard", "4.0"}, {"text/x-s4j-sifc", "1.0"}};
  }
  if (content_type == "text/calendar" || content_type == "text/x-vcalendar") {
    return {
        {"text/calendar", "2.0"}, {"text/x-vcalendar", "1.0"}, {"text/x-s4j-sife", "1.0"}, {"text/x-s4j-sift", "1.0"}};
  }
  if (content_type == "text/plain" || content_type == "text/x-vnote") {
    return {{"text/plain", "1.0"}, {"text/x-vnote", "1.1"}, {"text/x-s4j-sifn", "1.0"}};
  }
  return {};
}

}  // namespace

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
    // Every format the datastore's kind converts from and to
    // (engine/format_negotiation.h); the storage format is preferred.
    for (const protocol::ContentTypeRef& other : sibling_formats(store.content_type)) {
      if (other.type == store.content_type &&
          (other.version == store.content_version || store.content_version.empty())) {
        continue;
      }
      ds.rx.push_back(other);
      ds.tx.push_back(other);
    }
    ds.sync_types = {1, 2, 3, 4, 5, 6};  // SyncCap numbers (DevInf), not alert codes
    d.datastores.push_back(std::move(ds));
  }
  return d;
}

}  // namespace conflux::engine
