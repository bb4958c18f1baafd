#!/usr/bin/python3
"""`conflux export` and `conflux import` (issue #19, item 8): 1,000 contacts
imported, exported, imported into an empty store of another back end (vdir)
and exported again come back with the same content; a multi-VEVENT calendar
with a time zone and a recurring event with an exception does the same. A
progress bar is drawn on a terminal and nothing on a pipe; a broken file is
refused whole, naming the item, and writes nothing.

Run: CONFLUX_BIN=/path/to/conflux /usr/bin/python3 test_export_import.py
"""

import os
import pty
import re
import subprocess
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import vcards  # noqa: E402
from conflux_server import IntegrationTest  # noqa: E402

USER = "ines"
PASSWORD = "Export-pw-1"
COUNT = 1000

# RRULE parts in the order libical writes them (RFC 5545 gives them none).
CALENDAR = "\r\n".join([
    "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Conflux tests//EN",
    "BEGIN:VTIMEZONE", "TZID:Europe/Berlin",
    "BEGIN:STANDARD", "DTSTART:19701025T030000", "TZOFFSETFROM:+0200",
    "TZOFFSETTO:+0100", "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10",
    "END:STANDARD",
    "BEGIN:DAYLIGHT", "DTSTART:19700329T020000", "TZOFFSETFROM:+0100",
    "TZOFFSETTO:+0200", "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3",
    "END:DAYLIGHT", "END:VTIMEZONE",
    "BEGIN:VEVENT", "UID:standup@example.org", "DTSTAMP:20261201T080000Z",
    "DTSTART;TZID=Europe/Berlin:20261207T093000",
    "DTEND;TZID=Europe/Berlin:20261207T094500",
    "RRULE:FREQ=WEEKLY;BYDAY=MO", "SUMMARY:Stand-up", "END:VEVENT",
    "BEGIN:VEVENT", "UID:standup@example.org", "DTSTAMP:20261201T080000Z",
    "RECURRENCE-ID;TZID=Europe/Berlin:20261214T093000",
    "DTSTART;TZID=Europe/Berlin:20261214T110000",
    "DTEND;TZID=Europe/Berlin:20261214T111500",
    "SUMMARY:Stand-up (moved)", "END:VEVENT",
    "BEGIN:VEVENT", "UID:holiday@example.org", "DTSTAMP:20261201T080000Z",
    "DTSTART;VALUE=DATE:20261224", "DTEND;VALUE=DATE:20261227",
    "SUMMARY:Weihnachten – Familie", "END:VEVENT",
    "BEGIN:VEVENT", "UID:call@example.org", "DTSTAMP:20261201T080000Z",
    "DTSTART:20261208T150000Z", "DTEND:20261208T153000Z",
    "SUMMARY:Call with Zoë", "DESCRIPTION:Agenda:\\n1. budget\\n2. dates",
    "END:VEVENT",
    "END:VCALENDAR", ""])

STORES = (  # a [stores] table replaces the default list
    "[stores.contacts]\nadapter = \"sqlite\"\ncontent_type = \"text/vcard\"\n"
    "content_version = \"3.0\"\n"
    "[stores.calendar]\nadapter = \"sqlite\"\ncontent_type = \"text/calendar\"\n"
    "content_version = \"2.0\"\n"
    "[stores.notes]\nadapter = \"sqlite\"\ncontent_type = \"text/plain\"\n"
    "[stores.addressbook]\nadapter = \"vdir\"\nroot = \"vdir\"\n"
    "content_type = \"text/vcard\"\ncontent_version = \"3.0\"\n")


def cards_of(text):
    """The vCards of a .vcf file, each as its own text."""
    return re.findall(r"BEGIN:VCARD\r?\n.*?END:VCARD\r?\n?", text, re.S | re.I)


def contents(texts):
    """The contacts' content, order left out: sorted normalised vCards."""
    return sorted(repr(vcards.parse_vcard(t)) for t in texts)


def components(ics):
    """{kind: sorted component texts (unfolded, DTSTAMP left out)} of a
    calendar file; also checks it is one VCALENDAR."""
    lines = vcards.unfold(ics)
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR", ics[:200]
    assert sum(1 for line in lines if line == "BEGIN:VCALENDAR") == 1, ics[:200]
    found, current, depth = {}, None, 0
    for line in lines[1:-1]:
        if line.startswith("BEGIN:") and depth == 0:
            current, depth = [line], 1
            continue
        if current is None:
            continue
        if line.startswith("BEGIN:"):
            depth += 1
        elif line.startswith("END:"):
            depth -= 1
        if not line.startswith("DTSTAMP"):
            current.append(line)
        if depth == 0:
            found.setdefault(current[0][6:], []).append("\n".join(current))
            current = None
    return {kind: sorted(texts) for kind, texts in found.items()}


