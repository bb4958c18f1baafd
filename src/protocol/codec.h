// One door to both SyncML encodings: the server answers in the encoding the
// client used (SyncML HTTP binding), and budgets message sizes in it.
#pragma once

#include <string>
#include <string_view>

#include "protocol/wbxml_codec.h"
#include "protocol/xml_codec.h"

namespace conflux::protocol {

enum class Encoding : uint8_t { kXml, kWbxml };

inline constexpr const char* kSyncMLXmlType = "application/vnd.syncml+xml";
inline constexpr const char* kSyncMLWbxmlType = "application/vnd.syncml+wbxml";

inline const char* media_type(Encoding e) { return e == Encoding::kWbxml ? kSyncMLWbxmlType : kSyncMLXmlType; }

inline Result<Message> decode(std::string_view bytes, Encoding e, const DecodeLimits& limits = {}) {
  return e == Encoding::kWbxml ? decode_wbxml(bytes, limits) : decode_xml(bytes, limits);
}

inline std::string encode(const Message& m, Encoding e) {
  return e == Encoding::kWbxml ? encode_wbxml(m) : encode_xml(m);
}

inline size_t encoded_size(const Command& c, SyncMLVersion v, Encoding e) {
  return e == Encoding::kWbxml ? encoded_wbxml_size(c, v) : encoded_xml_size(c, v);
}

inline size_t encoded_overhead(const Message& m, Encoding e) {
  return e == Encoding::kWbxml ? encoded_wbxml_overhead(m) : encoded_xml_overhead(m);
}

}  // namespace conflux::protocol
