// Own WBXML codec: Debian 12's libwbxml2 aborts/segfaults on malformed input (corpus malformed/libwbxml-fuzz); a server
// must never crash on input.
//
// Table-driven over the element tree of syncml_tree.h: the reader turns
// WBXML into the pugixml tree the XML parser would have built, and the
// shared tree->Message rules of xml_codec.cc do the rest; the writer
// serialises the tree the XML encoder builds. So the two codecs differ only in
// bytes <-> tree, never in what an element means.
//
// Formats: WAP-192 WBXML 1.3 (§5.1 mb_u_int32, §5.4 header, §5.8 tokens);
// SyncML/MetInf/DevInf code pages as in libwbxml's wbxml_tables.c and
// libsynthesis' xlttags.c (reference §13). Every read is bounds-checked; the
// reader keeps its own stack (no recursion per element) and enforces the depth
// and element limits while it builds, before the tree grows. Decoded text is
// limited to max_bytes too: the string table lets a few bytes stand for many,
// and text the XML form of the message could not hold is refused.
#include "protocol/wbxml_codec.h"
#include "common/utf8.h"

#include <pugixml.hpp>

#include <cassert>
#include <cstdint>
#include <cstdio>
#include <map>
#include <new>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "protocol/syncml_tree.h"

namespace conflux::protocol {
namespace {

using syncml_tree::BinaryData;
using syncml_tree::local_name;

// ---------------------------------------------------------------------------
// Tokens and code pages

// Global tokens (WBXML 1.3 §7.1).
constexpr uint8_t kSwitchPage = 0x00;
constexpr uint8_t kEnd = 0x01;
constexpr uint8_t kEntity = 0x02;
constexpr uint8_t kStrI = 0x03;
constexpr uint8_t kLiteral = 0x04;  // | kHasContent / kHasAttributes as for tags
constexpr uint8_t kStrT = 0x83;
constexpr uint8_t kOpaque = 0xC3;
constexpr uint8_t kHasContent = 0x40;
constexpr uint8_t kHasAttributes = 0x80;
constexpr uint8_t kFirstTag = 0x05;  // tag identities 0x05..0x3F; below are globals

constexpr uint8_t kWbxmlVersion = 0x02;  // what we write; libsynthesis writes it too
constexpr uint32_t kUtf8 = 106;          // IANA MIBenum
constexpr uint32_t kUnknownPublicId = 0x01;
// SyncML elements have no attributes; encoders add xmlns at most. A cap keeps
// the duplicate check cheap.
constexpr size_t kMaxAttributes = 8;

enum class Vocabulary : uint8_t { kSyncML, kDevInf11, kDevInf12 };

// Tag names by token, from 0x05. nullptr: unassigned.
constexpr const char* kSyncMLTags[] = {
    // SyncML code page 0
    "Add", "Alert", "Archive", "Atomic", "Chal", "Cmd",                         // 05-0A
    "CmdID", "CmdRef", "Copy", "Cred", "Data", "Delete",                        // 0B-10
    "Exec", "Final", "Get", "Item", "Lang", "LocName",                          // 11-16
    "LocURI", "Map", "MapItem", "Meta", "MsgID", "MsgRef",                      // 17-1C
    "NoResp", "NoResults", "Put", "Replace", "RespURI", "Results",              // 1D-22
    "Search", "Sequence", "SessionID", "SftDel", "Source", "SourceRef",         // 23-28
    "Status", "Sync", "SyncBody", "SyncHdr", "SyncML", "Target",                // 29-2E
    "TargetRef", nullptr, "VerDTD", "VerProto", "NumberOfChanges", "MoreData",  // 2F-34
    // 1.2 only; also read in 1.1 documents, as Nokia sends SourceParent there.
    "Field", "Filter", "Record", "FilterType", "SourceParent", "TargetParent",  // 35-3A
    "Move", "Correlator",                                                       // 3B-3C
};

constexpr const char* kMetInfTags[] = {
    // MetInf code page 1, same in 1.1 and 1.2
    "Anchor",    "EMI",        "Format", "FreeID",  "FreeMem",    "Last",        // 05-0A
    "Mark",      "MaxMsgSize", "Mem",    "MetInf",  "Next",       "NextNonce",   // 0B-10
    "SharedMem", "Size",       "Type",   "Version", "MaxObjSize", "FieldLevel",  // 11-16 (16: 1.2)
};

// DevInf code page 0 as in DevInf 1.2. DevInf 1.1 ends at 0x2A and has
// Size where 1.2 has MaxSize (token 0x1C).
constexpr const char* kDevInfTags[] = {
    "CTCap",
    "CTType",
    "DataStore",
    "DataType",
    "DevID",
    "DevInf",  // 05-0A
    "DevTyp",
    "DisplayName",
    "DSMem",
    "Ext",
    "FwV",
    "HwV",  // 0B-10
    "Man",
    "MaxGUIDSize",
    "MaxID",
    "MaxMem",
    "Mod",
    "OEM",  // 11-16
    "ParamName",
    "PropName",
    "Rx",
    "Rx-Pref",
    "SharedMem",
    "MaxSize",  // 17-1C
    "SourceRef",
    "SwV",
    "SyncCap",
    "SyncType",
    "Tx",
    "Tx-Pref",  // 1D-22
    "ValEnum",
    "VerCT",
    "VerDTD",
    "XNam",
    "XVal",
    "UTC",  // 23-28
    "SupportNumberOfChanges",
    "SupportLargeObjs",  // 29-2A
    "Property",
    "PropParam",
    "MaxOccur",
    "NoTruncate",
    nullptr,  // 2B-2F (1.2)
    "Filter-Rx",
    "FilterCap",
    "FilterKeyword",
    "FieldLevel",
    "SupportHierarchicalSync",  // 30-34 (1.2)
};
constexpr uint8_t kDevInfSizeToken = 0x1C;
constexpr uint8_t kLastDevInf11Token = 0x2A;

constexpr uint8_t kSyncMLPage = 0;
constexpr uint8_t kMetInfPage = 1;

std::span<const char* const> page_tags(Vocabulary vocabulary, uint8_t page) {
  if (vocabulary != Vocabulary::kSyncML) return page == 0 ? std::span(kDevInfTags) : std::span<const char* const>();
  if (page == kSyncMLPage) return kSyncMLTags;
  if (page == kMetInfPage) return kMetInfTags;
  return {};
}

bool known_page(Vocabulary vocabulary, uint8_t page) { return !page_tags(vocabulary, page).empty(); }

// Reading accepts every assigned token of a page (a DevInf 1.1 document with a
// 1.2 Property still reads); only token 0x1C differs between DevInf versions.
const char* tag_name(Vocabulary vocabulary, uint8_t page, uint8_t identity) {
  if (vocabulary == Vocabulary::kDevInf11 && identity == kDevInfSizeToken) return "Size";
  std::span<const char* const> tags = page_tags(vocabulary, page);
  if (identity < kFirstTag || identity - kFirstTag >= static_cast<int>(tags.size())) return nullptr;
  return tags[identity - kFirstTag];
}

struct TagCode {
  uint8_t page;
  uint8_t token;
};

// Writing keeps to the version's own table: names outside it are LITERAL in a
// DevInf document and make inline SyncML data fall back to text.
std::optional<TagCode> tag_code(Vocabulary vocabulary, std::string_view name) {
  for (uint8_t page : {kSyncMLPage, kMetInfPage}) {
    std::span<const char* const> tags = page_tags(vocabulary, page);
    for (size_t i = 0; i < tags.size(); ++i) {
      uint8_t token = static_cast<uint8_t>(kFirstTag + i);
      if (vocabulary == Vocabulary::kDevInf11 && token > kLastDevInf11Token) break;
      if (tags[i] && tag_name(vocabulary, page, token) == name) return TagCode{page, token};
    }
  }
  return std::nullopt;
}

// Document types (reference §13 table).
struct PublicId {
  uint32_t id;
  const char* fpi;
  Vocabulary vocabulary;
  SyncMLVersion version;
};

constexpr PublicId kPublicIds[] = {
    {0x0FD1, "-//SYNCML//DTD SyncML 1.0//EN", Vocabulary::kSyncML, SyncMLVersion::k10},
    {0x0FD3, "-//SYNCML//DTD SyncML 1.1//EN", Vocabulary::kSyncML, SyncMLVersion::k11},
    {0x1201, "-//SYNCML//DTD SyncML 1.2//EN", Vocabulary::kSyncML, SyncMLVersion::k12},
    {0x0FD2, "-//SYNCML//DTD DevInf 1.0//EN", Vocabulary::kDevInf11, SyncMLVersion::k10},
    {0x0FD4, "-//SYNCML//DTD DevInf 1.1//EN", Vocabulary::kDevInf11, SyncMLVersion::k11},
    {0x1203, "-//SYNCML//DTD DevInf 1.2//EN", Vocabulary::kDevInf12, SyncMLVersion::k12},
};

// The public id we write: SyncML's or DevInf's for a version (DevInf 1.0
// shares the 1.1 table).
const PublicId& public_id_for(Vocabulary vocabulary, SyncMLVersion version) {
  const bool devinf = vocabulary != Vocabulary::kSyncML;
  for (const PublicId& p : kPublicIds) {
    if ((p.vocabulary != Vocabulary::kSyncML) == devinf && p.version == version) return p;
  }
  return kPublicIds[2];  // not reached: the table has every pair
}

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

std::string hex(uint32_t value) {
  char buf[16];
  std::snprintf(buf, sizeof buf, value > 0xFF ? "0x%04X" : "0x%02X", value);
  return buf;
}

// ---------------------------------------------------------------------------
// Reading bytes

Status malformed(size_t offset, const std::string& what) {
  return Status::invalid_argument("WBXML " + what + " at offset " + std::to_string(offset));
}

// A cursor that never reads past its end.
class ByteReader {
 public:
  explicit ByteReader(std::string_view bytes) : bytes_(bytes) {}

