// The Outbox contract, one typed suite for both state databases: instantiated
// with SQLite in notify_test and with PostgreSQL in notify_pg_test.
// A fixture type provides `std::unique_ptr<notify::Outbox> open()`, each call
// a second handle (another server) on the same database.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <set>

#include "notify/outbox.h"

namespace conflux::notify {

template <typename Database>
class OutboxSuite : public ::testing::Test {
 protected:
  static OutboxMessage message(const std::string& id, int64_t created_at = 100) {
    OutboxMessage m;
    m.id = id;
    m.target = "crm";
    m.body = R"({"type":"datastore.changed"})";
    m.created_at = created_at;
    return m;
  }
  Database db_;
};

TYPED_TEST_SUITE_P(OutboxSuite);

TYPED_TEST_P(OutboxSuite, ClaimTakesDueMessagesOnceUntilTheLeaseExpires) {
  auto a = this->db_.open();
  auto b = this->db_.open();  // a second server on the same database
  ASSERT_TRUE(a->enqueue({this->message("m1"), this->message("m2")}).is_ok());
  auto first = a->claim_due("node-a", 100, 60, 10);
  ASSERT_TRUE(first.has_value()) << first.error().to_string();
  EXPECT_EQ(first->size(), 2u);
  auto second = b->claim_due("node-b", 100, 60, 10);
  ASSERT_TRUE(second.has_value());
  EXPECT_TRUE(second->empty()) << "node-b took a message node-a holds";
  // node-a dies: after its lease, node-b takes both over.
  auto taken_over = b->claim_due("node-b", 161, 60, 10);
  ASSERT_TRUE(taken_over.has_value());
  EXPECT_EQ(taken_over->size(), 2u);
  EXPECT_EQ(a->delivered(first->at(0), "node-a").code(), StatusCode::kAborted) << "a lost lease still counts";
}

TYPED_TEST_P(OutboxSuite, DeliveredRemovesAndFailedReschedulesUntilDead) {
  auto box = this->db_.open();
  ASSERT_TRUE(box->enqueue({this->message("m1"), this->message("m2")}).is_ok());
  auto claimed = box->claim_due("n", 100, 60, 10);
  ASSERT_TRUE(claimed.has_value());
  ASSERT_EQ(claimed->size(), 2u);
  const OutboxMessage& ok = claimed->at(0).id == "m1" ? claimed->at(0) : claimed->at(1);
  const OutboxMessage& bad = claimed->at(0).id == "m1" ? claimed->at(1) : claimed->at(0);
  ASSERT_TRUE(box->delivered(ok, "n").is_ok());
  ASSERT_TRUE(box->failed(bad, "n", 105, false, "HTTP 500").is_ok());
  auto early = box->claim_due("n", 104, 60, 10);
  ASSERT_TRUE(early.has_value());
  EXPECT_TRUE(early->empty()) << "claimed before its retry is due";
  auto again = box->claim_due("n", 105, 60, 10);
  ASSERT_TRUE(again.has_value());
  ASSERT_EQ(again->size(), 1u);
  EXPECT_EQ(again->at(0).id, "m2");
  EXPECT_EQ(again->at(0).attempts, 1);
  EXPECT_EQ(again->at(0).last_error, "HTTP 500");
  EXPECT_EQ(again->at(0).body, this->message("m2").body);
  ASSERT_TRUE(box->failed(again->at(0), "n", 105, true, "HTTP 500").is_ok());
  auto none = box->claim_due("n", 10000, 60, 10);
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->empty()) << "a dead letter is never claimed";
  auto dead = box->dead_letters();
  ASSERT_TRUE(dead.has_value());
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_EQ(dead->at(0).attempts, 2);
  auto backlog = box->backlog();
  ASSERT_TRUE(backlog.has_value());
  EXPECT_EQ(backlog->waiting, 0);
  EXPECT_EQ(backlog->dead, 1);
}

