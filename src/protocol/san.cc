#include "protocol/san.h"

#include "common/base64.h"
#include "common/digest.h"

namespace conflux::protocol {
namespace {

constexpr int kSanVersion = 12;  // DS 1.2
constexpr size_t kMaxSyncs = 15;
constexpr size_t kMaxName = 255;

std::string raw_md5(std::string_view bytes) { return base64_decode(md5_base64(bytes)).value_or(std::string()); }

}  // namespace

uint32_t san_content_type(std::string_view mime_type) {
  if (mime_type == "text/x-vcard") return 0x07;
  if (mime_type == "text/vcard") return 0x0309;
  if (mime_type == "text/x-vcalendar") return 0x06;
  if (mime_type == "text/calendar") return 0x0305;
  if (mime_type == "text/plain") return 0x03;
  return 0;
}

Result<std::string> encode_san(const ServerAlertedNotification& san, std::string_view credential_b64,
                               std::string_view nonce) {
  if (san.server_id.size() > kMaxName) return Status::invalid_argument("SAN: server id longer than 255 bytes");
  if (san.syncs.size() > kMaxSyncs) return Status::invalid_argument("SAN: more than 15 datastores");
  std::string body;
  // version (10) | ui-mode (2) | initiator (1) | future (27 + ...) over 5 bytes.
  const uint64_t head = (static_cast<uint64_t>(kSanVersion) << 30) | (static_cast<uint64_t>(san.ui_mode) << 28) |
                        (static_cast<uint64_t>(san.initiator) << 27);
  for (int shift = 32; shift >= 0; shift -= 8) body += static_cast<char>((head >> shift) & 0xFF);
  body += static_cast<char>(san.session_id >> 8);
  body += static_cast<char>(san.session_id & 0xFF);
  body += static_cast<char>(san.server_id.size());
  body += san.server_id;
  body += static_cast<char>(san.syncs.size() << 4);
  for (const auto& sync : san.syncs) {
    if (sync.alert_code < 206 || sync.alert_code > 210) {
      return Status::invalid_argument("SAN: sync type " + std::to_string(sync.alert_code) + " is not 206..210");
    }
    if (sync.content_type > 0xFFFFFF) return Status::invalid_argument("SAN: content type over 24 bits");
    if (sync.server_uri.size() > kMaxName) return Status::invalid_argument("SAN: server URI longer than 255 bytes");
    body += static_cast<char>((sync.alert_code - 200) << 4);
    body += static_cast<char>((sync.content_type >> 16) & 0xFF);
    body += static_cast<char>((sync.content_type >> 8) & 0xFF);
    body += static_cast<char>(sync.content_type & 0xFF);
    body += static_cast<char>(sync.server_uri.size());
    body += sync.server_uri;
  }
  const std::string digest_input = std::string(credential_b64) + ":" + std::string(nonce) + ":" + md5_base64(body);
  return raw_md5(digest_input) + body;
}

}  // namespace conflux::protocol
