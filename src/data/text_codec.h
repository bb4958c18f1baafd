// Byte-level codecs shared by the text formats of src/data (vCard today,
// vCalendar / vNote next): quoted-printable, charset conversion to UTF-8 and
// UTF-8 checks. Pure functions; safe from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/utf8.h"

namespace conflux::data {

// Decodes QUOTED-PRINTABLE (RFC 2045 §6.7) to raw bytes. Soft breaks ("=" at
// the end of a line, CRLF or LF) are removed; a malformed "=XY" is kept
// literally, as devices send stray '=' signs. Never fails.
std::string qp_decode(std::string_view text);

// Encodes bytes as QUOTED-PRINTABLE for a vCard 2.1 value: '=', control
// characters, non-ASCII bytes and a trailing space or tab are escaped; a line
// break becomes "=0D=0A". `first_line_room` is how many characters fit after
// the property name on the first line; following lines hold at most 75
// characters plus the "=" soft break. Escapes are never split. The result
// contains "=\r\n" soft breaks and no other line ends.
std::string qp_encode(std::string_view bytes, size_t first_line_room);

// A text property line for vCalendar 1.0 and vNote: ';' and '\' escaped;
// CHARSET=UTF-8 and QUOTED-PRINTABLE when the value is not plain ASCII on one
// line or begins or ends with a space.
std::string text_line_10(const std::string& name, std::string_view value);

// Escapes a TEXT value the one way iCalendar (RFC 5545 §3.3.11) and vCard
// 3.0/4.0 (RFC 2426 §5, RFC 6350 §3.4) share: '\\', ';' and ',' get a
// backslash, a line break becomes "\\n" (a CR before it, or alone, is dropped).
std::string escape_text(std::string_view s);

// Undoes text-value escapes (\n \N \; \, \\; RFC 5545 §3.3.11, vCard 3.0,
// vCalendar 1.0, vNote); any other backslash is kept.
std::string unescape_text(std::string_view s);

// Converts `bytes` in `charset` (a CHARSET parameter value, any case, e.g.
// "ISO-8859-1", "windows-1252", "utf-8") to UTF-8 through iconv.
// kInvalidArgument when the charset is unknown or the bytes are not valid in
// it.
Result<std::string> to_utf8(std::string_view bytes, std::string_view charset);

// Text that declares no charset, as UTF-8: as it is when it is valid UTF-8,
// else read as windows-1252 (what devices that are not UTF-8 send), else as
// ISO-8859-1, which takes any byte. Never fails.
std::string undeclared_to_utf8(std::string_view bytes);

// Length of the longest prefix of `text` of at most `max_octets` octets that
// does not end inside a UTF-8 sequence (for folding).
size_t utf8_prefix_length(std::string_view text, size_t max_octets);

// ASCII lower / upper case copies.
std::string ascii_lower(std::string_view s);
std::string ascii_upper(std::string_view s);
bool iequals(std::string_view a, std::string_view b);

// Line breaks as "\n": CRLF and a lone CR become LF.
std::string normalise_newlines(std::string_view s);

// The logical lines of a vCard 2.1-style stream (vNote, vCalendar 1.0): a
// line break before a space or tab is removed and the whitespace kept; a
// QUOTED-PRINTABLE value's soft break ("=" ending the line) takes the next
// line in, after a "\n" (qp_decode removes both). Empty lines are dropped.
std::vector<std::string> unfold_21_lines(std::string_view bytes);

// `s` in ASCII lower case with every run of whitespace (space, tab, line
// breaks) made one space and none at the ends: values that differ only in
// case and spacing compare equal.
std::string collapse_lower(std::string_view s);

}  // namespace conflux::data
