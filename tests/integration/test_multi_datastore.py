#!/usr/bin/python3
"""One SyncEvolution session that syncs three datastores at once: contacts
(text/vcard), calendar (text/calendar, simple hand-written VEVENTs) and
notes (text/plain, the file backend with databaseFormat=text/plain).

Each datastore's items must arrive, unmixed, at a second device (which
syncs the three in one session too), the server's items.db must hold them
under the right datastore, and conflux.db must keep one anchors row per
datastore for the device.  A change in each datastore then travels back in
one two-way session.

Run: CONFLUX_BIN=/path/to/conflux /usr/bin/python3 test_multi_datastore.py
"""

import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import vcards  # noqa: E402
from conflux_server import IntegrationTest  # noqa: E402
from engine_checks import anchor_rows, server_count, server_items  # noqa: E402
from sync_summary import parse_summary  # noqa: E402

USER = "maja"
PASSWORD = "Multi-pw-9"
DATASTORES = {
    "contacts": ("text/vcard", "contacts"),
    "calendar": ("text/calendar", "calendar"),
    "notes": ("text/plain", "notes"),
}


def event(i, summary, day):
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Conflux tests//EN\r\n"
            "BEGIN:VEVENT\r\n"
            f"UID:conflux-multi-event-{i}\r\n"
            "DTSTAMP:20260101T000000Z\r\n"
            f"DTSTART:202603{day:02d}T0{i % 9}0000Z\r\n"
            f"DTEND:202603{day:02d}T0{i % 9}3000Z\r\n"
            f"SUMMARY:{summary}\r\n"
            f"LOCATION:Room {100 + i}\r\n"
            "END:VEVENT\r\nEND:VCALENDAR\r\n")


EVENTS = {f"event-{i}.ics": event(i, f"Multi meeting {i}", 10 + i)
          for i in range(4)}
NOTES = {f"note-{i}.txt": f"Multi note {i}\nsecond line of note {i}\n"
         for i in range(3)}
CONTACTS = dict(vcards.generate(5, seed=41))


def unfold(text):
    return text.replace("\r\n ", "").replace("\r\n\t", "") \
        .replace("\n ", "").replace("\r\n", "\n").split("\n")


def prop(text, name):
    """Value of the first property `name` of an iCalendar text."""
    for line in unfold(text):
        head, _, value = line.partition(":")
        if head.split(";")[0].upper() == name:
            return value
    return None


def summaries(texts):
    return sorted(prop(t, "SUMMARY") for t in texts)


def event_facts(texts):
    """{SUMMARY: (DTSTART, DTEND, LOCATION)} of VEVENT texts."""
    return {prop(t, "SUMMARY"): (prop(t, "DTSTART"), prop(t, "DTEND"),
                                 prop(t, "LOCATION")) for t in texts}


def note_texts(texts):
    """Notes compared by their lines, ignoring line-end style and
    trailing blank lines."""
    return sorted(t.replace("\r\n", "\n").rstrip("\n") for t in texts)


