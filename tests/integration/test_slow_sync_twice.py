#!/usr/bin/python3
"""Slow syncs of data the server already has must match, not add:

  1. device A uploads 1000 contacts with a slow sync;
  2. A slow-syncs the same 1000 again: the server still holds 1000, A too;
  3. device B (another device id) holding the same 1000 contacts as its own
     files slow-syncs: the server still holds exactly 1000 (no doubles) and
     B ends with exactly its 1000;
  4. a verifying device C reads the server back with a slow sync: 1000,
     each FN once, same content.

The client's own counters are not server facts (SyncEvolution reports
matched items as new on the remote side), so the server is read from
items.db and through C.

Run: CONFLUX_BIN=/path/to/conflux /usr/bin/python3 test_slow_sync_twice.py
"""

import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import vcards  # noqa: E402
from conflux_server import IntegrationTest  # noqa: E402
from engine_checks import (device_fns, doubled, server_count,  # noqa: E402
                           server_fns)

DS = "contacts"
USER = "sven"
PASSWORD = "Slow-twice-pw-2"
N = 1000


class SlowSyncTwiceTest(IntegrationTest):

    def assert_server_holds_exactly(self, expected, what):
        got = server_fns(self.server, USER)
        self.assertEqual(doubled(got), {}, f"{what}: doubled on the server")
        self.assertEqual(server_count(self.server, USER), N,
                         f"{what}: server count")
        self.assertEqual(set(got), expected, f"{what}: server's set")

    def assert_device_holds_exactly(self, device, expected, what):
        got = device_fns(device)
        self.assertEqual(doubled(got), {}, f"{what}: doubled on {device.name}")
        self.assertEqual(len(device.items(DS)), N, f"{what}: {device.name}")
        self.assertEqual(set(got), expected, f"{what}: {device.name}'s set")

    def test_slow_sync_twice_and_from_second_device(self):
        self.server = self.make_server()
        self.server.add_user(USER, PASSWORD)
        self.server.start()
        originals = dict(vcards.generate(N, seed=51))
        expected = {vcards.fn_of(t) for t in originals.values()}

        a = self.make_device(self.server, "dev-a", USER, PASSWORD)
        for name, text in originals.items():
            a.write_item(DS, name, text)
        a.sync("slow", timeout=120)
        self.assert_server_holds_exactly(expected, "after A's first slow sync")
        self.assert_device_holds_exactly(a, expected, "after A's first")

        a.sync("slow", timeout=120)
        self.assert_server_holds_exactly(expected, "after A's second slow sync")
        self.assert_device_holds_exactly(a, expected, "after A's second")

        b = self.make_device(self.server, "dev-b", USER, PASSWORD)
        for name, text in originals.items():
            b.write_item(DS, name, text)
        b.sync("slow", timeout=120)
        self.assert_server_holds_exactly(expected, "after B's slow sync")
        self.assert_device_holds_exactly(b, expected, "after B's slow sync")

        # Nothing is owed to anyone afterwards: two-ways change no file.
        a_before, b_before = a.items(DS), b.items(DS)
        a.sync("two-way", timeout=120)
        b.sync("two-way", timeout=120)
        self.assertEqual(a.items(DS), a_before, "A's files changed")
        self.assertEqual(b.items(DS), b_before, "B's files changed")

        c = self.make_device(self.server, "dev-c", USER, PASSWORD)
        c.sync("slow", timeout=120)
        self.assert_device_holds_exactly(c, expected, "verifying device C")
        c_by_fn = vcards.by_fn(c.items(DS).values())
        for text in list(originals.values())[::50]:
            fn = vcards.fn_of(text)
            self.assertTrue(vcards.same_contact(text, c_by_fn[fn]),
                            vcards.contact_diff(text, c_by_fn[fn]))


if __name__ == "__main__":
    unittest.main(verbosity=2)
