#!/usr/bin/python3
"""The vdir back end with a real SyncEvolution client:

  1. device A slow-syncs 10 contacts: 10 .vcf files appear under
     <root>/<user>/contacts/, one per contact, with the contacts' content;
  2. another program (this test) adds a .vcf file, edits one and deletes one
     in that directory;
  3. A's next two-way sync gets exactly those 3 changes (1 new, 1 changed,
     1 deleted locally, nothing else);
  4. device B slow-syncs and gets the 10 current contacts.

Run: CONFLUX_BIN=/path/to/conflux /usr/bin/python3 test_vdir.py
"""

import os
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import vcards  # noqa: E402
from conflux_server import IntegrationTest, error_lines  # noqa: E402
from engine_checks import device_fns, doubled  # noqa: E402
from sync_summary import local_changes, parse_summary  # noqa: E402

DS = "contacts"
USER = "vera"
PASSWORD = "Vdir-pw-7"
N = 10


def write_atomically(path, text):
    """Write as vdirsyncer does: a dotfile next to the target, renamed over
    it (so the edit gets a new inode whatever the clock)."""
    tmp = path.parent / f".{path.name}.tmp"
    tmp.write_bytes(text.encode("utf-8"))
    os.replace(tmp, path)


class VdirTest(IntegrationTest):

    def collection(self):
        return self.root / USER / DS

    def server_cards(self):
        """{file name: text} of the .vcf files of the user's collection."""
        return {p.name: p.read_bytes().decode("utf-8")
                for p in sorted(self.collection().iterdir())
                if p.is_file() and p.suffix == ".vcf"}

    def test_files_and_changes_by_another_program(self):
        self.root = self.tmp / "vdir"
        self.server = self.make_server(
            f'[stores.contacts]\nadapter = "vdir"\nroot = "{self.root}"\n'
            'content_type = "text/vcard"\ncontent_version = "3.0"\n')
        self.server.add_user(USER, PASSWORD)
        self.server.start()

        originals = dict(vcards.generate(N, seed=77))
        a = self.make_device(self.server, "dev-a", USER, PASSWORD)
        for name, text in originals.items():
            a.write_item(DS, name, text)
        a.sync("slow", timeout=120)

        # 1. One file per contact, with the contact's content.
        files = self.server_cards()
        self.assertEqual(len(files), N, sorted(files))
        self.assertEqual(
            [p.name for p in self.collection().iterdir()
             if not p.name.endswith(".vcf")], [], "stray files")
        on_server = vcards.by_fn(files.values())
        for text in originals.values():
            fn = vcards.fn_of(text)
            self.assertIn(fn, on_server)
            self.assertTrue(vcards.same_contact(text, on_server[fn]),
                            vcards.contact_diff(text, on_server[fn]))

        # Nothing is owed afterwards.
        _, out = a.sync("two-way", timeout=120)
        self.assertEqual(local_changes(parse_summary(out)[DS]), (0, 0, 0))

        # 2. Another program: add, edit, delete.
        names = sorted(files)
        edited_name, deleted_name = names[0], names[1]
        edited_fn = vcards.fn_of(files[edited_name])
        deleted_fn = vcards.fn_of(files[deleted_name])
        edited = vcards.replace_property(files[edited_name], "NOTE",
                                         "NOTE:edited by khard")
        write_atomically(self.collection() / edited_name, edited)
        (self.collection() / deleted_name).unlink()
        added = vcards.contact(500, seed=78)
        write_atomically(self.collection() / "khard-added-1.vcf", added)

        # 3. Exactly those three changes reach A.
        _, out = a.sync("two-way", timeout=120)
        counts = parse_summary(out)[DS]
        self.assertEqual(local_changes(counts), (1, 1, 1), out[-3000:])
        self.assertEqual(counts.local_err, 0)
        expected = ({vcards.fn_of(t) for t in originals.values()}
                    - {deleted_fn}) | {vcards.fn_of(added)}
        got = device_fns(a)
        self.assertEqual(doubled(got), {})
        self.assertEqual(set(got), expected)
        a_by_fn = vcards.by_fn(a.items(DS).values())
        self.assertTrue(vcards.same_contact(edited, a_by_fn[edited_fn]),
                        vcards.contact_diff(edited, a_by_fn[edited_fn]))
        self.assertTrue(vcards.same_contact(added,
                                            a_by_fn[vcards.fn_of(added)]))
        # And nothing further after that.
        _, out = a.sync("two-way", timeout=120)
        self.assertEqual(local_changes(parse_summary(out)[DS]), (0, 0, 0))
        self.assertEqual(len(self.server_cards()), N)

        # 4. A second device gets the 10 current contacts.
        b = self.make_device(self.server, "dev-b", USER, PASSWORD)
        b.sync("slow", timeout=120)
        got = device_fns(b)
        self.assertEqual(doubled(got), {})
        self.assertEqual(set(got), expected)
        self.assertEqual(len(b.items(DS)), N)
        b_by_fn = vcards.by_fn(b.items(DS).values())
        self.assertTrue(vcards.same_contact(edited, b_by_fn[edited_fn]),
                        vcards.contact_diff(edited, b_by_fn[edited_fn]))

        self.server.stop()
        self.assertEqual(error_lines(self.server.log_text()), [])
        self.assertTrue((self.server.data_dir / "vdir-contacts.db").exists())


if __name__ == "__main__":
    unittest.main(verbosity=2)
