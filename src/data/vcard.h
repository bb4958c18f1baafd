// vCard 2.1 / 3.0 / 4.0: a content-line model, one parser for all three
// versions and one writer per version.
//
// The model is version-neutral: what the wire spelling changes between
// versions (ENCODING, CHARSET, bare 2.1 type parameters, PREF, PHOTO as data:
// URI, TEL;VALUE=uri, GEO syntax) is decoded away on parse and produced again
// by the writer of the target version. So "convert" is simply
// write_vcard(parse_vcard(bytes), other_version).
//
// Parse rules (SYNCML-REFERENCE §16):
//  - CRLF or LF line ends. Unfolding: 3.0/4.0 remove CRLF + one space/tab;
//    2.1 removes the line break only (the whitespace belongs to the value).
//    The VERSION line may come anywhere in the card; it picks the rule. A
//    card without VERSION is read as 2.1 (the most tolerant rules).
//  - QUOTED-PRINTABLE: a line ending in '=' joins the next line (soft break);
//    the value is decoded to bytes first, then converted from CHARSET.
//  - CHARSET: any iconv charset (UTF-8, ISO-8859-1, windows-1252 ...). A value
//    without CHARSET that is not valid UTF-8 is read as windows-1252 (what
//    2.1 phones that omit CHARSET send); then as ISO-8859-1.
//  - ENCODING=BASE64 (2.1) / b (3.0) and 4.0 data:...;base64, URIs: binary,
//    the image format kept as a TYPE value (JPEG); 2.1 data may continue on
//    following lines, indented or not, up to a blank line.
//  - 4.0 TEL;VALUE=uri:tel:+1... is read as the text number +1...; GEO in
//    any version's syntax becomes two components (lat, lon).
//  - Bare parameters (TEL;HOME;VOICE) become TYPE values; bare
//    QUOTED-PRINTABLE / BASE64 / 8BIT / 7BIT become ENCODING. TYPE values are
//    upper-cased; parameter and property names are upper-cased.
//  - Escapes \\ \n \N \; \, \: are decoded in every version (2.1 devices use
//    them too); any other backslash is kept literally.
//  - Line breaks in text are normalised to LF.
//  - A nested AGENT vCard (2.1, spread over lines) is kept as one text value.
//  - Errors are kInvalidArgument naming the line and property: no
//    BEGIN:VCARD, no END:VCARD, content outside a card, a line without ':',
//    a bad property name, an unknown ENCODING or CHARSET, bad BASE64,
//    VERSION other than 2.1/3.0/4.0.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace conflux::data {

enum class VCardVersion { k21, k30, k40 };

const char* vcard_version_name(VCardVersion v);  // "2.1", "3.0", "4.0"

struct VCardParam {
  std::string name;                 // upper case
  std::vector<std::string> values;  // unquoted; TYPE values upper case
};

// How the value of a property is held in the model.
enum class ValueKind {
  kText,        // one unescaped text (FN, NOTE, X-... ): values[0]
  kStructured,  // ';'-separated components (N, ADR, ORG, GENDER, GEO)
  kList,        // ','-separated items (CATEGORIES, NICKNAME)
  kBinary,      // decoded bytes in values[0] (PHOTO;ENCODING=b, data: URI)
  kRaw,         // taken verbatim, never escaped (URL, URIs, VALUE=uri)
};

struct VCardProperty {
  std::string group;               // "item1" for item1.TEL (case kept); empty when none
  std::string name;                // upper case, e.g. "TEL", "X-ABLABEL"
  std::vector<VCardParam> params;  // without ENCODING and CHARSET
  ValueKind kind = ValueKind::kText;
  std::vector<std::string> values;  // decoded, UTF-8 (bytes for kBinary)
  std::string raw;                  // the value as it stood on the wire after unfolding

  const VCardParam* param(std::string_view param_name) const;
  // Upper-case TYPE values, plus "PREF" when a PREF parameter is present.
  std::vector<std::string> types() const;
  bool has_type(std::string_view type) const;
  // Components joined by ';' (kStructured) or ',' (kList); the text otherwise.
  std::string joined() const;
  // True when every component is empty.
  bool empty() const;
};

struct VCard {
  VCardVersion version = VCardVersion::k30;  // the version it was read as
  std::vector<VCardProperty> properties;     // in order; no BEGIN/END/VERSION

  const VCardProperty* first(std::string_view name) const;
};

// Parses every vCard in `bytes` (several may follow each other, blank lines
// between them are fine). kInvalidArgument if there is none or any is broken;
// the message names the (1-based) line and property.
Result<std::vector<VCard>> parse_vcards(std::string_view bytes);

// Parses exactly one vCard; more than one is kInvalidArgument.
Result<VCard> parse_vcard(std::string_view bytes);

// Writes `card` in `version`, converting on the way (see vcard_write.cc for
// the mapping). Lines end in CRLF and are folded at 75 octets (3.0/4.0,
// never inside a UTF-8 sequence) or before whitespace / by QP soft breaks
// (2.1). Cannot fail: every model value has a spelling in every version.
std::string write_vcard(const VCard& card, VCardVersion version);

// True when `s` can be a property, group or parameter name: letters, digits,
// '-' and '_' (so a 2.1 bare parameter can be told from a value).
bool is_vcard_name(std::string_view s);

// PHOTO, LOGO, SOUND, KEY (also as X-VCARD3-/X-VCARD4- names): the properties
// whose binary value 4.0 carries as a data: URI, both ways.
bool is_vcard_media_property(std::string_view name);

// The kind a property's value has in the model (for parsers and for code that
// builds properties by hand).
ValueKind value_kind_for(std::string_view name);

}  // namespace conflux::data
