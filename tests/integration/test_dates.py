#!/usr/bin/python3
"""Date-only values through two real SyncEvolution devices in UTC-10 and
UTC+13 (data objects issue: "a birthday and an all-day event keep their
date through devices in UTC-10 and UTC+13").

Device A runs under TZ=Pacific/Honolulu (UTC-10) and keeps vCard 3.0 and
iCalendar 2.0 files; device B runs under TZ=Pacific/Tongatapu (UTC+13) and
keeps vCard 2.1 and vCalendar 1.0 files, so SyncEvolution converts on B the
way a phone's own format would.  The server stores both datastores in a
vdir (one file per item), so its copy is read straight from disk.

A adds a contact with BDAY and X-ANNIVERSARY and two all-day events (a
two-day holiday across the new year, a yearly birthday) and syncs; B syncs;
B edits both the contact and the holiday and syncs; A syncs.  After each
step the dates are the same on A, on the server and on B.

Run: CONFLUX_BIN=/path/to/conflux /usr/bin/python3 test_dates.py
"""

import re
import sys
import unittest
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conflux_server import IntegrationTest  # noqa: E402
from sync_summary import parse_summary  # noqa: E402

USER = "dates"
PASSWORD = "Dates-pw-13"

CONTACT = (
    "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Kalani Fifita\r\nN:Fifita;Kalani;;;\r\n"
    "TEL;TYPE=CELL:+676 7712345\r\nBDAY:1981-01-01\r\nX-ANNIVERSARY:2010-12-31\r\n"
    "END:VCARD\r\n")