  bool at_end() const { return pos_ == bytes_.size(); }
  size_t offset() const { return pos_; }

  Status byte(uint8_t& out, const char* what) {
    if (at_end()) return malformed(pos_, std::string("truncated in ") + what);
    out = static_cast<uint8_t>(bytes_[pos_++]);
    return Status::ok();
  }

  // mb_u_int32 (§5.1): big-endian base-128, high bit = more; at most 32 bits.
  Status mb_uint32(uint32_t& out, const char* what) {
    const size_t start = pos_;
    uint32_t value = 0;
    for (int i = 0; i < 5; ++i) {
      uint8_t b = 0;
      CFX_RETURN_IF_ERROR(byte(b, what));
      if (value > (UINT32_MAX >> 7)) return malformed(start, std::string(what) + " exceeds 32 bits");
      value = (value << 7) | (b & 0x7F);
      if (!(b & 0x80)) {
        out = value;
        return Status::ok();
      }
    }
    return malformed(start, std::string(what) + " is longer than 5 bytes");
  }

  Status take(size_t n, std::string_view& out, const char* what) {
    if (n > bytes_.size() - pos_) {
      return malformed(pos_, std::string(what) + " of " + std::to_string(n) + " bytes runs past the end (" +
                                 std::to_string(bytes_.size() - pos_) + " left)");
    }
    out = bytes_.substr(pos_, n);
    pos_ += n;
    return Status::ok();
  }

