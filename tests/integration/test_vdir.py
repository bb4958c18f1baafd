#!/usr/bin/python3
"""The vdir back end with a real SyncEvolution client.

test_files_and_changes_by_another_program (contacts, no cache):
  1. device A slow-syncs 10 contacts: 10 .vcf files appear under
     <root>/<user>/contacts/, one per contact, with the contacts' content;
  2. another program (this test) adds a .vcf file, edits one and deletes one
     in that directory;
  3. A's next two-way sync gets exactly those 3 changes (1 new, 1 changed,
     1 deleted locally, nothing else);
  4. device B slow-syncs and gets the 10 current contacts.

test_contacts_and_events (contacts and calendar, no cache): A slow-syncs 4
contacts and 5 events; .vcf and .ics files appear; another program adds,
edits and deletes .ics files; A's next sync gets exactly those changes.

test_push_monitor (both stores cached, backend_monitor = "push", a poll
interval of a day): the device's items reach the directories through the
Cache Monitor; files another program adds, edits and deletes reach the
cache through inotify (the server logs it; the test waits for that line)
and the device on its next sync — no poll could have found them.

Run: CONFLUX_BIN=/path/to/conflux /usr/bin/python3 test_vdir.py
"""

import os
import re
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import vcards  # noqa: E402
from conflux_server import IntegrationTest, error_lines, poll_until  # noqa: E402
from engine_checks import device_fns, doubled  # noqa: E402
from sync_summary import local_changes, parse_summary  # noqa: E402

DS = "contacts"
USER = "vera"
PASSWORD = "Vdir-pw-7"
N = 10


CAL = "calendar"
BOTH = {DS: ("text/vcard", DS), CAL: ("text/calendar", CAL)}
PUSH_TIMEOUT = 60  # seconds a file may take to reach the cache by inotify


def event(i, summary=None):
    """An iCalendar 2.0 event with a stable UID."""
    day = 10 + i
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
            "PRODID:-//Conflux tests//vdir//EN\r\nBEGIN:VEVENT\r\n"
            f"UID:conflux-vdir-{i:02d}@example.org\r\n"
            "DTSTAMP:20260101T000000Z\r\n"
            f"DTSTART:202604{day:02d}T090000Z\r\n"
            f"DTEND:202604{day:02d}T100000Z\r\n"
            f"SUMMARY:{summary or f'Meeting {i}'}\r\n"
            "END:VEVENT\r\nEND:VCALENDAR\r\n")


def unfolded(text):
    return text.replace("\r\n ", "").replace("\n ", "")


def prop(text, name):
    """The value of the first `name` property of an iCalendar text."""
    m = re.search(rf"^{name}(?:;[^:\r\n]*)?:(.*?)\r?$", unfolded(text), re.M)
    return m.group(1) if m else None


