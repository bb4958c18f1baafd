// Well-formedness checks pugixml does not make, run on a SyncML body before
// it is parsed: a message we accept must be one we can echo back.
#pragma once

#include <string_view>

#include "common/status.h"

namespace conflux::protocol {

// kInvalidArgument when `xml` is not valid UTF-8 (XML 1.0 §2.2; SyncML XML is
// UTF-8, and invalid bytes stored in an item would make every later reply to
// the device ill-formed), or when it holds an entity reference other than the
// five predefined ones and character references (XML 1.0 §4.1: an undeclared
// entity is a well-formedness error), or a character XML 1.0 §2.2 does not
// allow, raw or as a character reference ("&#0;", "&#x1F;", "&#xFFFE;").
// CDATA sections and comments are skipped.
Status check_xml_text(std::string_view xml);

}  // namespace conflux::protocol
