// Server Alerted Notification (OMA DS 1.2 package 0, OMA-TS-DS_DataSync-
// Notification; SYNCML-REFERENCE §14): the binary message a server pushes to
// a device (WAP Push, SMS, OBEX...) to make it start a sync. Layout, big-
// endian bit fields, most significant bit first:
//
//   digest            128 bits  MD5 (raw) over the rest, see encode_san
//   version            10 bits  protocol version x 10: 12
//   ui-mode             2 bits
//   initiator           1 bit
//   future             27 bits  0
//   session id         16 bits
//   server id length    8 bits, then the server id
//   number of syncs     4 bits  0 = every datastore
//   future              4 bits
//   per sync: sync type 4 bits (alert code - 200), future 4 bits, content
//     type 24 bits (WSP number, 0 = unspecified), server URI length 8 bits,
//     then the URI
//
// The device then starts a session whose Alert carries the code given here
// (206–210), and the engine runs it as the matching 200–205.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace conflux::protocol {

enum class SanUiMode : uint8_t { kNotSpecified = 0, kBackground = 1, kInformative = 2, kUserInteraction = 3 };
enum class SanInitiator : uint8_t { kUser = 0, kServer = 1 };

struct SanSync {
  int alert_code = 206;       // 206..210
  uint32_t content_type = 0;  // WSP number (san_content_type), 24 bits
  std::string server_uri;     // our datastore name, at most 255 bytes
};

struct ServerAlertedNotification {
  SanUiMode ui_mode = SanUiMode::kBackground;
  SanInitiator initiator = SanInitiator::kServer;
  uint16_t session_id = 0;     // the SessionID the device should use
  std::string server_id;       // as in the device's profile, at most 255 bytes
  std::vector<SanSync> syncs;  // at most 15; empty: every datastore
};

// The WSP content type number of a MIME type (SYNCML-REFERENCE §12):
// text/x-vcard 0x07, text/vcard 0x0309, text/x-vcalendar 0x06,
// text/calendar 0x0305, text/plain 0x03; 0 (unspecified) for any other.
uint32_t san_content_type(std::string_view mime_type);

// The notification's bytes. The digest is
//   MD5( credential_b64 ":" nonce ":" B64(MD5(notification)) )
// where credential_b64 is B64(MD5(server-id ":" password)) as the device
// knows it, and notification every byte after the digest.
// kInvalidArgument for a field that does not fit its bits (server id or URI
// over 255 bytes, more than 15 syncs, an alert code outside 206..210, a
// content type over 24 bits).
Result<std::string> encode_san(const ServerAlertedNotification& san, std::string_view credential_b64,
                               std::string_view nonce);

}  // namespace conflux::protocol
