// Properties the fuzz targets check beyond "no crash": the codecs' round
// trip, decode(encode(decode(x))) == decode(x), and the Status a rejected
// input gets. A failed property aborts, so libFuzzer keeps the input.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "protocol/message.h"
#include "protocol/xml_codec.h"

namespace conflux::fuzz {

// protocol::Message has no operator== (the engine never compares messages);
// this names the first field that differs so a finding reads at a glance.
// Empty when equal, else the path of the first difference and both values,
// e.g. "commands[2].items[0].data: \"a\" vs \"b\"".
// How much a codec may change while staying within its contract.
enum class RoundTrip : uint8_t {
  kExact,
  // encode_wbxml writes kXml item data that WBXML SyncML cannot express
  // (elements or attributes outside MetInf) as text (wbxml_codec.h): the
  // kind may go from kXml to kText, the bytes must stay the same.
  kXmlDataMayBecomeText,
};

std::string message_diff(const protocol::Message& a, const protocol::Message& b, RoundTrip rule = RoundTrip::kExact);

// Prints what a failed property saw to stderr and aborts, so libFuzzer
// reports the input as a crash and writes it out.
[[noreturn]] void property_failed(std::string_view what, std::string_view detail);

using DecodeFn = Result<protocol::Message> (*)(std::string_view, const protocol::DecodeLimits&);
using EncodeFn = std::string (*)(const protocol::Message&);

// Limits for the first decode of fuzz input: tighter than the server's, so
// inputs of -max_len size reach the element and command limits too. The
// re-decode of our own encoding uses the defaults (the encoder writes CmdID,
// LocURI and Meta wrappers the input may have left out).
protocol::DecodeLimits fuzz_limits();

// Decodes `input`; a rejection must be kInvalidArgument or kResourceExhausted
// (xml_codec.h, wbxml_codec.h). What decodes must encode, decode again and
// compare equal field by field. Returns the first decode for further checks.
Result<protocol::Message> check_codec(std::string_view input, DecodeFn decode, EncodeFn encode, std::string_view codec,
                                      RoundTrip rule = RoundTrip::kExact);

// Hex of the first `max` bytes, for reports.
std::string hex(std::string_view bytes, size_t max = 256);

}  // namespace conflux::fuzz