class ExportImportTest(IntegrationTest):

    def setUp(self):
        super().setUp()
        self.server = self.make_server(STORES)
        (self.server.data_dir / "vdir").mkdir(parents=True)
        self.server.add_user(USER, PASSWORD)
        self.server.add_user("jules", "Jules-pw-1")

    def test_a_thousand_contacts_round_trip_through_an_empty_store(self):
        generated = [text for _, text in vcards.generate(COUNT, seed=1919)]
        original = self.tmp / "original.vcf"
        original.write_text("".join(generated), newline="")
        done = self.server.cli("import", USER, "contacts", str(original))
        self.assertIn(f"imported {COUNT} items into {USER}'s contacts",
                      done.stdout)
        self.assertEqual(done.stderr, "")  # a pipe: no progress bar

        first = self.tmp / "first.vcf"
        done = self.server.cli("export", USER, "contacts", str(first))
        self.assertIn(f"exported {COUNT} items", done.stdout)
        self.assertEqual(done.stderr, "")
        with open(first, newline="") as f:
            exported = cards_of(f.read())
        self.assertEqual(len(exported), COUNT)
        self.assertEqual(contents(exported), contents(generated))

        # Into the empty vdir store, then out again through standard output.
        done = self.server.cli("import", USER, "addressbook", str(first))
        self.assertNotIn("held", done.stdout)  # the store was empty
        collection = self.server.data_dir / "vdir" / USER / "addressbook"
        self.assertEqual(len(list(collection.glob("*.vcf"))), COUNT)
        second = self.server.cli("export", USER, "addressbook")
        self.assertEqual(second.stderr, "")
        again = cards_of(second.stdout)
        self.assertEqual(len(again), COUNT)
        self.assertEqual(contents(again), contents(generated))
        # Nothing of another user's.
        self.assertEqual(self.server.cli("export", "jules", "contacts").stdout, "")

    def test_a_calendar_file_round_trips_with_its_time_zone(self):
        original = self.tmp / "original.ics"
        original.write_text(CALENDAR, newline="")
        done = self.server.cli("import", USER, "calendar", str(original))
        self.assertIn("imported 3 items", done.stdout)  # the exception belongs to its event
        first = self.server.cli("export", USER, "calendar").stdout
        self.assertEqual(components(first), components(CALENDAR))
        (self.tmp / "first.ics").write_text(first, newline="")
        self.server.cli("import", "jules", "calendar", str(self.tmp / "first.ics"))
        second = self.server.cli("export", "jules", "calendar").stdout
        self.assertEqual(components(second), components(CALENDAR))

    def test_progress_bar_on_a_terminal_only(self):
        cards = "".join(text for _, text in vcards.generate(250, seed=7))
        (self.tmp / "some.vcf").write_text(cards, newline="")
        self.server.cli("import", USER, "contacts", str(self.tmp / "some.vcf"))
        master, slave = pty.openpty()
        try:
            proc = subprocess.run(
                [self.server.binary, "--config", str(self.server.config_path),
                 "export", USER, "contacts", str(self.tmp / "out.vcf")],
                stdout=subprocess.PIPE, stderr=slave, timeout=60)
            os.close(slave)
            slave = None
            drawn = b""
            while True:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # EIO: the terminal's other end is closed
                    break
                if not chunk:
                    break
                drawn += chunk
        finally:
            if slave is not None:
                os.close(slave)
            os.close(master)
        self.assertEqual(proc.returncode, 0)
        self.assertIn(b"exporting contacts [", drawn)
        self.assertIn(b"] 250/250", drawn)
        self.assertIn(b"\r", drawn)  # redrawn in place

    def test_a_broken_file_is_refused_whole(self):
        cards = [text for _, text in vcards.generate(3, seed=3)]
        broken = cards[0] + "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Half\r\n" + cards[2]
        (self.tmp / "broken.vcf").write_text(broken, newline="")
        refused = self.server.cli("import", USER, "contacts",
                                  str(self.tmp / "broken.vcf"), check=False)
        self.assertEqual(refused.returncode, 1)
        self.assertIn("broken.vcf", refused.stderr)
        self.assertIn("vCard 2 of the file", refused.stderr)
        self.assertEqual(self.server.cli("export", USER, "contacts").stdout, "")
        for args, message in (
                (("nobody", "contacts"), "no user 'nobody'"),
                ((USER, "diary"), "no datastore 'diary'"),
                ((USER, "notes"), "export and import handle vCard and iCalendar stores")):
            failed = self.server.cli("export", *args, check=False)
            self.assertEqual(failed.returncode, 1, args)
            self.assertIn(message, failed.stderr)


if __name__ == "__main__":
    unittest.main()
