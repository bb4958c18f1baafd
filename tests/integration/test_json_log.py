#!/usr/bin/python3
"""`[log] format = "json"` (issue #19 part 6): a server started with it
writes one JSON object per line, and the lines of a real SyncEvolution sync
carry the session, user, device and datastore they belong to.

Run: CONFLUX_BIN=/path/to/conflux /usr/bin/python3 test_json_log.py
"""

import json
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import vcards  # noqa: E402
from conflux_server import IntegrationTest  # noqa: E402

USER, PASSWORD = "alice", "Json-log-pw-5"
DEVICE_ID = "conflux-it-json-phone"


class JsonLogTest(IntegrationTest):

    def test_sync_lines_are_json_with_their_context(self):
        server = self.make_server('[log]\nformat = "json"\n')
        server.start()
        server.add_user(USER, PASSWORD)
        device = self.make_device(server, "phone", USER, PASSWORD,
                                  device_id=DEVICE_ID)
        device.write_item("contacts", "one.vcf", vcards.contact(1))
        device.sync("slow")
        server.stop()

        lines = server.log_text().splitlines()
        self.assertTrue(lines)
        records = []
        for line in lines:
            record = json.loads(line)  # every line, start to stop
            for key in ("time", "level", "logger", "message"):
                self.assertIn(key, record, line)
            records.append(record)

        # The line that reports the datastore's sync, with all four fields.
        done = [r for r in records if r["logger"] == "engine" and
                "sync" in r["message"] and "done" in r["message"]]
        self.assertEqual(len(done), 1, done)
        self.assertEqual(done[0]["user"], USER)
        self.assertEqual(done[0]["device"], DEVICE_ID)
        self.assertEqual(done[0]["datastore"], "contacts")
        session = done[0]["session"]
        self.assertTrue(session)
        # Other lines of the session carry it too, and none names another.
        of_session = [r for r in records if r.get("session") == session]
        self.assertGreater(len(of_session), 1)
        self.assertTrue(all(r.get("device") == DEVICE_ID for r in of_session))
        # Lines outside a sync carry no sync fields.
        listening = [r for r in records if "Conflux listening on" in r["message"]]
        self.assertEqual(len(listening), 1)
        self.assertNotIn("session", listening[0])
        self.assertNotIn(PASSWORD, server.log_text())


if __name__ == "__main__":
    unittest.main()
