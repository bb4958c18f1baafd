#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "notify/webhook_signature.h"
#include "notify/webhooks.h"

namespace conflux::notify {
namespace {

// The example in the Standard Webhooks specification (and its reference
// libraries' tests): secret, id, timestamp and body give this signature.
TEST(WebhookSignature, MatchesTheStandardWebhooksExample) {
  auto signature = sign_webhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
                                R"({"test": 2432232314})");
  ASSERT_TRUE(signature.has_value());
  EXPECT_EQ(*signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

TEST(WebhookSignature, RefusesASecretWithoutItsPrefix) {
  EXPECT_EQ(sign_webhook("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "id", 1, "{}").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(sign_webhook("whsec_not base64!", "id", 1, "{}").status().code(), StatusCode::kInvalidArgument);
}

TEST(WebhookEvent, NamesUserDatastoreSourceAndAThinListOfChanges) {
  caf::ChangeEvent event{UserId("alice"), "contacts", caf::ChangeSource::kDevice, DeviceId("phone-1"), {}};
  for (size_t i = 0; i < WebhookNotifier::kMaxListedItems + 5; ++i) {
    event.items.push_back({i == 0 ? caf::Action::kDelete : caf::Action::kCreate, Guid("g" + std::to_string(i))});
  }
  const auto body = nlohmann::json::parse(webhook_event_body(event, 1614265330));
  EXPECT_EQ(body["type"], "datastore.changed");
  EXPECT_EQ(body["timestamp"], "2021-02-25T15:02:10Z");
  EXPECT_EQ(body["data"]["user"], "alice");
  EXPECT_EQ(body["data"]["datastore"], "contacts");
  EXPECT_EQ(body["data"]["source"], "device");
  EXPECT_EQ(body["data"]["device"], "phone-1");
  EXPECT_EQ(body["data"]["count"], WebhookNotifier::kMaxListedItems + 5);
  EXPECT_EQ(body["data"]["truncated"], true);
  ASSERT_EQ(body["data"]["changes"].size(), WebhookNotifier::kMaxListedItems);
  EXPECT_EQ(body["data"]["changes"][0]["action"], "delete");
  EXPECT_EQ(body["data"]["changes"][0]["id"], "g0");
}

}  // namespace
}  // namespace conflux::notify
