#!/usr/bin/python3
"""The item history and restore (issue #12, items 1 and 2) with the real
SyncEvolution client: two devices edit, add and delete over several
sessions; `conflux restore --before-session` puts both devices back exactly
as they were before that session; restoring the restore brings the edits
back. `conflux history` lists the sessions; a moment older than the
retention is refused, and so is one before the versions a purge by count
(history_versions) dropped. Changes another program makes in a cached vdir store,
brought in by the Back End Monitor, are kept too, and a restore before them
puts the device back as it was.

Run: CONFLUX_BIN=/path/to/conflux /usr/bin/python3 test_history.py
"""

import re
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import vcards  # noqa: E402
from conflux_server import IntegrationTest, poll_until  # noqa: E402

DS = "contacts"
USER = "rita"
PASSWORD = "Restore-pw-1"


def parsed(device):
    """{FN: parsed vCard} of the device's contacts."""
    return {fn: vcards.parse_vcard(text) for fn, text in vcards.by_fn(device.items(DS).values()).items()}


def file_of(device, fn):
    return next(name for name, text in device.items(DS).items() if vcards.fn_of(text) == fn)


class HistoryTest(IntegrationTest):

    def last_session_of(self, server, device_name):
        lines = server.cli("sessions", "list", "--user", USER).stdout.splitlines()
        return next(line for line in lines if device_name in line).split("\t")[0]

    def test_restore_before_a_session_and_undo_it(self):
        server = self.make_server(
            "[stores.contacts]\nadapter = \"sqlite\"\ncontent_type = \"text/vcard\"\n"
            "content_version = \"3.0\"\n")
        server.add_user(USER, PASSWORD)
        server.start()
        a = self.make_device(server, "dev-a", USER, PASSWORD)
        b = self.make_device(server, "dev-b", USER, PASSWORD)
        cards = vcards.generate(4, seed=61)
        for name, text in cards:
            a.write_item(DS, name, text)
        a.sync("slow")
        b.sync("slow")
        fns = [vcards.fn_of(text) for _, text in cards]

        # Session 1 (kept): A edits contact 0.
        name0 = file_of(a, fns[0])
        a.write_item(DS, name0, vcards.replace_property(a.items(DS)[name0], "NOTE", "NOTE:kept edit"))
        a.sync("two-way")
        b.sync("two-way")
        before = parsed(a)
        self.assertEqual(parsed(b), before)

        # Session S on A: edit contact 1, delete contact 2, add a new one.
        name1 = file_of(a, fns[1])
        a.write_item(DS, name1, vcards.replace_property(a.items(DS)[name1], "NOTE", "NOTE:undone edit"))
        a.delete_item(DS, file_of(a, fns[2]))
        (new_name, new_text), = vcards.generate(1, seed=62, start=50)
        a.write_item(DS, new_name, new_text)
        a.sync("two-way")
        session_s = self.last_session_of(server, "dev-a")
        # Later, on B: contact 0 edited again.
        b.sync("two-way")
        name0_b = file_of(b, fns[0])
        b.write_item(DS, name0_b, vcards.replace_property(b.items(DS)[name0_b], "NOTE", "NOTE:later edit"))
        b.sync("two-way")
        a.sync("two-way")
        after = parsed(a)
        self.assertEqual(parsed(b), after)
        self.assertNotEqual(after, before)

        history = server.cli("history", USER, DS).stdout
        self.assertIn(session_s, history)
        self.assertRegex(history, re.escape(session_s) + r".*created 1 updated 1 deleted 1")

        dry = server.cli("restore", USER, DS, "--before-session", session_s, "--dry-run").stdout
        self.assertIn("dry run", dry)
        self.assertEqual(parsed(a), after, "a dry run changes nothing")

        out = server.cli("restore", USER, DS, "--before-session", session_s).stdout
        for device in (a, b):
            device.sync("two-way")
            self.assertEqual(parsed(device), before, device.name)

        # The restore is a session of its own: restoring before it undoes it.
        restore_session = re.search(r"--before-session (\S+)", out).group(1)
        server.cli("restore", USER, DS, "--before-session", restore_session)
        for device in (a, b):
            device.sync("two-way")
            self.assertEqual(parsed(device), after, device.name)

        # A moment older than the retention (30 days by default) is refused.
        old = server.cli("restore", USER, DS, "--to", "2000-01-01 00:00:00", check=False)
        self.assertNotEqual(old.returncode, 0)
        self.assertIn("older than the retention of 30 days", old.stderr)

    def test_purge_by_count_and_a_restore_older_than_it(self):
        server = self.make_server(
            "[stores.contacts]\nadapter = \"sqlite\"\ncontent_type = \"text/vcard\"\n"
            "content_version = \"3.0\"\nhistory_versions = 2\n")
        server.add_user(USER, PASSWORD)
        server.start()
        a = self.make_device(server, "dev-a", USER, PASSWORD)
        (name, text), = vcards.generate(1, seed=64)
        a.write_item(DS, name, text)
        a.sync("slow")
        sessions = [self.last_session_of(server, "dev-a")]
        for note in ("first edit", "second edit"):
            a.write_item(DS, name, vcards.replace_property(a.items(DS)[name], "NOTE", "NOTE:" + note))
            a.sync("two-way")
            sessions.append(self.last_session_of(server, "dev-a"))
        history = server.cli("history", USER, DS).stdout
        for session in sessions:
            self.assertIn(session, history)

        server.restart()  # `conflux serve` purges at start, then hourly
        poll_until(lambda: sessions[0] not in server.cli("history", USER, DS).stdout, 60,
                   what="the oldest version purged")
        history = server.cli("history", USER, DS).stdout
        self.assertIn(sessions[1], history)
        self.assertIn(sessions[2], history)

        refused = server.cli("restore", USER, DS, "--before-session", sessions[1], check=False)
        self.assertNotEqual(refused.returncode, 0)
        self.assertIn("older than the retention", refused.stderr)
        self.assertIn("at most 2 versions", refused.stderr)
        # Within what is kept, a restore still works.
        server.cli("restore", USER, DS, "--before-session", sessions[2])
        a.sync("two-way")
        (card,) = a.items(DS).values()
        self.assertIn("NOTE:first edit", card)
        self.assertNotIn("second edit", card)

    def test_changes_by_another_program_are_kept_and_restored(self):
        root = self.tmp / "vdir"
        server = self.make_server(
            f'[stores.contacts]\nadapter = "vdir"\nroot = "{root}"\n'
            'content_type = "text/vcard"\ncontent_version = "3.0"\n'
            'cache = true\ncache_trigger = "amount"\ncache_amount = 1\nbackend_poll_seconds = 1\n')
        server.add_user(USER, PASSWORD)
        server.start()
        a = self.make_device(server, "dev-a", USER, PASSWORD)
        for name, text in vcards.generate(3, seed=63):
            a.write_item(DS, name, text)
        a.sync("slow")
        before = parsed(a)
        folder = root / USER / DS

        def vcf_files():
            return sorted(folder.glob("*.vcf")) if folder.is_dir() else []

        poll_until(lambda: len(vcf_files()) == 3, 60, what="3 contacts replicated into the vdir")

        # Another program edits one file and deletes another.
        edited, deleted = vcf_files()[:2]
        text = edited.read_bytes().decode("utf-8")
        edited.write_bytes(vcards.replace_property(text, "NOTE", "NOTE:edited elsewhere").encode("utf-8"))
        deleted.unlink()

        def backend_sessions():
            lines = [line.split("\t") for line in server.cli("history", USER, DS).stdout.splitlines()]
            ours = [cols for cols in lines if cols[0].startswith("backend-")]
            summary = " ".join(cols[3] for cols in ours)
            seen_both = re.search(r"updated 1", summary) and re.search(r"deleted 1", summary)
            return ours if seen_both else None

        sessions = poll_until(backend_sessions, 60, what="the other program's changes in the history")
        self.assertTrue(all(cols[2] == "back end" for cols in sessions), sessions)
        a.sync("two-way")
        self.assertNotEqual(parsed(a), before)
        self.assertEqual(len(a.items(DS)), 2)

        server.cli("restore", USER, DS, "--before-session", sessions[0][0])
        a.sync("two-way")
        self.assertEqual(parsed(a), before)
        poll_until(lambda: len(vcf_files()) == 3, 60, what="the restored contact back in the vdir")


if __name__ == "__main__":
    unittest.main(verbosity=2)