TYPED_TEST_P(OutboxSuite, RetryRevivesADeadLetterWithAFreshSchedule) {
  auto box = this->db_.open();
  ASSERT_TRUE(box->enqueue({this->message("m1")}).is_ok());
  auto claimed = box->claim_due("n", 100, 60, 10);
  ASSERT_TRUE(claimed.has_value());
  ASSERT_TRUE(box->failed(claimed->at(0), "n", 100, true, "refused").is_ok());
  EXPECT_EQ(box->retry("nope", 200).status().code(), StatusCode::kNotFound);
  auto revived = box->retry("m1", 200);
  ASSERT_TRUE(revived.has_value());
  EXPECT_EQ(*revived, 1);
  auto again = box->claim_due("other", 200, 60, 10);
  ASSERT_TRUE(again.has_value());
  ASSERT_EQ(again->size(), 1u);
  EXPECT_EQ(again->at(0).id, "m1");
  EXPECT_EQ(again->at(0).attempts, 0);
}

TYPED_TEST_P(OutboxSuite, AMessageIdIsUnique) {
  auto box = this->db_.open();
  ASSERT_TRUE(box->enqueue({this->message("m1")}).is_ok());
  EXPECT_FALSE(box->enqueue({this->message("m2"), this->message("m1")}).is_ok());
  auto backlog = box->backlog();
  ASSERT_TRUE(backlog.has_value());
  EXPECT_EQ(backlog->waiting, 1) << "a failed enqueue wrote part of its batch";
  EXPECT_EQ(backlog->oldest_created_at, 100);
}

// A device's pending alerts: coalesced per datastore while they wait, a
// burst moves them all, two servers' claims take each once, and they are not
// webhooks (no webhook claim, backlog or dead letter shows them).
TYPED_TEST_P(OutboxSuite, AlertsWaitCoalescedAndAreClaimedOnce) {
  auto a = this->db_.open();
  auto b = this->db_.open();
  ASSERT_TRUE(a->queue_alert("san:ann\nphone", "contacts", 105, 100).is_ok());
  ASSERT_TRUE(b->queue_alert("san:ann\nphone", "contacts", 107, 102).is_ok());  // the burst goes on
  ASSERT_TRUE(a->queue_alert("san:ann\nphone", "calendar", 110, 105).is_ok());  // moves contacts too
  ASSERT_TRUE(a->queue_alert("san:ann\ntablet", "contacts", 107, 102).is_ok());

  EXPECT_TRUE(a->claim_due("a", 1000, 60, 10)->empty()) << "an alert claimed as a webhook";
  EXPECT_EQ(a->backlog()->waiting, 0);
  auto early = a->claim_due_alerts("a", 109, 60, 10);
  ASSERT_TRUE(early) << early.error().to_string();
  ASSERT_EQ(early->size(), 1u) << "the phone's alert was not moved to the burst's end";
  EXPECT_EQ(early->front().target, "san:ann\ntablet");
  ASSERT_TRUE(a->delivered(early->front(), "a").is_ok());
  auto due = b->claim_due_alerts("b", 110, 60, 10);
  ASSERT_TRUE(due);
  std::set<std::string> datastores;
  for (const auto& m : *due) {
    EXPECT_EQ(m.target, "san:ann\nphone");
    datastores.insert(m.body);
  }
  EXPECT_EQ(datastores, (std::set<std::string>{"calendar", "contacts"}));
  EXPECT_TRUE(a->claim_due_alerts("a", 111, 60, 10)->empty()) << "claimed twice";

  // A change while the alert is being sent is a new alert, not lost in it.
  ASSERT_TRUE(a->queue_alert("san:ann\nphone", "contacts", 116, 111).is_ok());
  for (const auto& m : *due) ASSERT_TRUE(b->delivered(m, "b").is_ok());
  auto next = a->claim_due_alerts("a", 116, 60, 10);
  ASSERT_TRUE(next);
  ASSERT_EQ(next->size(), 1u);
  EXPECT_EQ(next->front().body, "contacts");
}

REGISTER_TYPED_TEST_SUITE_P(OutboxSuite, AlertsWaitCoalescedAndAreClaimedOnce,
                            ClaimTakesDueMessagesOnceUntilTheLeaseExpires,
                            DeliveredRemovesAndFailedReschedulesUntilDead, RetryRevivesADeadLetterWithAFreshSchedule,
                            AMessageIdIsUnique);

}  // namespace conflux::notify
