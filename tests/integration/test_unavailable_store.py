#!/usr/bin/python3
"""A datastore whose adapter cannot be made at start does not stop the
server: its devices get 503 on their Alert, the log names the store and why,
and every other datastore syncs.

Three stores: contacts (sqlite, works), calendar (vdir whose root lies under
a regular file: the factory cannot create it) and notes (sqlite with a key
the adapter does not know: a bad value).  `conflux check-config` still
refuses the file.

Run: CONFLUX_BIN=/path/to/conflux /usr/bin/python3 test_unavailable_store.py
"""

import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import syncml_client  # noqa: E402
from conflux_server import IntegrationTest  # noqa: E402

USER = "uma"
PASSWORD = "Unavail-pw-4"
CARD = ("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Una Vailable\r\n"
        "N:Vailable;Una;;;\r\nEND:VCARD\r\n")


class UnavailableStoreTest(IntegrationTest):

    def test_a_store_that_cannot_be_made_answers_503_and_the_other_syncs(self):
        blocker = self.tmp / "a-file"
        blocker.write_text("not a directory\n")
        server = self.make_server(
            '[stores.contacts]\nadapter = "sqlite"\ncontent_type = "text/vcard"\n'
            '[stores.calendar]\nadapter = "vdir"\ncontent_type = "text/calendar"\n'
            f'root = "{blocker}/calendar"\n'
            '[stores.notes]\nadapter = "sqlite"\ncontent_type = "text/plain"\n'
            'colour = "blue"\n')
        server.add_user(USER, PASSWORD)
        server.start()

        log = server.log_text()
        self.assertIn(f"stores.calendar.root: cannot create directory {blocker}/calendar", log)
        self.assertIn("datastore 'calendar' is unavailable", log)
        self.assertIn("stores.notes.colour: unknown key for adapter sqlite", log)
        self.assertIn("datastore 'notes' is unavailable", log)

        for store in ("calendar", "notes"):
            with self.subTest(store=store):
                refused = syncml_client.RawSession(server.url, f"dev-{store}", USER,
                                                   PASSWORD, datastore=store,
                                                   local=f"./{store}")
                refused.start(alert=201, expect=503)

        first = syncml_client.slow_sync(server.url, "dev-a", USER, PASSWORD,
                                        adds=[("1", CARD)])
        self.assertEqual([code for _, _, code in first.item_statuses], [201],
                         first.item_statuses)
        second = syncml_client.slow_sync(server.url, "dev-b", USER, PASSWORD)
        self.assertEqual(len(second.received), 1, second.received)
        self.assertIn("FN:Una Vailable", next(iter(second.received.values())))

        check = server.cli("check-config", check=False)
        self.assertNotEqual(check.returncode, 0, check.stdout)
        self.assertIn("stores.", check.stderr.strip().splitlines()[-1])
        server.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
