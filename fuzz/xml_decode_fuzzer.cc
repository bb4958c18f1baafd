// libFuzzer target: the SyncML XML decoder (protocol/xml_codec.h).
// Properties: no crash, hang or sanitizer report; a rejection is
// kInvalidArgument or kResourceExhausted; decode(encode(m)) == m for every
// message that decodes (fuzz/properties.h).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/properties.h"
#include "protocol/xml_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace conflux;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  (void)fuzz::check_codec(input, &protocol::decode_xml, &protocol::encode_xml, "decode_xml");
  return 0;
}
