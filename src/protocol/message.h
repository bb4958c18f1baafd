// The SyncML representation protocol as plain data (SyncML RepPro 1.1/1.2).
// Codecs (xml_codec.h; WBXML later) turn bytes into a Message and back; the
// engine reads and builds Messages and never sees XML.
//
// One flat Command struct serves every command: the fields a command does not
// use stay empty. This keeps nesting (Sync, Atomic, Sequence hold commands)
// trivial and the codecs table-like.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace conflux::protocol {

enum class SyncMLVersion : uint8_t { k10, k11, k12 };

// "1.2" / "SyncML/1.2" / "SYNCML:SYNCML1.2" for a version.
const char* ver_dtd(SyncMLVersion v);
const char* ver_proto(SyncMLVersion v);
const char* namespace_uri(SyncMLVersion v);
const char* devinf_uri(SyncMLVersion v);  // "./devinf12"

// Target / Source: LocURI required, LocName optional.
struct LocRef {
  std::string loc_uri;
  std::string loc_name;
};

// MetInf <Anchor>: Last is optional (absent on a first sync).
struct MetAnchor {
  std::optional<std::string> last;
  std::string next;
};

// MetInf (syncml:metinf). Only the fields a DS server reads or writes.
struct Meta {
  std::string type;    // MIME type, or auth type in Cred/Chal
  std::string format;  // as sent: chr (default), b64, bin; see ItemFormat
  std::string version;
  std::string mark;
  std::string next_nonce;  // base64 on the wire, kept as sent
  std::optional<uint64_t> size;
  std::optional<uint64_t> max_msg_size;
  std::optional<uint64_t> max_obj_size;
  std::optional<MetAnchor> anchor;
  bool empty() const;
};

// How an Item's Data is encoded (MetInf Format): chr, the default, is the
// data itself; b64 is base64 (SIF items, binary objects in XML); bin is
// WBXML opaque bytes, the data itself once decoded.
enum class ItemFormat : uint8_t { kChr, kB64, kBin };
const char* item_format_name(ItemFormat format);  // "chr", "b64", "bin"
// nullopt for a value SyncML does not define.
std::optional<ItemFormat> parse_item_format(std::string_view text);

struct Cred {
  Meta meta;
  std::string data;
};

struct Chal {
  Meta meta;
};

// An Item's Data is either text (a vCard, an alert string) or a nested XML
// element (DevInf, an Anchor) which the codec keeps as serialized XML text.
enum class DataKind : uint8_t { kNone, kText, kXml };

struct Item {
  std::optional<LocRef> target;
  std::optional<LocRef> source;
  std::optional<LocRef> source_parent;  // 1.2
  std::optional<LocRef> target_parent;  // 1.2
  std::optional<Meta> meta;
  DataKind data_kind = DataKind::kNone;
  std::string data;
  bool more_data = false;
};

enum class CommandKind : uint8_t {
  kStatus,
  kAlert,
  kSync,
  kAdd,
  kReplace,
  kDelete,
  kCopy,
  kMove,
  kMap,
  kGet,
  kPut,
  kResults,
  kAtomic,
  kSequence,
  kExec,
  kSearch,
};

// Element name of a command ("Add"), as used in Status/Cmd.
const char* command_name(CommandKind kind);
std::optional<CommandKind> command_kind_from_name(std::string_view name);

struct MapItem {
  std::string target;  // server id (GUID or temporary id)
  std::string source;  // client LUID
};

struct Command {
  CommandKind kind = CommandKind::kStatus;
  uint32_t cmd_id = 0;
  bool no_resp = false;
  std::optional<Cred> cred;
  std::optional<Meta> meta;
  std::vector<Item> items;

  // Status: code; Alert: alert code (both travel in <Data>).
  int code = 0;

  // Status and Results.
  std::string msg_ref;
  std::string cmd_ref;
  std::string cmd_name;  // Status only: the answered command's element name
  std::vector<std::string> target_refs;
  std::vector<std::string> source_refs;
  std::optional<Chal> chal;

  // Sync and Map.
  std::optional<LocRef> target;
  std::optional<LocRef> source;
  std::optional<uint32_t> number_of_changes;
  std::vector<MapItem> map_items;

  // Sync, Atomic, Sequence.
  std::vector<Command> children;

  // Delete.
  bool archive = false;
  bool sft_del = false;

  // Get, Put.
  std::string lang;
};

struct SyncHdr {
  std::string ver_dtd;    // "1.2"
  std::string ver_proto;  // "SyncML/1.2"
  std::string session_id;
  std::string msg_id;
  LocRef target;
  LocRef source;
  std::string resp_uri;
  bool no_resp = false;
  std::optional<Cred> cred;
  std::optional<Meta> meta;
};

struct Message {
  SyncMLVersion version = SyncMLVersion::k12;
  SyncHdr hdr;
  std::vector<Command> commands;
  bool final = false;
};

}  // namespace conflux::protocol
