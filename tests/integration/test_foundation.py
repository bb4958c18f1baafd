#!/usr/bin/python3
"""The foundation acceptance scenario, end to end with the real SyncEvolution
client against a real Conflux process, restarting the server between steps
so that every fact has to come from the data directory:

  1. device A slow-syncs 100 generated contacts;
  2. device B slow-syncs and gets exactly those 100, field by field;
  3. A edits 5 (a phone number and the NOTE), deletes 3, adds 4, two-way;
  4. B two-way gets exactly that: 101 contacts, the 92 untouched ones
     byte-for-byte as before the sync;
  5. A two-way again gets nothing: its own changes are never echoed back;
  6. the server log holds neither the password nor an error line.

Run: CONFLUX_BIN=/path/to/conflux /usr/bin/python3 test_foundation.py
"""

import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import vcards  # noqa: E402
from conflux_server import IntegrationTest, error_lines  # noqa: E402
from sync_summary import (local_changes, parse_summary,  # noqa: E402
                          remote_changes)

DS = "contacts"
USER = "alice"
PASSWORD = "Gr33n-Tea_at-5pm!"   # distinctive, so the log grep means something

EDITED = [3, 17, 42, 64, 88]
DELETED = [5, 50, 99]
ADDED = range(100, 104)


def file_state(device):
    """{file name: bytes} of the device's contacts, plus mtimes to prove a
    file was not rewritten with the same content."""
    state = {}
    for p in sorted(device.item_dir(DS).iterdir()):
        st = p.stat()
        state[p.name] = (p.read_bytes(), st.st_mtime_ns, st.st_ino)
    return state


class FoundationTest(IntegrationTest):
    WBXML = False   # SyncEvolution's default encoding is WBXML; both must work

    def assert_same_contacts(self, expected, actual, what):
        """expected/actual: {FN: vCard text}; same FNs, same content."""
        self.assertEqual(sorted(expected), sorted(actual),
                         f"{what}: different sets of contacts (by FN)")
        for fn, text in expected.items():
            diff = vcards.contact_diff(text, actual[fn])
            self.assertFalse(diff, f"{what}: {fn!r} differs:\n" +
                             "\n".join(diff))

    def sync(self, device, mode):
        _, out = device.sync(mode)
        return parse_summary(out)[DS]

    def test_two_devices_round_trip(self):
        server = self.make_server()
        server.add_user(USER, PASSWORD)
        server.start()

        # 1. A uploads 100 contacts.
        a = self.make_device(server, "dev-a", USER, PASSWORD, wbxml=self.WBXML)
        originals = dict(vcards.generate(100))
        for name, text in originals.items():
            a.write_item(DS, name, text)
        counts = self.sync(a, "slow")
        self.assertEqual(remote_changes(counts), (100, 0, 0), counts)
        self.assertEqual(counts.remote_err + counts.local_err, 0, counts)
        self.assertEqual(a.items(DS), originals,
                         "A's slow sync changed A's own files")

        server.restart()

        # 2. B gets exactly A's 100 contacts.
        b = self.make_device(server, "dev-b", USER, PASSWORD, wbxml=self.WBXML)
        counts = self.sync(b, "slow")
        self.assertEqual(local_changes(counts), (100, 0, 0), counts)
        b_items = b.items(DS)
        self.assertEqual(len(b_items), 100)
        self.assert_same_contacts(vcards.by_fn(a.items(DS).values()),
                                  vcards.by_fn(b_items.values()),
                                  "B after its slow sync vs A")

        server.restart()

        # 3. A: edit 5, delete 3, add 4; two-way.
        a_items = a.items(DS)
        for i in EDITED:
            name = f"contact-{i:04d}.vcf"
            text = vcards.replace_property(a_items[name], "TEL",
                                           f"TEL;TYPE=CELL:+49 170 {i:07d}")
            text = vcards.replace_property(
                text, "NOTE", "NOTE:" + vcards.escape_text(
                    f"Edited on device A; new number, note {i}: a, b; c."))
            a.write_item(DS, name, text)
        for i in DELETED:
            a.delete_item(DS, f"contact-{i:04d}.vcf")
        added = dict(vcards.generate(len(ADDED), start=ADDED.start))
        for name, text in added.items():
            a.write_item(DS, name, text)
        a_after_edit = a.items(DS)
        counts = self.sync(a, "two-way")
        self.assertEqual(remote_changes(counts), (4, 5, 3), counts)
        self.assertEqual(local_changes(counts), (0, 0, 0), counts)

        server.restart()

        # 4. B two-way sees exactly A's changes.
        before = file_state(b)
        counts = self.sync(b, "two-way")
        self.assertEqual(local_changes(counts), (4, 5, 3), counts)
        self.assertEqual(remote_changes(counts), (0, 0, 0), counts)
        after = file_state(b)
        b_by_fn = vcards.by_fn(t.decode() for t, _, _ in after.values())
        self.assertEqual(len(after), 101)
        self.assert_same_contacts(vcards.by_fn(a_after_edit.values()),
                                  b_by_fn, "B after two-way vs A")

        fn_of = {name: vcards.fn_of(text) for name, text in originals.items()}
        deleted_fns = {fn_of[f"contact-{i:04d}.vcf"] for i in DELETED}
        edited_fns = {fn_of[f"contact-{i:04d}.vcf"] for i in EDITED}
        added_fns = {vcards.fn_of(t) for t in added.values()}
        self.assertFalse(deleted_fns & set(b_by_fn), "deleted contacts left")
        self.assertLessEqual(added_fns, set(b_by_fn))
        for fn in edited_fns:
            self.assertIn("Edited on device A", b_by_fn[fn])

        # The file backend rewrites only the files of changed items, so the
        # 92 untouched contacts must be the very same files, byte for byte.
        untouched = {name: state for name, state in before.items()
                     if vcards.fn_of(state[0].decode()) not in
                     deleted_fns | edited_fns}
        self.assertEqual(len(untouched), 92)
        for name, (data, mtime, ino) in untouched.items():
            self.assertIn(name, after, f"untouched contact {name} vanished")
            self.assertEqual(after[name][0], data,
                             f"untouched contact {name} changed")
            self.assertEqual(after[name][1:], (mtime, ino),
                             f"untouched contact {name} was rewritten")

        # 5. A's own changes are never echoed back to A.
        a_before = file_state(a)
        counts = self.sync(a, "two-way")
        self.assertEqual(local_changes(counts), (0, 0, 0), counts)
        self.assertEqual(remote_changes(counts), (0, 0, 0), counts)
        self.assertEqual(file_state(a), a_before, "A's files changed")

        # 6. The log.
        server.stop()
        log = server.log_text()
        self.assertNotIn(PASSWORD, log, "password in the server log")
        self.assertEqual(error_lines(log), [], "error lines in the server log")


class FoundationWbxmlTest(FoundationTest):
    """The same scenario with the client's default encoding, WBXML: the
    server must answer in the encoding the client used."""
    WBXML = True


if __name__ == "__main__":
    unittest.main(verbosity=2)
