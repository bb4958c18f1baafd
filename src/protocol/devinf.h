// Device information (SyncML DevInf 1.0/1.1, OMA DS DevInf 1.2): what a device says about itself
// in Put/Results, and what the server says about itself.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "protocol/message.h"

namespace conflux::protocol {

struct ContentTypeRef {
  std::string type;     // CTType, e.g. text/vcard
  std::string version;  // VerCT, e.g. 3.0
};

struct DevInfDataStore {
  std::string source_ref;  // e.g. ./contacts or addressbook
  std::string display_name;
  std::optional<uint32_t> max_guid_size;
  ContentTypeRef rx_pref;
  std::vector<ContentTypeRef> rx;
  ContentTypeRef tx_pref;
  std::vector<ContentTypeRef> tx;
  std::vector<int> sync_types;  // SyncCap/SyncType numbers 1..7
};

struct DevInf {
  std::string ver_dtd;  // 1.1 or 1.2
  std::string man, mod, oem, fw_v, sw_v, hw_v;
  std::string dev_id;
  std::string dev_typ;
  bool utc = false;
  bool support_large_objs = false;
  bool support_number_of_changes = false;
  std::vector<DevInfDataStore> datastores;
};

// Parses the <DevInf> element given as XML text (Item Data of kind kXml).
// Unknown elements (CTCap, Ext, …) are skipped; kInvalidArgument when it is
// not a DevInf document.
Result<DevInf> parse_devinf_xml(std::string_view xml);

// Writes a <DevInf xmlns='syncml:devinf'> element for `version`.
std::string write_devinf_xml(const DevInf& devinf, SyncMLVersion version);

}  // namespace conflux::protocol
