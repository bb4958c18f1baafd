#include "engine/format_negotiation.h"

#include "common/base64.h"
#include "common/log.h"
#include "data/calendar.h"
#include "data/note.h"
#include "data/sif.h"
#include "data/text_codec.h"

namespace conflux::engine {
namespace {

using protocol::StatusCode;

enum class Family { kNone, kContact, kCalendar, kNote };

// "Text/X-vCard; charset=UTF-8" -> "text/x-vcard".
std::string media_type(std::string_view type) {
  type = type.substr(0, type.find(';'));
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.remove_prefix(1);
  return data::ascii_lower(type);
}

Family family_of(std::string_view mime_type) {
  const std::string type = media_type(mime_type);
  if (type == "text/vcard" || type == "text/x-vcard" || type == "text/directory") return Family::kContact;
  if (type == "text/calendar" || type == "text/x-vcalendar") return Family::kCalendar;
  if (type == "text/plain" || type == "text/x-vnote") return Family::kNote;
  if (type == data::sif_contact_format().mime_type) return Family::kContact;
  if (type == data::sif_event_format().mime_type || type == data::sif_task_format().mime_type) {
    return Family::kCalendar;
  }
  if (type == data::sif_note_format().mime_type) return Family::kNote;
  return Family::kNone;
}

// The full format a DevInf type names, its version filled in where devices
// leave it out; nullopt for versions no data object writes.
std::optional<data::Format> writable_format(const protocol::ContentTypeRef& ct) {
  const std::string type = data::ascii_lower(ct.type);
  const std::string& v = ct.version;
  if (type == "text/x-vcard" && (v.empty() || v == "2.1")) return data::Format::vcard21();
  if (type == "text/vcard" && (v.empty() || v == "3.0")) return data::Format::vcard30();
  if (type == "text/vcard" && v == "4.0") return data::Format::vcard40();
  if (type == "text/x-vcalendar" && (v.empty() || v == "1.0")) return data::vcal10_format();
  if (type == "text/calendar" && (v.empty() || v == "2.0")) return data::ical20_format();
  if (type == "text/plain") return data::text_plain_format();
  if (type == "text/x-vnote" && (v.empty() || v == "1.1")) return data::vnote11_format();
  if (data::is_sif_type(type)) return data::Format{type, "1.0"};  // SIF has had one version
  return std::nullopt;
}

// Equal for storage purposes: text/plain has no meaningful version.
bool same_format(const data::Format& a, const data::Format& b) {
  if (data::ascii_lower(a.mime_type) != data::ascii_lower(b.mime_type)) return false;
  return a.mime_type == "text/plain" || a.version.empty() || b.version.empty() || a.version == b.version;
}

std::string trim_store_uri(std::string_view uri) {
  if (uri.substr(0, 2) == "./") uri.remove_prefix(2);
  return data::ascii_lower(uri);
}

const protocol::DevInfDataStore* find_datastore(const protocol::DevInf& devinf, std::string_view client_uri) {
  for (const auto& ds : devinf.datastores) {
    if (trim_store_uri(ds.source_ref) == trim_store_uri(client_uri)) return &ds;
  }
  return nullptr;
}

data::FormatCaps to_format_caps(const protocol::CTCap& cap) {
  data::FormatCaps out{data::Format{data::ascii_lower(cap.type.type), cap.type.version}, {}};
  for (const auto& p : cap.properties) out.properties[p.name] = data::PropertyCaps{p.max_occur};
  return out;
}

Ingested refuse(StatusCode code, std::string reason) {
  Ingested out;
  out.refused = code;
  out.reason = std::move(reason);
  return out;
}

}  // namespace

DeviceFormats::DeviceFormats(const caf::StoreSettings& store, const protocol::DevInf* devinf,
                             std::string_view client_uri, std::string log_context)
    : storage_{data::ascii_lower(store.content_type), store.content_version}, log_context_(std::move(log_context)) {
  const protocol::DevInfDataStore* ds = devinf ? find_datastore(*devinf, client_uri) : nullptr;
  if (!ds) return;
  described_ = true;
  const Family family = family_of(storage_.mime_type);
  std::vector<protocol::ContentTypeRef> offered{ds->rx_pref};
  offered.insert(offered.end(), ds->rx.begin(), ds->rx.end());
  for (const auto& ct : offered) {
    auto format = writable_format(ct);
    if (family != Family::kNone && format && family_of(format->mime_type) == family) {
      preferred_ = *format;
      break;
    }
  }
  // 1.2 keeps CTCaps in the DataStore, 1.1 at the top level for all of them.
  for (const auto& cap : ds->ctcaps) {
    if (!cap.properties.empty()) caps_.push_back(to_format_caps(cap));
  }
  for (const auto& cap : devinf->ctcaps) {
    if (!cap.properties.empty()) caps_.push_back(to_format_caps(cap));
  }
}

const data::FormatCaps* DeviceFormats::caps_for(const data::Format& format) const {
  for (const auto& caps : caps_) {
    if (same_format(caps.format, format)) return &caps;
  }
  return nullptr;
}

Ingested DeviceFormats::to_storage(std::string&& raw, const std::string& declared_type, const std::string& luid,
                                   const std::function<std::optional<caf::SyncObj>()>& server_version) const {
  Ingested out = convert_for_storage(std::move(raw), declared_type, server_version);
  if (out.refused) {
    logger("engine")->warn("{}: item {} refused with {}: {}", log_context_, luid, protocol::to_int(*out.refused),
                           out.reason);
  }
  return out;
}

Ingested DeviceFormats::convert_for_storage(std::string&& raw, const std::string& declared_type,
                                            const std::function<std::optional<caf::SyncObj>()>& server_version) const {
  const Family family = family_of(storage_.mime_type);
  if (family == Family::kNone) return Ingested{std::nullopt, "", declared_type, std::move(raw)};
  if (family_of(declared_type) != family) {
    return refuse(StatusCode::kUnsupportedMediaType,
                  "type '" + declared_type + "' does not fit a datastore of " + storage_.to_string());
  }
  const data::Format declared{media_type(declared_type), ""};
  // SIF is read by Funambol's clients alone: it is always converted, and its
  // fixed field set says what an update deleted even without DevInf.
  const bool sif = data::is_sif_type(declared.mime_type);
  std::optional<caf::SyncObj> server = described_ || sif ? server_version() : std::nullopt;

  // Hot path: already in the storage format, nothing to merge, looks sound.
  auto sniffed = data::sniff_format(raw, declared);
  if (sniffed && !sif && !server && (same_format(*sniffed, storage_) || !described_)) {
    return Ingested{std::nullopt, "", sniffed->mime_type, std::move(raw)};  // the data's type, not the label
  }

  auto object = data::parse(raw, declared);
  if (!object) {
    const bool unknown = object.error().code() == conflux::StatusCode::kUnimplemented;
    return refuse(unknown ? StatusCode::kUnsupportedMediaType : StatusCode::kBadRequest, object.error().message());
  }
  // Without DevInf nothing tells what the device reads back: keep its bytes.
  if (!described_ && !sif) return Ingested{std::nullopt, "", (*object)->source_format().mime_type, std::move(raw)};

  std::unique_ptr<data::DataObject> to_store = std::move(*object);
  if (server) {
    auto current = data::parse(server->raw, data::Format{server->content_type, ""});
    if (current) {
      const data::FormatCaps sif_fields = data::sif_caps(declared.mime_type);
      const data::FormatCaps* caps = caps_for(to_store->source_format());
      if (!caps && sif && !sif_fields.properties.empty()) caps = &sif_fields;
      auto merged = data::keep_fields_device_cannot_hold(*to_store, **current, caps);
      if (!merged) return refuse(StatusCode::kBadRequest, merged.error().message());
      to_store = std::move(*merged);
    } else {
      logger("engine")->warn("{}: stored item {} does not parse ({}); the update replaces it whole", log_context_,
                             server->guid.str(), current.error().to_string());
    }
  }
  auto text = to_store->write(storage_);
  if (!text) return refuse(StatusCode::kUnsupportedMediaType, text.error().message());
  return Ingested{std::nullopt, "", storage_.mime_type, std::move(*text)};
}

Delivered DeviceFormats::to_device(const caf::SyncObj& stored) const {
  if (!preferred_) return Delivered{stored.content_type, stored.raw, "", protocol::ItemFormat::kChr};
  const data::Format as_stored{data::ascii_lower(stored.content_type), ""};
  auto sniffed = data::sniff_format(stored.raw, as_stored);
  if (sniffed && same_format(*sniffed, *preferred_))
    return Delivered{sniffed->mime_type, stored.raw, "", protocol::ItemFormat::kChr};
  auto as_stored_because = [&](const Status& why) {
    logger("engine")->warn("{}: item {} sent as stored, not as {}: {}", log_context_, stored.guid.str(),
                           preferred_->to_string(), why.to_string());
    return Delivered{stored.content_type, stored.raw, why.to_string(), protocol::ItemFormat::kChr};
  };
  auto object = data::parse(stored.raw, as_stored);
  if (!object) return as_stored_because(object.error());
  auto text = (*object)->write(*preferred_);
  if (!text) return as_stored_because(text.error());
  // Funambol's clients expect SIF base64-encoded (Meta Format b64), as
  // Funambol's server sends it.
  if (data::is_sif_type(preferred_->mime_type))
    return Delivered{preferred_->mime_type, base64_encode(*text), "", protocol::ItemFormat::kB64};
  return Delivered{preferred_->mime_type, std::move(*text), "", protocol::ItemFormat::kChr};
}

DeviceFormats load_device_formats(SyncStateStore& state, const std::vector<caf::StoreSettings>& stores,
                                  const DeviceStore& where, std::string_view client_uri, const std::string& session) {
  std::string context = "session " + session + " user " + where.user.str() + " device " + where.device.str() +
                        " datastore " + where.database;
  caf::StoreSettings store;
  for (const auto& s : stores) {
    if (s.name == where.database) store = s;
  }
  auto xml = state.device_info(where.user, where.device);
  if (!xml || !xml->has_value()) {
    if (!xml) {
      logger("engine")->warn("{}: reading the device's DevInf failed, items pass unconverted: {}", context,
                             xml.error().to_string());
    }
    return DeviceFormats(store, nullptr, client_uri, std::move(context));
  }
  auto devinf = protocol::parse_devinf_xml(**xml);
  if (!devinf) {
    logger("engine")->warn("{}: the device's stored DevInf does not parse, items pass unconverted: {}", context,
                           devinf.error().to_string());
    return DeviceFormats(store, nullptr, client_uri, std::move(context));
  }
  return DeviceFormats(store, &*devinf, client_uri, std::move(context));
}

}  // namespace conflux::engine
