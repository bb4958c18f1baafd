// SyncEngine over a real ContentManager, TokenService and in-memory back end
// and state store: the protocol as a device sees it, message by message.
// Rules cited as SYNCML-REFERENCE §n are from /work/shared/SYNCML-REFERENCE.md.
#include "engine/sync_engine.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "common/base64.h"
#include "common/digest.h"
#include "protocol/xml_codec.h"
#include "tests/engine/engine_harness.h"

namespace conflux::engine {
namespace {

using conflux::test::alert;
using conflux::test::change;
using conflux::test::Device;
using conflux::test::find_command;
using conflux::test::find_status;
using conflux::test::find_statuses;
using conflux::test::hdr_status_code;
using conflux::test::kServerUrl;
using conflux::test::status_cmd;
using conflux::test::sync_cmd;
using conflux::test::SyncRun;
using conflux::test::vcard;
using protocol::Command;
using protocol::CommandKind;
using protocol::Message;

using SyncEngineTest = conflux::test::EngineHarness;

// --- authentication and sessions (SYNCML-REFERENCE §1, §8) -----------------

TEST_F(SyncEngineTest, NoCredentialsIsAnswered407WithMd5Challenge) {
  Device d(*engine_, "IMEI:1");
  d.start_session();
  auto out = d.send({alert(200, "contacts", std::nullopt, "1")}, true, /*with_cred=*/false);
  ASSERT_TRUE(out) << out.error().to_string();
  const Message& m = out->reply;
  ASSERT_EQ(hdr_status_code(m), 407);
  const Command& hdr = m.commands[0];
  EXPECT_EQ(hdr.msg_ref, "1");
  ASSERT_TRUE(hdr.chal.has_value());
  EXPECT_EQ(hdr.chal->meta.type, "syncml:auth-md5");
  EXPECT_EQ(hdr.chal->meta.format, "b64");
  EXPECT_FALSE(hdr.chal->meta.next_nonce.empty());
  // Nothing else of the message is processed (§8).
  EXPECT_EQ(find_status(m, "Alert"), nullptr);
  EXPECT_EQ(find_command(m, CommandKind::kAlert), nullptr);
  EXPECT_TRUE(m.final);
  EXPECT_FALSE(out->session_ended);
  // Nothing is kept for it (issue #11): no RespURI, no session.
  EXPECT_TRUE(d.key().empty());
  EXPECT_EQ(state_.session_count(), 0u);

  // The client resends pkg 1 with credentials, as a new first message.
  auto again = d.send({alert(200, "contacts", std::nullopt, "1")}, true, /*with_cred=*/true);
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_EQ(hdr_status_code(again->reply), 212);
  EXPECT_NE(find_status(again->reply, "Alert"), nullptr);
  EXPECT_NE(find_command(again->reply, CommandKind::kAlert), nullptr);
}

TEST_F(SyncEngineTest, RepeatedWrongPasswordsAreThrottledPerUser) {
  // Ten wrong passwords for alice within the window: the eleventh attempt is
  // refused even with the right password, until the window has passed.
  for (int i = 0; i < 10; ++i) {
    Device guess(*engine_, "IMEI:G" + std::to_string(i), "contacts", "alice", "guess" + std::to_string(i));
    guess.start_session();
    auto out = guess.send({alert(201, "contacts", std::nullopt, "1")}, true, true);
    ASSERT_TRUE(out);
    ASSERT_EQ(hdr_status_code(out->reply), 401);
  }
  Device real(*engine_, "IMEI:R");
  real.start_session();
  auto refused = real.send({alert(201, "contacts", std::nullopt, "1")}, true, true);
  ASSERT_TRUE(refused);
  EXPECT_EQ(hdr_status_code(refused->reply), 401);
  // Another user is not affected.
  Device bob(*engine_, "IMEI:Bob", "contacts", "bob", "hunter2");
  EXPECT_TRUE(bob.sync(201).completed);

  clock_.advance(301);
  real.start_session();
  auto later = real.send({alert(201, "contacts", std::nullopt, "1")}, true, true);
  ASSERT_TRUE(later);
  EXPECT_EQ(hdr_status_code(later->reply), 212);
}

// syncml:auth-md5 (SYNCML-REFERENCE §8): the digest must be made with the
// nonce the server issued to this device; each nonce works once.
protocol::Cred md5_cred(const std::string& user, const std::string& password, const std::string& nonce_b64) {
  protocol::Cred cred;
  cred.meta.type = "syncml:auth-md5";
  cred.meta.format = "b64";
  cred.data = md5_base64(md5_base64(user + ":" + password) + ":" + *base64_decode(nonce_b64));
  return cred;
}

TEST_F(SyncEngineTest, Md5DigestMadeWithTheIssuedNonceIsAcceptedOnce) {
  Device d(*engine_, "IMEI:1");
  d.start_session();
  auto challenged = d.send({alert(201, "contacts", std::nullopt, "1")}, true, /*with_cred=*/false);
  ASSERT_TRUE(challenged);
  ASSERT_EQ(hdr_status_code(challenged->reply), 407);
  const std::string nonce = challenged->reply.commands[0].chal->meta.next_nonce;
  ASSERT_FALSE(nonce.empty());

  d.start_session();
  d.cred = md5_cred("alice", "secret", nonce);
  auto accepted = d.send({alert(201, "contacts", std::nullopt, "1")}, true, true);
  ASSERT_TRUE(accepted);
  ASSERT_EQ(hdr_status_code(accepted->reply), 212);
  // The 212 carries the nonce for the next session, and it is a new one.
  ASSERT_TRUE(accepted->reply.commands[0].chal.has_value());
  const std::string next = accepted->reply.commands[0].chal->meta.next_nonce;
  EXPECT_FALSE(next.empty());
  EXPECT_NE(next, nonce);
  EXPECT_NE(find_command(accepted->reply, CommandKind::kAlert), nullptr);

  // The same digest replayed in a new session is refused.
  d.start_session();
  auto replayed = d.send({alert(201, "contacts", std::nullopt, "1")}, true, true);
  ASSERT_TRUE(replayed);
  EXPECT_EQ(hdr_status_code(replayed->reply), 401);

  // A digest made with the wrong password and the current nonce is refused.
  const std::string current = replayed->reply.commands[0].chal->meta.next_nonce;
  d.start_session();
  d.cred = md5_cred("alice", "not-secret", current);
  auto wrong = d.send({alert(201, "contacts", std::nullopt, "1")}, true, true);
  ASSERT_TRUE(wrong);
  EXPECT_EQ(hdr_status_code(wrong->reply), 401);
}

TEST_F(SyncEngineTest, Md5DigestWithoutAnIssuedNonceIsRefused) {
  // SyncEvolution's first message is made with an empty nonce; accepting it
  // would accept a digest anyone could replay.
  Device d(*engine_, "IMEI:fresh");
  d.start_session();
  protocol::Cred cred;
  cred.meta.type = "syncml:auth-md5";
  cred.data = md5_base64(md5_base64(std::string("alice:secret")) + ":");
  d.cred = cred;
  auto out = d.send({alert(201, "contacts", std::nullopt, "1")}, true, true);
  ASSERT_TRUE(out);
  EXPECT_EQ(hdr_status_code(out->reply), 401);
  EXPECT_FALSE(out->reply.commands[0].chal->meta.next_nonce.empty());
}

TEST_F(SyncEngineTest, WrongPasswordIsAnswered401WithMd5ChallengeAndLimited) {
  Device d(*engine_, "IMEI:1", "contacts", "alice", "wrong");
  d.start_session();
  auto out = d.send({alert(200, "contacts", std::nullopt, "1")}, true, true);
  ASSERT_TRUE(out) << out.error().to_string();
  ASSERT_EQ(hdr_status_code(out->reply), 401);
  ASSERT_TRUE(out->reply.commands[0].chal.has_value());
  EXPECT_EQ(out->reply.commands[0].chal->meta.type, "syncml:auth-md5");
  EXPECT_EQ(find_status(out->reply, "Alert"), nullptr);
  EXPECT_FALSE(out->session_ended);

  // Nothing is kept for it (issue #11): no RespURI, no session, no nonce;
  // the next attempt is a new session's first message.
  EXPECT_TRUE(out->reply.hdr.resp_uri.empty());
  EXPECT_EQ(state_.session_count(), 0u);
  EXPECT_EQ(*state_.auth_nonce(DeviceId("IMEI:1")), "");
  out = d.send({alert(200, "contacts", std::nullopt, "1")}, true, true);
  ASSERT_TRUE(out);
  EXPECT_EQ(hdr_status_code(out->reply), 401);
  EXPECT_EQ(state_.session_count(), 0u);
}

// A session id is the key plus an HMAC tag; the key alone (as the log and
// reports show it) or a forged tag opens nothing.
TEST_F(SyncEngineTest, OnlyTheWholeSessionIdContinuesASession) {
  Device d(*engine_, "IMEI:1");
  d.start_session();
  ASSERT_TRUE(d.send({alert(201, "contacts", std::nullopt, "1")}, true, true));
  const SessionKey whole = d.key();
  const std::string id = whole.str();
  ASSERT_NE(id.find('.'), std::string::npos) << id;
  for (const std::string& bad : {id.substr(0, id.find('.')), id.substr(0, id.size() - 1) + "x"}) {
    d.set_key(SessionKey(bad));
    auto out = d.send({status_cmd("1", 0, "SyncHdr", 200)}, false, false);
    ASSERT_FALSE(out);
    EXPECT_TRUE(out.error().is_not_found()) << bad;
  }
  d.set_key(whole);
  EXPECT_TRUE(d.send({status_cmd("1", 0, "SyncHdr", 200)}, false, false));
}

TEST_F(SyncEngineTest, GoodCredentialsAre212WithRespUriCarryingTheSessionKey) {
  Device d(*engine_, "IMEI:1");
  d.start_session();
  auto out = d.send({alert(201, "contacts", std::nullopt, "1")}, true, true);
  ASSERT_TRUE(out) << out.error().to_string();
  const Message& m = out->reply;
  ASSERT_EQ(hdr_status_code(m), 212);
  const Command& hdr = m.commands[0];
  EXPECT_EQ(hdr.msg_ref, "1");
  EXPECT_EQ(hdr.target_refs, std::vector<std::string>{kServerUrl});
  EXPECT_EQ(hdr.source_refs, std::vector<std::string>{"IMEI:1"});
  ASSERT_FALSE(d.key().empty());
  EXPECT_EQ(m.hdr.resp_uri, std::string(kServerUrl) + "?sid=" + d.key().str());
  EXPECT_EQ(m.hdr.session_id, "1");
  EXPECT_EQ(m.hdr.msg_id, "1");
  EXPECT_EQ(m.hdr.target.loc_uri, "IMEI:1");
  EXPECT_EQ(m.hdr.source.loc_uri, kServerUrl);
  ASSERT_TRUE(m.hdr.meta.has_value());
  EXPECT_TRUE(m.hdr.meta->max_msg_size.has_value());

  // 212: authenticated for the whole session; later messages carry no Cred.
  auto next = d.send({status_cmd("1", 0, "SyncHdr", 200)}, false, false);
  ASSERT_TRUE(next) << next.error().to_string();
  EXPECT_EQ(hdr_status_code(next->reply), 200);
  EXPECT_EQ(next->reply.hdr.msg_id, "2");
  EXPECT_EQ(next->reply.hdr.resp_uri, std::string(kServerUrl) + "?sid=" + d.key().str());
}

TEST_F(SyncEngineTest, UnknownSessionKeyIsNotFound) {
  Device d(*engine_, "IMEI:1");
  d.start_session();
  d.set_key(SessionKey("00112233445566778899aabbccddeeff"));
  auto out = d.send({alert(200, "contacts", std::nullopt, "1")}, true, true);
  ASSERT_FALSE(out);
  EXPECT_TRUE(out.error().is_not_found()) << out.error().to_string();
}

TEST_F(SyncEngineTest, AnotherDeviceCannotPostToASession) {
  Device owner(*engine_, "IMEI:1");
  owner.start_session();
  ASSERT_TRUE(owner.send({alert(201, "contacts", std::nullopt, "1")}, true, true));
  ASSERT_FALSE(owner.key().empty());

  Device intruder(*engine_, "IMEI:2");
  intruder.start_session();
  intruder.set_key(owner.key());
  auto out = intruder.send({status_cmd("1", 0, "SyncHdr", 200)}, true, false);
  ASSERT_FALSE(out);
  EXPECT_TRUE(out.error().is_not_found()) << out.error().to_string();

  // The owner's session is untouched.
  auto mine = owner.send({status_cmd("1", 0, "SyncHdr", 200)}, false, false);
  ASSERT_TRUE(mine) << mine.error().to_string();
  EXPECT_EQ(hdr_status_code(mine->reply), 200);
}

TEST_F(SyncEngineTest, IdleSessionsExpire) {
  Device d(*engine_, "IMEI:1");
  d.start_session();
  ASSERT_TRUE(d.send({alert(201, "contacts", std::nullopt, "1")}, true, true));
  const SessionKey key = d.key();
  clock_.advance(EngineOptions{}.session_timeout_seconds + 1);
  // Expiry runs on the server's timer, never on a client's request.
  ASSERT_TRUE(engine_->purge_expired().is_ok());
  d.set_key(key);
  auto out = d.send({status_cmd("1", 0, "SyncHdr", 200)}, false, false);
  ASSERT_FALSE(out);
  EXPECT_TRUE(out.error().is_not_found());
}

TEST_F(SyncEngineTest, StateStoreFailureFailsTheMessage) {
  Device d(*engine_, "IMEI:1");
  state_.set_unavailable(true);
  d.start_session();
  auto out = d.send({alert(201, "contacts", std::nullopt, "1")}, true, true);
  ASSERT_FALSE(out);
  EXPECT_TRUE(out.error().is_unavailable()) << out.error().to_string();
}

// --- alerts and anchors (§6) -------------------------------------------------

TEST_F(SyncEngineTest, TwoWayWithoutStoredAnchorsIsRefreshRequiredWithOurSlowAlert) {
  Device d(*engine_, "IMEI:1");
  d.start_session();
  auto out = d.send({alert(200, "contacts", std::string("41"), "42")}, true, true);
  ASSERT_TRUE(out) << out.error().to_string();
  const Message& m = out->reply;
  const Command* st = find_status(m, "Alert", 1);
  ASSERT_NE(st, nullptr);
  EXPECT_EQ(st->code, 508);
  EXPECT_EQ(st->msg_ref, "1");
  // The Status echoes the client's Next anchor.
  ASSERT_EQ(st->items.size(), 1u);
  EXPECT_NE(st->items[0].data.find("<Next>42</Next>"), std::string::npos) << st->items[0].data;

  const Command* ours = find_command(m, CommandKind::kAlert);
  ASSERT_NE(ours, nullptr);
  EXPECT_EQ(ours->code, 201);
  ASSERT_EQ(ours->items.size(), 1u);
  ASSERT_TRUE(ours->items[0].target && ours->items[0].source);
  EXPECT_EQ(ours->items[0].target->loc_uri, "./contacts");
  EXPECT_EQ(ours->items[0].source->loc_uri, "contacts");
  ASSERT_TRUE(ours->items[0].meta && ours->items[0].meta->anchor);
  EXPECT_FALSE(ours->items[0].meta->anchor->next.empty());
  EXPECT_TRUE(m.final);
}

TEST_F(SyncEngineTest, AlertForUnknownDatastoreIsNotFound) {
  Device d(*engine_, "IMEI:1");
  d.start_session();
  auto out = d.send({alert(200, "movies", std::nullopt, "1")}, true, true);
  ASSERT_TRUE(out) << out.error().to_string();
  const Command* st = find_status(out->reply, "Alert", 1);
  ASSERT_NE(st, nullptr);
  EXPECT_EQ(st->code, 404);
  EXPECT_EQ(find_command(out->reply, CommandKind::kAlert), nullptr);
}

TEST_F(SyncEngineTest, AbortedSessionKeepsTheOldAnchors) {
  Device d(*engine_, "IMEI:1");
  seed(d, 1);
  const std::string saved = d.last_anchor;
  d.add(vcard("Late"));
  SyncRun aborted = d.sync(200, Device::Stop::kBeforePkg5);
  ASSERT_EQ(aborted.alert_status, 200);
  ASSERT_FALSE(aborted.completed);
  EXPECT_EQ(d.last_anchor, saved);  // the device did not finish either

  // The server did not store the aborted session's Next: the old Last still works.
  SyncRun next = d.sync(200);
  EXPECT_EQ(next.alert_status, 200);
  EXPECT_EQ(next.server_alert, 200);
  EXPECT_TRUE(next.completed);
  // The device resent the change the aborted session had already applied:
  // it is recognised by its mapped LUID, not stored twice.
  EXPECT_EQ(server_items(), 2u);
  EXPECT_TRUE(next.received.empty());
}

TEST_F(SyncEngineTest, AbortedSessionsNextAnchorIsRefreshRequired) {
  Device d(*engine_, "IMEI:1");
  seed(d, 1);
  SyncRun aborted = d.sync(200, Device::Stop::kBeforePkg5);
  ASSERT_EQ(aborted.alert_status, 200);
  ASSERT_FALSE(aborted.completed);

  // A device that (wrongly) took the aborted session's Next as its Last.
  d.last_anchor = d.last_next;
  SyncRun next = d.sync(200);
  EXPECT_EQ(next.alert_status, 508);
  EXPECT_EQ(next.server_alert, 201);
  EXPECT_TRUE(next.completed);
  EXPECT_EQ(server_items(), 1u);
}

TEST_F(SyncEngineTest, CompletedSessionStoresTheNewAnchors) {
  Device d(*engine_, "IMEI:1");
  seed(d, 1);
  SyncRun run = d.sync(200);
  ASSERT_TRUE(run.completed);
  EXPECT_EQ(run.alert_status, 200);
  // pkg 6 ends the session: no RespURI, Final.
  EXPECT_TRUE(run.replies.back().hdr.resp_uri.empty());
  EXPECT_TRUE(run.replies.back().final);
  // A stale Last (the one before) no longer matches.
  d.last_anchor = "1-IMEI:1";  // the Next of the seeding session
  SyncRun stale = d.sync(200);
  EXPECT_EQ(stale.alert_status, 508);
}

// --- the sync itself (§6, §7, §10) -------------------------------------------

TEST_F(SyncEngineTest, SlowSyncAddingThreeItems) {
  Device a(*engine_, "IMEI:A");
  const std::string l1 = a.add(vcard("Ann"));
  const std::string l2 = a.add(vcard("Ben"));
  const std::string l3 = a.add(vcard("Cat"));
  SyncRun run = a.sync(201);
  ASSERT_TRUE(run.completed);
  EXPECT_EQ(run.alert_status, 200);
  EXPECT_EQ(run.server_alert, 201);

  auto pkg4 = run.pkg4();
  ASSERT_EQ(pkg4.size(), 1u);
  const Message& m = pkg4[0];
  EXPECT_EQ(hdr_status_code(m), 200);
  const Command* sync_status = find_status(m, "Sync");
  ASSERT_NE(sync_status, nullptr);
  EXPECT_EQ(sync_status->code, 200);
  EXPECT_EQ(sync_status->msg_ref, "2");
  // Status for Sync: TargetRef/SourceRef are the Sync's Target/Source (§3).
  EXPECT_EQ(sync_status->target_refs, std::vector<std::string>{"contacts"});
  EXPECT_EQ(sync_status->source_refs, std::vector<std::string>{"./contacts"});
  auto adds = find_statuses(m, "Add");
  ASSERT_EQ(adds.size(), 3u);
  std::set<std::string> refs;
  for (const Command* s : adds) {
    EXPECT_EQ(s->code, 201);
    EXPECT_EQ(s->msg_ref, "2");
    ASSERT_EQ(s->source_refs.size(), 1u);
    refs.insert(s->source_refs[0]);
  }
  EXPECT_EQ(refs, (std::set<std::string>{l1, l2, l3}));

  // Our Sync (pkg 4) is there and empty: the server had nothing else.
  const Command* sync = find_command(m, CommandKind::kSync);
  ASSERT_NE(sync, nullptr);
  ASSERT_TRUE(sync->target && sync->source);
  EXPECT_EQ(sync->target->loc_uri, "./contacts");
  EXPECT_EQ(sync->source->loc_uri, "contacts");
  EXPECT_TRUE(sync->children.empty());
  EXPECT_TRUE(m.final);

  EXPECT_EQ(server_items(), 3u);
  auto raws = memory_->live_raws(UserId("alice"), "contacts");
  std::sort(raws.begin(), raws.end());
  EXPECT_EQ(raws, (std::vector<std::string>{vcard("Ann"), vcard("Ben"), vcard("Cat")}));
  // Map status for pkg 6 came back and there is nothing more to say.
  EXPECT_TRUE(run.received.empty());
}

TEST_F(SyncEngineTest, SecondDeviceSlowSyncReceivesAddsWithGuidAndType) {
  Device a(*engine_, "IMEI:A");
  seed(a, 3);
  Device b(*engine_, "IMEI:B");
  SyncRun run = b.sync(201);
  ASSERT_TRUE(run.completed);
  auto adds = run.received_of(CommandKind::kAdd);
  ASSERT_EQ(adds.size(), 3u);
  ASSERT_EQ(run.received.size(), 3u);
  std::set<std::string> guids;
  for (const Command* add : adds) {
    ASSERT_EQ(add->items.size(), 1u);
    const auto& item = add->items[0];
    ASSERT_TRUE(item.source.has_value());
    EXPECT_FALSE(item.target.has_value());
    const Guid guid(item.source->loc_uri);
    guids.insert(guid.str());
    auto stored = memory_->find(UserId("alice"), "contacts", guid);
    ASSERT_TRUE(stored.has_value()) << "Source is not a server GUID: " << guid.str();
    EXPECT_EQ(item.data, stored->raw);
    const std::string type = add->meta ? add->meta->type : (item.meta ? item.meta->type : "");
    EXPECT_EQ(type, "text/vcard");
  }
  EXPECT_EQ(guids.size(), 3u);
  EXPECT_EQ(b.items().size(), 3u);

  // The Map made every item known: the next two-way sync sends nothing.
  SyncRun again = b.sync(200);
  ASSERT_TRUE(again.completed);
  EXPECT_EQ(again.alert_status, 200);
  EXPECT_EQ(again.server_alert, 200);
  EXPECT_TRUE(again.received.empty());
  const auto again_pkg4 = again.pkg4();
  ASSERT_EQ(again_pkg4.size(), 1u);
  const Command* sync = find_command(again_pkg4[0], CommandKind::kSync);
  ASSERT_NE(sync, nullptr);
  EXPECT_TRUE(sync->children.empty());
  EXPECT_EQ(server_items(), 3u);
}

TEST_F(SyncEngineTest, ChangeOnOneDeviceArrivesAtTheOtherAsReplaceAndIsNotEchoed) {
  Device a(*engine_, "IMEI:A");
  seed(a, 3);
  Device b(*engine_, "IMEI:B");
  ASSERT_TRUE(b.sync(201).completed);

  const std::string old_data = vcard("Person 1");
  const std::string new_data = vcard("Person 1 (new phone)");
  const std::string a_luid = a.luid_of(old_data);
  const std::string b_luid = b.luid_of(old_data);
  ASSERT_FALSE(a_luid.empty());
  ASSERT_FALSE(b_luid.empty());
  a.edit(a_luid, new_data);
  SyncRun from_a = a.sync(200);
  ASSERT_TRUE(from_a.completed);
  EXPECT_EQ(from_a.item_status[a_luid], 200);
  EXPECT_TRUE(from_a.received.empty()) << "A's own change was echoed back to A";

  SyncRun to_b = b.sync(200);
  ASSERT_TRUE(to_b.completed);
  ASSERT_EQ(to_b.received.size(), 1u);
  const Command& replace = to_b.received[0];
  EXPECT_EQ(replace.kind, CommandKind::kReplace);
  ASSERT_EQ(replace.items.size(), 1u);
  ASSERT_TRUE(replace.items[0].target.has_value());
  EXPECT_EQ(replace.items[0].target->loc_uri, b_luid);
  EXPECT_EQ(replace.items[0].data, new_data);
  EXPECT_EQ(b.items().at(b_luid), new_data);

  // Neither device gets the change again.
  SyncRun a_again = a.sync(200);
  ASSERT_TRUE(a_again.completed);
  EXPECT_TRUE(a_again.received.empty());
  SyncRun b_again = b.sync(200);
  ASSERT_TRUE(b_again.completed);
  EXPECT_TRUE(b_again.received.empty());
  EXPECT_EQ(server_items(), 3u);
}

TEST_F(SyncEngineTest, DeletePropagatesAsDelete) {
  Device a(*engine_, "IMEI:A");
  seed(a, 3);
  Device b(*engine_, "IMEI:B");
  ASSERT_TRUE(b.sync(201).completed);

  const std::string gone = vcard("Person 2");
  const std::string a_luid = a.luid_of(gone);
  const std::string b_luid = b.luid_of(gone);
  a.remove(a_luid);
  SyncRun from_a = a.sync(200);
  ASSERT_TRUE(from_a.completed);
  EXPECT_EQ(from_a.item_status[a_luid], 200);
  EXPECT_TRUE(from_a.received.empty());
  EXPECT_EQ(server_items(), 2u);

  SyncRun to_b = b.sync(200);
  ASSERT_TRUE(to_b.completed);
  ASSERT_EQ(to_b.received.size(), 1u);
  const Command& del = to_b.received[0];
  EXPECT_EQ(del.kind, CommandKind::kDelete);
  ASSERT_EQ(del.items.size(), 1u);
  ASSERT_TRUE(del.items[0].target.has_value());
  EXPECT_EQ(del.items[0].target->loc_uri, b_luid);
  EXPECT_EQ(b.items().count(b_luid), 0u);
  EXPECT_EQ(b.items().size(), 2u);

  EXPECT_TRUE(a.sync(200).received.empty());
  EXPECT_TRUE(b.sync(200).received.empty());
}

TEST_F(SyncEngineTest, ReplaceOfUnknownLuidCreates) {
  Device a(*engine_, "IMEI:A");
  seed(a, 0);
  a.edit("X9", vcard("Never added"));
  SyncRun run = a.sync(200);
  ASSERT_TRUE(run.completed);
  EXPECT_EQ(run.item_status["X9"], 201);
  EXPECT_EQ(server_items(), 1u);
  // Mapped: nothing comes back to A, and B gets it as an Add.
  EXPECT_TRUE(a.sync(200).received.empty());
  Device b(*engine_, "IMEI:B");
  SyncRun to_b = b.sync(201);
  ASSERT_EQ(to_b.received_of(CommandKind::kAdd).size(), 1u);
}

// Large objects from the client (SYNCML-REFERENCE §9): 213 per chunk, the
// item stored whole after the last one, 424 on a size mismatch, 411 without
// a Size on the first chunk.
TEST_F(SyncEngineTest, ChunkedItemsFromTheClient) {
  Device d(*engine_, "IMEI:1");
  d.start_session();
  auto p1 = d.send({alert(201, "contacts", std::nullopt, "1")}, true, true);
  ASSERT_TRUE(p1);
  ASSERT_EQ(hdr_status_code(p1->reply), 212);
  const std::string whole = vcard("Chunky Person");
  auto chunk = [](const std::string& luid, const std::string& part, bool more, std::optional<uint64_t> size) {
    Command c = change(CommandKind::kAdd, luid, part);
    c.items[0].more_data = more;
    if (size) c.meta->size = *size;
    return c;
  };
  auto add_status = [](const Result<Outbound>& out) {
    auto adds = find_statuses(out->reply, "Add");
    return adds.empty() ? -1 : adds.back()->code;
  };
  auto m = d.send({sync_cmd("contacts", {chunk("L1", whole.substr(0, 10), true, whole.size())})}, false);
  ASSERT_TRUE(m);
  EXPECT_EQ(add_status(m), 213);
  EXPECT_FALSE(m->reply.final);
  m = d.send({sync_cmd("contacts", {chunk("L1", whole.substr(10, 10), true, std::nullopt)})}, false);
  EXPECT_EQ(add_status(m), 213);
  m = d.send({sync_cmd("contacts", {chunk("L1", whole.substr(20), false, std::nullopt)})}, false);
  EXPECT_EQ(add_status(m), 201);
  EXPECT_EQ(memory_->live_raws(UserId("alice"), "contacts"), std::vector<std::string>{whole});

  // Declared size wrong: 424, nothing stored.
  m = d.send({sync_cmd("contacts", {chunk("L2", "BEGIN:VCARD", true, 500)})}, false);
  EXPECT_EQ(add_status(m), 213);
  m = d.send({sync_cmd("contacts", {chunk("L2", "\r\nEND:VCARD\r\n", false, std::nullopt)})}, false);
  EXPECT_EQ(add_status(m), 424);
  // No Size on a first chunk: 411.
  m = d.send({sync_cmd("contacts", {chunk("L3", "BEGIN:VCARD", true, std::nullopt)})}, false);
  EXPECT_EQ(add_status(m), 411);
  // Another item before the last chunk: Alert 223 and the partial item is dropped.
  m = d.send({sync_cmd("contacts", {chunk("L4", "BEGIN:VCARD", true, 40)})}, false);
  EXPECT_EQ(add_status(m), 213);
  m = d.send({sync_cmd("contacts", {change(CommandKind::kAdd, "L5", vcard("Plain"))})}, true);
  const Command* alert223 = find_command(m->reply, CommandKind::kAlert);
  ASSERT_NE(alert223, nullptr);
  EXPECT_EQ(alert223->code, 223);
  EXPECT_EQ(add_status(m), 201);
  EXPECT_EQ(server_items(), 2u);
}

TEST_F(SyncEngineTest, DeleteOfUnknownLuidIs211) {
  Device a(*engine_, "IMEI:A");
  seed(a, 1);
  a.remove("X7");
  SyncRun run = a.sync(200);
  ASSERT_TRUE(run.completed);
  EXPECT_EQ(run.item_status["X7"], 211);
  EXPECT_EQ(server_items(), 1u);
}

TEST_F(SyncEngineTest, UsersDoNotSeeEachOthersItems) {
  Device alice(*engine_, "IMEI:A");
  seed(alice, 2);
  Device bob(*engine_, "IMEI:B", "contacts", "bob", "hunter2");
  SyncRun run = bob.sync(201);
  ASSERT_TRUE(run.completed);
  EXPECT_TRUE(run.received.empty());
  EXPECT_EQ(server_items("bob"), 0u);
}

// --- slow sync: nothing lost, nothing doubled (§6, §10) ---------------------

TEST_F(SyncEngineTest, SlowSyncTwiceNeverDoublesItems) {
  Device a(*engine_, "IMEI:A");
  seed(a, 3);
  SyncRun again = a.sync(201);
  ASSERT_TRUE(again.completed);
  ASSERT_EQ(again.item_status.size(), 3u);
  for (const auto& [luid, code] : again.item_status) EXPECT_TRUE(code == 200 || code == 201) << luid << ": " << code;
  EXPECT_TRUE(again.received.empty());
  EXPECT_EQ(server_items(), 3u);
  EXPECT_EQ(a.items().size(), 3u);

  // A second device holding the same three cards matches them too.
  Device b(*engine_, "IMEI:B");
  for (int i = 0; i < 3; ++i) b.add(vcard("Person " + std::to_string(i)));
  SyncRun first_b = b.sync(201);
  ASSERT_TRUE(first_b.completed);
  EXPECT_TRUE(first_b.received.empty());
  SyncRun second_b = b.sync(201);
  ASSERT_TRUE(second_b.completed);
  EXPECT_TRUE(second_b.received.empty());
  EXPECT_EQ(server_items(), 3u);
  EXPECT_EQ(b.items().size(), 3u);
}

// A device that lost its database restores the same cards under new LUIDs and
// slow-syncs. SYNCML-REFERENCE §6: the server "matches them against its
// items ... No item may be lost or doubled"; §10: "Slow sync: the map is
// rebuilt from the items the client sends; discard old LUID mappings".
TEST_F(SyncEngineTest, SlowSyncAfterDeviceRestoreWithNewLuidsMatchesInsteadOfDoubling) {
  Device a(*engine_, "IMEI:A");
  seed(a, 3);
  a.restore_with_new_luids();
  SyncRun run = a.sync(201);
  ASSERT_TRUE(run.completed);
  EXPECT_EQ(server_items(), 3u) << "the server doubled the device's items";
  EXPECT_TRUE(run.received.empty()) << "the server sent the device copies of its own items";
  EXPECT_EQ(a.items().size(), 3u);
}

// Issue #20 item 6: a node keeps a slow sync's item index between the
// client's messages and catches it up with the store's changes, so matching
// must see what another device did in between; and the claims live in the
// session, so another node (a restart here) keeps them.
TEST_F(SyncEngineTest, SlowSyncAcrossMessagesAndNodesSeesOthersChangesAndKeepsClaims) {
  options_.server_secret = std::string(32, 'n');  // nodes share it
  restart_engine();
  Device w(*engine_, "IMEI:W");
  w.add(vcard("Ann"));
  const std::string cy = w.add(vcard("Cy"));
  ASSERT_TRUE(w.sync(201).completed);
  auto add = [](const std::string& luid, const std::string& name) {
    return change(CommandKind::kAdd, luid, vcard(name));
  };
  Device c(*engine_, "IMEI:C");
  c.start_session();
  ASSERT_TRUE(c.send({alert(201, "contacts", std::nullopt, "c-1")}, /*final=*/true, /*with_cred=*/true));
  ASSERT_TRUE(c.send({sync_cmd("contacts", {add("L1", "Ann")})}, /*final=*/false));
  EXPECT_EQ(server_items(), 2u) << "Ann matched";

  // Between C's messages W adds Ben and deletes Cy.
  w.add(vcard("Ben"));
  w.remove(cy);
  ASSERT_TRUE(w.sync().completed);
  ASSERT_EQ(server_items(), 2u);

  // Ben matches the item W added; Ann is claimed by L1 (a second Ann is
  // another item); Cy is gone from the store, so it is added again.
  ASSERT_TRUE(c.send({sync_cmd("contacts", {add("L2", "Ben"), add("L3", "Ann"), add("L5", "Cy")})}, false));
  EXPECT_EQ(server_items(), 4u);

  // Another node serves the rest: Ben was claimed by L2 on the first.
  restart_engine();
  auto out = c.send({sync_cmd("contacts", {add("L4", "Ben")})}, /*final=*/true);
  ASSERT_TRUE(out);
  EXPECT_TRUE(conflux::test::find_command(out->reply, CommandKind::kSync) == nullptr ||
              conflux::test::find_command(out->reply, CommandKind::kSync)->children.empty())
      << "every server item was matched to one of C's";
  out = c.send({}, /*final=*/true);
  ASSERT_TRUE(out);
  EXPECT_TRUE(out->session_ended);
  EXPECT_EQ(server_items(), 5u);
  const std::vector<std::string> expected = {vcard("Ann"), vcard("Ann"), vcard("Ben"), vcard("Ben"), vcard("Cy")};
  EXPECT_EQ(sorted_server(), expected);
  auto map = state_.map_entries(DeviceStore{UserId("alice"), DeviceId("IMEI:C"), "contacts"});
  ASSERT_TRUE(map);
  std::set<std::string> mapped_guids;
  for (const auto& e : *map) mapped_guids.insert(e.guid.str());
  EXPECT_EQ(map->size(), 5u);
  EXPECT_EQ(mapped_guids.size(), 5u) << "two LUIDs mapped to one server item";
}

// --- message size (§9) -------------------------------------------------------

TEST_F(SyncEngineTest, OutgoingSyncRespectsClientMaxMsgSize) {
  Device a(*engine_, "IMEI:A");
  for (int i = 0; i < 30; ++i) {
    // The long name makes each card big; cards are validated, so it must stay inside the card.
    a.add(vcard("Person number " + std::to_string(i) + " " + std::string(60, 'a' + i % 26)));
  }
  ASSERT_TRUE(a.sync(201).completed);

  Device b(*engine_, "IMEI:B");
  b.max_msg_size = 4000;
  SyncRun run = b.sync(201);
  ASSERT_TRUE(run.completed);
  auto pkg4 = run.pkg4();
  ASSERT_GE(pkg4.size(), 3u) << "30 items cannot fit in fewer messages of 4000 bytes";
  for (size_t i = 0; i < run.replies.size(); ++i) {
    EXPECT_LE(protocol::encode_xml(run.replies[i]).size(), 4000u) << "reply " << i;
  }
  for (size_t i = 0; i + 1 < pkg4.size(); ++i) {
    EXPECT_FALSE(pkg4[i].final) << "Final before the package ended, message " << i;
    EXPECT_FALSE(pkg4[i].hdr.resp_uri.empty());
  }
  EXPECT_TRUE(pkg4.back().final);
  // Our Alert 222 in each continuation was answered 200.
  for (size_t i = 1; i < pkg4.size(); ++i) {
    const Command* st = find_status(pkg4[i], "Alert");
    ASSERT_NE(st, nullptr) << "message " << i;
    EXPECT_EQ(st->code, 200);
  }

  // Every item once.
  auto adds = run.received_of(CommandKind::kAdd);
  EXPECT_EQ(run.received.size(), 30u);
  std::set<std::string> guids;
  for (const Command* add : adds) guids.insert(add->items.at(0).source->loc_uri);
  EXPECT_EQ(guids.size(), 30u);
  EXPECT_EQ(b.items().size(), 30u);
  // CmdIDs are unique within each message.
  for (const auto& m : pkg4) {
    std::set<uint32_t> ids;
    size_t n = 0;
    for (const auto& c : m.commands) {
      ids.insert(c.cmd_id);
      ++n;
      for (const auto& child : c.children) {
        ids.insert(child.cmd_id);
        ++n;
      }
    }
    EXPECT_EQ(ids.size(), n);
  }
  // And the map made it: nothing more next time.
  EXPECT_TRUE(b.sync(200).received.empty());
}

// The device may send many changes in one message (the server accepts up to
// 1 MB), but our answer is bound by the device's MaxMsgSize all the same:
// §9 "The server must keep every response <= client's MaxMsgSize"; §18 item 5.
// Statuses that do not fit wait for the next message (the device pulls with
// Alert 222, as for a split pkg 4).
TEST_F(SyncEngineTest, StatusesForManyClientItemsRespectClientMaxMsgSize) {
  Device a(*engine_, "IMEI:A");
  a.max_msg_size = 4000;
  for (int i = 0; i < 40; ++i) a.add(vcard("Person " + std::to_string(i)));
  SyncRun run = a.sync(201);
  ASSERT_TRUE(run.completed);
  for (size_t i = 0; i < run.replies.size(); ++i) {
    EXPECT_LE(protocol::encode_xml(run.replies[i]).size(), 4000u) << "reply " << i;
  }
  EXPECT_EQ(run.item_status.size(), 40u);
  for (const auto& [luid, code] : run.item_status) EXPECT_EQ(code, 201) << luid;
  EXPECT_EQ(server_items(), 40u);
}

// --- back end failures -------------------------------------------------------

TEST_F(SyncEngineTest, FailingApplyGives503PerItemAndTheSessionGoesOn) {
  Device a(*engine_, "IMEI:A");
  const std::string l1 = a.add(vcard("Ann"));
  const std::string l2 = a.add(vcard("Ben"));
  faulty_->fail_apply(true);
  SyncRun run = a.sync(201);
  EXPECT_TRUE(run.completed);
  EXPECT_EQ(run.item_status[l1], 503);
  EXPECT_EQ(run.item_status[l2], 503);
  const auto pkg4 = run.pkg4();
  ASSERT_EQ(pkg4.size(), 1u);
  const Command* sync_status = find_status(pkg4[0], "Sync");
  ASSERT_NE(sync_status, nullptr);
  EXPECT_EQ(sync_status->code, 200);
  EXPECT_EQ(server_items(), 0u);

  // Back end up again: the device resends its refused items.
  faulty_->fail_apply(false);
  SyncRun retry = a.sync(200);
  ASSERT_TRUE(retry.completed);
  EXPECT_EQ(retry.item_status[l1], 201);
  EXPECT_EQ(retry.item_status[l2], 201);
  EXPECT_EQ(server_items(), 2u);
}

TEST_F(SyncEngineTest, AdapterDownAtAlertIs503) {
  Device a(*engine_, "IMEI:A");
  faulty_->fail_current_anchor(true);
  a.start_session();
  auto out = a.send({alert(201, "contacts", std::nullopt, "1")}, true, true);
  ASSERT_TRUE(out);
  const Command* st = find_status(out->reply, "Alert", 1);
  ASSERT_NE(st, nullptr);
  EXPECT_EQ(st->code, 503);
  EXPECT_EQ(find_command(out->reply, CommandKind::kAlert), nullptr);
}

// The back end could not list the server's changes while B synced. Nothing
// reached B; the server must not advance B's anchor past changes it never
// sent (§6: anchors record what a completed session exchanged; the engine's
// own comment: "nothing sent; anchors keep the old value when committed").
TEST_F(SyncEngineTest, ChangesNotReadBecauseBackEndWasDownAreSentNextSession) {
  Device a(*engine_, "IMEI:A");
  seed(a, 1);
  Device b(*engine_, "IMEI:B");
  ASSERT_TRUE(b.sync(201).completed);
  a.add(vcard("New while B was away"));
  ASSERT_TRUE(a.sync(200).completed);

  faulty_->fail_reads(true);
  SyncRun down = b.sync(200);
  ASSERT_TRUE(down.completed);
  EXPECT_TRUE(down.received.empty());
  faulty_->fail_reads(false);

  SyncRun up = b.sync(200);
  ASSERT_TRUE(up.completed);
  ASSERT_EQ(up.received_of(CommandKind::kAdd).size(), 1u) << "the change was lost for device B";
  EXPECT_EQ(up.received[0].items.at(0).data, vcard("New while B was away"));
  EXPECT_FALSE(b.luid_of(vcard("New while B was away")).empty());
}

// B refused an Add (500). The engine's comment on_item_status: "a refused Add
// is sent again next time because the item stays unmapped"; §10: a pending
// mapping "the next sync must cope (resend or slow sync)".
TEST_F(SyncEngineTest, AddRefusedByTheDeviceIsSentAgainNextSession) {
  Device a(*engine_, "IMEI:A");
  seed(a, 1);
  Device b(*engine_, "IMEI:B");
  b.answer = [](const Command& c) { return c.kind == CommandKind::kAdd ? 500 : 200; };
  SyncRun refused = b.sync(201);
  ASSERT_TRUE(refused.completed);
  ASSERT_EQ(refused.received.size(), 1u);
  EXPECT_TRUE(b.items().empty());

  b.answer = nullptr;
  SyncRun again = b.sync(200);
  ASSERT_TRUE(again.completed);
  EXPECT_EQ(again.alert_status, 200);
  ASSERT_EQ(again.received_of(CommandKind::kAdd).size(), 1u) << "the refused item was never offered again";
  EXPECT_EQ(b.items().size(), 1u);
}

// Same rule for a Replace the device refused with a temporary error: its map
// row keeps the old revision, and the change must be offered again.
TEST_F(SyncEngineTest, ReplaceRefusedByTheDeviceIsSentAgainNextSession) {
  Device a(*engine_, "IMEI:A");
  seed(a, 1);
  Device b(*engine_, "IMEI:B");
  ASSERT_TRUE(b.sync(201).completed);
  const std::string old_data = vcard("Person 0");
  const std::string new_data = vcard("Person 0 (moved)");
  a.edit(a.luid_of(old_data), new_data);
  ASSERT_TRUE(a.sync(200).completed);

  b.answer = [](const Command& c) { return c.kind == CommandKind::kReplace ? 503 : 200; };
  SyncRun refused = b.sync(200);
  ASSERT_TRUE(refused.completed);
  ASSERT_EQ(refused.received_of(CommandKind::kReplace).size(), 1u);
  EXPECT_EQ(b.items().begin()->second, old_data);

  b.answer = nullptr;
  SyncRun again = b.sync(200);
  ASSERT_TRUE(again.completed);
  EXPECT_EQ(again.alert_status, 200);
  ASSERT_EQ(again.received_of(CommandKind::kReplace).size(), 1u) << "the refused change was never offered again";
  EXPECT_EQ(b.items().begin()->second, new_data);
}

// --- odds and ends -----------------------------------------------------------

TEST_F(SyncEngineTest, SyncForADatastoreNotAlertedIs404ForItAndItsItems) {
  Device a(*engine_, "IMEI:A");
  a.start_session();
  auto p2 = a.send({alert(201, "contacts", std::nullopt, "1")}, true, true);
  ASSERT_TRUE(p2);
  std::vector<Command> children;
  children.push_back(change(CommandKind::kAdd, "L1", vcard("x")));
  auto p4 = a.send({status_cmd("1", 0, "SyncHdr", 200), sync_cmd("calendar", std::move(children))}, true);
  ASSERT_TRUE(p4) << p4.error().to_string();
  const Command* sync_status = find_status(p4->reply, "Sync");
  ASSERT_NE(sync_status, nullptr);
  EXPECT_EQ(sync_status->code, 404);
  const Command* add_status = find_status(p4->reply, "Add");
  ASSERT_NE(add_status, nullptr);
  EXPECT_EQ(add_status->code, 404);
  EXPECT_EQ(memory_->live_count(UserId("alice"), "calendar"), 0u);
}

TEST_F(SyncEngineTest, GetDevInfIsAnsweredWithResults) {
  Device a(*engine_, "IMEI:A");
  a.start_session();
  Command get;
  get.kind = CommandKind::kGet;
  get.meta = protocol::Meta{};
  get.meta->type = "application/vnd.syncml-devinf+xml";
  protocol::Item item;
  item.target = protocol::LocRef{"./devinf12", {}};
  get.items.push_back(item);
  auto out = a.send({alert(201, "contacts", std::nullopt, "1"), get}, true, true);
  ASSERT_TRUE(out);
  const Command* st = find_status(out->reply, "Get");
  ASSERT_NE(st, nullptr);
  EXPECT_EQ(st->code, 200);
  const Command* results = find_command(out->reply, CommandKind::kResults);
  ASSERT_NE(results, nullptr);
  EXPECT_EQ(results->cmd_ref, "2");
  ASSERT_EQ(results->items.size(), 1u);
  EXPECT_NE(results->items[0].data.find("contacts"), std::string::npos);
  EXPECT_NE(results->items[0].data.find("calendar"), std::string::npos);
}

// --- slow-sync duplicate detection by identity (MISSION §3) ---------------------

TEST_F(SyncEngineTest, SlowSyncMatchesTheSameContactWrittenDifferentlyAndMergesIt) {
  const std::string on_server =
      "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ann Example\r\nN:Example;Ann;;;\r\nTEL;TYPE=CELL:+1 555 0100\r\nEND:VCARD\r\n";
  // The same person from another device: other order, other phone spelling,
  // and an e-mail the server does not have yet.
  const std::string on_device =
      "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Example;Ann;;;\r\nFN:Ann Example\r\nTEL;TYPE=CELL:+1-555-0100\r\n"
      "EMAIL;TYPE=INTERNET:ann@example.org\r\nEND:VCARD\r\n";
  Device a(*engine_, "IMEI:A");
  a.add(on_server);
  ASSERT_TRUE(a.sync(201).completed);

  Device b(*engine_, "IMEI:B");
  const std::string luid_b = b.add(on_device);
  SyncRun run = b.sync(201);
  ASSERT_TRUE(run.completed);
  EXPECT_EQ(server_items(), 1u) << "the same contact was doubled";
  auto raws = memory_->live_raws(UserId("alice"), "contacts");
  ASSERT_EQ(raws.size(), 1u);
  EXPECT_NE(raws[0].find("ann@example.org"), std::string::npos) << raws[0];
  EXPECT_NE(raws[0].find("555"), std::string::npos) << raws[0];
  // The device gets the merged card back, in place of its own (no Add).
  ASSERT_EQ(run.received_of(CommandKind::kReplace).size(), 1u);
  EXPECT_TRUE(run.received_of(CommandKind::kAdd).empty());
  EXPECT_EQ(b.items().size(), 1u);
  EXPECT_EQ(b.items().at(luid_b), raws[0]);

  // Device A receives the e-mail at its next two-way sync.
  SyncRun a_run = a.sync(200);
  ASSERT_TRUE(a_run.completed);
  ASSERT_EQ(a.items().size(), 1u);
  EXPECT_NE(a.items().begin()->second.find("ann@example.org"), std::string::npos);
}

TEST_F(SyncEngineTest, SlowSyncKeepsDifferentPeopleWithTheSameNameApart) {
  Device a(*engine_, "IMEI:A");
  a.add("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Sam Smith\r\nTEL:+1 555 0001\r\nEND:VCARD\r\n");
  ASSERT_TRUE(a.sync(201).completed);
  Device b(*engine_, "IMEI:B");
  b.add("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Sam Smith\r\nTEL:+44 20 7946 0999\r\nEND:VCARD\r\n");
  ASSERT_TRUE(b.sync(201).completed);
  EXPECT_EQ(server_items(), 2u);
}

TEST_F(SyncEngineTest, CompletedSessionsLeaveAReportPerDatastore) {
  Device a(*engine_, "IMEI:A");
  seed(a, 3);
  Device b(*engine_, "IMEI:B");
  ASSERT_TRUE(b.sync(201).completed);
  b.remove(b.luid_of(vcard("Person 0")));
  b.add(vcard("New on B"));
  ASSERT_TRUE(b.sync(200).completed);

  auto reports = state_.reports(UserId("alice"), 10);
  ASSERT_TRUE(reports);
  ASSERT_EQ(reports->size(), 3u);
  const SyncReport& last = reports->front();
  EXPECT_EQ(last.where.device.str(), "IMEI:B");
  EXPECT_EQ(last.sync_type, protocol::SyncType::kTwoWay);
  EXPECT_EQ(last.counts.client_adds, 1);
  EXPECT_EQ(last.counts.client_deletes, 1);
  EXPECT_EQ(reports->at(1).counts.server_adds, 3);  // B's slow sync received A's three
  EXPECT_EQ(state_.session_report(last.session)->size(), 1u);

  // An aborted session leaves no report.
  b.add(vcard("Never finished"));
  b.sync(200, Device::Stop::kBeforePkg5);
  EXPECT_EQ(state_.reports(UserId("alice"), 10)->size(), 3u);
}

// --- refresh from client (203): the server's data becomes the device's ---------

TEST_F(SyncEngineTest, RefreshFromClientReplacesTheServersItems) {
  Device a(*engine_, "IMEI:A");
  seed(a, 3);  // Person 0, 1, 2
  Device b(*engine_, "IMEI:B");
  b.add(vcard("Person 1"));
  b.add(vcard("Only on B"));
  SyncRun run = b.sync(203);
  ASSERT_TRUE(run.completed);
  EXPECT_EQ(run.alert_status, 200);
  EXPECT_EQ(run.server_alert, 203);
  EXPECT_TRUE(run.received.empty()) << "refresh from client sends nothing to the client";
  auto raws = memory_->live_raws(UserId("alice"), "contacts");
  std::sort(raws.begin(), raws.end());
  EXPECT_EQ(raws, (std::vector<std::string>{vcard("Only on B"), vcard("Person 1")}));

  // Device A learns of the deletes and the new item at its next sync.
  SyncRun a_run = a.sync(200);
  ASSERT_TRUE(a_run.completed);
  EXPECT_EQ(a_run.received_of(CommandKind::kDelete).size(), 2u);
  EXPECT_EQ(a_run.received_of(CommandKind::kAdd).size(), 1u);
  std::vector<std::string> a_items;
  for (const auto& [luid, data] : a.items()) a_items.push_back(data);
  std::sort(a_items.begin(), a_items.end());
  EXPECT_EQ(a_items, raws);
}

// --- conflicts (MISSION §3; SYNCML-REFERENCE §5: 208, 209, 409, 419) ----------

struct PolicyCase {
  const char* policy;
  int status;                               // the device's Replace is answered with
  std::vector<std::string> server_after;    // live items on the server, sorted
  std::vector<std::string> device_b_after;  // device B's items, sorted
};

class ConflictPolicyTest : public SyncEngineTest, public ::testing::WithParamInterface<PolicyCase> {};

TEST_P(ConflictPolicyTest, BothSidesChangedTheSameItem) {
  const PolicyCase& c = GetParam();
  restart_engine(c.policy);
  Device a(*engine_, "IMEI:A");
  seed(a, 1);
  Device b(*engine_, "IMEI:B");
  ASSERT_TRUE(b.sync(201).completed);
  const std::string luid_a = a.luid_of(vcard("Person 0"));
  const std::string luid_b = b.luid_of(vcard("Person 0"));
  ASSERT_FALSE(luid_b.empty());

  a.edit(luid_a, vcard("Person 0 by A"));
  ASSERT_TRUE(a.sync(200).completed);
  b.edit(luid_b, vcard("Person 0 by B"));
  SyncRun run = b.sync(200);
  ASSERT_TRUE(run.completed);
  EXPECT_EQ(run.item_status[luid_b], c.status);
  EXPECT_EQ(sorted_server(), c.server_after);
  EXPECT_EQ(sorted_items(b), c.device_b_after);

  // Whatever the policy, both versions are on record.
  auto records = state_.conflicts(UserId("alice"), false);
  ASSERT_TRUE(records);
  ASSERT_EQ(records->size(), 1u);
  const ConflictRecord& r = records->front();
  EXPECT_EQ(r.policy, c.policy);
  EXPECT_EQ(r.where.device.str(), "IMEI:B");
  EXPECT_EQ(r.luid.str(), luid_b);
  EXPECT_EQ(r.server_data, vcard("Person 0 by A"));
  EXPECT_EQ(r.client_data, vcard("Person 0 by B"));
  EXPECT_FALSE(r.outcome.empty());

  // The next two-way syncs settle nothing anew: no second conflict, and both
  // devices end with what the server holds (report leaves B as it is).
  ASSERT_TRUE(a.sync(200).completed);
  ASSERT_TRUE(b.sync(200).completed);
  EXPECT_EQ(sorted_items(a), c.server_after);
  EXPECT_EQ(sorted_items(b), c.device_b_after);
  EXPECT_EQ(state_.conflicts(UserId(), true)->size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(
    Policies, ConflictPolicyTest,
    ::testing::Values(PolicyCase{"server-wins", 419, {vcard("Person 0 by A")}, {vcard("Person 0 by A")}},
                      PolicyCase{"client-wins", 208, {vcard("Person 0 by B")}, {vcard("Person 0 by B")}},
                      PolicyCase{"duplicate",
                                 209,
                                 {vcard("Person 0 by A"), vcard("Person 0 by B")},
                                 {vcard("Person 0 by A"), vcard("Person 0 by B")}},
                      PolicyCase{"report", 202, {vcard("Person 0 by A")}, {vcard("Person 0 by B")}}),
    [](const ::testing::TestParamInfo<PolicyCase>& case_info) {
      std::string name = case_info.param.policy;
      name.erase(std::remove(name.begin(), name.end(), '-'), name.end());
      return name;
    });

TEST_F(ConflictPolicyTest, DeletedOnTheDeviceButChangedOnTheServerComesBackUnderServerWins) {
  restart_engine("server-wins");
  Device a(*engine_, "IMEI:A");
  seed(a, 1);
  Device b(*engine_, "IMEI:B");
  ASSERT_TRUE(b.sync(201).completed);
  a.edit(a.luid_of(vcard("Person 0")), vcard("Person 0 by A"));
  ASSERT_TRUE(a.sync(200).completed);
  const std::string luid_b = b.luid_of(vcard("Person 0"));
  b.remove(luid_b);
  SyncRun run = b.sync(200);
  ASSERT_TRUE(run.completed);
  EXPECT_EQ(run.item_status[luid_b], 419);
  EXPECT_EQ(sorted_server(), std::vector<std::string>{vcard("Person 0 by A")});
  EXPECT_EQ(sorted_items(b), std::vector<std::string>{vcard("Person 0 by A")}) << "the device gets the item back";
  auto records = state_.conflicts(UserId("alice"), false);
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ(records->front().client_data, "");  // the device deleted it
  EXPECT_EQ(records->front().server_data, vcard("Person 0 by A"));
}

TEST_F(ConflictPolicyTest, ChangedOnTheDeviceButDeletedOnTheServerIsRecreatedUnderClientWins) {
  restart_engine("client-wins");
  Device a(*engine_, "IMEI:A");
  seed(a, 1);
  Device b(*engine_, "IMEI:B");
  ASSERT_TRUE(b.sync(201).completed);
  a.remove(a.luid_of(vcard("Person 0")));
  ASSERT_TRUE(a.sync(200).completed);
  EXPECT_EQ(server_items(), 0u);
  const std::string luid_b = b.luid_of(vcard("Person 0"));
  b.edit(luid_b, vcard("Person 0 by B"));
  SyncRun run = b.sync(200);
  ASSERT_TRUE(run.completed);
  EXPECT_EQ(run.item_status[luid_b], 208);
  EXPECT_EQ(sorted_server(), std::vector<std::string>{vcard("Person 0 by B")});
  ASSERT_TRUE(a.sync(200).completed);
  EXPECT_EQ(sorted_items(a), std::vector<std::string>{vcard("Person 0 by B")});
}

// The back end refuses the device's write because another client changed
// the item after the sync read it (a DAV server's 412, kAborted from the
// adapter): the policy decides at once, with the back end's version of now,
// and the loser is on record — not left for the next sync.
class LostRaceTest : public SyncEngineTest, public ::testing::WithParamInterface<PolicyCase> {};

TEST_P(LostRaceTest, AWriteRefusedAsChangedMeanwhileIsDecidedAsAConflict) {
  const PolicyCase& c = GetParam();
  restart_engine(c.policy);
  Device a(*engine_, "IMEI:A");
  seed(a, 1);
  const std::string luid = a.luid_of(vcard("Person 0"));
  bool raced = false;
  faulty_->fail_items(
      [&](const caf::SyncObj& obj) {
        if (raced || obj.raw != vcard("Person 0 by A")) return false;
        raced = true;  // once: another client writes just before the device's write lands
        caf::SyncObj other;
        other.action = caf::Action::kUpdate;
        other.guid = obj.guid;
        other.content_type = "text/vcard";
        other.raw = vcard("Person 0 elsewhere");
        std::vector<caf::SyncObj> batch;
        batch.push_back(std::move(other));
        auto done = memory_->apply(caf::StoreRef{UserId("alice"), "contacts", caf::Token{}}, std::move(batch));
        EXPECT_TRUE(done.size() == 1 && done[0].status.is_ok());
        return true;
      },
      Status::aborted("injected: 412 Precondition Failed"));
  a.edit(luid, vcard("Person 0 by A"));
  SyncRun run = a.sync(200);
  faulty_->fail_items(nullptr);
  ASSERT_TRUE(raced);
  ASSERT_TRUE(run.completed);
  EXPECT_EQ(run.item_status[luid], c.status);
  EXPECT_EQ(sorted_server(), c.server_after);
  auto records = state_.conflicts(UserId("alice"), false);
  ASSERT_TRUE(records);
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ(records->front().server_data, vcard("Person 0 elsewhere"));
  EXPECT_EQ(records->front().client_data, vcard("Person 0 by A"));
  // The device ends with what the server holds.
  ASSERT_TRUE(a.sync(200).completed);
  EXPECT_EQ(sorted_items(a), c.device_b_after);
  EXPECT_EQ(state_.conflicts(UserId(), true)->size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(
    Policies, LostRaceTest,
    ::testing::Values(PolicyCase{"server-wins", 419, {vcard("Person 0 elsewhere")}, {vcard("Person 0 elsewhere")}},
                      PolicyCase{"client-wins", 208, {vcard("Person 0 by A")}, {vcard("Person 0 by A")}}),
    [](const ::testing::TestParamInfo<PolicyCase>& case_info) {
      std::string name = case_info.param.policy;
      name.erase(std::remove(name.begin(), name.end(), '-'), name.end());
      return name;
    });

TEST_F(ConflictPolicyTest, NoConflictWhenOnlyOneSideChanged) {
  restart_engine("report");
  Device a(*engine_, "IMEI:A");
  seed(a, 2);
  Device b(*engine_, "IMEI:B");
  ASSERT_TRUE(b.sync(201).completed);
  a.edit(a.luid_of(vcard("Person 0")), vcard("Person 0 by A"));
  ASSERT_TRUE(a.sync(200).completed);
  b.edit(b.luid_of(vcard("Person 1")), vcard("Person 1 by B"));
  SyncRun run = b.sync(200);
  ASSERT_TRUE(run.completed);
  EXPECT_EQ(run.item_status[b.luid_of(vcard("Person 1 by B"))], 200);
  EXPECT_TRUE(state_.conflicts(UserId(), true)->empty());
  EXPECT_EQ(sorted_items(b), (std::vector<std::string>{vcard("Person 0 by A"), vcard("Person 1 by B")}));
}

TEST_F(ConflictPolicyTest, ReloadedPolicyDecidesTheNextConflict) {
  restart_engine("server-wins");
  Device a(*engine_, "IMEI:A");
  seed(a, 1);
  Device b(*engine_, "IMEI:B");
  ASSERT_TRUE(b.sync(201).completed);
  // System preferences: a reload turns contacts to client-wins; a store the
  // engine does not serve is ignored.
  auto reloaded = registry_.stores();
  for (auto& s : reloaded) s.conflict_policy = caf::ConflictPolicy::kClientWins;
  caf::StoreSettings unknown = reloaded.front();
  unknown.name = "movies";
  reloaded.push_back(unknown);
  engine_->set_conflict_policies(reloaded);

  a.edit(a.luid_of(vcard("Person 0")), vcard("Person 0 by A"));
  ASSERT_TRUE(a.sync(200).completed);
  const std::string luid_b = b.luid_of(vcard("Person 0"));
  b.edit(luid_b, vcard("Person 0 by B"));
  SyncRun run = b.sync(200);
  ASSERT_TRUE(run.completed);
  EXPECT_EQ(run.item_status[luid_b], 208);
  EXPECT_EQ(sorted_server(), std::vector<std::string>{vcard("Person 0 by B")});
  EXPECT_EQ(state_.conflicts(UserId("alice"), false)->front().policy, "client-wins");
}

// Issue #20 (found by the crash loop): device A slow-syncs holding its old
// copies of items device B changed and deleted since (A's anchors went with
// an answer it never got). A slow sync marks no changes, so the old copies
// neither overwrite the newer version nor bring the deleted item back: each is
// a conflict for the store's policy. Under server-wins A gets B's version and
// B's delete, and its copies stay in the conflict records.
TEST_F(ConflictPolicyTest, SlowSyncDoesNotUndoChangesWithOlderCopies) {
  restart_engine("server-wins");
  Device a(*engine_, "IMEI:A");
  seed(a, 3);
  Device b(*engine_, "IMEI:B");
  ASSERT_TRUE(b.sync(201).completed);
  b.edit(b.luid_of(vcard("Person 0")), vcard("Person 0 by B"));
  b.remove(b.luid_of(vcard("Person 1")));
  ASSERT_TRUE(b.sync(200).completed);

  const std::string changed = a.luid_of(vcard("Person 0"));
  const std::string deleted = a.luid_of(vcard("Person 1"));
  SyncRun run = a.sync(201);
  ASSERT_TRUE(run.completed);
  EXPECT_EQ(run.item_status[changed], 419);
  EXPECT_EQ(run.item_status[deleted], 419);
  const std::vector<std::string> newest{vcard("Person 0 by B"), vcard("Person 2")};
  EXPECT_EQ(sorted_server(), newest);
  EXPECT_EQ(sorted_items(a), newest);
  auto conflicts = state_.conflicts(UserId("alice"), false);
  ASSERT_TRUE(conflicts);
  EXPECT_EQ(conflicts->size(), 2u);

  // An item the server did not change since is the device's to change, in a
  // slow sync too.
  a.edit(a.luid_of(vcard("Person 2")), vcard("Person 2 by A"));
  ASSERT_TRUE(a.sync(201).completed);
  EXPECT_EQ(sorted_server(), (std::vector<std::string>{vcard("Person 0 by B"), vcard("Person 2 by A")}));
}

}  // namespace
}  // namespace conflux::engine
