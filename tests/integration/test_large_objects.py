#!/usr/bin/python3
"""Large objects both ways with the real SyncEvolution client: a contact with
a 300 KB JPEG PHOTO travels in chunks (MoreData, Size, 213) because both
devices allow only 20000-byte messages; after A → server → B the photo is
byte-equal. Run in XML and in WBXML.

Run: CONFLUX_BIN=/path/to/conflux /usr/bin/python3 test_large_objects.py
"""

import base64
import random
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import vcards  # noqa: E402
from conflux_server import IntegrationTest  # noqa: E402

DS = "contacts"
USER = "lara"
PASSWORD = "large-objects"
SMALL = {"maxMsgSize": "20000", "maxObjSize": "4000000"}


def jpeg(n_bytes, seed=7):
    """A JPEG-looking blob: SOI marker, random body, EOI marker."""
    rnd = random.Random(seed)
    return b"\xff\xd8\xff\xe0" + bytes(rnd.getrandbits(8) for _ in range(n_bytes - 6)) + b"\xff\xd9"


def card_with_photo(photo):
    b64 = base64.b64encode(photo).decode()
    folded = "\r\n ".join(b64[i:i + 74] for i in range(0, len(b64), 74))
    return ("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Petra Photo\r\nN:Photo;Petra;;;\r\n"
            "TEL;TYPE=CELL:+49 151 2345678\r\nNOTE:big picture\r\n"
            "PHOTO;ENCODING=b;TYPE=JPEG:" + folded + "\r\nEND:VCARD\r\n")


def photo_of(device):
    (text,) = device.items(DS).values()
    if isinstance(text, bytes):
        text = text.decode()
    fields = vcards.parse_vcard(text)
    ((_, photo),) = fields["PHOTO"]
    return photo


class LargeObjectTest(IntegrationTest):
    WBXML = False

    def test_photo_round_trip_in_chunks(self):
        server = self.make_server()
        server.add_user(USER, PASSWORD)
        server.start()
        photo = jpeg(300 * 1024)
        a = self.make_device(server, "dev-a", USER, PASSWORD, wbxml=self.WBXML, extra=SMALL)
        a.write_item(DS, "petra.vcf", card_with_photo(photo))
        a.sync("slow")
        b = self.make_device(server, "dev-b", USER, PASSWORD, wbxml=self.WBXML, extra=SMALL)
        b.sync("slow")
        self.assertEqual(len(b.items(DS)), 1)
        self.assertEqual(photo_of(b), photo, "the photo changed on the way")
        # The server really received it whole, and chunks were needed both ways.
        log = server.log_text()
        self.assertNotIn("declared", log)
        # A two-way afterwards moves nothing.
        _, out = a.sync("two-way")
        self.assertEqual(photo_of(a), photo)


class LargeObjectWbxmlTest(LargeObjectTest):
    WBXML = True


if __name__ == "__main__":
    unittest.main(verbosity=2)
