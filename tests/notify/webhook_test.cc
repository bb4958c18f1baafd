#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <ctime>
#include <deque>

#include "notify/address_guard.h"
#include "notify/subscriptions.h"
#include "notify/webhook_signature.h"
#include "notify/webhooks.h"
#include "tests/common/temp_dir.h"

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

TEST(RetryAfter, ReadsDelaySecondsAndHttpDates) {
  const int64_t now = 1614265330;  // Thu, 25 Feb 2021 15:02:10 GMT
  EXPECT_EQ(retry_after_seconds("120", now), 120);
  EXPECT_EQ(retry_after_seconds("0", now), 0);
  EXPECT_EQ(retry_after_seconds("Thu, 25 Feb 2021 15:03:10 GMT", now), 60);
  EXPECT_EQ(retry_after_seconds("Thu, 25 Feb 2021 15:00:00 GMT", now), 0) << "a date in the past";
  EXPECT_EQ(retry_after_seconds("", now), std::nullopt);
  EXPECT_EQ(retry_after_seconds("-5", now), std::nullopt);
  EXPECT_EQ(retry_after_seconds("soon", now), std::nullopt);
}

TEST(RetryDelay, TheReceiversWaitWhenLongerBoundedByTheLongestScheduledWait) {
  const std::vector<int64_t> schedule = {5, 300, 1800};
  EXPECT_EQ(retry_delay(schedule, 0, std::nullopt), 5);
  EXPECT_EQ(retry_delay(schedule, 1, std::nullopt), 300);
  EXPECT_EQ(retry_delay(schedule, 0, 60), 60);
  EXPECT_EQ(retry_delay(schedule, 1, 60), 300) << "Retry-After never makes a retry sooner";
  EXPECT_EQ(retry_delay(schedule, 0, 86400), 1800) << "bounded by the longest wait";
}

// A notifier on a real SQLite outbox with a manual clock; the receiver is a
// queue of answers, and every request is recorded.
class WebhookDelivery : public ::testing::Test {
 protected:
  WebhookDelivery() {
    auto db = SqliteDb::open((dir_.path() / "conflux.db").string());
    EXPECT_TRUE(db.has_value());
    std::shared_ptr<SqliteDb> shared(std::move(*db));
    auto box = open_sqlite_outbox(shared);
    EXPECT_TRUE(box.has_value());
    outbox_ = std::move(*box);
    auto subscriptions = open_subscriptions(shared, nullptr);
    EXPECT_TRUE(subscriptions.has_value());
    subscriptions_ = std::move(*subscriptions);
    config_.notify.webhook_retry_seconds = {10, 100, 1000};
    config_.webhooks.push_back({"crm", "http://receiver.test/crm", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "", ""});
    notifier_ = std::make_unique<WebhookNotifier>(
        *outbox_, clock_, "node-1", config_, subscriptions_.get(),
        [this](const std::string& url, const std::vector<std::string>&, const std::string&,
               const PostOptions& options) -> Result<PostResponse> {
          requests_.push_back(url);
          guarded_.push_back(static_cast<bool>(options.refuse_address));
          if (answers_.empty()) return PostResponse{200, ""};
          PostResponse answer = answers_.front();
          answers_.pop_front();
          return answer;
        });
  }

  void change(const std::string& user = "alice", const std::string& datastore = "contacts") {
    notifier_->on_change(
        {UserId(user), datastore, caf::ChangeSource::kPortal, DeviceId(""), {{caf::Action::kCreate, Guid("g1")}}});
  }

  int64_t next_attempt_at() {
    auto claimed = outbox_->claim_due("peek", clock_.now_seconds() + 100000, 0, 10);
    EXPECT_TRUE(claimed.has_value());
    EXPECT_EQ(claimed->size(), 1u);
    return claimed->empty() ? 0 : claimed->front().next_attempt_at;
  }

  test::TempDir dir_{"webhooks"};
  std::unique_ptr<Outbox> outbox_;
  std::unique_ptr<SubscriptionStore> subscriptions_;
  ManualClock clock_{1614265330};
  config::Config config_;
  std::deque<PostResponse> answers_;
  std::vector<std::string> requests_;
  std::vector<bool> guarded_;  // whether each request had the address guard
  std::unique_ptr<WebhookNotifier> notifier_;
};

TEST_F(WebhookDelivery, RetryAfterOn503PutsTheNextAttemptOff) {
  answers_ = {{503, "500"}};
  change();
  ASSERT_EQ(notifier_->deliver_once().value(), 0);
  EXPECT_EQ(requests_.size(), 1u);
  // 500 s asked, more than the first wait (10 s), within the longest (1000 s); no jitter on top of it beyond 10 %.
  const int64_t next = next_attempt_at() - clock_.now_seconds();
  EXPECT_GE(next, 500);
  EXPECT_LE(next, 501);
}

