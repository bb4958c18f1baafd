#!/usr/bin/python3
"""A datastore moved to another back end (issue #12, item 4), with the real
SyncEvolution client. Two devices sync `contacts` on sqlite; the store is
switched to vdir (an empty directory) with a restart, then back to sqlite
(which still holds the old items) with another restart. After each switch
every device's next ordinary two-way sync becomes a slow sync that matches:
each device keeps all its items, the server ends with the union, nothing is
deleted and nothing doubled.

Run: CONFLUX_BIN=/path/to/conflux /usr/bin/python3 test_store_move.py
"""

import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import vcards  # noqa: E402
from conflux_server import IntegrationTest  # noqa: E402
from engine_checks import device_fns, doubled, server_fns  # noqa: E402

DS = "contacts"
USER = "moritz"
PASSWORD = "Move-pw-3"
SQLITE = 'adapter = "sqlite"'


class StoreMoveTest(IntegrationTest):

    def switch(self, server, adapter_lines):
        """Configure `contacts` with `adapter_lines` and restart."""
        text = server.config_path.read_text()
        head, tail = text.split("[stores.contacts]\n")
        rest = [line for line in tail.splitlines()
                if not line.startswith(("adapter =", "root ="))]
        server.config_path.write_text(
            head + "[stores.contacts]\n" + adapter_lines + "\n" + "\n".join(rest) + "\n")
        server.restart()

    def vdir_fns(self, root):
        folder = root / USER / DS
        return sorted(vcards.fn_of(p.read_bytes().decode("utf-8"))
                      for p in folder.iterdir() if p.suffix == ".vcf")

    def assert_kept(self, device, before, extra=()):
        now = device_fns(device)
        self.assertEqual(doubled(now), {}, device.name)
        self.assertEqual(set(now), set(before) | set(extra), device.name)

    def test_sqlite_to_vdir_and_back(self):
        root = self.tmp / "vdir"
        server = self.make_server(
            "[stores.contacts]\n" + SQLITE + "\ncontent_type = \"text/vcard\"\n"
            "content_version = \"3.0\"\n")
        server.add_user(USER, PASSWORD)
        server.start()
        a = self.make_device(server, "dev-a", USER, PASSWORD)
        b = self.make_device(server, "dev-b", USER, PASSWORD)
        for name, text in vcards.generate(4, seed=81):
            a.write_item(DS, name, text)
        for name, text in vcards.generate(2, seed=82, start=100):
            b.write_item(DS, name, text)
        a.sync("slow")
        b.sync("slow")
        a.sync("two-way")
        everything = set(device_fns(a))
        self.assertEqual(len(everything), 6)
        self.assertEqual(set(device_fns(b)), everything)

        # To vdir: an empty directory. A adds one before its next sync.
        self.switch(server, f'adapter = "vdir"\nroot = "{root}"')
        (added_a, text_a), = vcards.generate(1, seed=83, start=200)
        a.write_item(DS, added_a, text_a)
        a.sync("two-way")
        self.assert_kept(a, everything, [vcards.fn_of(text_a)])
        b.sync("two-way")
        self.assert_kept(b, everything, [vcards.fn_of(text_a)])
        everything |= {vcards.fn_of(text_a)}
        self.assertEqual(self.vdir_fns(root), sorted(everything), "the union, once each")
        # Settled: one more sync changes nothing.
        a.sync("two-way")
        self.assert_kept(a, everything)

        # Back to sqlite, which still holds the first six. B adds one.
        self.switch(server, SQLITE)
        (added_b, text_b), = vcards.generate(1, seed=84, start=300)
        b.write_item(DS, added_b, text_b)
        b.sync("two-way")
        self.assert_kept(b, everything, [vcards.fn_of(text_b)])
        a.sync("two-way")
        self.assert_kept(a, everything, [vcards.fn_of(text_b)])
        everything |= {vcards.fn_of(text_b)}
        on_server = server_fns(server, USER)
        self.assertEqual(doubled(on_server), {})
        self.assertEqual(set(on_server), everything)
        # The log says why each device slow-synced.
        self.assertIn("back end changed from", server.log_text())


if __name__ == "__main__":
    unittest.main(verbosity=2)
