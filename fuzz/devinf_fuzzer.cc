// libFuzzer target: the DevInf parser (protocol/devinf.h), which the engine
// runs on the Item Data of a client's Put or Results.
// Properties: no crash, hang or sanitizer report; a rejection is
// kInvalidArgument (kResourceExhausted only for out of memory); what parses
// is written again (write_devinf_xml) for the version it names and parses to
// the same fields, VerDTD aside (the writer states the version it wrote).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/properties.h"
#include "protocol/devinf.h"

namespace conflux::fuzz {
namespace {

using protocol::ContentTypeRef;
using protocol::DevInf;
using protocol::DevInfDataStore;

bool same(const ContentTypeRef& a, const ContentTypeRef& b) { return a.type == b.type && a.version == b.version; }

bool same(const std::vector<ContentTypeRef>& a, const std::vector<ContentTypeRef>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!same(a[i], b[i])) return false;
  }
  return true;
}

bool same(const DevInfDataStore& a, const DevInfDataStore& b) {
  return a.source_ref == b.source_ref && a.display_name == b.display_name && a.max_guid_size == b.max_guid_size &&
         same(a.rx_pref, b.rx_pref) && same(a.rx, b.rx) && same(a.tx_pref, b.tx_pref) && same(a.tx, b.tx) &&
         a.sync_types == b.sync_types;
}

// Which field differs, or empty.
std::string devinf_diff(const DevInf& a, const DevInf& b) {
  if (a.man != b.man) return "Man";
  if (a.mod != b.mod) return "Mod";
  if (a.oem != b.oem) return "OEM";
  if (a.fw_v != b.fw_v) return "FwV";
  if (a.sw_v != b.sw_v) return "SwV";
  if (a.hw_v != b.hw_v) return "HwV";
  if (a.dev_id != b.dev_id) return "DevID";
  if (a.dev_typ != b.dev_typ) return "DevTyp";
  if (a.utc != b.utc || a.support_large_objs != b.support_large_objs ||
      a.support_number_of_changes != b.support_number_of_changes) {
    return "UTC/SupportLargeObjs/SupportNumberOfChanges";
  }
  if (a.datastores.size() != b.datastores.size()) return "DataStore count";
  for (size_t i = 0; i < a.datastores.size(); ++i) {
    if (!same(a.datastores[i], b.datastores[i])) return "DataStore " + std::to_string(i);
  }
  return "";
}

}  // namespace
}  // namespace conflux::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace conflux;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto first = protocol::parse_devinf_xml(input);
  if (!first) {
    const StatusCode code = first.error().code();
    if (code != StatusCode::kInvalidArgument && code != StatusCode::kResourceExhausted) {
      fuzz::property_failed("parse_devinf_xml rejected input with an unexpected status", first.error().to_string());
    }
    return 0;
  }
  const auto version = first->ver_dtd == "1.1" ? protocol::SyncMLVersion::k11 : protocol::SyncMLVersion::k12;
  const std::string written = protocol::write_devinf_xml(*first, version);
  auto second = protocol::parse_devinf_xml(written);
  if (!second) {
    fuzz::property_failed("write_devinf_xml output does not parse", second.error().to_string() + "\n" + written);
  }
  if (std::string diff = fuzz::devinf_diff(*first, *second); !diff.empty()) {
    fuzz::property_failed("parse(write(d)) != d", diff + "\nwritten: " + written.substr(0, 4096));
  }
  return 0;
}
