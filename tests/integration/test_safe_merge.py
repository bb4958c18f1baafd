#!/usr/bin/python3
"""The default configuration loses nothing a user typed (issue #12, item 0),
with the real SyncEvolution client: two devices edit one contact — the NOTE
on both, a new phone on one, a new e-mail on the other — and sync in turn;
both notes, the phone and the e-mail end up on both devices, whichever syncs
first. A device's edit of a contact another device deleted meanwhile is
stored again and reaches every device.

Run: CONFLUX_BIN=/path/to/conflux /usr/bin/python3 test_safe_merge.py
"""

import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import vcards  # noqa: E402
from conflux_server import IntegrationTest  # noqa: E402

DS = "contacts"
USER = "dora"
PASSWORD = "merge-pw"
NAME = "Mara Merge"
# No conflict_policy: the default is what is tested.
STORE = ("[stores.contacts]\nadapter = \"sqlite\"\ncontent_type = \"text/vcard\"\n"
         "content_version = \"3.0\"\n")


def card(note, extra=""):
    return ("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:" + NAME + "\r\nN:Merge;Mara;;;\r\n"
            "TEL;TYPE=CELL:+49 170 1234567\r\nNOTE:" + note + "\r\n" + extra + "END:VCARD\r\n")


def contact_fields(device):
    """{property: sorted values} of the device's only contact named NAME;
    NOTE split into its lines."""
    found = []
    for text in device.items(DS).values():
        fields = vcards.parse_vcard(text)
        if any(v == NAME for _, v in fields.get("FN", [])):
            found.append(fields)
    assert len(found) == 1, f"{device.name}: {len(found)} contacts named {NAME}"
    fields = found[0]
    out = {}
    for prop in ("TEL", "EMAIL"):
        out[prop] = sorted(v for _, v in fields.get(prop, []))
    out["NOTE"] = sorted(line for _, v in fields.get("NOTE", [])
                         for line in v.replace("\\n", "\n").splitlines())
    return out


class SafeMergeTest(IntegrationTest):

    def two_devices(self):
        server = self.make_server(STORE)
        server.add_user(USER, PASSWORD)
        server.start()
        a = self.make_device(server, "dev-a", USER, PASSWORD)
        b = self.make_device(server, "dev-b", USER, PASSWORD)
        a.write_item(DS, "mara.vcf", card("original"))
        a.sync("slow")
        b.sync("slow")
        return server, a, b

    def edit_on_both(self, first_to_sync):
        server, a, b = self.two_devices()
        (name_b,) = list(b.items(DS))
        a.write_item(DS, "mara.vcf",
                     card("note from A", "TEL;TYPE=WORK:+49 30 555 0101\r\n"))
        b.write_item(DS, name_b,
                     card("note from B", "EMAIL;TYPE=INTERNET:mara@example.org\r\n"))
        first, second = (a, b) if first_to_sync == "a" else (b, a)
        first.sync("two-way")
        second.sync("two-way")   # the conflict: merged, sent back at once
        first.sync("two-way")    # gets the merge
        return server, a, b

    def assert_nothing_lost(self, server, a, b):
        for device in (a, b):
            fields = contact_fields(device)
            self.assertEqual(fields["NOTE"], ["note from A", "note from B"], device.name)
            self.assertEqual(fields["TEL"], ["+49 170 1234567", "+49 30 555 0101"], device.name)
            self.assertEqual(fields["EMAIL"], ["mara@example.org"], device.name)
        self.assertEqual(contact_fields(a), contact_fields(b))
        # The conflict is on record, with the default policy's name.
        listing = server.cli("conflicts", "list").stdout.strip().splitlines()[1:]  # under the header
        self.assertEqual(len(listing), 1, listing)
        self.assertIn("merge", listing[0])
        return contact_fields(a)

    def test_both_edit_a_finishes_first(self):
        server, a, b = self.edit_on_both("a")
        self.assert_nothing_lost(server, a, b)

    def test_both_edit_b_finishes_first(self):
        server, a, b = self.edit_on_both("b")
        self.assert_nothing_lost(server, a, b)

    def test_edit_of_an_item_deleted_meanwhile_is_stored_again(self):
        server, a, b = self.two_devices()
        c = self.make_device(server, "dev-c", USER, PASSWORD)
        c.sync("slow")
        a.delete_item(DS, "mara.vcf")
        a.sync("two-way")
        (name_b,) = list(b.items(DS))
        b.write_item(DS, name_b, card("edited on B after A deleted it"))
        b.sync("two-way")
        for device in (a, c, b):
            device.sync("two-way")
            self.assertEqual(contact_fields(device)["NOTE"], ["edited on B after A deleted it"],
                             device.name)


if __name__ == "__main__":
    unittest.main(verbosity=2)
