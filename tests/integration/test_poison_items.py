#!/usr/bin/python3
"""Poison items over a real HTTP socket with the hand-made client: a
device that refuses one server item (Status 415) gets it again at its next
syncs, but after three refusals in a row it is no longer sent, and
`conflux sessions show` reports it as poison; the other items always go
through.

Run: CONFLUX_BIN=/path/to/conflux /usr/bin/python3 test_poison_items.py
"""

import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import syncml_client as sc  # noqa: E402
import vcards  # noqa: E402
from conflux_server import IntegrationTest  # noqa: E402

USER = "paul"
PASSWORD = "Poison-pw-9"
POISON_FN = "Pete Poison"


def card(fn):
    return ("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:" + fn + "\r\nN:" + fn +
            ";;;;\r\nEND:VCARD\r\n")


def refuse_poison(tag, data):
    return 415 if POISON_FN in data else None


class PoisonItemTest(IntegrationTest):

    def test_item_refused_three_times_is_no_longer_sent(self):
        server = self.make_server()
        server.add_user(USER, PASSWORD)
        server.start()
        sc.slow_sync(server.url, "dev-a", USER, PASSWORD,
                     adds=[("1", card("Olga Okay")), ("2", card(POISON_FN))])

        def sync_b(session_id):
            s = sc.RawSession(server.url, "dev-b", USER, PASSWORD,
                              session_id=session_id)
            s.answer = refuse_poison
            s.start(alert=201, next_anchor=session_id)
            s.sync()
            s.finish()
            return s

        def last_session_report():
            line = server.cli("sessions", "list").stdout.splitlines()[1]  # under the header
            self.assertIn("dev-b", line)
            return server.cli("sessions", "show", line.split("\t")[0]).stdout

        for attempt in ("1", "2", "3"):
            s = sync_b(attempt)
            sent = [vcards.fn_of(d) for d in s.received.values()]
            self.assertEqual([x for x in s.item_statuses if x[2] >= 400], [])
            self.assertIn("Olga Okay", sent)
            report = last_session_report()
            self.assertIn("to device", report)
            self.assertIn("status 415", report)
            self.assertNotIn("poison", report)

        s = sync_b("4")
        sent = [vcards.fn_of(d) for d in s.received.values()]
        self.assertEqual(sent, ["Olga Okay"])
        report = last_session_report()
        self.assertIn("status 415", report)
        self.assertIn("poison: refused 3 times", report)
        self.assertIn("problems 1", server.cli("sessions", "list").stdout
                      .splitlines()[1])  # under the header
        self.assertIn("not sent", server.log_text())


if __name__ == "__main__":
    unittest.main(verbosity=2)