  // STR_I: up to and without the terminating NUL, which is consumed.
  Status inline_string(std::string_view& out) {
    size_t nul = bytes_.find('\0', pos_);
    if (nul == std::string_view::npos) return malformed(pos_, "inline string without its NUL");
    out = bytes_.substr(pos_, nul - pos_);
    pos_ = nul + 1;
    return Status::ok();
  }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
};

// What the header says about the document that follows (§5.4).
struct Document {
  Vocabulary vocabulary = Vocabulary::kSyncML;
  std::optional<SyncMLVersion> version;  // none for public id "unknown"
  std::string_view strings;              // string table
  bool ascii_only = false;               // charset is not UTF-8
};

bool is_ascii(std::string_view s) {
  for (char c : s) {
    if (static_cast<uint8_t>(c) >= 0x80) return false;
  }
  return true;
}

// A string-table entry runs to its NUL or, leniently, to the table's end
// (libsynthesis writes its FPI without a NUL).
Status table_string(const Document& doc, uint32_t index, size_t offset, std::string_view& out) {
  if (index >= doc.strings.size()) {
    return malformed(offset, "string table index " + std::to_string(index) + " out of range (table has " +
                                 std::to_string(doc.strings.size()) + " bytes)");
  }
  std::string_view rest = doc.strings.substr(index);
  out = rest.substr(0, rest.find('\0'));
  // Names and values from the table end up in XML text; they must be UTF-8.
  if (!is_valid_utf8(out)) return malformed(offset, "string table entry is not valid UTF-8");
  return Status::ok();
}

// Version, public id, charset and string table; leaves `in` at the body.
Status read_header(ByteReader& in, Document& doc) {
  uint8_t version = 0;
  CFX_RETURN_IF_ERROR(in.byte(version, "header"));
  if (version < 0x01 || version > 0x03) return malformed(0, "version " + hex(version) + " (1.1-1.3 supported)");
  uint32_t public_id = 0, fpi_index = 0, charset = 0, table_size = 0;
  CFX_RETURN_IF_ERROR(in.mb_uint32(public_id, "public id"));
  if (public_id == 0) CFX_RETURN_IF_ERROR(in.mb_uint32(fpi_index, "public id string index"));
  CFX_RETURN_IF_ERROR(in.mb_uint32(charset, "charset"));
  const size_t table_offset = in.offset();
  CFX_RETURN_IF_ERROR(in.mb_uint32(table_size, "string table length"));
  CFX_RETURN_IF_ERROR(in.take(table_size, doc.strings, "string table"));

  doc.ascii_only = charset != kUtf8;
  if (doc.ascii_only && !is_ascii(doc.strings)) {
    return malformed(table_offset, "string table is not ASCII, charset " + std::to_string(charset) + " is not UTF-8");
  }

  const PublicId* known = nullptr;
  std::string_view fpi;
  if (public_id == 0) CFX_RETURN_IF_ERROR(table_string(doc, fpi_index, table_offset, fpi));
  for (const PublicId& p : kPublicIds) {
    if (public_id == 0 ? equals_ignoring_case(fpi, p.fpi) : public_id == p.id) known = &p;
  }
  if (known) {
    doc.vocabulary = known->vocabulary;
    doc.version = known->version;
  } else if (public_id != kUnknownPublicId) {
    std::string what = public_id == 0 ? "'" + std::string(fpi.substr(0, 60)) + "'" : hex(public_id);
    return malformed(1, "public id " + what + " is neither SyncML nor DevInf");
  }
  return Status::ok();
}

// ---------------------------------------------------------------------------
// WBXML -> element tree

bool is_xml_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool is_all_space(std::string_view s) {
  for (char c : s) {
    if (!is_xml_space(c)) return false;
  }
  return true;
}

// Names from the string table (LITERAL) must be printable as XML names, since
// Item data of kind kXml is printed from the tree.
bool is_xml_name(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(name[i]);
    bool letter = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == ':' || c >= 0x80;
    bool other = (c >= '0' && c <= '9') || c == '-' || c == '.';
    if (!letter && (i == 0 || !other)) return false;
  }
  return true;
}

// ENTITY (§5.8.4.3) is a character code; appended as UTF-8.
bool append_utf8(uint32_t cp, std::string& out) {
  if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return true;
}

bool is_string_token(uint8_t token) { return token == kStrI || token == kStrT || token == kEntity || token == kOpaque; }

// Builds the element tree from a document body. One instance per message: it
// counts elements and decoded text across the message and its DevInf
// sub-documents.
class TreeReader {
 public:
  TreeReader(const DecodeLimits& limits, BinaryData& binary) : limits_(limits), binary_(binary) {}

