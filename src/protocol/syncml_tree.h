// The SyncML element tree both codecs share. Internal to src/protocol: the
// protocol API is xml_codec.h and wbxml_codec.h.
//
// The rules that map elements to the Message model exist once, in
// xml_codec.cc, and work on a pugixml tree:
//   decode: bytes -> tree (pugixml's parser, or the WBXML reader) -> decode_tree
//   encode: Message -> append_header / append_command -> tree -> bytes
//           (pugixml's printer, or the WBXML writer)
#pragma once

#include <pugixml.hpp>

#include <map>
#include <string>
#include <string_view>

#include "common/status.h"
#include "protocol/message.h"
#include "protocol/xml_codec.h"

namespace conflux::protocol::syncml_tree {

inline constexpr const char* kMetInfNs = "syncml:metinf";
inline constexpr const char* kDevInfNs = "syncml:devinf";

// Item data that a pugixml text node cannot hold because it contains NUL
// bytes (a binary object; WBXML carries it as OPAQUE). The tree keeps an empty
// <Data> element and the bytes live here, keyed by that element. XML cannot
// carry NUL at all, so only the WBXML codec passes one.
using BinaryData = std::map<pugi::xml_node, std::string>;

// "Anchor" for "m:Anchor": elements are matched by local name (xml_codec.cc).
std::string_view local_name(const char* qname);

// Runs a decoder with what every decoder needs around it: kResourceExhausted
// over limits.max_bytes before a byte is read, kInvalidArgument for empty
// input, and out-of-memory as kResourceExhausted rather than an exception.
using Decoder = Result<Message> (*)(std::string_view bytes, const DecodeLimits& limits);
Result<Message> decode_guarded(std::string_view bytes, const DecodeLimits& limits, Decoder decoder);

// The Message in a document tree, with every rule decode_xml documents:
// limits, root and header checks, structural command decoding. `binary` may be
// null; when given, a <Data> element it lists decodes to those bytes (kText).
Result<Message> decode_tree(const pugi::xml_document& doc, const DecodeLimits& limits, const BinaryData* binary);

// Appends the <SyncHdr> element of `message` to `parent`.
void append_header(pugi::xml_node parent, const Message& message);

// Appends the element of `command` (children in DTD order). Item data holding
// NUL bytes goes to `binary` when it is given; without it such data is cut at
// the first NUL, as XML has no way to write one.
void append_command(pugi::xml_node parent, const Command& command, BinaryData* binary);

}  // namespace conflux::protocol::syncml_tree
