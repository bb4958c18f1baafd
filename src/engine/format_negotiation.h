// Format negotiation (issue #5): which format a device receives for a
// datastore, and how the items it sends become the datastore's storage
// format (content_type/content_version in [stores.<name>]).
//
// Per (device, datastore), from the device's stored DevInf:
//  - outgoing: the DataStore's Rx-Pref when the datastore's kind can write
//    it, else the first such Rx; items already in that format go out as
//    stored, others are converted through the data objects (vCard 3.0/4.0 to
//    2.1 with QUOTED-PRINTABLE and CHARSET, iCalendar 2.0 to vCalendar 1.0 …).
//  - incoming: the item's Meta Type must belong to the datastore's kind
//    (vCard types for a vCard store …), else 415. Bytes already in the
//    storage format that pass data::sniff_format are stored untouched (hot
//    path); others are parsed (broken: 400 with the parser's reason) and
//    written in the storage format. An update of a known item from a device
//    with DevInf is merged with the server's version first, so fields the
//    device cannot hold survive (data::keep_fields_device_cannot_hold; the
//    CTCap for the format the item came in decides).
//  - a device without DevInf: items are validated the same way but stored
//    and sent as they are (today's behaviour: we do not know what it reads).
// Datastores whose type has no data object (files, …) pass bytes through.
// SIF (Funambol's text/x-s4j-sif*, data/sif.h) is never stored as sent: it
// is converted even from a device without DevInf, merged with the server's
// version by SIF's own field set (data::sif_caps), and goes out base64.
//
// Thread rule: a DeviceFormats is a plain value built per message; its
// methods are const and touch nothing shared.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "caf/store_settings.h"
#include "caf/sync_obj.h"
#include "data/device_caps.h"
#include "engine/sync_state_store.h"
#include "protocol/devinf.h"
#include "protocol/message.h"
#include "protocol/status_code.h"

namespace conflux::engine {

// A client item on its way into storage.
struct Ingested {
  std::optional<protocol::StatusCode> refused;  // 415 or 400: the item fails alone
  std::string reason;                           // why, for the log (the parser's message)
  std::string content_type;                     // otherwise: what to store
  std::string raw;
};

// A stored item on its way to a device.
struct Delivered {
  std::string content_type;
  std::string raw;
  std::string problem;  // non-empty: conversion failed, the stored bytes go out as they are
  // The item's Meta Format: kB64 for SIF (raw is base64), else kChr (sent
  // without a Format).
  protocol::ItemFormat format = protocol::ItemFormat::kChr;
};

class DeviceFormats {
 public:
  // `devinf` may be null (the device sent none); `client_uri` is the device's
  // name for the datastore, matched against the DevInf SourceRefs.
  // `log_context` starts this object's log lines ("session … user … device
  // … datastore …").
  DeviceFormats(const caf::StoreSettings& store, const protocol::DevInf* devinf, std::string_view client_uri,
                std::string log_context = "");

  const data::Format& storage() const { return storage_; }
  // What the device receives; nullopt: items go out as stored.
  const std::optional<data::Format>& preferred() const { return preferred_; }
  // The DevInf describes this datastore: its updates are merged (see above).
  bool described() const { return described_; }
  // The device's CTCap for `format` (matched by type, and version when both
  // name one); null when it sent none or one without properties.
  const data::FormatCaps* caps_for(const data::Format& format) const;

  // `server_version` is asked only for an update from a described device; it
  // returns the stored item, or nullopt when there is none (gone, unreadable).
  // A refusal is logged here, once, naming `luid` and the reason (never the
  // item's bytes).
  Ingested to_storage(std::string&& raw, const std::string& declared_type, const std::string& luid,
                      const std::function<std::optional<caf::SyncObj>()>& server_version) const;
  // A failed conversion is logged here and the stored bytes go out.
  Delivered to_device(const caf::SyncObj& stored) const;

 private:
  Ingested convert_for_storage(std::string&& raw, const std::string& declared_type,
                               const std::function<std::optional<caf::SyncObj>()>& server_version) const;

  const data::Format storage_;
  const std::string log_context_;
  std::optional<data::Format> preferred_;
  bool described_ = false;
  std::vector<data::FormatCaps> caps_;
};

// The DeviceFormats of `where` (user, device, datastore) in `session` from
// the device's stored DevInf. A DevInf that cannot be read counts as none
// (logged).
DeviceFormats load_device_formats(SyncStateStore& state, const std::vector<caf::StoreSettings>& stores,
                                  const DeviceStore& where, std::string_view client_uri, const std::string& session);

}  // namespace conflux::engine
