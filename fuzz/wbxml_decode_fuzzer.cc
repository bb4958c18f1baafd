// libFuzzer target: the SyncML WBXML decoder (protocol/wbxml_codec.h).
// Properties: no crash, hang or sanitizer report; a rejection is
// kInvalidArgument or kResourceExhausted; decode(encode(m)) == m for every
// message that decodes, except that item data WBXML cannot express as
// elements comes back as the same bytes of text (fuzz/properties.h).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/properties.h"
#include "protocol/wbxml_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace conflux;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  (void)fuzz::check_codec(input, &protocol::decode_wbxml, &protocol::encode_wbxml, "decode_wbxml",
                          fuzz::RoundTrip::kXmlDataMayBecomeText);
  return 0;
}
