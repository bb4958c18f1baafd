// SyncML XML codec on pugixml.
//
// pugixml does not process namespaces, so the decoder matches elements by
// local name (any "prefix:" stripped) and looks at xmlns only on the root.
// That is what real clients need: Sync4j/Funambol omit every xmlns, Horde
// writes "syncml:syncml1.1" in lower case, and the MetInf namespace turns up
// on each MetInf element, on the enclosing Meta, or nowhere (reference §2).
//
// Commands are table-driven: kCommandLayouts lists, per command kind, the
// child elements in DTD order. The encoder writes exactly that list; the
// decoder accepts exactly that set (in any order) and skips everything else,
// so decode(encode(m)) == m for any model the decoder can produce.
#include "protocol/xml_codec.h"
#include "protocol/syncml_tree.h"
#include "protocol/xml_string_writer.h"
#include "protocol/xml_text_check.h"

#include <pugixml.hpp>

#include <charconv>
#include <climits>
#include <new>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace conflux::protocol {
namespace {

using syncml_tree::BinaryData;
using syncml_tree::kMetInfNs;

// XML line ends are kept as sent (no parse_eol): vCards want CRLF, and item
// data should reach the data layer byte for byte. Whitespace-only text nodes
// are dropped (no parse_ws_pcdata); pugixml never expands external entities.
constexpr unsigned kParseOptions = (pugi::parse_default & ~pugi::parse_eol) | pugi::parse_cdata;

// ---------------------------------------------------------------------------
// Small XML helpers

std::string_view local_name(const char* qname) {
  std::string_view name(qname);
  size_t colon = name.rfind(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

bool is_element(pugi::xml_node node) { return node.type() == pugi::node_element; }

// Concatenated PCDATA and CDATA children, untouched.
std::string raw_text(pugi::xml_node node) {
  std::string out;
  for (pugi::xml_node c = node.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_pcdata || c.type() == pugi::node_cdata) out += c.value();
  }
  return out;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string trim(std::string s) {
  size_t b = 0;
  while (b < s.size() && is_space(s[b])) ++b;
  size_t e = s.size();
  while (e > b && is_space(s[e - 1])) --e;
  return s.substr(b, e - b);
}

// Text of a scalar element (LocURI, CmdID, MsgRef, …): surrounding
// whitespace is layout, not content.
std::string scalar_text(pugi::xml_node node) { return trim(raw_text(node)); }

template <typename T>
bool parse_unsigned(const std::string& text, T& out) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

Status not_a_number(std::string_view where, const std::string& text) {
  return Status::invalid_argument(std::string(where) + " '" + text.substr(0, 40) + "' is not a number");
}

class CountingWriter : public pugi::xml_writer {
 public:
  void write(const void*, size_t size) override { bytes_ += size; }
  size_t bytes() const { return bytes_; }

 private:
  size_t bytes_ = 0;
};

void print_raw(pugi::xml_node node, pugi::xml_writer& writer) {
  node.print(writer, "", pugi::format_raw, pugi::encoding_utf8);
}

// ---------------------------------------------------------------------------
// Command layouts

enum class Field : uint8_t {
  kCmdId,
  kNoResp,
  kArchive,
  kSftDel,
  kLang,
  kMsgRef,
  kCmdRef,
  kCmd,
  kTargetRef,
  kSourceRef,
  kCred,
  kChal,
  kTarget,
  kSource,
  kMeta,
  kNumberOfChanges,
  kData,  // Status/Alert code
  kItems,
  kMapItems,
  kChildren,  // nested commands (Sync, Atomic, Sequence)
};

struct FieldName {
  Field field;
  const char* name;
};

constexpr FieldName kFieldNames[] = {
    {Field::kCmdId, "CmdID"},         {Field::kNoResp, "NoResp"},
    {Field::kArchive, "Archive"},     {Field::kSftDel, "SftDel"},
    {Field::kLang, "Lang"},           {Field::kMsgRef, "MsgRef"},
    {Field::kCmdRef, "CmdRef"},       {Field::kCmd, "Cmd"},
    {Field::kTargetRef, "TargetRef"}, {Field::kSourceRef, "SourceRef"},
    {Field::kCred, "Cred"},           {Field::kChal, "Chal"},
    {Field::kTarget, "Target"},       {Field::kSource, "Source"},
    {Field::kMeta, "Meta"},           {Field::kNumberOfChanges, "NumberOfChanges"},
    {Field::kData, "Data"},           {Field::kItems, "Item"},
    {Field::kMapItems, "MapItem"},
};

std::optional<Field> field_from_name(std::string_view name) {
  for (const auto& f : kFieldNames) {
    if (name == f.name) return f.field;
  }
  return std::nullopt;
}

const char* field_name(Field field) {
  for (const auto& f : kFieldNames) {
    if (f.field == field) return f.name;
  }
  return "";
}

using F = Field;
// Child elements per command, in DTD order (RepPro 1.2 §5/§6; reference §3).
constexpr Field kStatusLayout[] = {F::kCmdId,     F::kMsgRef, F::kCmdRef, F::kCmd,  F::kTargetRef,
                                   F::kSourceRef, F::kCred,   F::kChal,   F::kData, F::kItems};
constexpr Field kAlertLayout[] = {F::kCmdId, F::kNoResp, F::kCred, F::kData, F::kItems};
constexpr Field kSyncLayout[] = {F::kCmdId, F::kNoResp,          F::kCred,    F::kTarget, F::kSource,
                                 F::kMeta,  F::kNumberOfChanges, F::kChildren};
constexpr Field kItemCommandLayout[] = {F::kCmdId, F::kNoResp, F::kArchive, F::kSftDel, F::kCred, F::kMeta, F::kItems};
constexpr Field kMapLayout[] = {F::kCmdId, F::kTarget, F::kSource, F::kCred, F::kMeta, F::kMapItems};
constexpr Field kGetPutLayout[] = {F::kCmdId, F::kNoResp, F::kLang, F::kCred, F::kMeta, F::kItems};
constexpr Field kResultsLayout[] = {F::kCmdId,     F::kMsgRef,    F::kCmdRef, F::kMeta,
                                    F::kTargetRef, F::kSourceRef, F::kItems};
constexpr Field kContainerLayout[] = {F::kCmdId, F::kNoResp, F::kMeta, F::kChildren};
constexpr Field kExecLayout[] = {F::kCmdId, F::kNoResp, F::kCred, F::kMeta, F::kItems};
// Search's query (Data) has no place in the model; a DS server answers 501.
constexpr Field kSearchLayout[] = {F::kCmdId, F::kNoResp, F::kCred, F::kTarget, F::kSource, F::kLang, F::kMeta};

std::span<const Field> layout_of(CommandKind kind) {
  switch (kind) {
    case CommandKind::kStatus: return kStatusLayout;
    case CommandKind::kAlert: return kAlertLayout;
    case CommandKind::kSync: return kSyncLayout;
    case CommandKind::kAdd:
    case CommandKind::kReplace:
    case CommandKind::kDelete:
    case CommandKind::kCopy:
    case CommandKind::kMove: return kItemCommandLayout;
    case CommandKind::kMap: return kMapLayout;
    case CommandKind::kGet:
    case CommandKind::kPut: return kGetPutLayout;
    case CommandKind::kResults: return kResultsLayout;
    case CommandKind::kAtomic:
    case CommandKind::kSequence: return kContainerLayout;
    case CommandKind::kExec: return kExecLayout;
    case CommandKind::kSearch: return kSearchLayout;
  }
  return {};
}

bool has_field(CommandKind kind, Field field) {
  for (Field f : layout_of(kind)) {
    if (f == field) return true;
  }
  return false;
}

bool is_container(std::string_view name) {
  return name == "SyncBody" || name == "Sync" || name == "Atomic" || name == "Sequence";
}

// ---------------------------------------------------------------------------
// Decoding

Status check_limits(const pugi::xml_document& doc, const DecodeLimits& limits) {
  size_t elements = 0;
  size_t commands = 0;
  size_t depth = 0;
  // Iterative pre-order walk: the input decides the depth, not our stack.
  pugi::xml_node node = doc.first_child();
  if (node) depth = 1;
  while (node) {
    if (is_element(node)) {
      if (depth > limits.max_depth) {
        return Status::resource_exhausted("SyncML nesting deeper than " + std::to_string(limits.max_depth));
      }
      if (++elements > limits.max_elements) {
        return Status::resource_exhausted("SyncML message has more than " + std::to_string(limits.max_elements) +
                                          " elements");
      }
      if (command_kind_from_name(local_name(node.name())) && is_container(local_name(node.parent().name()))) {
        if (++commands > limits.max_commands) {
          return Status::resource_exhausted("SyncML message has more than " + std::to_string(limits.max_commands) +
                                            " commands");
        }
      }
    }
    if (node.first_child()) {
      node = node.first_child();
      ++depth;
      continue;
    }
    while (node && !node.next_sibling()) {
      node = node.parent();
      --depth;
    }
    if (node) node = node.next_sibling();
  }
  return Status::ok();
}

// Target/Source/…: LocURI and LocName. `has_loc_uri` may be null; when given
// it is set if a LocURI element is present (even empty).
LocRef decode_loc_ref(pugi::xml_node node, bool* has_loc_uri = nullptr) {
  LocRef ref;
  for (pugi::xml_node c : node.children()) {
    if (!is_element(c)) continue;
    std::string_view name = local_name(c.name());
    if (name == "LocURI") {
      ref.loc_uri = scalar_text(c);
      if (has_loc_uri) *has_loc_uri = true;
    } else if (name == "LocName") {
      ref.loc_name = scalar_text(c);
    }
  }
  return ref;
}

Status decode_size(pugi::xml_node node, std::string_view what, std::optional<uint64_t>& out) {
  std::string text = scalar_text(node);
  uint64_t value = 0;
  if (!parse_unsigned(text, value)) return not_a_number(what, text);
  out = value;
  return Status::ok();
}

// MetInf children of <Meta> (or of a <MetInf> wrapper some encoders add).
Status decode_meta_into(pugi::xml_node node, Meta& meta) {
  for (pugi::xml_node c : node.children()) {
    if (!is_element(c)) continue;
    std::string_view name = local_name(c.name());
    if (name == "Type") {
      meta.type = scalar_text(c);
    } else if (name == "Format") {
      meta.format = scalar_text(c);
    } else if (name == "Version") {
      meta.version = scalar_text(c);
    } else if (name == "Mark") {
      meta.mark = scalar_text(c);
    } else if (name == "NextNonce") {
      meta.next_nonce = scalar_text(c);
    } else if (name == "Size") {
      CFX_RETURN_IF_ERROR(decode_size(c, "Meta Size", meta.size));
    } else if (name == "MaxMsgSize") {
      CFX_RETURN_IF_ERROR(decode_size(c, "Meta MaxMsgSize", meta.max_msg_size));
    } else if (name == "MaxObjSize") {
      CFX_RETURN_IF_ERROR(decode_size(c, "Meta MaxObjSize", meta.max_obj_size));
    } else if (name == "Anchor") {
      MetAnchor anchor;
      for (pugi::xml_node a : c.children()) {
        if (!is_element(a)) continue;
        std::string_view aname = local_name(a.name());
        if (aname == "Last")
          anchor.last = scalar_text(a);
        else if (aname == "Next")
          anchor.next = scalar_text(a);
      }
      meta.anchor = std::move(anchor);
    } else if (name == "MetInf") {
      CFX_RETURN_IF_ERROR(decode_meta_into(c, meta));
    }
    // EMI, Mem, FieldLevel, …: not used by a DS server.
  }
  return Status::ok();
}

// An empty or unknown-only <Meta> decodes to nullopt, as the encoder skips
// an empty Meta.
Status decode_meta(pugi::xml_node node, std::optional<Meta>& out) {
  Meta meta;
  CFX_RETURN_IF_ERROR(decode_meta_into(node, meta));
  if (meta.empty()) {
    out.reset();
  } else {
    out = std::move(meta);
  }
  return Status::ok();
}

Status decode_cred(pugi::xml_node node, Cred& cred) {
  for (pugi::xml_node c : node.children()) {
    if (!is_element(c)) continue;
    std::string_view name = local_name(c.name());
    if (name == "Meta") {
      CFX_RETURN_IF_ERROR(decode_meta_into(c, cred.meta));
    } else if (name == "Data") {
      cred.data = scalar_text(c);
    }
  }
  return Status::ok();
}

// Item <Data>: nested elements (DevInf, Anchor) are kept as compact XML
// text; anything else is character data, kept exactly as sent (from `binary`
// when the WBXML reader put it there).
void decode_item_data(pugi::xml_node node, Item& item, const BinaryData* binary) {
  if (binary) {
    auto it = binary->find(node);
    if (it != binary->end()) {
      item.data_kind = DataKind::kText;
      item.data = it->second;
      return;
    }
  }
  bool has_elements = false;
  for (pugi::xml_node c : node.children()) {
    if (is_element(c)) {
      has_elements = true;
      break;
    }
  }
  if (!has_elements) {
    item.data_kind = DataKind::kText;
    item.data = raw_text(node);
    return;
  }
  item.data_kind = DataKind::kXml;
  item.data.clear();
  StringWriter writer(item.data);
  for (pugi::xml_node c : node.children()) {
    if (is_element(c)) print_raw(c, writer);
  }
}

Status decode_item(pugi::xml_node node, Item& item, const BinaryData* binary) {
  for (pugi::xml_node c : node.children()) {
    if (!is_element(c)) continue;
    std::string_view name = local_name(c.name());
    if (name == "Target") {
      item.target = decode_loc_ref(c);
    } else if (name == "Source") {
      item.source = decode_loc_ref(c);
    } else if (name == "SourceParent") {
      item.source_parent = decode_loc_ref(c);
    } else if (name == "TargetParent") {
      item.target_parent = decode_loc_ref(c);
    } else if (name == "Meta") {
      CFX_RETURN_IF_ERROR(decode_meta(c, item.meta));
    } else if (name == "Data") {
      decode_item_data(c, item, binary);
    } else if (name == "MoreData") {
      item.more_data = true;
    }
  }
  return Status::ok();
}

MapItem decode_map_item(pugi::xml_node node) {
  MapItem item;
  for (pugi::xml_node c : node.children()) {
    if (!is_element(c)) continue;
    std::string_view name = local_name(c.name());
    if (name == "Target")
      item.target = decode_loc_ref(c).loc_uri;
    else if (name == "Source")
      item.source = decode_loc_ref(c).loc_uri;
  }
  return item;
}

// Structural decoding only: a missing CmdID stays 0 and a missing Status
// code stays 0, so the engine can answer 412 (Incomplete command) instead
// of dropping the whole message. Malformed numbers are errors.
Status decode_command(pugi::xml_node node, CommandKind kind, Command& cmd, const BinaryData* binary) {
  cmd.kind = kind;
  const char* cmd_name = command_name(kind);
  for (pugi::xml_node c : node.children()) {
    if (!is_element(c)) continue;
    std::string_view name = local_name(c.name());
    if (has_field(kind, Field::kChildren)) {
      if (auto child_kind = command_kind_from_name(name)) {
        Command child;
        CFX_RETURN_IF_ERROR(decode_command(c, *child_kind, child, binary));
        cmd.children.push_back(std::move(child));
        continue;
      }
    }
    std::optional<Field> field = field_from_name(name);
    if (!field || !has_field(kind, *field)) continue;
    switch (*field) {
      case Field::kCmdId: {
        std::string text = scalar_text(c);
        if (!parse_unsigned(text, cmd.cmd_id)) return not_a_number(std::string(cmd_name) + " CmdID", text);
        break;
      }
      case Field::kNoResp: cmd.no_resp = true; break;
      case Field::kArchive: cmd.archive = true; break;
      case Field::kSftDel: cmd.sft_del = true; break;
      case Field::kLang: cmd.lang = scalar_text(c); break;
      case Field::kMsgRef: cmd.msg_ref = scalar_text(c); break;
      case Field::kCmdRef: cmd.cmd_ref = scalar_text(c); break;
      case Field::kCmd: cmd.cmd_name = scalar_text(c); break;
      case Field::kTargetRef: cmd.target_refs.push_back(scalar_text(c)); break;
      case Field::kSourceRef: cmd.source_refs.push_back(scalar_text(c)); break;
      case Field::kCred: {
        Cred cred;
        CFX_RETURN_IF_ERROR(decode_cred(c, cred));
        cmd.cred = std::move(cred);
        break;
      }
      case Field::kChal: {
        Chal chal;
        for (pugi::xml_node m : c.children()) {
          if (is_element(m) && local_name(m.name()) == "Meta") CFX_RETURN_IF_ERROR(decode_meta_into(m, chal.meta));
        }
        cmd.chal = std::move(chal);
        break;
      }
      case Field::kTarget: cmd.target = decode_loc_ref(c); break;
      case Field::kSource: cmd.source = decode_loc_ref(c); break;
      case Field::kMeta: CFX_RETURN_IF_ERROR(decode_meta(c, cmd.meta)); break;
      case Field::kNumberOfChanges: {
        std::string text = scalar_text(c);
        uint32_t n = 0;
        if (!parse_unsigned(text, n)) return not_a_number("Sync NumberOfChanges", text);
        cmd.number_of_changes = n;
        break;
      }
      case Field::kData: {
        std::string text = scalar_text(c);
        unsigned code = 0;
        if (!parse_unsigned(text, code) || code > INT_MAX) {
          return not_a_number(std::string(cmd_name) + " Data", text);
        }
        cmd.code = static_cast<int>(code);
        break;
      }
      case Field::kItems: {
        Item item;
        CFX_RETURN_IF_ERROR(decode_item(c, item, binary));
        cmd.items.push_back(std::move(item));
        break;
      }
      case Field::kMapItems: cmd.map_items.push_back(decode_map_item(c)); break;
      case Field::kChildren: break;  // handled above
    }
  }
  return Status::ok();
}

std::optional<SyncMLVersion> version_from_dtd(std::string_view v) {
  if (v == "1.0") return SyncMLVersion::k10;
  if (v == "1.1") return SyncMLVersion::k11;
  if (v == "1.2") return SyncMLVersion::k12;
  return std::nullopt;
}

std::optional<SyncMLVersion> version_from_proto(std::string_view v) {
  // "SyncML/1.2"; OMA DM's "DM/1.2" shares the representation protocol.
  size_t slash = v.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  return version_from_dtd(v.substr(slash + 1));
}

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = ascii_lower(c);
  return out;
}

// The root's namespace, or "" when none is declared (Sync4j/Funambol).
std::string root_namespace(pugi::xml_node root) {
  std::string_view qname = root.name();
  size_t colon = qname.rfind(':');
  std::string attr =
      colon == std::string_view::npos ? std::string("xmlns") : "xmlns:" + std::string(qname.substr(0, colon));
  return trim(root.attribute(attr.c_str()).value());
}

Status decode_header(pugi::xml_node node, Message& msg) {
  SyncHdr& hdr = msg.hdr;
  bool has_dtd = false, has_proto = false, has_session = false, has_msg_id = false;
  bool has_target = false, has_source = false;
  for (pugi::xml_node c : node.children()) {
    if (!is_element(c)) continue;
    std::string_view name = local_name(c.name());
    if (name == "VerDTD") {
      hdr.ver_dtd = scalar_text(c);
      has_dtd = true;
    } else if (name == "VerProto") {
      hdr.ver_proto = scalar_text(c);
      has_proto = true;
    } else if (name == "SessionID") {
      hdr.session_id = scalar_text(c);
      has_session = true;
    } else if (name == "MsgID") {
      hdr.msg_id = scalar_text(c);
      has_msg_id = true;
    } else if (name == "Target") {
      hdr.target = decode_loc_ref(c, &has_target);
    } else if (name == "Source") {
      hdr.source = decode_loc_ref(c, &has_source);
    } else if (name == "RespURI") {
      hdr.resp_uri = scalar_text(c);
    } else if (name == "NoResp") {
      hdr.no_resp = true;
    } else if (name == "Cred") {
      Cred cred;
      CFX_RETURN_IF_ERROR(decode_cred(c, cred));
      hdr.cred = std::move(cred);
    } else if (name == "Meta") {
      CFX_RETURN_IF_ERROR(decode_meta(c, hdr.meta));
    }
  }
  // An empty element (Buteo sends <SessionID/>) is present: SessionID is an
  // opaque string, and empty is a string. Absent elements leave no way to
  // build an answer.
  std::string missing;
  auto need = [&missing](bool present, const char* what) {
    if (!present) missing += (missing.empty() ? "" : ", ") + std::string(what);
  };
  need(has_dtd, "VerDTD");
  need(has_proto, "VerProto");
  need(has_session, "SessionID");
  need(has_msg_id, "MsgID");
  need(has_target, "Target/LocURI");
  need(has_source, "Source/LocURI");
  if (!missing.empty()) return Status::invalid_argument("SyncHdr lacks " + missing);
  return Status::ok();
}

Result<Message> decode_parsed(const pugi::xml_document& doc, const DecodeLimits& limits, const BinaryData* binary);

Result<Message> decode_document(std::string_view bytes, const DecodeLimits& limits) {
  pugi::xml_document doc;
  // parse_fragment keeps text outside the root so it can be refused below;
  // without it pugixml drops such text silently.
  pugi::xml_parse_result parsed = doc.load_buffer(bytes.data(), bytes.size(), kParseOptions | pugi::parse_fragment);
  if (!parsed) {
    return Status::invalid_argument(std::string("not well-formed XML at offset ") + std::to_string(parsed.offset) +
                                    ": " + parsed.description());
  }
  return decode_parsed(doc, limits, nullptr);
}

// Everything after parsing; the WBXML reader builds its tree and enters here.
Result<Message> decode_parsed(const pugi::xml_document& doc, const DecodeLimits& limits, const BinaryData* binary) {
  CFX_RETURN_IF_ERROR(check_limits(doc, limits));

  // XML allows one root element and no text beside it; such input (an HTTP
  // request with its headers, two documents glued together) is not one
  // SyncML message.
  pugi::xml_node root;
  for (pugi::xml_node c : doc.children()) {
    if (c.type() == pugi::node_pcdata || c.type() == pugi::node_cdata) {
      return Status::invalid_argument("text outside the root element");
    }
    if (!is_element(c)) continue;
    if (root) return Status::invalid_argument("more than one root element");
    root = c;
  }
  if (!root || local_name(root.name()) != "SyncML") {
    return Status::invalid_argument(std::string("root element is <") + (root ? root.name() : "") + ">, not <SyncML>");
  }
  std::string ns = root_namespace(root);
  if (!ns.empty() && ascii_lower(ns).rfind("syncml:syncml", 0) != 0) {
    return Status::invalid_argument("SyncML root has namespace '" + ns.substr(0, 60) + "'");
  }

  pugi::xml_node hdr_node, body_node;
  for (pugi::xml_node c : root.children()) {
    if (!is_element(c)) continue;
    std::string_view name = local_name(c.name());
    if (name == "SyncHdr") {
      if (hdr_node) return Status::invalid_argument("SyncML has two SyncHdr");
      hdr_node = c;
    } else if (name == "SyncBody") {
      if (body_node) return Status::invalid_argument("SyncML has two SyncBody");
      body_node = c;
    }
  }
  if (!hdr_node) return Status::invalid_argument("SyncML has no SyncHdr");
  if (!body_node) return Status::invalid_argument("SyncML has no SyncBody");

  Message msg;
  CFX_RETURN_IF_ERROR(decode_header(hdr_node, msg));
  // VerDTD decides; VerProto and the namespace help with unknown DTD
  // versions, which the engine answers with 505 (it reads hdr.ver_dtd).
  if (auto v = version_from_dtd(msg.hdr.ver_dtd)) {
    msg.version = *v;
  } else if (auto p = version_from_proto(msg.hdr.ver_proto)) {
    msg.version = *p;
  } else if (ns.size() > 13) {
    if (auto n = version_from_dtd(std::string_view(ns).substr(13))) msg.version = *n;
  }

  for (pugi::xml_node c : body_node.children()) {
    if (!is_element(c)) continue;
    std::string_view name = local_name(c.name());
    if (name == "Final") {
      msg.final = true;
    } else if (auto kind = command_kind_from_name(name)) {
      Command cmd;
      CFX_RETURN_IF_ERROR(decode_command(c, *kind, cmd, binary));
      msg.commands.push_back(std::move(cmd));
    }
  }
  return msg;
}

// ---------------------------------------------------------------------------
// Encoding

void set_text(pugi::xml_node node, std::string_view text) {
  if (!text.empty()) node.append_child(pugi::node_pcdata).set_value(text.data(), text.size());
}

pugi::xml_node add_text(pugi::xml_node parent, const char* name, std::string_view text) {
  pugi::xml_node node = parent.append_child(name);
  set_text(node, text);
  return node;
}

void add_loc_ref(pugi::xml_node parent, const char* name, const LocRef& ref) {
  pugi::xml_node node = parent.append_child(name);
  add_text(node, "LocURI", ref.loc_uri);
  if (!ref.loc_name.empty()) add_text(node, "LocName", ref.loc_name);
}

pugi::xml_node add_metinf(pugi::xml_node meta, const char* name, std::string_view text) {
  pugi::xml_node node = add_text(meta, name, text);
  node.append_attribute("xmlns").set_value(kMetInfNs);
  return node;
}

// MetInf children in MetInf DTD order; xmlns on each child, like Horde.
void add_meta_children(pugi::xml_node meta_node, const Meta& meta) {
  if (!meta.format.empty()) add_metinf(meta_node, "Format", meta.format);
  if (!meta.type.empty()) add_metinf(meta_node, "Type", meta.type);
  if (!meta.mark.empty()) add_metinf(meta_node, "Mark", meta.mark);
  if (meta.size) add_metinf(meta_node, "Size", std::to_string(*meta.size));
  if (meta.anchor) {
    pugi::xml_node anchor = add_metinf(meta_node, "Anchor", "");
    if (meta.anchor->last) add_text(anchor, "Last", *meta.anchor->last);
    add_text(anchor, "Next", meta.anchor->next);
  }
  if (!meta.version.empty()) add_metinf(meta_node, "Version", meta.version);
  if (!meta.next_nonce.empty()) add_metinf(meta_node, "NextNonce", meta.next_nonce);
  if (meta.max_msg_size) add_metinf(meta_node, "MaxMsgSize", std::to_string(*meta.max_msg_size));
  if (meta.max_obj_size) add_metinf(meta_node, "MaxObjSize", std::to_string(*meta.max_obj_size));
}

void add_meta(pugi::xml_node parent, const std::optional<Meta>& meta) {
  if (!meta || meta->empty()) return;
  add_meta_children(parent.append_child("Meta"), *meta);
}

void add_cred(pugi::xml_node parent, const Cred& cred) {
  pugi::xml_node node = parent.append_child("Cred");
  if (!cred.meta.empty()) add_meta_children(node.append_child("Meta"), cred.meta);
  add_text(node, "Data", cred.data);
}

void add_item_data(pugi::xml_node item_node, const Item& item, BinaryData* binary) {
  if (item.data_kind == DataKind::kNone) return;
  pugi::xml_node data = item_node.append_child("Data");
  if (binary && item.data_kind == DataKind::kText && item.data.find('\0') != std::string::npos) {
    binary->emplace(data, item.data);
    return;
  }
  if (item.data_kind == DataKind::kXml) {
    pugi::xml_document fragment;
    if (fragment.load_buffer(item.data.data(), item.data.size(), kParseOptions | pugi::parse_fragment)) {
      for (pugi::xml_node c : fragment.children()) data.append_copy(c);
      return;
    }
    // Not XML after all: send it as text rather than a broken document.
  }
  set_text(data, item.data);
}

void add_item(pugi::xml_node parent, const Item& item, BinaryData* binary) {
  pugi::xml_node node = parent.append_child("Item");
  if (item.target) add_loc_ref(node, "Target", *item.target);
  if (item.source) add_loc_ref(node, "Source", *item.source);
  if (item.source_parent) add_loc_ref(node, "SourceParent", *item.source_parent);
  if (item.target_parent) add_loc_ref(node, "TargetParent", *item.target_parent);
  add_meta(node, item.meta);
  add_item_data(node, item, binary);
  if (item.more_data) node.append_child("MoreData");
}

void add_command(pugi::xml_node parent, const Command& cmd, BinaryData* binary = nullptr) {
  pugi::xml_node node = parent.append_child(command_name(cmd.kind));
  for (Field field : layout_of(cmd.kind)) {
    const char* name = field_name(field);
    switch (field) {
      case Field::kCmdId: add_text(node, name, std::to_string(cmd.cmd_id)); break;
      case Field::kNoResp:
        if (cmd.no_resp) node.append_child(name);
        break;
      case Field::kArchive:
        if (cmd.archive) node.append_child(name);
        break;
      case Field::kSftDel:
        if (cmd.sft_del) node.append_child(name);
        break;
      case Field::kLang:
        if (!cmd.lang.empty()) add_text(node, name, cmd.lang);
        break;
      case Field::kMsgRef:
        if (!cmd.msg_ref.empty()) add_text(node, name, cmd.msg_ref);
        break;
      case Field::kCmdRef:
        if (!cmd.cmd_ref.empty()) add_text(node, name, cmd.cmd_ref);
        break;
      case Field::kCmd:
        if (!cmd.cmd_name.empty()) add_text(node, name, cmd.cmd_name);
        break;
      case Field::kTargetRef:
        for (const std::string& ref : cmd.target_refs) add_text(node, name, ref);
        break;
      case Field::kSourceRef:
        for (const std::string& ref : cmd.source_refs) add_text(node, name, ref);
        break;
      case Field::kCred:
        if (cmd.cred) add_cred(node, *cmd.cred);
        break;
      case Field::kChal:
        if (cmd.chal) {
          pugi::xml_node chal = node.append_child(name);
          add_meta_children(chal.append_child("Meta"), cmd.chal->meta);
        }
        break;
      case Field::kTarget:
        if (cmd.target) add_loc_ref(node, name, *cmd.target);
        break;
      case Field::kSource:
        if (cmd.source) add_loc_ref(node, name, *cmd.source);
        break;
      case Field::kMeta: add_meta(node, cmd.meta); break;
      case Field::kNumberOfChanges:
        if (cmd.number_of_changes) add_text(node, name, std::to_string(*cmd.number_of_changes));
        break;
      case Field::kData: add_text(node, name, std::to_string(cmd.code)); break;
      case Field::kItems:
        for (const Item& item : cmd.items) add_item(node, item, binary);
        break;
      case Field::kMapItems:
        for (const MapItem& m : cmd.map_items) {
          pugi::xml_node map_item = node.append_child(name);
          add_loc_ref(map_item, "Target", LocRef{m.target, ""});
          add_loc_ref(map_item, "Source", LocRef{m.source, ""});
        }
        break;
      case Field::kChildren:
        for (const Command& child : cmd.children) add_command(node, child, binary);
        break;
    }
  }
}

void add_header(pugi::xml_node parent, const Message& msg) {
  const SyncHdr& hdr = msg.hdr;
  pugi::xml_node node = parent.append_child("SyncHdr");
  add_text(node, "VerDTD", hdr.ver_dtd.empty() ? ver_dtd(msg.version) : hdr.ver_dtd);
  add_text(node, "VerProto", hdr.ver_proto.empty() ? ver_proto(msg.version) : hdr.ver_proto);
  add_text(node, "SessionID", hdr.session_id);
  add_text(node, "MsgID", hdr.msg_id);
  add_loc_ref(node, "Target", hdr.target);
  add_loc_ref(node, "Source", hdr.source);
  if (!hdr.resp_uri.empty()) add_text(node, "RespURI", hdr.resp_uri);
  if (hdr.no_resp) node.append_child("NoResp");
  if (hdr.cred) add_cred(node, *hdr.cred);
  add_meta(node, hdr.meta);
}

// encode_xml(m) == envelope_head(m) + command_xml(c)... + envelope_tail(m);
// that identity is what makes encoded_xml_size exact.
std::string envelope_head(const Message& msg) {
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><SyncML xmlns=\"";
  out += namespace_uri(msg.version);
  out += "\">";
  pugi::xml_document doc;
  add_header(doc, msg);
  StringWriter writer(out);
  print_raw(doc.first_child(), writer);
  out += "<SyncBody>";
  return out;
}

const char* envelope_tail(const Message& msg) {
  return msg.final ? "<Final/></SyncBody></SyncML>" : "</SyncBody></SyncML>";
}

}  // namespace

namespace syncml_tree {

std::string_view local_name(const char* qname) { return protocol::local_name(qname); }

Result<Message> decode_guarded(std::string_view bytes, const DecodeLimits& limits, Decoder decoder) {
  if (bytes.size() > limits.max_bytes) {
    return Status::resource_exhausted("SyncML message of " + std::to_string(bytes.size()) + " bytes exceeds " +
                                      std::to_string(limits.max_bytes));
  }
  if (bytes.empty()) return Status::invalid_argument("empty SyncML message");
  try {
    return decoder(bytes, limits);
  } catch (const std::bad_alloc&) {
    return Status::resource_exhausted("out of memory decoding SyncML message");
  }
}

Result<Message> decode_tree(const pugi::xml_document& doc, const DecodeLimits& limits, const BinaryData* binary) {
  return decode_parsed(doc, limits, binary);
}

void append_header(pugi::xml_node parent, const Message& message) { add_header(parent, message); }

void append_command(pugi::xml_node parent, const Command& command, BinaryData* binary) {
  add_command(parent, command, binary);
}

}  // namespace syncml_tree

Result<Message> decode_xml(std::string_view bytes, const DecodeLimits& limits) {
  return syncml_tree::decode_guarded(bytes, limits, [](std::string_view b, const DecodeLimits& l) -> Result<Message> {
    CFX_RETURN_IF_ERROR(check_xml_text(b));
    return decode_document(b, l);
  });
}

std::string encode_xml(const Message& message) {
  std::string out = envelope_head(message);
  StringWriter writer(out);
  for (const Command& cmd : message.commands) {
    pugi::xml_document doc;
    add_command(doc, cmd);
    print_raw(doc.first_child(), writer);
  }
  out += envelope_tail(message);
  return out;
}

size_t encoded_xml_size(const Command& command, SyncMLVersion /*version: same layout in 1.0-1.2*/) {
  pugi::xml_document doc;
  add_command(doc, command);
  CountingWriter counter;
  print_raw(doc.first_child(), counter);
  return counter.bytes();
}

size_t encoded_xml_overhead(const Message& message_without_commands) {
  return envelope_head(message_without_commands).size() +
         std::string_view(envelope_tail(message_without_commands)).size();
}

}  // namespace conflux::protocol
