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

// One property of a CTCap: what the device can hold of it.
struct CTCapProperty {
  std::string name;                   // PropName, upper case (ADR, NOTE, DTSTART)
  std::optional<uint32_t> max_occur;  // MaxOccur (1.2); absent: as many as sent
  std::vector<std::string> params;    // ParamName values, upper case
};

// Content-type capabilities (CTCap): the properties a device stores for one
// content type. An empty property list means the device named the type only.
struct CTCap {
  ContentTypeRef type;
  std::vector<CTCapProperty> properties;
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
  std::vector<CTCap> ctcaps;    // 1.2: inside the DataStore
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
  // 1.1: one top-level CTCap listing several types, each applying to the
  // datastores that send or receive that type.
  std::vector<CTCap> ctcaps;
};

// Parses the <DevInf> element given as XML text (Item Data of kind kXml).
// CTCap is read in both layouts (1.1 flat list, 1.2 Property elements);
// unknown elements (Ext, DSMem, …) are skipped; kInvalidArgument when it is
// not a DevInf document.
Result<DevInf> parse_devinf_xml(std::string_view xml);

// Writes a <DevInf xmlns='syncml:devinf'> element for `version`.
std::string write_devinf_xml(const DevInf& devinf, SyncMLVersion version);

}  // namespace conflux::protocol
