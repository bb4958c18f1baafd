#!/usr/bin/python3
"""Sessions that break off in the middle, and messages that arrive twice:

  (a) the SyncEvolution client is SIGKILLed during the slow sync that
      uploads 1000 contacts, while a gate proxy holds its 9th message (the
      server then holds some but not all, on every machine alike); the
      next sync (two-way, it may become slow) must leave the server with
      exactly the 1000, no FN twice, the client with its 1000, and a second
      device must get exactly the 1000;
  (b) the same with the SERVER SIGKILLed mid-sync and started again;
  (c) replay with the hand-made client: pkg 3 (a Sync with 3 Adds) is sent
      twice with the same bytes (same MsgID, same session URL), as a client
      that lost the answer does: it gets the very bytes of the first answer,
      the session then finishes and the server
      holds 3 items, not 6.  And a new session that resends the same 3 Adds
      with the same LUIDs after an abandoned one (no pkg 5) creates nothing.

Run: CONFLUX_BIN=/path/to/conflux /usr/bin/python3 test_interruptions.py
"""

import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import syncml_client as sc  # noqa: E402
import vcards  # noqa: E402
from conflux_server import IntegrationTest  # noqa: E402
from engine_checks import (BackgroundSync, device_fns,  # noqa: E402
                           doubled, server_count, server_fns)
from http_proxies import GateProxy  # noqa: E402

DS = "contacts"
USER = "ivan"
PASSWORD = "Interrupt-pw-5"
N = 1000

# Small messages make the upload of 1000 contacts take many round trips, so
# there is a moment when the server holds some but not all of them.  No
# resending: a client whose server died must give up, not wait minutes.
CLIENT_EXTRA = {"maxMsgSize": "4000", "retryDuration": "0",
                "retryInterval": "0"}
# Message 1 is the client's Alert and DevInf; those after it carry contacts.
MESSAGES_BEFORE_BREAK = 8


class InterruptedSlowSyncTest(IntegrationTest):

    def setUp(self):
        super().setUp()
        self.server = self.make_server()
        self.server.add_user(USER, PASSWORD)
        self.server.start()
        # A reaches the server through a gate that stops the upload after
        # MESSAGES_BEFORE_BREAK messages: the break falls at the same point
        # of the session on every machine, with some contacts stored.
        self.gate = GateProxy(self.server, MESSAGES_BEFORE_BREAK)
        self.addCleanup(self.gate.close)
        self.a = self.make_device(self.gate, "dev-a", USER, PASSWORD,
                                  extra=CLIENT_EXTRA)
        self.originals = dict(vcards.generate(N, seed=31))
        for name, text in self.originals.items():
            self.a.write_item(DS, name, text)
        self.expected = {vcards.fn_of(t) for t in self.originals.values()}

    def start_upload_until_partial(self):
        """Start A's slow sync in the background and hold it at the gate;
        return it and the number of contacts the server holds then."""
        bg = BackgroundSync(self.a, "slow")
        try:
            self.gate.wait_holding(120)
        except AssertionError:
            bg.kill()
            raise AssertionError(
                f"the client ended (status {bg.proc.returncode}) before "
                f"message {MESSAGES_BEFORE_BREAK + 1}:\n{bg.output()[-2000:]}")
        n = server_count(self.server, USER)
        self.assertTrue(0 < n < N, f"{n} of {N} contacts on the server at "
                        f"the break; the test needs some but not all")
        return bg, n

    def assert_all_there_once(self, what):
        got = server_fns(self.server, USER)
        self.assertEqual(doubled(got), {}, f"{what}: doubled on the server")
        self.assertEqual(server_count(self.server, USER), N,
                         f"{what}: server count")
        self.assertEqual(set(got), self.expected, f"{what}: server's set")
        got = device_fns(self.a)
        self.assertEqual(doubled(got), {}, f"{what}: doubled on A")
        self.assertEqual(set(got), self.expected, f"{what}: A's set")
        self.assertEqual(len(self.a.items(DS)), N)
        b = self.make_device(self.server, "dev-b", USER, PASSWORD)
        b.sync("slow", timeout=120)
        got = device_fns(b)
        self.assertEqual(doubled(got), {}, f"{what}: doubled on B")
        self.assertEqual(set(got), self.expected, f"{what}: B's set")
        self.assertEqual(len(b.items(DS)), N)
        # And the content made it, not only the names.
        b_by_fn = vcards.by_fn(b.items(DS).values())
        for text in list(self.originals.values())[::97]:
            fn = vcards.fn_of(text)
            self.assertTrue(vcards.same_contact(text, b_by_fn[fn]),
                            vcards.contact_diff(text, b_by_fn[fn]))

    def test_a_client_killed_mid_slow_sync(self):
        bg, n = self.start_upload_until_partial()
        code = bg.kill()
        self.gate.open()
        self.assertTrue(self.server.running())
        self.assertNotEqual(code, 0, "the client finished before the kill")
        self.a.sync("two-way", timeout=120)
        self.assert_all_there_once(f"after the client was killed at {n}/{N}")

    def test_b_server_killed_mid_slow_sync(self):
        bg, n = self.start_upload_until_partial()
        self.server.kill()
        self.gate.open()            # the held message meets a dead server
        code = bg.wait(60)          # gives up: no server, no resending
        self.assertNotEqual(code, 0, "the client finished without a server")
        at_kill = server_count(self.server, USER)
        self.assertEqual(at_kill, n, "the server stored more after the break")
        self.server.start()
        self.a.sync("two-way", timeout=120)
        self.assert_all_there_once(
            f"after the server was killed at {at_kill}/{N}")


