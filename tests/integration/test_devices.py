#!/usr/bin/python3
"""`conflux devices list|show|forget` (issue #19, item 8): a device that
sent its DevInf and synced is listed with its model and datastores, `show`
prints the DevInf it sent and how many items it holds, and `forget` drops
its anchors and maps, so its next two-way sync is answered 508 and becomes
a slow sync, which matches what the server has and duplicates nothing.

Run: CONFLUX_BIN=/path/to/conflux /usr/bin/python3 test_devices.py
"""

import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import syncml_client as sc  # noqa: E402
import vcards  # noqa: E402
from conflux_server import IntegrationTest  # noqa: E402

USER = "dora"
PASSWORD = "Devices-pw-1"
DEVICE = "IMEI:35-209900-176148-1"
DEVINF = {"Man": "Nokia", "Mod": "E71", "OEM": "Nokia", "SwV": "110.07.127",
          "DevTyp": "phone"}


class DevicesTest(IntegrationTest):

    def session(self, server, device=DEVICE, session_id="1"):
        return sc.RawSession(server.url, device, USER, PASSWORD,
                             session_id=session_id, devinf=DEVINF)

    def test_list_show_and_forget_a_device(self):
        server = self.make_server()
        server.add_user(USER, PASSWORD)
        server.add_user("other", "Other-pw-1")
        server.start()
        cards = [(str(i), text) for i, (_, text)
                 in enumerate(vcards.generate(3, seed=19))]
        first = self.session(server)
        first.start(alert=201, next_anchor="a1")
        first.sync(adds=cards)
        first.finish()

        listed = server.cli("devices", "list").stdout.splitlines()
        self.assertEqual(listed[0].split("\t"),
                         ["user", "device", "model", "last sync (UTC)",
                          "datastores"])
        self.assertEqual(len(listed), 2, listed)
        row = listed[1].split("\t")
        self.assertEqual(row[:3], [USER, DEVICE, "Nokia E71 110.07.127"])
        self.assertRegex(row[3], r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")
        self.assertEqual(row[4], "contacts")
        self.assertEqual(server.cli("devices", "list", "--user", "other")
                         .stdout, "")

        shown = server.cli("devices", "show", USER, DEVICE).stdout
        self.assertIn("datastore contacts: 3 items mapped", shown)
        self.assertIn("manufacturer: Nokia", shown)
        self.assertIn("software: 110.07.127", shown)
        self.assertIn(f"<DevID>{DEVICE}</DevID>", shown)  # the DevInf as sent

        # A normal two-way sync continues from the anchors.
        second = self.session(server, session_id="2")
        second.start(alert=200, last="a1", next_anchor="a2", expect=200)
        second.sync()
        second.finish()

        forgot = server.cli("devices", "forget", USER, DEVICE).stdout
        self.assertIn(f"forgot device {DEVICE} of {USER}", forgot)
        self.assertIn("slow sync", forgot)
        self.assertEqual(server.cli("devices", "list").stdout, "")
        missing = server.cli("devices", "show", USER, DEVICE, check=False)
        self.assertEqual(missing.returncode, 1)
        self.assertIn(f"user {USER} has no device {DEVICE}", missing.stderr)

        # The device's next two-way sync: 508, then a slow sync that matches
        # its three items with the server's and sends nothing back.
        third = self.session(server, session_id="3")
        reply = third.start(alert=200, last="a2", next_anchor="a3",
                            expect=508)
        self.assertEqual(third.server_alert_code(reply), 201)
        third.sync(adds=cards)
        third.finish()
        self.assertEqual(third.received, {})
        # A new device gets exactly the three.
        fresh = self.session(server, device="fresh-device", session_id="4")
        fresh.start(alert=201)
        fresh.sync()
        fresh.finish()
        self.assertEqual(sorted(vcards.fn_of(t) for t in fresh.received.values()),
                         sorted(vcards.fn_of(t) for _, t in cards))
        self.assertTrue(server.running())


if __name__ == "__main__":
    unittest.main()