  // Reads the body after `doc`'s header into `parent`, whose own element
  // depth is `base_depth` (0 for the document node).
  Status read_body(ByteReader& in, const Document& doc, pugi::xml_node parent, size_t base_depth);

 private:
  struct Open {
    pugi::xml_node node;
    uint8_t page = 0;
    bool item_data = false;     // <Data> of an <Item>: may hold binary bytes or DevInf
    bool binary = false;        // its content went to binary_
    bool text_is_data = false;  // `text` holds OPAQUE bytes: not layout
    std::string text;           // character data not yet in the tree
  };

  Status read_elements(ByteReader& in, const Document& doc, pugi::xml_node parent, size_t base_depth);
  Status read_string(ByteReader& in, const Document& doc, uint8_t token, std::string& out, std::string_view* opaque);
  Status read_tag_name(ByteReader& in, const Document& doc, uint8_t token, uint8_t page, std::string& name);
  Status open_element(ByteReader& in, const Document& doc, uint8_t token, const std::string& name, uint8_t page,
                      pugi::xml_node parent, size_t base_depth);
  Status read_attributes(ByteReader& in, const Document& doc, pugi::xml_node node);
  Status flush_text(Open& element);
  Status add_opaque(std::string_view bytes, size_t depth);
  bool read_devinf(std::string_view bytes, Open& element, size_t depth);
  Status spend(size_t text_bytes);