TEST_F(WebhookDelivery, RetryAfterOn429IsBoundedByTheLongestWait) {
  answers_ = {{429, "86400"}};
  change();
  ASSERT_EQ(notifier_->deliver_once().value(), 0);
  const int64_t next = next_attempt_at() - clock_.now_seconds();
  EXPECT_GE(next, 1000);
  EXPECT_LE(next, 1001);
}

TEST_F(WebhookDelivery, RetryAfterOnOtherAnswersIsIgnored) {
  answers_ = {{500, "500"}};
  change();
  ASSERT_EQ(notifier_->deliver_once().value(), 0);
  const int64_t next = next_attempt_at() - clock_.now_seconds();
  EXPECT_GE(next, 10);
  EXPECT_LE(next, 11);
}

TEST_F(WebhookDelivery, GoneDisablesTheSubscriptionUntilTheConfigurationIsReloaded) {
  answers_ = {{410, ""}};
  change();
  change();  // already queued when the receiver says Gone
  ASSERT_EQ(notifier_->deliver_once().value(), 0);
  EXPECT_EQ(requests_.size(), 1u) << "the second message went to a receiver that is gone";
  auto dead = outbox_->dead_letters();
  ASSERT_TRUE(dead.has_value());
  EXPECT_EQ(dead->size(), 2u) << "both messages kept as dead letters";
  change();  // not queued while disabled
  EXPECT_EQ(outbox_->backlog()->waiting, 0);

  notifier_->set_config(config_);  // a reload
  change();
  ASSERT_EQ(notifier_->deliver_once().value(), 1);
  EXPECT_EQ(requests_.size(), 2u);
}

TEST_F(WebhookDelivery, AUsersSubscriptionGetsOnlyTheirChangesOfItsDatastoresGuardedUntilGone) {
  config_.webhooks.clear();
  notifier_->set_config(config_);
  const UserSubscription mine{new_subscription_id(),     "alice", {"contacts"}, "http://receiver.test/alice",
                              new_subscription_secret(), 1};
  ASSERT_TRUE(subscriptions_->add(mine).is_ok());
  change("bob", "contacts");
  change("alice", "calendar");
  EXPECT_EQ(outbox_->backlog()->waiting, 0) << "another user's or datastore's change queued";
  change("alice", "contacts");
  ASSERT_EQ(notifier_->deliver_once().value(), 1);
  EXPECT_EQ(requests_, std::vector<std::string>{"http://receiver.test/alice"});
  EXPECT_EQ(guarded_, std::vector<bool>{true}) << "a user's webhook sent without the address guard";

  answers_ = {{410, ""}};
  change();
  change();
  ASSERT_EQ(notifier_->deliver_once().value(), 0);
  EXPECT_EQ(requests_.size(), 2u) << "sent again after 410 Gone";
  EXPECT_TRUE(subscriptions_->of_user("alice")->empty()) << "the subscription outlived 410 Gone";
  EXPECT_EQ(outbox_->backlog()->waiting, 0);
  EXPECT_TRUE(outbox_->dead_letters()->empty());
}

TEST(AddressGuard, RefusesNonPublicAddressesUnlessAllowed) {
  const AddressGuard strict(IpNetworks{});
  EXPECT_EQ(strict.refusal("127.0.0.1"), "loopback");
  EXPECT_EQ(strict.refusal("::1"), "loopback");
  EXPECT_EQ(strict.refusal("::ffff:10.1.2.3"), "private");
  EXPECT_EQ(strict.refusal("169.254.169.254"), "link-local");
  EXPECT_EQ(strict.refusal("fd00::1"), "private");
  EXPECT_EQ(strict.refusal("0.0.0.0"), "unspecified");
  EXPECT_EQ(strict.refusal("64:ff9b::7f00:1"), "IPv4 translation (NAT64, 6to4, Teredo)");  // NAT64 of 127.0.0.1
  EXPECT_EQ(strict.refusal("2002:7f00:1::"), "IPv4 translation (NAT64, 6to4, Teredo)");    // 6to4 of 127.0.0.1
  EXPECT_EQ(strict.refusal("93.184.216.34"), "");
  EXPECT_EQ(strict.refusal("2606:2800:220:1::"), "");
  EXPECT_EQ(strict.check_url("http://127.0.0.1:9/x").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(strict.check_url("http://[::1]/x").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(strict.check_url("file:///etc/passwd").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(strict.check_url("http://user:pw@93.184.216.34/").code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(strict.check_url("https://93.184.216.34/hook").is_ok());

  const AddressGuard lenient(*IpNetworks::parse({"127.0.0.0/8"}));
  EXPECT_EQ(lenient.refusal("127.0.0.1"), "");
  EXPECT_EQ(lenient.refusal("10.0.0.1"), "private");
  EXPECT_TRUE(lenient.check_url("http://127.0.0.1:9/x").is_ok());
}

}  // namespace
}  // namespace conflux::notify