def events_by_uid(texts):
    """{UID: SUMMARY} of iCalendar texts."""
    return {prop(t, "UID"): prop(t, "SUMMARY") for t in texts}


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


    def files(self, ds, suffix):
        """{file name: text} of the user's collection `ds`."""
        d = self.root / USER / ds
        return {p.name: p.read_bytes().decode("utf-8")
                for p in sorted(d.iterdir())
                if p.is_file() and p.suffix == suffix} if d.is_dir() else {}

    def fill_device(self, a):
        contacts = dict(vcards.generate(4, seed=91))
        for name, text in contacts.items():
            a.write_item(DS, name, text)
        events = {f"event-{i}.ics": event(i) for i in range(5)}
        for name, text in events.items():
            a.write_item(CAL, name, text)
        return contacts, events

    def change_events(self, files):
        """Another program edits one .ics, deletes one and adds one; returns
        the {UID: SUMMARY} the device must end up with."""
        names = sorted(files)
        edited, deleted = names[0], names[1]
        expected = events_by_uid(files.values())
        uid = prop(files[edited], "UID")
        text = unfolded(files[edited])
        text = re.sub(r"^SUMMARY:.*$", "SUMMARY:moved by khal", text,
                      count=1, flags=re.M)
        write_atomically(self.root / USER / CAL / edited, text)
        expected[uid] = "moved by khal"
        del expected[prop(files[deleted], "UID")]
        (self.root / USER / CAL / deleted).unlink()
        added = event(50, "added by khal")
        write_atomically(self.root / USER / CAL / "khal-added.ics", added)
        expected[prop(added, "UID")] = "added by khal"
        return expected

    def test_contacts_and_events(self):
        self.root = self.tmp / "vdir"
        self.server = self.make_server(
            f'[stores.contacts]\nadapter = "vdir"\nroot = "{self.root}"\n'
            'content_type = "text/vcard"\ncontent_version = "3.0"\n'
            f'[stores.calendar]\nadapter = "vdir"\nroot = "{self.root}"\n'
            'content_type = "text/calendar"\ncontent_version = "2.0"\n')
        self.server.add_user(USER, PASSWORD)
        self.server.start()
        a = self.make_device(self.server, "dev-a", USER, PASSWORD,
                             datastores=BOTH)
        contacts, events = self.fill_device(a)
        a.sync("slow", timeout=120)

        # The files: one .vcf per contact, one .ics per event.
        self.assertEqual(
            set(vcards.by_fn(self.files(DS, ".vcf").values())),
            {vcards.fn_of(t) for t in contacts.values()})
        ics = self.files(CAL, ".ics")
        self.assertEqual(events_by_uid(ics.values()),
                         events_by_uid(events.values()))
        self.assertEqual([p.name for p in (self.root / USER / CAL).iterdir()
                          if p.suffix != ".ics"], [], "stray files")

        expected = self.change_events(ics)
        _, out = a.sync("two-way", timeout=120)
        counts = parse_summary(out)
        self.assertEqual(local_changes(counts[CAL]), (1, 1, 1), out[-3000:])
        self.assertEqual(local_changes(counts[DS]), (0, 0, 0), out[-3000:])
        self.assertEqual(events_by_uid(a.items(CAL).values()), expected)
        _, out = a.sync("two-way", timeout=120)
        self.assertEqual(local_changes(parse_summary(out)[CAL]), (0, 0, 0))

        self.server.stop()
        self.assertEqual(error_lines(self.server.log_text()), [])

    def folded_by_push(self, ds):
        return len(re.findall(
            rf"store '{ds}' user '{USER}': \d+ changes by others brought "
            "into the cache", self.server.log_text()))

    def wait_for_push(self, ds, before):
        """Waits (bounded) until the Back End Monitor logged changes of
        `ds` brought into the cache after the `before`-th such line."""
        poll_until(lambda: self.folded_by_push(ds) > before, PUSH_TIMEOUT,
                   what=f"changes of {ds} brought into the cache by push")

    def test_push_monitor(self):
        self.root = self.tmp / "vdir"
        cached = ('cache = true\nbackend_monitor = "push"\n'
                  'backend_poll_seconds = 86400\n')
        self.server = self.make_server(
            f'[stores.contacts]\nadapter = "vdir"\nroot = "{self.root}"\n'
            'content_type = "text/vcard"\ncontent_version = "3.0"\n' + cached +
            f'[stores.calendar]\nadapter = "vdir"\nroot = "{self.root}"\n'
            'content_type = "text/calendar"\ncontent_version = "2.0"\n' +
            cached)
        self.server.add_user(USER, PASSWORD)
        self.server.start()
        a = self.make_device(self.server, "dev-a", USER, PASSWORD,
                             datastores=BOTH)
        contacts, events = self.fill_device(a)
        a.sync("slow", timeout=120)

        # The Cache Monitor writes the files.
        want_uids = events_by_uid(events.values())
        ics = poll_until(
            lambda: (lambda f: f if events_by_uid(f.values()) == want_uids
                     else None)(self.files(CAL, ".ics")),
            PUSH_TIMEOUT, what="5 .ics files")
        cards = poll_until(
            lambda: (lambda f: f if len(f) == 4 else None)(
                self.files(DS, ".vcf")), PUSH_TIMEOUT, what="4 .vcf files")

        # Another program changes both; inotify brings it into the cache.
        before = {ds: self.folded_by_push(ds) for ds in (DS, CAL)}
        expected = self.change_events(ics)
        added = vcards.contact(600, seed=92)
        write_atomically(self.root / USER / DS / "khard-pushed.vcf", added)
        self.wait_for_push(CAL, before[CAL])
        self.wait_for_push(DS, before[DS])

        _, out = a.sync("two-way", timeout=120)
        counts = parse_summary(out)
        self.assertEqual(local_changes(counts[DS]), (1, 0, 0), out[-3000:])
        self.assertEqual(events_by_uid(a.items(CAL).values()), expected)
        self.assertEqual(set(device_fns(a)),
                         {vcards.fn_of(t) for t in cards.values()}
                         | {vcards.fn_of(added)})

        # The cache's figures are served.
        status = self.server.cli("cache", "status").stdout
        self.assertRegex(status, r"(?m)^calendar\t0\t0\t0\t\d+$")
        self.server.stop()
        self.assertEqual(error_lines(self.server.log_text()), [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
