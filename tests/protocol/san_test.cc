// Server Alerted Notification encoder (SYNCML-REFERENCE §14): checked field
// by field against the OMA DS 1.2 layout, and byte for byte against two
// notifications Nokia PC Suite really sent (tests/data/san, from buteo-syncml).
#include "protocol/san.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "common/base64.h"
#include "common/digest.h"

namespace conflux::protocol {
namespace {

std::string read_file(const std::string& name) {
  std::ifstream in(std::string(CONFLUX_TEST_DATA_DIR) + "/san/" + name, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

uint8_t byte_at(const std::string& s, size_t i) { return static_cast<uint8_t>(s.at(i)); }

ServerAlertedNotification pc_suite(const std::string& uri) {
  ServerAlertedNotification san;
  san.ui_mode = SanUiMode::kBackground;
  san.initiator = SanInitiator::kServer;
  san.session_id = 0;
  san.server_id = "PC Suite Data Sync";
  san.syncs = {SanSync{SyncType::kTwoWay, 0, uri}};
  return san;
}

TEST(SanTest, MatchesNokiaPcSuiteNotificationsByteForByte) {
  // Empty password and nonce, as the buteo-syncml test verifies them.
  const std::string credential = md5_base64("PC Suite Data Sync:");
  auto contacts = encode_san(pc_suite("Contacts"), credential, "");
  ASSERT_TRUE(contacts) << contacts.error().to_string();
  EXPECT_EQ(*contacts, read_file("SAN01.bin"));
  auto calendar = encode_san(pc_suite("Calendar"), credential, "");
  ASSERT_TRUE(calendar) << calendar.error().to_string();
  EXPECT_EQ(*calendar, read_file("SAN02.bin"));
}

TEST(SanTest, FieldsSitWhereTheSpecificationPutsThem) {
  ServerAlertedNotification san;
  san.ui_mode = SanUiMode::kUserInteraction;  // 3
  san.initiator = SanInitiator::kUser;        // 0
  san.session_id = 0x1234;
  san.server_id = "conflux";
  san.syncs = {SanSync{SyncType::kRefreshFromServer, san_content_type("text/vcard"), "contacts"},
               SanSync{SyncType::kOneWayFromClient, san_content_type("text/calendar"), "calendar"}};
  auto bytes = encode_san(san, md5_base64("alice:secret"), "nonce-1");
  ASSERT_TRUE(bytes) << bytes.error().to_string();
  const std::string& b = *bytes;
  ASSERT_EQ(b.size(), 16u + 5 + 2 + 1 + 7 + 1 + (1 + 3 + 1 + 8) + (1 + 3 + 1 + 8));

  // digest: MD5(credential ":" nonce ":" B64(MD5(notification))), raw.
  const std::string notification = b.substr(16);
  const std::string expected_digest =
      *base64_decode(md5_base64(md5_base64("alice:secret") + ":nonce-1:" + md5_base64(notification)));
  EXPECT_EQ(b.substr(0, 16), expected_digest);

  // version 12 (10 bits) | ui-mode 3 (2) | initiator 0 (1) | future 0 (27)
  const uint64_t head = (uint64_t{byte_at(b, 16)} << 32) | (uint64_t{byte_at(b, 17)} << 24) |
                        (uint64_t{byte_at(b, 18)} << 16) | (uint64_t{byte_at(b, 19)} << 8) | byte_at(b, 20);
  EXPECT_EQ(head >> 30, 12u);
  EXPECT_EQ((head >> 28) & 0x3, 3u);
  EXPECT_EQ((head >> 27) & 0x1, 0u);
  EXPECT_EQ(head & ((uint64_t{1} << 27) - 1), 0u);
  // session id (16 bits), server id length and bytes
  EXPECT_EQ(byte_at(b, 21), 0x12);
  EXPECT_EQ(byte_at(b, 22), 0x34);
  EXPECT_EQ(byte_at(b, 23), 7);
  EXPECT_EQ(b.substr(24, 7), "conflux");
  // number of syncs (4 bits) | future (4 bits)
  EXPECT_EQ(byte_at(b, 31), 0x20);
  // sync 1: type 10 (210) | future; content type 0x000309; URI length; URI
  EXPECT_EQ(byte_at(b, 32), 0xA0);
  EXPECT_EQ(byte_at(b, 33), 0x00);
  EXPECT_EQ(byte_at(b, 34), 0x03);
  EXPECT_EQ(byte_at(b, 35), 0x09);
  EXPECT_EQ(byte_at(b, 36), 8);
  EXPECT_EQ(b.substr(37, 8), "contacts");
  // sync 2: type 7 (207); content type 0x000305
  EXPECT_EQ(byte_at(b, 45), 0x70);
  EXPECT_EQ(byte_at(b, 47), 0x03);
  EXPECT_EQ(byte_at(b, 48), 0x05);
  EXPECT_EQ(b.substr(50, 8), "calendar");
}

TEST(SanTest, FieldsThatDoNotFitAreRefused) {
  ServerAlertedNotification san = pc_suite("Contacts");
  san.syncs[0].sync_type = SyncType::kSlow;
  EXPECT_EQ(encode_san(san, "", "").error().code(), conflux::StatusCode::kInvalidArgument);
  san = pc_suite(std::string(256, 'x'));
  EXPECT_FALSE(encode_san(san, "", ""));
  san = pc_suite("Contacts");
  san.syncs.assign(16, SanSync{SyncType::kTwoWay, 0, "c"});
  EXPECT_FALSE(encode_san(san, "", ""));
  san = pc_suite("Contacts");
  san.syncs[0].content_type = 0x1000000;
  EXPECT_FALSE(encode_san(san, "", ""));
  san = pc_suite("Contacts");
  san.server_id = std::string(256, 's');
  EXPECT_FALSE(encode_san(san, "", ""));
}

TEST(SanTest, ContentTypeNumbers) {
  EXPECT_EQ(san_content_type("text/x-vcard"), 0x07u);
  EXPECT_EQ(san_content_type("text/vcard"), 0x0309u);
  EXPECT_EQ(san_content_type("text/x-vcalendar"), 0x06u);
  EXPECT_EQ(san_content_type("text/calendar"), 0x0305u);
  EXPECT_EQ(san_content_type("text/plain"), 0x03u);
  EXPECT_EQ(san_content_type("application/x-unknown"), 0u);
}

}  // namespace
}  // namespace conflux::protocol
