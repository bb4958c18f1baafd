// Realistic vCard 3.0 contacts for the load generator, in the manner of
// tests/integration/vcards.py: international names and addresses, 1-3
// phones, one or two e-mails, ORG/TITLE/NOTE/BDAY/CATEGORIES, every fifth
// card with a small JPEG-looking PHOTO. Deterministic: the same (seed,
// index) always gives the same bytes, so a failing run can be repeated.
#pragma once

#include <cstdint>
#include <string>

namespace conflux::loadgen {

// Contact number `index` of the seeded set: CRLF line ends, folded at 75
// octets (never inside a UTF-8 sequence), ending in CRLF. Its FN ends in
// the index, so FNs are unique within a set, and the e-mail carries seed and
// index, so cards of different seeds never look like the same person.
std::string make_contact(uint64_t index, uint32_t seed);

// The same card with its NOTE replaced by one naming `revision`: what a
// user's edit looks like to the server (a Replace of a known item).
std::string edit_contact(const std::string& card, uint64_t revision);

}  // namespace conflux::loadgen
