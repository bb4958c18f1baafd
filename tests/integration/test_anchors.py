#!/usr/bin/python3
"""Sync anchors that do not match, with the real SyncEvolution client:

  * the server forgets: after completed syncs the device's rows are deleted
    from conflux.db's anchors table (server stopped), so the next two-way
    must turn into a slow sync (508; client says slow, server log says
    "anchors do not match") that neither doubles nor loses an item;
  * the client forgets: the device's configuration (where Synthesis keeps
    its Last anchor) is restored from before the last sync, so its Last is
    stale: again 508, slow sync, no duplicates.

In both cases a second device reads the server back afterwards.

Run: CONFLUX_BIN=/path/to/conflux /usr/bin/python3 test_anchors.py
"""

import re
import shutil
import sys
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import vcards  # noqa: E402
from conflux_server import IntegrationTest, poll_until  # noqa: E402
from engine_checks import (anchor_rows, delete_anchors,  # noqa: E402
                           device_fns, doubled, fns_of, server_count,
                           server_fns)
from sync_summary import parse_summary  # noqa: E402

DS = "contacts"
USER = "anke"
PASSWORD = "Anchor-pw-3"
N = 20


def mode_line(output):
    """The sync mode SyncEvolution reports in its summary table
    ('two-way', 'slow', ...)."""
    m = re.findall(r"\|\s+([a-z-]+), \d+ KB sent by client", output)
    return m[-1] if m else None


def html_log(device):
    d = device.session_log_dir()
    return (d / "syncevolution-log.html").read_text(errors="replace") \
        if d else ""


class AnchorMismatchTest(IntegrationTest):

    def setUp(self):
        super().setUp()
        self.server = self.make_server()
        self.server.add_user(USER, PASSWORD)
        self.server.start()
        self.a = self.make_device(self.server, "dev-a", USER, PASSWORD)
        self.b = self.make_device(self.server, "dev-b", USER, PASSWORD)
        self.base = dict(vcards.generate(N, seed=21))
        for name, text in self.base.items():
            self.a.write_item(DS, name, text)
        self.a.sync("slow")
        self.b.sync("slow")
        # A completed two-way, so the anchors are those of a normal sync.
        name, text = next(iter(vcards.generate(1, seed=21, start=100)))
        self.a.write_item(DS, name, text)
        self.a.sync("two-way")
        self.last_sync_end = time.time()
        self.expected = fns_of(self.a.items(DS))
        self.assertEqual(len(self.expected), N + 1)
        self.assertEqual(server_count(self.server, USER), N + 1)

    def assert_consistent(self, expected, what):
        """Server (items.db), A's files and B after a two-way all hold
        exactly `expected`, nothing doubled."""
        got = server_fns(self.server, USER)
        self.assertEqual(doubled(got), {}, f"{what}: doubled on the server")
        self.assertEqual(set(got), expected, f"{what}: server's set")
        self.assertEqual(server_count(self.server, USER), len(expected))
        got = device_fns(self.a)
        self.assertEqual(doubled(got), {}, f"{what}: doubled on A")
        self.assertEqual(set(got), expected, f"{what}: A's set")
        self.b.sync("two-way")
        got = device_fns(self.b)
        self.assertEqual(doubled(got), {}, f"{what}: doubled on B")
        self.assertEqual(set(got), expected, f"{what}: B's set")

    def test_server_forgot_anchors(self):
        device_id = "conflux-it-dev-a"
        self.assertTrue(anchor_rows(self.server, device_id),
                        "no anchors row for A after a completed sync")
        self.server.stop()
        self.assertGreaterEqual(delete_anchors(self.server, device_id), 1)
        self.server.start()
        # A also has a new local contact, which must survive the slow sync.
        name, text = next(iter(vcards.generate(1, seed=21, start=200)))
        self.a.write_item(DS, name, text)
        log_offset = len(self.server.log_text())
        _, out = self.a.sync("two-way")
        self.assertEqual(mode_line(out), "slow",
                         "the client did not report a slow sync:\n" + out[-2000:])
        self.assertIn("anchors do not match",
                      self.server.log_text()[log_offset:])
        self.assertRegex(html_log(self.a), r"STATUS 508",
                         "the client never saw 508 for its Alert")
        counts = parse_summary(out)[DS]
        self.assertEqual(counts.local_new + counts.local_del, 0, counts)
        self.assert_consistent(self.expected | {vcards.fn_of(text)},
                               "after the server forgot A's anchors")
        # The anchors are back, and the next two-way is a normal one.
        self.assertTrue(anchor_rows(self.server, device_id))
        _, out = self.a.sync("two-way")
        self.assertEqual(mode_line(out), "two-way", out[-2000:])

    def test_client_config_restored(self):
        a = self.a
        saved = self.tmp / "saved-a"
        # Snapshot A's XDG dirs (configuration: the Synthesis anchors and
        # the file backend's change tracking) before sync N ...
        for sub in ("config", "data"):
            shutil.copytree(a.home / sub, saved / sub, symlinks=True)
        name, text = next(iter(vcards.generate(1, seed=21, start=300)))
        a.write_item(DS, name, text)
        # Synthesis' anchors are UTC timestamps of one-second resolution:
        # sync N must start in a later second than sync N-1, or its Next
        # anchor equals the old one and nothing is stale.
        poll_until(lambda: int(time.time()) > int(self.last_sync_end), 3,
                   what="the next wall-clock second")
        _, out = a.sync("two-way")     # ... sync N ...
        self.assertEqual(mode_line(out), "two-way", out[-2000:])
        expected = self.expected | {vcards.fn_of(text)}
        self.assertEqual(set(server_fns(self.server, USER)), expected)
        # ... and restore them: A's Last anchor is now the one before N.
        for sub in ("config", "data"):
            shutil.rmtree(a.home / sub)
            shutil.copytree(saved / sub, a.home / sub, symlinks=True)
        log_offset = len(self.server.log_text())
        _, out = a.sync("two-way")
        self.assertIn("anchors do not match",
                      self.server.log_text()[log_offset:])
        self.assertRegex(html_log(a), r"STATUS 508",
                         "the client never saw 508 for its Alert")
        self.assertEqual(mode_line(out), "slow",
                         "the client did not report a slow sync:\n" + out[-2000:])
        self.assert_consistent(expected, "after A's config was restored")
        _, out = a.sync("two-way")
        self.assertEqual(mode_line(out), "two-way", out[-2000:])


if __name__ == "__main__":
    unittest.main(verbosity=2)