  const DecodeLimits& limits_;
  BinaryData& binary_;
  size_t elements_ = 0;
  size_t text_bytes_ = 0;   // decoded text and LITERAL names so far
  std::vector<Open> open_;  // the current document's open elements
};

Status TreeReader::spend(size_t text_bytes) {
  text_bytes_ += text_bytes;
  if (text_bytes_ <= limits_.max_bytes) return Status::ok();
  return Status::resource_exhausted("WBXML text decodes to more than " + std::to_string(limits_.max_bytes) + " bytes");
}

// Reads a string token (STR_I, STR_T, ENTITY, OPAQUE), for content and for
// attribute values alike, and appends what it stands for to `out`. OPAQUE
// bytes go to `opaque` instead when it is given: they are data, not layout.
Status TreeReader::read_string(ByteReader& in, const Document& doc, uint8_t token, std::string& out,
                               std::string_view* opaque) {
  const size_t offset = in.offset() - 1;
  const size_t size_before = out.size();
  uint32_t number = 0;
  std::string_view s;
  if (token == kStrI) {
    CFX_RETURN_IF_ERROR(in.inline_string(s));
    if (doc.ascii_only && !is_ascii(s)) return malformed(offset, "non-ASCII string, charset is not UTF-8");
  } else if (token == kStrT) {
    CFX_RETURN_IF_ERROR(in.mb_uint32(number, "STR_T index"));
    CFX_RETURN_IF_ERROR(table_string(doc, number, offset, s));
  } else if (token == kEntity) {
    CFX_RETURN_IF_ERROR(in.mb_uint32(number, "ENTITY"));
    if (!append_utf8(number, out)) return malformed(offset, "ENTITY " + hex(number) + " is not a character");
  } else {
    assert(token == kOpaque);
    CFX_RETURN_IF_ERROR(in.mb_uint32(number, "OPAQUE length"));
    CFX_RETURN_IF_ERROR(in.take(number, s, "OPAQUE"));
    if (opaque) {
      *opaque = s;
      return spend(s.size());
    }
  }
  // Text must be something a reply can echo (cf. check_xml_text for XML).
  if (!is_valid_utf8(s)) return malformed(offset, "string is not valid UTF-8");
  out += s;
  return spend(out.size() - size_before);
}

// The element name a tag token stands for: from the code page, or from the
// string table for LITERAL.
Status TreeReader::read_tag_name(ByteReader& in, const Document& doc, uint8_t token, uint8_t page, std::string& name) {
  const size_t offset = in.offset() - 1;
  const uint8_t identity = token & 0x3F;
  if (identity == kLiteral) {
    uint32_t index = 0;
    std::string_view literal;
    CFX_RETURN_IF_ERROR(in.mb_uint32(index, "LITERAL index"));
    CFX_RETURN_IF_ERROR(table_string(doc, index, offset, literal));
    if (!is_xml_name(literal)) return malformed(offset, "LITERAL tag name is not an XML name");
    name = literal;
    return spend(literal.size());
  }
  if (identity < kFirstTag) {
    // EXT_I/EXT_T/EXT (0x40-0x42, 0x80-0x82, 0xC0-0xC2), PI (0x43): no
    // meaning in SyncML.
    return malformed(offset, "token " + hex(token) + " (extension or PI) is not used by SyncML");
  }
  const char* known = tag_name(doc.vocabulary, page, identity);
  if (!known) return malformed(offset, "unknown tag " + hex(identity) + " on code page " + std::to_string(page));
  name = known;
  return Status::ok();
}

Status TreeReader::read_body(ByteReader& in, const Document& doc, pugi::xml_node parent, size_t base_depth) {
  std::vector<Open> outer;
  outer.swap(open_);  // a DevInf sub-document has a stack of its own
  Status status = read_elements(in, doc, parent, base_depth);
  open_.swap(outer);
  return status;
}

Status TreeReader::read_elements(ByteReader& in, const Document& doc, pugi::xml_node parent, size_t base_depth) {
  uint8_t page = 0;
  bool root_seen = false;
  std::string name;
  while (!in.at_end()) {
    const size_t offset = in.offset();
    if (root_seen && open_.empty()) return malformed(offset, "bytes after the root element");
    uint8_t token = 0;
    CFX_RETURN_IF_ERROR(in.byte(token, "body"));
    if (token == kSwitchPage) {
      CFX_RETURN_IF_ERROR(in.byte(page, "SWITCH_PAGE"));
      if (!known_page(doc.vocabulary, page)) {
        return malformed(offset, "code page " + std::to_string(page) + " is not SyncML's");
      }
    } else if (token == kEnd) {
      if (open_.empty()) return malformed(offset, "END outside an element");
      CFX_RETURN_IF_ERROR(flush_text(open_.back()));
      open_.pop_back();
    } else if (is_string_token(token)) {
      if (open_.empty()) return malformed(offset, "text outside the root element");
      std::string_view opaque;
      CFX_RETURN_IF_ERROR(read_string(in, doc, token, open_.back().text, &opaque));
      if (token == kOpaque) CFX_RETURN_IF_ERROR(add_opaque(opaque, base_depth + open_.size()));
    } else {
      CFX_RETURN_IF_ERROR(read_tag_name(in, doc, token, page, name));
      pugi::xml_node into = open_.empty() ? parent : open_.back().node;
      CFX_RETURN_IF_ERROR(open_element(in, doc, token, name, page, into, base_depth));
      root_seen = true;
    }
  }
  if (!root_seen) return malformed(in.offset(), "document has no root element");
  if (!open_.empty()) {
    return malformed(in.offset(), "truncated: " + std::to_string(open_.size()) + " elements still open");
  }
  return Status::ok();
}

Status TreeReader::open_element(ByteReader& in, const Document& doc, uint8_t token, const std::string& name,
                                uint8_t page, pugi::xml_node parent, size_t base_depth) {
  const size_t depth = base_depth + open_.size() + 1;
  if (depth > limits_.max_depth) {
    return Status::resource_exhausted("SyncML nesting deeper than " + std::to_string(limits_.max_depth));
  }
  if (++elements_ > limits_.max_elements) {
    return Status::resource_exhausted("SyncML message has more than " + std::to_string(limits_.max_elements) +
                                      " elements");
  }
  const Open* up = open_.empty() ? nullptr : &open_.back();
  if (up) {
    CFX_RETURN_IF_ERROR(flush_text(open_.back()));
    if (up->binary) return malformed(in.offset(), "element beside binary data in <Data>");
  }
  pugi::xml_node node = parent.append_child(name.c_str());
  if (token & kHasAttributes) CFX_RETURN_IF_ERROR(read_attributes(in, doc, node));

  // WBXML says by code page what XML says by xmlns: the root declares its
  // document's namespace, a MetInf element under a SyncML one syncml:metinf.
  const char* ns = nullptr;
  if (!up) {
    if (doc.vocabulary != Vocabulary::kSyncML)
      ns = syncml_tree::kDevInfNs;
    else if (doc.version)
      ns = namespace_uri(*doc.version);
  } else if (doc.vocabulary == Vocabulary::kSyncML && page == kMetInfPage && up->page != kMetInfPage) {
    ns = syncml_tree::kMetInfNs;
  }
  if (ns && !node.attribute("xmlns")) node.append_attribute("xmlns").set_value(ns);

  if (token & kHasContent) {
    Open element;
    element.node = node;
    element.page = page;
    element.item_data =
        doc.vocabulary == Vocabulary::kSyncML && up && name == "Data" && local_name(parent.name()) == "Item";
    open_.push_back(std::move(element));
  }
  return Status::ok();
}

// Attribute list (§5.8.3): LITERAL starts an attribute (SyncML has no
// attribute code page, so no other start token is known), string tokens make
// its value, END closes the list.
Status TreeReader::read_attributes(ByteReader& in, const Document& doc, pugi::xml_node node) {
  pugi::xml_attribute attribute;
  std::string value;
  size_t count = 0;
  for (;;) {
    const size_t offset = in.offset();
    uint8_t token = 0;
    CFX_RETURN_IF_ERROR(in.byte(token, "attribute list"));
    if (token == kEnd || token == kLiteral) {
      if (attribute) attribute.set_value(value.data(), value.size());
      if (token == kEnd) return Status::ok();
      uint32_t index = 0;
      std::string_view name;
      CFX_RETURN_IF_ERROR(in.mb_uint32(index, "attribute name index"));
      CFX_RETURN_IF_ERROR(table_string(doc, index, offset, name));
      std::string name_z(name);
      if (!is_xml_name(name)) return malformed(offset, "attribute name is not an XML name");
      if (++count > kMaxAttributes) {
        return Status::resource_exhausted("WBXML element with more than " + std::to_string(kMaxAttributes) +
                                          " attributes");
      }
      CFX_RETURN_IF_ERROR(spend(name.size()));
      if (node.attribute(name_z.c_str())) return malformed(offset, "attribute '" + name_z + "' given twice");
      attribute = node.append_attribute(name_z.c_str());
      value.clear();
      continue;
    }
    if (token == kSwitchPage) {
      uint8_t page = 0;  // attribute code space: nothing to look up in it
      CFX_RETURN_IF_ERROR(in.byte(page, "SWITCH_PAGE"));
      continue;
    }
    if (!is_string_token(token)) {
      return malformed(offset, "attribute token " + hex(token) + " (SyncML has no attribute code page)");
    }
    if (!attribute) return malformed(offset, "attribute value without a name");
    CFX_RETURN_IF_ERROR(read_string(in, doc, token, value, nullptr));
    if (value.find('\0') != std::string::npos) return malformed(offset, "NUL byte in an attribute value");
  }
}

// Moves pending character data into the tree. As pugixml does for XML,
// layout (whitespace-only text) is dropped, unless it came as OPAQUE.
Status TreeReader::flush_text(Open& element) {
  if (element.text.empty()) return Status::ok();
  if (!element.text_is_data && is_all_space(element.text)) {
    element.text.clear();
    return Status::ok();
  }
  // Bytes that are not text (a NUL, or not UTF-8, as OPAQUE may carry) can
  // only be item data, and stay bytes: written back as OPAQUE, never as a string.
  if (element.binary || element.text.find('\0') != std::string::npos || !is_valid_utf8(element.text)) {
    bool has_elements = element.node.find_child([](pugi::xml_node c) { return c.type() == pugi::node_element; });
    if (!element.item_data || has_elements) {
      return Status::invalid_argument(std::string("WBXML binary data (NUL or not UTF-8) in <") + element.node.name() +
                                      ">");
    }
    element.binary = true;
    binary_[element.node] += element.text;
  } else {
    element.node.append_child(pugi::node_pcdata).set_value(element.text.data(), element.text.size());
  }
  element.text.clear();
  element.text_is_data = false;
  return Status::ok();
}

// OPAQUE content: a DevInf sub-document in Item Data becomes its elements;
// anything else is character data (bytes kept as sent).
Status TreeReader::add_opaque(std::string_view bytes, size_t depth) {
  Open& element = open_.back();
  if (element.item_data && !element.binary) {
    CFX_RETURN_IF_ERROR(flush_text(element));
    if (!element.binary && read_devinf(bytes, element, depth)) return Status::ok();
  }
  element.text += bytes;
  element.text_is_data = true;
  return Status::ok();
}

// A complete WBXML DevInf document (libsynthesis subdtdEncWBXML; reference
// §13). Like libsynthesis, bytes that do not read as one stay opaque data, so
// one broken DevInf does not cost the whole message.
bool TreeReader::read_devinf(std::string_view bytes, Open& element, size_t depth) {
  ByteReader in(bytes);
  Document doc;
  if (!read_header(in, doc).is_ok() || doc.vocabulary == Vocabulary::kSyncML) return false;
  const pugi::xml_node last_before = element.node.last_child();
  const size_t elements_before = elements_;
  Status status = read_body(in, doc, element.node, depth);
  pugi::xml_node root = element.node.last_child();
  if (status.is_ok() && root != last_before && std::string_view(root.name()) == "DevInf") return true;
  while (element.node.last_child() != last_before) element.node.remove_child(element.node.last_child());
  elements_ = elements_before;
  return false;
}

Result<Message> decode_document(std::string_view bytes, const DecodeLimits& limits) {
  ByteReader in(bytes);
  Document doc;
  CFX_RETURN_IF_ERROR(read_header(in, doc));
  if (doc.vocabulary != Vocabulary::kSyncML) {
    return Status::invalid_argument("WBXML document is DevInf, not a SyncML message");
  }
  pugi::xml_document tree;
  BinaryData binary;
  TreeReader reader(limits, binary);
  CFX_RETURN_IF_ERROR(reader.read_body(in, doc, tree, 0));
  return syncml_tree::decode_tree(tree, limits, &binary);
}

// ---------------------------------------------------------------------------
// Element tree -> WBXML

void append_mb_uint32(std::string& out, uint32_t value) {
  char buf[5];
  size_t n = 0;
  do {
    buf[n++] = static_cast<char>(value & 0x7F);
    value >>= 7;
  } while (value);
  while (n > 1) out += static_cast<char>(buf[--n] | 0x80);
  out += buf[0];
}

void append_header(std::string& out, const PublicId& id, std::string_view strings) {
  out += static_cast<char>(kWbxmlVersion);
  if (id.version == SyncMLVersion::k10 && id.vocabulary == Vocabulary::kSyncML) {
    out += '\0';  // public id given as a string, at string table index 0
    out += '\0';
  } else {
    append_mb_uint32(out, id.id);
  }
  append_mb_uint32(out, kUtf8);
  append_mb_uint32(out, static_cast<uint32_t>(strings.size()));
  out += strings;
}

// Pre-order walk of `top`'s subtree without recursion. enter(node) returns
// whether to visit the node's children; leave(node) follows its last child.
template <typename Enter, typename Leave>
void walk(pugi::xml_node top, Enter&& enter, Leave&& leave) {
  pugi::xml_node node = top;
  for (;;) {
    if (enter(node) && node.first_child()) {
      node = node.first_child();
      continue;
    }
    for (;;) {
      if (node == top) return;
      if (node.next_sibling()) {
        node = node.next_sibling();
        break;
      }
      node = node.parent();
      leave(node);
    }
  }
}

bool is_text(pugi::xml_node node) { return node.type() == pugi::node_pcdata || node.type() == pugi::node_cdata; }

// Whether WBXML can carry `top` exactly: every element has a token (or may be
// LITERAL), no attribute but xmlns (which code pages imply).
bool expressible(pugi::xml_node top, Vocabulary vocabulary, bool literal_allowed) {
  bool ok = true;
  walk(
      top,
      [&](pugi::xml_node node) {
        if (!ok) return false;
        if (node.type() == pugi::node_element) {
          // Only an xmlns the reader will imply again survives the trip
          // (TreeReader: the document's root, and a MetInf element under a
          // SyncML one); any other value or prefix would be lost.
          for (pugi::xml_attribute a : node.attributes()) {
            const std::string_view value = a.value();
            bool implied = false;
            if (std::string_view(a.name()) == "xmlns") {
              if (vocabulary != Vocabulary::kSyncML) {
                implied = node == top && value == syncml_tree::kDevInfNs;
              } else {
                auto code = tag_code(vocabulary, local_name(node.name()));
                auto up = tag_code(vocabulary, local_name(node.parent().name()));
                implied = code && code->page == kMetInfPage && (!up || up->page != kMetInfPage) &&
                          value == syncml_tree::kMetInfNs;
              }
            }
            ok = ok && implied;
          }
          ok = ok && (literal_allowed || tag_code(vocabulary, local_name(node.name())));
        } else {
          ok = is_text(node);
        }
        return ok;
      },
      [](pugi::xml_node) {});
  return ok;
}

class TreeWriter {
 public:
  // `literals` collects the string table for names without a token; null
  // when there is none (a SyncML message keeps its table empty).
  TreeWriter(Vocabulary vocabulary, SyncMLVersion version, const BinaryData* binary, std::string& out,
             std::string* literals)
      : vocabulary_(vocabulary), version_(version), binary_(binary), out_(out), literals_(literals) {}