def small_cards():
    return [(f"luid-{i}", text) for i, (_, text) in
            enumerate(vcards.generate(3, seed=32))]


class ReplayTest(IntegrationTest):

    def setUp(self):
        super().setUp()
        self.server = self.make_server()
        self.server.add_user(USER, PASSWORD)
        self.server.start()

    def test_c_pkg3_sent_twice(self):
        adds = small_cards()
        s = sc.RawSession(self.server.url, "replay-dev-1", USER, PASSWORD)
        s.start(alert=201)
        url = s.next_url
        raw = s.next_message(s.sync_body(adds=adds))
        first = sc.post_syncml(url, raw)
        self.assertEqual([int(st.findtext("Data"))
                          for st in first.statuses("Add")], [201] * 3,
                         first.text())
        self.assertEqual(server_count(self.server, USER), 3)
        # The client lost `first` and sends the very same bytes again.
        second = sc.post_syncml(url, raw)
        self.assertEqual(server_count(self.server, USER), 3,
                         "the resent pkg 3 added the items again; reply:\n" +
                         second.text())
        # The engine keeps its last answer and sends the same bytes again.
        self.assertEqual(second.raw, first.raw,
                         "the resent pkg 3 got another answer:\n" +
                         second.text())
        # Finish the session as the client would, from the second answer.
        if second.resp_uri:
            s.next_url = second.resp_uri
        s.last_reply = second
        s._answer(second)
        s._continue_until_final(second)
        s.finish()
        self.assertEqual(server_count(self.server, USER), 3)
        self.assertEqual(doubled(server_fns(self.server, USER)), {})
        # A fresh slow sync from another device gets exactly 3.
        other = sc.slow_sync(self.server.url, "replay-dev-2", USER, PASSWORD)
        self.assertEqual(len(other.received), 3, other.received)
        self.assertEqual(sorted(vcards.fn_of(t) for t in
                                other.received.values()),
                         sorted(vcards.fn_of(t) for _, t in adds))

    def test_c_adds_resent_in_new_session_after_timeout(self):
        adds = small_cards()
        s1 = sc.RawSession(self.server.url, "replay-dev-3", USER, PASSWORD,
                           session_id="1")
        s1.start(alert=201)
        s1.sync(adds=adds)
        self.assertEqual(server_count(self.server, USER), 3)
        # No pkg 5: the client never saw the end and starts over with a new
        # session, sending the same Adds with the same LUIDs.
        s2 = sc.RawSession(self.server.url, "replay-dev-3", USER, PASSWORD,
                           session_id="2")
        s2.start(alert=201)
        s2.sync(adds=adds)
        s2.finish()
        self.assertEqual(server_count(self.server, USER), 3,
                         "the resent Adds created new items")
        self.assertEqual(doubled(server_fns(self.server, USER)), {})
        # The server sends none of the 3 back as new to the device that
        # owns them (it knows them under those LUIDs).
        self.assertEqual(s2.received, {}, "server echoed the device's items")
        other = sc.slow_sync(self.server.url, "replay-dev-4", USER, PASSWORD)
        self.assertEqual(len(other.received), 3, other.received)


if __name__ == "__main__":
    unittest.main(verbosity=2)
