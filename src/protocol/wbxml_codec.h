// SyncML WBXML codec (application/vnd.syncml+wbxml): the same Message model,
// limits and decode rules as the XML codec (xml_codec.h), in WAP Binary XML.
// Decoding is hardened the same way: malformed input yields a Status, never a
// crash, and the limits bound the work any input can cause.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.h"
#include "protocol/message.h"
#include "protocol/xml_codec.h"

namespace conflux::protocol {

// Reads WBXML 1.1-1.3 with a SyncML 1.0/1.1/1.2 public id (numeric, as a
// string-table FPI, or "unknown"), charset UTF-8 (another charset only when
// every string is ASCII), code pages SyncML (0) and MetInf (1). Attributes
// (XML-WBXML-SyncML writes xmlns with LITERAL) are read and kept like XML
// attributes; no SyncML element has any other.
// Item <Data> given as OPAQUE: a complete WBXML DevInf document in it becomes
// DevInf XML text (data_kind kXml) as if it had been inline XML; other bytes
// are kText, binary-safe (NUL bytes included). An inline MetInf element in
// Data (an Anchor) is kXml with xmlns="syncml:metinf", which WBXML implies.
// kInvalidArgument for bytes that are not such a document (bad header, an
// unknown token, code page or public id, a length or string-table index past
// its end, an mb_u_int32 over 32 bits, truncation), and for everything
// decode_xml rejects once the elements are read; kResourceExhausted when a
// limit is exceeded (max_bytes is checked before anything is read).
Result<Message> decode_wbxml(std::string_view bytes, const DecodeLimits& limits = {});

// Serialises a message: WBXML 1.2, the public id of message.version (1.0 as
// a string-table FPI), UTF-8, text as inline strings, MetInf elements on code
// page 1. Item data of kind kXml that is a DevInf document is written as
// OPAQUE holding a WBXML DevInf document for the same version; other kXml
// data (an Anchor) is written inline, or as text when it has elements or
// attributes WBXML SyncML cannot express. kText data holding NUL bytes is
// written as OPAQUE.
std::string encode_wbxml(const Message& message);

// Encoded size of one command as encode_wbxml would write it: the sizes of a
// message's commands plus encoded_wbxml_overhead of the message add up to the
// length of encode_wbxml (for MaxMsgSize budgeting).
size_t encoded_wbxml_size(const Command& command, SyncMLVersion version);

// Encoded size of a message with no commands (header, SyncBody, Final).
size_t encoded_wbxml_overhead(const Message& message_without_commands);

}  // namespace conflux::protocol
