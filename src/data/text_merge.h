// Free-text fields (vCard NOTE, iCalendar DESCRIPTION and COMMENT) that two
// versions of one item hold differently: neither text is dropped, as the
// Synthesis engine's "lines" merge does.
//
// Thread rule: a pure function; any thread.
#pragma once

#include <string>
#include <string_view>

namespace conflux::data {

// The text that keeps both `ours` and `theirs`:
//  - equal (ignoring case and runs of whitespace), or `theirs` empty, or
//    contained in `ours`: `ours`;
//  - `ours` empty or contained in `theirs`: `theirs` (an extended text);
//  - otherwise `ours`, a line break, then the lines of `theirs` that `ours`
//    does not hold already, in their order.
// Without the common ancestor a text changed on one side only also keeps
// the other side's older text; losing nothing is the point.
std::string merge_free_text(std::string_view ours, std::string_view theirs);

}  // namespace conflux::data