class MultiDatastoreTest(IntegrationTest):

    def test_three_datastores_in_one_session(self):
        server = self.make_server()
        server.add_user(USER, PASSWORD)
        server.start()
        a = self.make_device(server, "dev-a", USER, PASSWORD,
                             datastores=DATASTORES)
        for name, text in CONTACTS.items():
            a.write_item("contacts", name, text)
        for name, text in EVENTS.items():
            a.write_item("calendar", name, text)
        for name, text in NOTES.items():
            a.write_item("notes", name, text)

        _, out = a.sync("slow")          # one session, three datastores
        counts = parse_summary(out)
        self.assertEqual(counts["contacts"].remote_new, len(CONTACTS), counts)
        self.assertEqual(counts["calendar"].remote_new, len(EVENTS), counts)
        self.assertEqual(counts["notes"].remote_new, len(NOTES), counts)

        # Server side: each datastore holds its own items, nothing mixed.
        self.assertEqual(server_count(server, USER, "contacts"), len(CONTACTS))
        self.assertEqual(server_count(server, USER, "calendar"), len(EVENTS))
        self.assertEqual(server_count(server, USER, "notes"), len(NOTES))
        self.assertEqual(sorted(vcards.fn_of(t) for t in
                                server_items(server, USER, "contacts")),
                         sorted(vcards.fn_of(t) for t in CONTACTS.values()))
        self.assertEqual(summaries(server_items(server, USER, "calendar")),
                         summaries(EVENTS.values()))
        for text in server_items(server, USER, "notes"):
            self.assertIn("Multi note", text)

        # One anchors row per datastore for the device.
        rows = anchor_rows(server, "conflux-it-dev-a")
        by_ds = {}
        for user, _, database, client_next, server_next in rows:
            self.assertEqual(user, USER)
            by_ds.setdefault(database, []).append((client_next, server_next))
        self.assertEqual(sorted(by_ds), sorted(DATASTORES), rows)
        for database, anchors in by_ds.items():
            self.assertEqual(len(anchors), 1, f"{database}: {anchors}")
            self.assertTrue(anchors[0][0], f"{database}: empty client_next")

        # A second device gets each datastore's items, in the right place.
        b = self.make_device(server, "dev-b", USER, PASSWORD,
                             datastores=DATASTORES)
        _, out = b.sync("slow")
        counts = parse_summary(out)
        self.assertEqual(counts["contacts"].local_new, len(CONTACTS), counts)
        self.assertEqual(counts["calendar"].local_new, len(EVENTS), counts)
        self.assertEqual(counts["notes"].local_new, len(NOTES), counts)
        b_contacts = vcards.by_fn(b.items("contacts").values())
        self.assertEqual(len(b.items("contacts")), len(CONTACTS))
        for text in CONTACTS.values():
            fn = vcards.fn_of(text)
            self.assertIn(fn, b_contacts)
            self.assertTrue(vcards.same_contact(text, b_contacts[fn]),
                            vcards.contact_diff(text, b_contacts[fn]))
        b_events = list(b.items("calendar").values())
        self.assertEqual(len(b_events), len(EVENTS))
        for text in b_events:
            self.assertIn("BEGIN:VEVENT", text)
            self.assertNotIn("BEGIN:VCARD", text)
        self.assertEqual(event_facts(b_events), event_facts(EVENTS.values()))
        self.assertEqual(note_texts(b.items("notes").values()),
                         note_texts(NOTES.values()))
        self.assertEqual(len(anchor_rows(server, "conflux-it-dev-b")), 3)

        # B changes one item in each datastore; one two-way session brings
        # all three changes to A.
        b_cal = b.items("calendar")
        name = next(n for n, t in b_cal.items()
                    if prop(t, "SUMMARY") == "Multi meeting 0")
        b.write_item("calendar", name, b_cal[name].replace(
            "Multi meeting 0", "Multi meeting 0 moved"))
        b.write_item("notes", "note-new.txt", "Multi note from B\n")
        c_name, c_text = next(iter(vcards.generate(1, seed=41, start=50)))
        b.write_item("contacts", c_name, c_text)
        _, out = b.sync("two-way")
        counts = parse_summary(out)
        self.assertEqual(counts["contacts"].remote_new, 1, counts)
        self.assertEqual(counts["calendar"].remote_mod, 1, counts)
        self.assertEqual(counts["notes"].remote_new, 1, counts)

        _, out = a.sync("two-way")
        counts = parse_summary(out)
        self.assertEqual((counts["contacts"].local_new,
                          counts["calendar"].local_mod,
                          counts["notes"].local_new), (1, 1, 1), counts)
        self.assertIn(vcards.fn_of(c_text),
                      {vcards.fn_of(t) for t in a.items("contacts").values()})
        self.assertIn("Multi meeting 0 moved",
                      summaries(a.items("calendar").values()))
        self.assertIn("Multi note from B",
                      note_texts(a.items("notes").values()))
        self.assertEqual(server_count(server, USER, "contacts"),
                         len(CONTACTS) + 1)
        self.assertEqual(server_count(server, USER, "calendar"), len(EVENTS))
        self.assertEqual(server_count(server, USER, "notes"), len(NOTES) + 1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
