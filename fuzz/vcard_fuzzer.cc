// libFuzzer target: the vCard 2.1/3.0/4.0 parser and writers (data/vcard.h),
// which every contact a device or back end sends goes through.
// Properties: no crash, hang or sanitizer report; a rejection is
// kInvalidArgument; every card that parses, written in each version, parses
// again, and writing that parse in the same version gives the same bytes (the
// writer's output is a fixed point: a contact that goes round device → server
// → device does not drift).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "data/vcard.h"
#include "fuzz/properties.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace conflux;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto cards = data::parse_vcards(input);
  if (!cards) {
    if (cards.error().code() != StatusCode::kInvalidArgument) {
      fuzz::property_failed("parse_vcards rejected input with an unexpected status", cards.error().to_string());
    }
    return 0;
  }
  for (const data::VCard& card : *cards) {
    for (data::VCardVersion version : {data::VCardVersion::k21, data::VCardVersion::k30, data::VCardVersion::k40}) {
      const std::string written = data::write_vcard(card, version);
      auto again = data::parse_vcard(written);
      if (!again) {
        fuzz::property_failed(
            std::string("write_vcard ") + data::vcard_version_name(version) + " output does not parse",
            again.error().to_string() + "\nwritten: " + written.substr(0, 4096));
      }
      const std::string rewritten = data::write_vcard(*again, version);
      if (rewritten != written) {
        fuzz::property_failed(
            std::string("write_vcard ") + data::vcard_version_name(version) + ": write(parse(w)) != w",
            "first:\n" + written.substr(0, 4096) + "\nsecond:\n" + rewritten.substr(0, 4096));
      }
    }
  }
  return 0;
}