  void write(pugi::xml_node top) {
    walk(
        top, [this](pugi::xml_node node) { return open(node); }, [this](pugi::xml_node) { out_ += kEnd; });
  }

  // Commands are sized one by one, so each starts and ends on code page 0.
  void end_on_first_page() { switch_page(kSyncMLPage); }

 private:
  bool open(pugi::xml_node node);
  void tag(pugi::xml_node element, bool has_content);
  void switch_page(uint8_t page) {
    if (page == page_) return;
    out_ += kSwitchPage;
    out_ += static_cast<char>(page);
    page_ = page;
  }
  void string(std::string_view s) {
    out_ += kStrI;
    out_ += s;
    out_ += '\0';
  }
  void opaque(std::string_view bytes) {
    out_ += static_cast<char>(kOpaque);
    append_mb_uint32(out_, static_cast<uint32_t>(bytes.size()));
    out_ += bytes;
  }
  uint32_t literal_index(std::string_view name);
  bool write_item_data(pugi::xml_node data);

  const Vocabulary vocabulary_;
  const SyncMLVersion version_;
  const BinaryData* const binary_;
  std::string& out_;
  std::string* const literals_;
  std::map<std::string, uint32_t, std::less<>> literal_offsets_;
  uint8_t page_ = kSyncMLPage;
};

std::string devinf_document(pugi::xml_node devinf, SyncMLVersion version) {
  const Vocabulary vocabulary = version == SyncMLVersion::k12 ? Vocabulary::kDevInf12 : Vocabulary::kDevInf11;
  std::string body, strings;
  TreeWriter(vocabulary, version, nullptr, body, &strings).write(devinf);
  std::string out;
  append_header(out, public_id_for(vocabulary, version), strings);
  return out + body;
}

// Writes a node; true when its children are to be written next.
bool TreeWriter::open(pugi::xml_node node) {
  if (is_text(node)) {
    if (*node.value()) string(node.value());
    return false;
  }
  if (node.type() != pugi::node_element) return false;
  if (vocabulary_ == Vocabulary::kSyncML && local_name(node.name()) == "Data" &&
      local_name(node.parent().name()) == "Item" && write_item_data(node)) {
    return false;
  }
  bool has_content =
      node.find_child([](pugi::xml_node c) { return c.type() == pugi::node_element || (is_text(c) && *c.value()); });
  tag(node, has_content);
  return has_content;
}

// Item <Data> that is not plain text: binary bytes and DevInf as OPAQUE,
// elements without tokens as their XML text. False: write it as any element.
bool TreeWriter::write_item_data(pugi::xml_node data) {
  const std::string* bytes = nullptr;
  if (binary_) {
    auto it = binary_->find(data);
    if (it != binary_->end()) bytes = &it->second;
  }
  pugi::xml_node first = data.first_child();
  const bool devinf = first && !first.next_sibling() && first.type() == pugi::node_element &&
                      local_name(first.name()) == "DevInf" && expressible(first, Vocabulary::kDevInf12, true);
  const bool elements = data.find_child([](pugi::xml_node c) { return c.type() == pugi::node_element; });
  // Bytes that are not UTF-8 (OPAQUE data decoded into a Message) are no
  // string: as STR_I no reader, ours included, would take them back.
  const std::string_view text = elements ? std::string_view() : std::string_view(data.child_value());
  const bool binary_text = !is_valid_utf8(text);
  if (!bytes && !devinf && !binary_text && (!elements || expressible(data, Vocabulary::kSyncML, false))) return false;

  tag(data, true);
  if (bytes) {
    opaque(*bytes);
  } else if (binary_text) {
    opaque(text);
  } else if (devinf) {
    opaque(devinf_document(first, version_));
  } else {
    std::ostringstream xml;
    for (pugi::xml_node c : data.children()) c.print(xml, "", pugi::format_raw, pugi::encoding_utf8);
    string(xml.str());
  }
  out_ += kEnd;
  return true;
}

void TreeWriter::tag(pugi::xml_node element, bool has_content) {
  std::string_view name = local_name(element.name());
  const uint8_t flags = has_content ? kHasContent : 0;
  if (std::optional<TagCode> code = tag_code(vocabulary_, name)) {
    switch_page(code->page);
    out_ += static_cast<char>(code->token | flags);
    return;
  }
  // Only a DevInf document gets here (expressible() vets inline data).
  assert(literals_ && "element without a token in a document without a string table");
  out_ += static_cast<char>(kLiteral | flags);
  append_mb_uint32(out_, literal_index(name));
}

uint32_t TreeWriter::literal_index(std::string_view name) {
  auto it = literal_offsets_.find(name);
  if (it != literal_offsets_.end()) return it->second;
  const auto offset = static_cast<uint32_t>(literals_->size());
  literals_->append(name);
  literals_->push_back('\0');
  literal_offsets_.emplace(std::string(name), offset);
  return offset;
}

// encode_wbxml(m) == envelope_head(m) + command_bytes(c)... + envelope_tail(m);
// that identity is what makes encoded_wbxml_size exact.
void write_tag(std::string& out, const char* name, bool has_content) {
  std::optional<TagCode> code = tag_code(Vocabulary::kSyncML, name);
  assert(code && code->page == kSyncMLPage);
  out += static_cast<char>(code->token | (has_content ? kHasContent : 0));
}

std::string envelope_head(const Message& msg) {
  std::string out;
  const PublicId& id = public_id_for(Vocabulary::kSyncML, msg.version);
  append_header(out, id, id.version == SyncMLVersion::k10 ? std::string(id.fpi) + '\0' : std::string());
  write_tag(out, "SyncML", true);
  pugi::xml_document doc;
  syncml_tree::append_header(doc, msg);
  TreeWriter writer(Vocabulary::kSyncML, msg.version, nullptr, out, nullptr);
  writer.write(doc.first_child());
  writer.end_on_first_page();
  write_tag(out, "SyncBody", true);
  return out;
}

std::string envelope_tail(const Message& msg) {
  std::string out;
  if (msg.final) write_tag(out, "Final", false);
  out += kEnd;  // SyncBody
  out += kEnd;  // SyncML
  return out;
}

void append_command_bytes(std::string& out, const Command& command, SyncMLVersion version) {
  pugi::xml_document doc;
  BinaryData binary;
  syncml_tree::append_command(doc, command, &binary);
  TreeWriter writer(Vocabulary::kSyncML, version, &binary, out, nullptr);
  writer.write(doc.first_child());
  writer.end_on_first_page();
}

}  // namespace

Result<Message> decode_wbxml(std::string_view bytes, const DecodeLimits& limits) {
  return syncml_tree::decode_guarded(bytes, limits, decode_document);
}

std::string encode_wbxml(const Message& message) {
  std::string out = envelope_head(message);
  for (const Command& cmd : message.commands) append_command_bytes(out, cmd, message.version);
  out += envelope_tail(message);
  return out;
}

size_t encoded_wbxml_size(const Command& command, SyncMLVersion version) {
  std::string out;
  append_command_bytes(out, command, version);
  return out.size();
}

size_t encoded_wbxml_overhead(const Message& message_without_commands) {
  return envelope_head(message_without_commands).size() + envelope_tail(message_without_commands).size();
}

}  // namespace conflux::protocol
