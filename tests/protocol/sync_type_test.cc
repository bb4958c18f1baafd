// The one mapping between Alert codes and sync types.
#include "protocol/sync_type.h"

#include <gtest/gtest.h>

namespace conflux::protocol {
namespace {

TEST(SyncTypeTest, ClientAlertCodesAskForTheirOwnType) {
  EXPECT_EQ(sync_type_of_alert(200), SyncType::kTwoWay);
  EXPECT_EQ(sync_type_of_alert(201), SyncType::kSlow);
  EXPECT_EQ(sync_type_of_alert(202), SyncType::kOneWayFromClient);
  EXPECT_EQ(sync_type_of_alert(203), SyncType::kRefreshFromClient);
  EXPECT_EQ(sync_type_of_alert(204), SyncType::kOneWayFromServer);
  EXPECT_EQ(sync_type_of_alert(205), SyncType::kRefreshFromServer);
  for (int code = 200; code <= 205; ++code) EXPECT_EQ(to_int(client_alert_code(*sync_type_of_alert(code))), code);
}

TEST(SyncTypeTest, ServerAlertedCodesRunAsTheMatchingTypeAndBack) {
  EXPECT_EQ(sync_type_of_alert(206), SyncType::kTwoWay);
  EXPECT_EQ(sync_type_of_alert(207), SyncType::kOneWayFromClient);
  EXPECT_EQ(sync_type_of_alert(208), SyncType::kRefreshFromClient);
  EXPECT_EQ(sync_type_of_alert(209), SyncType::kOneWayFromServer);
  EXPECT_EQ(sync_type_of_alert(210), SyncType::kRefreshFromServer);
  for (int code = 206; code <= 210; ++code) EXPECT_EQ(to_int(*server_alert_code(*sync_type_of_alert(code))), code);
  EXPECT_EQ(server_alert_code(SyncType::kSlow), std::nullopt);  // no server-alerted slow sync
}

TEST(SyncTypeTest, OtherAlertCodesAskForNoSyncType) {
  for (int code : {0, 100, 199, 211, 221, 222, 224, 225, 65736, -200}) {
    EXPECT_EQ(sync_type_of_alert(code), std::nullopt) << code;
  }
}

TEST(SyncTypeTest, NamesRoundTrip) {
  for (int code = 200; code <= 205; ++code) {
    const SyncType type = *sync_type_of_alert(code);
    EXPECT_EQ(parse_sync_type(sync_type_name(type)), type) << code;
  }
  EXPECT_STREQ(sync_type_name(SyncType::kRefreshFromClient), "refresh-from-client");
  EXPECT_EQ(parse_sync_type("two way"), std::nullopt);
  EXPECT_EQ(parse_sync_type(""), std::nullopt);
}

}  // namespace
}  // namespace conflux::protocol
