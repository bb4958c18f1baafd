#include "protocol/message.h"

#include <array>
#include <string_view>
#include <utility>

namespace conflux::protocol {

const char* item_format_name(ItemFormat format) {
  switch (format) {
    case ItemFormat::kChr: return "chr";
    case ItemFormat::kB64: return "b64";
    case ItemFormat::kBin: return "bin";
  }
  return "chr";
}

std::optional<ItemFormat> parse_item_format(std::string_view text) {
  for (ItemFormat format : {ItemFormat::kChr, ItemFormat::kB64, ItemFormat::kBin}) {
    if (text == item_format_name(format)) return format;
  }
  return std::nullopt;
}

const char* ver_dtd(SyncMLVersion v) {
  switch (v) {
    case SyncMLVersion::k10: return "1.0";
    case SyncMLVersion::k11: return "1.1";
    case SyncMLVersion::k12: return "1.2";
  }
  return "1.2";
}

const char* ver_proto(SyncMLVersion v) {
  switch (v) {
    case SyncMLVersion::k10: return "SyncML/1.0";
    case SyncMLVersion::k11: return "SyncML/1.1";
    case SyncMLVersion::k12: return "SyncML/1.2";
  }
  return "SyncML/1.2";
}

const char* namespace_uri(SyncMLVersion v) {
  switch (v) {
    case SyncMLVersion::k10: return "SYNCML:SYNCML1.0";
    case SyncMLVersion::k11: return "SYNCML:SYNCML1.1";
    case SyncMLVersion::k12: return "SYNCML:SYNCML1.2";
  }
  return "SYNCML:SYNCML1.2";
}

const char* devinf_uri(SyncMLVersion v) {
  switch (v) {
    case SyncMLVersion::k10: return "./devinf10";
    case SyncMLVersion::k11: return "./devinf11";
    case SyncMLVersion::k12: return "./devinf12";
  }
  return "./devinf12";
}

namespace {

// Element names as RepPro spells them; the order follows CommandKind.
constexpr std::array<std::pair<CommandKind, const char*>, 16> kCommandNames = {{
    {CommandKind::kStatus, "Status"},
    {CommandKind::kAlert, "Alert"},
    {CommandKind::kSync, "Sync"},
    {CommandKind::kAdd, "Add"},
    {CommandKind::kReplace, "Replace"},
    {CommandKind::kDelete, "Delete"},
    {CommandKind::kCopy, "Copy"},
    {CommandKind::kMove, "Move"},
    {CommandKind::kMap, "Map"},
    {CommandKind::kGet, "Get"},
    {CommandKind::kPut, "Put"},
    {CommandKind::kResults, "Results"},
    {CommandKind::kAtomic, "Atomic"},
    {CommandKind::kSequence, "Sequence"},
    {CommandKind::kExec, "Exec"},
    {CommandKind::kSearch, "Search"},
}};

}  // namespace

const char* command_name(CommandKind kind) {
  for (const auto& [k, name] : kCommandNames) {
    if (k == kind) return name;
  }
  return "Unknown";
}

// Element names are case-sensitive in XML; "add" is not a command.
std::optional<CommandKind> command_kind_from_name(std::string_view name) {
  for (const auto& [kind, n] : kCommandNames) {
    if (name == n) return kind;
  }
  return std::nullopt;
}

bool Meta::empty() const {
  return type.empty() && format.empty() && version.empty() && mark.empty() && next_nonce.empty() && !size &&
         !max_msg_size && !max_obj_size && !anchor;
}

}  // namespace conflux::protocol
