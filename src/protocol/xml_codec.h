// SyncML XML codec (pugixml). Decoding is hardened: limits below bound the
// work any input can cause; malformed input yields a Status, never a crash.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.h"
#include "protocol/message.h"

namespace conflux::protocol {

struct DecodeLimits {
  size_t max_bytes = 4 * 1024 * 1024;  // whole message
  size_t max_depth = 32;               // element nesting
  size_t max_elements = 200000;        // elements in one message
  size_t max_commands = 50000;         // commands incl. nested ones
};

// kInvalidArgument for XML that does not parse or is not SyncML (no SyncML
// root, no SyncHdr, no SyncBody); kResourceExhausted when a limit is exceeded.
// A header that parses but misses required parts (VerDTD, VerProto, SessionID,
// MsgID, Target or Source LocURI) is also kInvalidArgument: without them no
// SyncML answer can be built. An empty element (<SessionID/>) counts as present.
// Commands are decoded structurally: a missing CmdID or Status/Alert code reads
// as 0 so the engine can answer 412; a non-numeric one is kInvalidArgument.
// An unknown VerDTD is kept in hdr.ver_dtd (the engine answers 505).
Result<Message> decode_xml(std::string_view bytes, const DecodeLimits& limits = {});

// Serialises a message (UTF-8, XML declaration, no indentation). Namespaces:
// SYNCML:SYNCML1.x on the root, syncml:metinf on Meta children; item data of
// kind kXml is inserted as XML, kText as escaped text.
std::string encode_xml(const Message& message);

// Encoded size of one command as encode_xml would write it (for MaxMsgSize
// budgeting without re-encoding the whole message).
size_t encoded_xml_size(const Command& command, SyncMLVersion version);

// Encoded size of a message with no commands (header, SyncBody, Final).
size_t encoded_xml_overhead(const Message& message_without_commands);

}  // namespace conflux::protocol
