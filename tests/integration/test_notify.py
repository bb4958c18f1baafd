#!/usr/bin/python3
"""`conflux notify` writes a Server Alerted Notification (OMA DS 1.2
package 0) for a device that has synced a datastore: the bytes follow the
layout of SYNCML-REFERENCE §14 and the digest checks out with the user's
name and password, as a device would check it.

Run: CONFLUX_BIN=/path/to/conflux /usr/bin/python3 test_notify.py
"""

import base64
import hashlib
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import syncml_client as sc  # noqa: E402
import vcards  # noqa: E402
from conflux_server import IntegrationTest  # noqa: E402

USER = "nina"
PASSWORD = "Notify-pw-1"


def b64md5(data):
    return base64.b64encode(hashlib.md5(data).digest())


class NotifyTest(IntegrationTest):

    def test_notification_for_a_known_device(self):
        server = self.make_server()
        server.add_user(USER, PASSWORD)
        server.start()
        sc.slow_sync(server.url, "dev-n", USER, PASSWORD,
                     adds=list(vcards.generate(2, seed=5)))
        out = self.tmp / "san.bin"
        server.cli("notify", "--user", USER, "--device", "dev-n", "--store",
                   "contacts", "--type", "refresh-from-server", "--session",
                   "7", "--out", str(out))
        san = out.read_bytes()
        digest, body = san[:16], san[16:]
        # MD5(B64(MD5(id:password)) ":" nonce ":" B64(MD5(body))), id = user
        expected = hashlib.md5(b64md5(f"{USER}:{PASSWORD}".encode()) + b"::" +
                               b64md5(body)).digest()
        self.assertEqual(digest, expected)
        head = int.from_bytes(body[:5], "big")
        self.assertEqual(head >> 30, 12)              # DS 1.2
        self.assertEqual((head >> 28) & 3, 1)         # background
        self.assertEqual((head >> 27) & 1, 1)         # server initiated
        self.assertEqual(int.from_bytes(body[5:7], "big"), 7)
        n = body[7]
        self.assertEqual(body[8:8 + n], USER.encode())
        rest = body[8 + n:]
        self.assertEqual(rest[0] >> 4, 1)             # one sync
        self.assertEqual(rest[1] >> 4, 10)            # 210
        self.assertEqual(int.from_bytes(rest[2:5], "big"), 0x0309)
        self.assertEqual(rest[6:6 + rest[5]], b"contacts")
        self.assertEqual(len(rest), 6 + len("contacts"))

    def test_unknown_device_or_store_is_refused(self):
        server = self.make_server()
        server.add_user(USER, PASSWORD)
        out = self.tmp / "san.bin"
        proc = server.cli("notify", "--user", USER, "--device", "nobody",
                          "--store", "contacts", "--out", str(out),
                          check=False)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("has not synced", proc.stderr)
        proc = server.cli("notify", "--user", USER, "--device", "nobody",
                          "--store", "nonsense", "--out", str(out),
                          check=False)
        self.assertIn("no datastore 'nonsense'", proc.stderr)
        self.assertFalse(out.exists())


if __name__ == "__main__":
    unittest.main(verbosity=2)
