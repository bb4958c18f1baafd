#!/usr/bin/python3
"""The mass-deletion guard (issue #12, item 3) with the real SyncEvolution
client, on 300 contacts:
  1. A deletes 200 and syncs: the deletions are held (the session report
     says so); B still has 300 after its sync; `conflux held discard` -> A
     gets the 200 back;
  2. A refresh-syncs an empty address book over the 300: held the same way,
     B keeps 300; discard -> A has 300 again;
  3. A deletes 200 again; `conflux held confirm` -> B has 100 after its next
     sync, and so has A.
The other way, on a vdir store of 30 contacts (mass_delete_min_items = 5):
another program deletes 20 of the files; the device still has 30 after its
sync and the deletion is held for it; discard -> its next sync is slow and
the server has the 20 back; the same again with confirm -> the device has 10.

Run: CONFLUX_BIN=/path/to/conflux /usr/bin/python3 test_mass_delete.py
"""

import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import vcards  # noqa: E402
from conflux_server import IntegrationTest, http_request  # noqa: E402
from engine_checks import server_count  # noqa: E402

DS = "contacts"
USER = "hilde"
PASSWORD = "Held-pw-5"
N = 300
TIMEOUT = 600  # seconds for one sync of 300 contacts on a loaded machine


class MassDeleteTest(IntegrationTest):

    def held_ids(self, server):
        lines = server.cli("held", "list").stdout.strip().splitlines()
        return [line.split("\t") for line in lines]

    def delete_first(self, device, n):
        for name in sorted(device.items(DS))[:n]:
            device.delete_item(DS, name)

    def test_held_until_confirmed_discard_gives_them_back(self):
        server = self.make_server(
            "[stores.contacts]\nadapter = \"sqlite\"\ncontent_type = \"text/vcard\"\n"
            "content_version = \"3.0\"\n")
        server.add_user(USER, PASSWORD)
        server.start()
        a = self.make_device(server, "dev-a", USER, PASSWORD)
        b = self.make_device(server, "dev-b", USER, PASSWORD)
        for name, text in vcards.generate(N, seed=91):
            a.write_item(DS, name, text)
        a.sync("slow", timeout=TIMEOUT)
        b.sync("slow", timeout=TIMEOUT)
        self.assertEqual(len(b.items(DS)), N)

        # 1. 200 deleted on A: held; B keeps 300; discard gives A them back.
        self.delete_first(a, 200)
        a.sync("two-way", timeout=TIMEOUT)
        (held,) = self.held_ids(server)
        self.assertIn("200 items", held[5])
        self.assertIn("device deleted 200 of 300", held[6])
        self.assertEqual(server_count(server, USER), N)
        newest = server.cli("sessions", "list", "--user", USER).stdout.splitlines()
        a_session = next(line for line in newest if "dev-a" in line).split("\t")[0]
        self.assertIn(f"held deletion {held[0]}", server.cli("sessions", "show", a_session).stdout)
        b.sync("two-way", timeout=TIMEOUT)
        self.assertEqual(len(b.items(DS)), N)
        self.assertIn("HELD", server.log_text())
        server.cli("held", "discard", held[0])
        self.assertEqual(self.held_ids(server), [])
        a.sync("two-way", timeout=TIMEOUT)
        self.assertEqual(len(a.items(DS)), N)

        # 2. A refresh from an empty address book: held the same way.
        self.delete_first(a, N)
        a.sync("refresh-from-local", timeout=TIMEOUT)
        (held,) = self.held_ids(server)
        self.assertIn("refresh from client would delete 300 of 300", held[6])
        b.sync("two-way", timeout=TIMEOUT)
        self.assertEqual(len(b.items(DS)), N)
        server.cli("held", "discard", held[0])
        a.sync("two-way", timeout=TIMEOUT)
        self.assertEqual(len(a.items(DS)), N)

        # 3. 200 deleted again, confirmed this time: B follows.
        self.delete_first(a, 200)
        a.sync("two-way", timeout=TIMEOUT)
        (held,) = self.held_ids(server)
        b.sync("two-way", timeout=TIMEOUT)
        self.assertEqual(len(b.items(DS)), N)
        out = server.cli("held", "confirm", held[0]).stdout
        self.assertIn("200 items deleted", out)
        self.assertEqual(server_count(server, USER), N - 200)
        b.sync("two-way", timeout=TIMEOUT)
        self.assertEqual(len(b.items(DS)), N - 200)
        a.sync("two-way", timeout=TIMEOUT)
        self.assertEqual(len(a.items(DS)), N - 200)

    def test_back_end_mass_deletion_held_from_the_device(self):
        root = self.tmp / "vdir"
        server = self.make_server(
            f'[stores.contacts]\nadapter = "vdir"\nroot = "{root}"\ncontent_type = "text/vcard"\n'
            'content_version = "3.0"\nmass_delete_min_items = 5\n')
        server.add_user(USER, PASSWORD)
        server.start()
        a = self.make_device(server, "dev-a", USER, PASSWORD)
        for name, text in vcards.generate(30, seed=93):
            a.write_item(DS, name, text)
        a.sync("slow")
        folder = root / USER / DS

        def files():
            return sorted(p for p in folder.iterdir() if p.suffix == ".vcf")

        self.assertEqual(len(files()), 30)

        # Another program deletes 20 files: held, the device keeps its 30.
        for path in files()[:20]:
            path.unlink()
        a.sync("two-way")
        self.assertEqual(len(a.items(DS)), 30)
        (held,) = self.held_ids(server)
        self.assertIn("server would delete 20 of 30 items on the device", held[6])
        self.assertTrue(held[4].endswith("dev-a"), held)
        _, _, body = http_request(server.base_url + "/metrics")
        self.assertIn('conflux_held_deletions{direction="to_device"} 1', body.decode())
        a.sync("two-way")
        self.assertEqual(len(a.items(DS)), 30, "a waiting hold is not sent")
        self.assertEqual(len(self.held_ids(server)), 1)

        # Discard: the device's next sync is slow and gives the server its 20 back.
        out = server.cli("held", "discard", held[0]).stdout
        self.assertIn("sends them back", out)
        a.sync("two-way")
        self.assertEqual(len(a.items(DS)), 30)
        self.assertEqual(len(files()), 30)
        self.assertEqual(self.held_ids(server), [])

        # Again, confirmed this time: the device follows the back end.
        for path in files()[:20]:
            path.unlink()
        a.sync("two-way")
        (held,) = self.held_ids(server)
        server.cli("held", "confirm", held[0])
        a.sync("two-way")
        self.assertEqual(len(a.items(DS)), 10)
        self.assertEqual(self.held_ids(server), [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
