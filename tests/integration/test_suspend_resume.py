#!/usr/bin/python3
"""Suspend and resume (SyncML DS 1.2 Alert 224/225) over a real HTTP socket
with the hand-made client: a device suspends its slow sync in the middle of
the server's package 4, the server is restarted, and the device resumes:
it receives exactly the items it had not acknowledged, none twice, the
server holds its items once, and the anchors are the resumed session's.
A resume the server cannot honour is answered 508 with a slow sync.

And with the real SyncEvolution client: its CLI suspends a sync on the
first SIGINT (CTRL-C) and sends Alert 225 at its next run; the server
resumes the slow sync that uploads 400 contacts and ends with each once.

Run: CONFLUX_BIN=/path/to/conflux /usr/bin/python3 test_suspend_resume.py
"""

import sys
import unittest
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import os  # noqa: E402
import signal  # noqa: E402
import syncml_client as sc  # noqa: E402
import vcards  # noqa: E402
from conflux_server import IntegrationTest, poll_until  # noqa: E402
from engine_checks import (BackgroundSync, doubled, fns_of,  # noqa: E402
                           server_count, server_fns)

USER = "rita"
PASSWORD = "Resume-pw-3"
N = 40


def adds_in(reply):
    """Server ids of the Adds in one reply."""
    return [item.findtext("Source/LocURI")
            for sync in reply.commands("Sync") for add in sync.findall("Add")
            for item in add.findall("Item")]


class SuspendResumeTest(IntegrationTest):

    def setUp(self):
        super().setUp()
        self.server = self.make_server()
        self.server.add_user(USER, PASSWORD)
        self.server.start()
        # Device A puts N contacts on the server.
        sc.slow_sync(self.server.url, "dev-a", USER, PASSWORD,
                     adds=list(vcards.generate(N, seed=7)))
        self.assertEqual(server_count(self.server, USER), N)

    def suspended_slow_sync(self):
        """Device B's slow sync, suspended after pkg 4's first message.
        Returns the session (its received items and pending Map)."""
        b = sc.RawSession(self.server.url, "dev-b", USER, PASSWORD,
                          session_id="1")
        b.max_msg_size = 6000     # pkg 4 takes several messages
        b.start(alert=201, next_anchor="b-1")
        first = b._send(b.sync_body())
        self.assertFalse(first.final, "pkg 4 must span several messages")
        self.assertTrue(adds_in(first))
        reply = b.suspend()
        self.assertEqual([int(s.findtext("Data"))
                          for s in reply.statuses("Alert")], [200])
        self.assertTrue(reply.final)
        return b

    def test_resume_after_server_restart_sends_nothing_twice(self):
        b = self.suspended_slow_sync()
        before = set(b.received)
        self.assertLess(len(before), N)
        self.server.restart()

        resumed = sc.RawSession(self.server.url, "dev-b", USER, PASSWORD,
                                session_id="2")
        resumed.maps = list(b.maps)       # Map still owed from before
        resumed._luid = b._luid           # the device's ids go on, not restart
        pkg2 = resumed.start(alert=225, next_anchor="b-2")
        # Announced with the type it resumes (libsynthesis refuses 225 here).
        self.assertEqual(resumed.server_alert_code(pkg2), 201)
        resumed.sync()
        resumed.finish()

        again = [sid for sid in resumed.received if sid in before]
        self.assertEqual(again, [], "acknowledged items were sent again")
        counts = Counter(list(before) + list(resumed.received))
        self.assertEqual(len(counts), N)
        self.assertEqual(max(counts.values()), 1)
        self.assertEqual(server_count(self.server, USER), N)

        # Anchors moved to the resumed session's: a two-way sync with
        # Last = b-2 is accepted (200) and brings nothing new.
        after = sc.RawSession(self.server.url, "dev-b", USER, PASSWORD,
                              session_id="3")
        pkg2 = after.start(alert=200, last="b-2", next_anchor="b-3")
        self.assertEqual(after.server_alert_code(pkg2), 200)
        after.sync()
        after.finish()
        self.assertEqual(after.received, {})

    def test_resume_with_other_anchors_is_508_and_slow_sync(self):
        self.suspended_slow_sync()
        s = sc.RawSession(self.server.url, "dev-b", USER, PASSWORD,
                          session_id="2")
        pkg2 = s.start(alert=225, last="never-sent", next_anchor="b-2",
                       expect=508)
        self.assertEqual(s.server_alert_code(pkg2), 201)
        s.sync()
        s.finish()
        self.assertEqual(len(s.received), N)
        self.assertEqual(server_count(self.server, USER), N)


class SyncEvolutionSuspendTest(IntegrationTest):

    def test_syncevolution_suspends_and_resumes_a_slow_sync(self):
        n = 400
        server = self.make_server()
        server.add_user(USER, PASSWORD)
        server.start()
        # Small messages, no resending: the upload takes many round trips.
        a = self.make_device(server, "dev-a", USER, PASSWORD,
                             extra={"maxMsgSize": "4000",
                                    "retryDuration": "0",
                                    "retryInterval": "0"})
        cards = dict(vcards.generate(n, seed=41))
        for name, text in cards.items():
            a.write_item("contacts", name, text)

        bg = BackgroundSync(a, "slow")
        try:
            poll_until(lambda: 0 < server_count(server, USER) < n or
                       not bg.running(), 60, interval=0.002,
                       what="some but not all contacts on the server")
            self.assertTrue(bg.running(), "the sync ended before CTRL-C")
            os.killpg(bg.proc.pid, signal.SIGINT)   # one CTRL-C: suspend
            code = bg.wait(60)
        finally:
            bg.kill()
        self.assertNotEqual(code, 0, "the sync completed before CTRL-C")
        self.assertIn("suspend", bg.out_path.read_text(errors="replace").lower())
        self.assertLess(server_count(server, USER), n)

        a.sync("two-way", timeout=120)
        self.assertIn("resuming sync 201", server.log_text())
        got = server_fns(server, USER)
        self.assertEqual(doubled(got), {})
        self.assertEqual(set(got), fns_of(cards))
        self.assertEqual(server_count(server, USER), n)

        # The resumed sync stored the anchors: the next two-way sync is
        # not turned into a slow one.
        a.sync("two-way", timeout=120)
        self.assertNotIn("anchors do not match", server.log_text())


if __name__ == "__main__":
    unittest.main(verbosity=2)