CALENDAR_HEAD = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Conflux tests//dates//EN\r\n"
HOLIDAY = (CALENDAR_HEAD +
           "BEGIN:VEVENT\r\nUID:conflux-dates-holiday@example.org\r\nDTSTAMP:20260101T000000Z\r\n"
           "SUMMARY:New year holiday\r\nDTSTART;VALUE=DATE:20261231\r\nDTEND;VALUE=DATE:20270102\r\n"
           "TRANSP:TRANSPARENT\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
BIRTHDAY = (CALENDAR_HEAD +
            "BEGIN:VEVENT\r\nUID:conflux-dates-birthday@example.org\r\nDTSTAMP:20260101T000000Z\r\n"
            "SUMMARY:Kalani's birthday\r\nDTSTART;VALUE=DATE:19810101\r\nDTEND;VALUE=DATE:19810102\r\n"
            "RRULE:FREQ=YEARLY\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")

# What every copy must say: contact dates, and each event's first and last day.
WANT_CONTACT = {"BDAY": "19810101", "ANNIVERSARY": "20101231"}
WANT_EVENTS = {"New year holiday": (date(2026, 12, 31), date(2027, 1, 1)),
               "Kalani's birthday": (date(1981, 1, 1), date(1981, 1, 1))}


def unfold(text):
    return re.sub(r"\r?\n[ \t]", "", text).replace("\r\n", "\n").split("\n")


def props(text, name):
    """[(params, value)] of the content lines named `name` (any group)."""
    out = []
    for line in unfold(text):
        m = re.match(r"^(?:[\w-]+\.)?([\w-]+)((?:;[^:]*)?):(.*)$", line)
        if m and m.group(1).upper() == name:
            out.append((m.group(2).upper(), m.group(3)))
    return out


def contact_dates(text):
    """{"BDAY": YYYYMMDD, "ANNIVERSARY": YYYYMMDD} of a vCard of any version;
    the anniversary under X-ANNIVERSARY, ANNIVERSARY or X-VCARD4-ANNIVERSARY."""
    out = {}
    for key, names in (("BDAY", ["BDAY"]),
                       ("ANNIVERSARY", ["X-ANNIVERSARY", "ANNIVERSARY", "X-VCARD4-ANNIVERSARY"])):
        for name in names:
            found = props(text, name)
            if found:
                out[key] = re.sub(r"\D", "", found[0][1])[:8]
                break
    return out


def day(value):
    """(date, rest) of a DATE or DATE-TIME value: rest is "" for a date,
    else the time with its Z, e.g. "T000000" or "T100000Z"."""
    v = value.replace("-", "").replace(":", "").strip()
    return date(int(v[0:4]), int(v[4:6]), int(v[6:8])), v[8:]


def all_day_span(text):
    """(first day, last day) of the one VEVENT in iCalendar 2.0 or vCalendar
    1.0 text.  2.0: DTSTART/DTEND dates, DTEND exclusive.  1.0 (and 2.0
    written with floating times): DTSTART at local midnight; DTEND at
    23:59:59 of the last day or midnight after it.  A UTC or TZID time, or
    any other time of day, means the date went through an instant and may
    have moved: reported as ("shifted", value)."""
    params, value = props(text, "DTSTART")[0]
    start, start_time = day(value)
    if start_time not in ("", "T000000") or "TZID" in params:
        return ("shifted", value)
    ends = props(text, "DTEND")
    if not ends:
        return start, start
    end, end_time = day(ends[0][1])
    if "TZID" in ends[0][0]:
        return ("shifted", ends[0][1])
    if end_time in ("", "T000000", "T240000"):
        end -= timedelta(days=1)
    elif end_time != "T235959":
        return ("shifted", ends[0][1])
    return start, end


def is_date_value(text):
    params, value = props(text, "DTSTART")[0]
    return "VALUE=DATE" in params and "T" not in value


def events_by_summary(texts):
    out = {}
    for text in texts:
        summary = props(text, "SUMMARY")
        if summary:
            out[summary[0][1]] = text
    return out


class DatesAcrossTimeZonesTest(IntegrationTest):

    def server_items(self, ds, suffix):
        folder = self.root / USER / ds
        return {p.name: p.read_bytes().decode("utf-8")
                for p in sorted(folder.iterdir()) if p.suffix == suffix}

    def check_everywhere(self, step, a, b, date_values_on):
        """Every copy has the contact's dates and each event's days; the
        iCalendar 2.0 copies named in date_values_on also still hold the
        events as VALUE=DATE."""
        copies = {
            "A (UTC-10)": (a.items("contacts").values(), a.items("calendar").values()),
            "server": (self.server_items("contacts", ".vcf").values(),
                       self.server_items("calendar", ".ics").values()),
            "B (UTC+13)": (b.items("contacts").values(), b.items("calendar").values()),
        }
        for where, (contacts, events) in copies.items():
            with self.subTest(step=step, where=where):
                contacts = list(contacts)
                self.assertEqual(len(contacts), 1, contacts)
                self.assertEqual(contact_dates(contacts[0]), WANT_CONTACT, contacts[0])
                by_summary = events_by_summary(events)
                self.assertEqual(sorted(by_summary), sorted(WANT_EVENTS))
                for summary, span in WANT_EVENTS.items():
                    self.assertEqual(all_day_span(by_summary[summary]), span, by_summary[summary])
                    if where in date_values_on:
                        self.assertTrue(is_date_value(by_summary[summary]), by_summary[summary])

    def test_birthday_and_all_day_events_keep_their_dates(self):
        self.root = self.tmp / "vdir"
        server = self.make_server(
            f'[stores.contacts]\nadapter = "vdir"\nroot = "{self.root}"\n'
            'content_type = "text/vcard"\ncontent_version = "3.0"\n'
            f'[stores.calendar]\nadapter = "vdir"\nroot = "{self.root}"\n'
            'content_type = "text/calendar"\ncontent_version = "2.0"\n')
        server.add_user(USER, PASSWORD)
        server.start()
        a = self.make_device(server, "dates-a", USER, PASSWORD, datastores={
            "contacts": ("text/vcard", "contacts"), "calendar": ("text/calendar", "calendar")})
        b = self.make_device(server, "dates-b", USER, PASSWORD, datastores={
            "contacts": ("text/x-vcard", "contacts"), "calendar": ("text/x-vcalendar", "calendar")})
        a.env["TZ"] = "Pacific/Honolulu"      # UTC-10
        b.env["TZ"] = "Pacific/Tongatapu"     # UTC+13
        a.write_item("contacts", "kalani.vcf", CONTACT)
        a.write_item("calendar", "holiday.ics", HOLIDAY)
        a.write_item("calendar", "birthday.ics", BIRTHDAY)

        _, out = a.sync("slow")
        counts = parse_summary(out)
        self.assertEqual(counts["contacts"].remote_new, 1, counts)
        self.assertEqual(counts["calendar"].remote_new, 2, counts)
        _, out = b.sync("slow")
        counts = parse_summary(out)
        self.assertEqual(counts["contacts"].local_new, 1, counts)
        self.assertEqual(counts["calendar"].local_new, 2, counts)
        self.check_everywhere("after A and B slow-synced", a, b, date_values_on={"A (UTC-10)", "server"})

        # B (UTC+13, vCard 2.1 / vCalendar 1.0) edits both; A gets the edits.
        name, card = next(iter(b.items("contacts").items()))
        b.write_item("contacts", name, card.replace("END:VCARD", "NOTE:edited in Tonga\r\nEND:VCARD"))
        holiday = events_by_summary(b.items("calendar").values())["New year holiday"]
        holiday_name = next(n for n, t in b.items("calendar").items() if t == holiday)
        b.write_item("calendar", holiday_name, holiday.replace("END:VEVENT", "LOCATION:Nuku'alofa\r\nEND:VEVENT"))
        _, out = b.sync("two-way")
        counts = parse_summary(out)
        self.assertEqual(counts["contacts"].remote_mod, 1, counts)
        self.assertEqual(counts["calendar"].remote_mod, 1, counts)
        _, out = a.sync("two-way")
        counts = parse_summary(out)
        self.assertEqual(counts["contacts"].local_mod, 1, counts)
        self.assertEqual(counts["calendar"].local_mod, 1, counts)
        self.assertIn("edited in Tonga", next(iter(a.items("contacts").values())))
        # SyncEvolution on B keeps the holiday in its vCalendar 1.0 file as
        # DTSTART:20261231T000000 / DTEND:20270102T000000 and sends the
        # edited event as iCalendar 2.0 with those floating times, not as
        # dates: the server stores what it got, so from here the holiday is
        # floating midnight to midnight (same days in every zone) on the
        # server and A; the untouched birthday stays VALUE=DATE.
        self.check_everywhere("after B's edits reached A", a, b, date_values_on=set())
        for copies in (a.items("calendar").values(), self.server_items("calendar", ".ics").values()):
            self.assertTrue(is_date_value(events_by_summary(copies)["Kalani's birthday"]))


if __name__ == "__main__":
    unittest.main(verbosity=2)
