#!/usr/bin/python3
"""Calendar and task round trip between two SyncEvolution devices.

Device A holds 50 generated events (weekly and monthly recurring with COUNT
and UNTIL, all-day, with TZID Europe/Berlin and America/New_York including
VTIMEZONE, UTC, floating) and 20 VTODOs (DUE, PRIORITY, STATUS); it
slow-syncs, then device B slow-syncs.  Every event and task on B must match
A's by UID with the times unchanged.  SyncEvolution rewrites items (RRULE
COUNT -> UNTIL, VTIMEZONE rewritten, DTSTAMP/LAST-MODIFIED added), so times
are compared as instants (TZIDs resolved with zoneinfo), all-day values as
dates, and RRULEs by FREQ/INTERVAL/BYDAY plus the date of the last
occurrence.  A runs under TZ=Pacific/Honolulu (UTC-10), B under
TZ=Pacific/Tongatapu (UTC+13): a birthday and an all-day event must keep
their date on both.

Run: CONFLUX_BIN=/path/to/conflux /usr/bin/python3 test_calendar.py
"""

import sys
import unittest
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conflux_server import IntegrationTest  # noqa: E402
from sync_summary import parse_summary  # noqa: E402

USER = "cal"
PASSWORD = "Calendar-pw-7"
DATASTORES = {
    "calendar": ("text/calendar", "calendar"),
    "todo": ("text/calendar", "tasks"),
}

VTIMEZONES = {
    "Europe/Berlin": (
        "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n"
        "BEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\n"
        "DTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3\r\nEND:DAYLIGHT\r\n"
        "BEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\n"
        "DTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\r\nEND:STANDARD\r\n"
        "END:VTIMEZONE\r\n"),
    "America/New_York": (
        "BEGIN:VTIMEZONE\r\nTZID:America/New_York\r\n"
        "BEGIN:DAYLIGHT\r\nTZOFFSETFROM:-0500\r\nTZOFFSETTO:-0400\r\nTZNAME:EDT\r\n"
        "DTSTART:20070311T020000\r\nRRULE:FREQ=YEARLY;BYDAY=2SU;BYMONTH=3\r\nEND:DAYLIGHT\r\n"
        "BEGIN:STANDARD\r\nTZOFFSETFROM:-0400\r\nTZOFFSETTO:-0500\r\nTZNAME:EST\r\n"
        "DTSTART:20071104T020000\r\nRRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=11\r\nEND:STANDARD\r\n"
        "END:VTIMEZONE\r\n"),
}


def calendar(body, tzid=None):
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Conflux tests//calendar//EN\r\n"
            + (VTIMEZONES[tzid] if tzid else "") + body + "END:VCALENDAR\r\n")


def make_events():
    """50 events: (file name, text); kinds cycle through seven shapes."""
    events = {}
    for i in range(50):
        uid = f"conflux-cal-{i:02d}@example.org"
        day = date(2026, 3, 2) + timedelta(days=i)
        d = day.strftime("%Y%m%d")
        shape = i % 7
        tzid = None
        lines = [f"UID:{uid}", "DTSTAMP:20260101T000000Z", f"SUMMARY:Event {i} shape {shape}"]
        if shape == 0:      # weekly, COUNT, Berlin (crosses the DST change on 29 March)
            tzid = "Europe/Berlin"
            lines += [f"DTSTART;TZID={tzid}:{d}T093000", f"DTEND;TZID={tzid}:{d}T103000",
                      "RRULE:FREQ=WEEKLY;INTERVAL=1;COUNT=6"]
        elif shape == 1:    # monthly by weekday, UNTIL, New York
            tzid = "America/New_York"
            lines += [f"DTSTART;TZID={tzid}:{d}T180000", f"DTEND;TZID={tzid}:{d}T190000",
                      "RRULE:FREQ=MONTHLY;UNTIL=20270101T000000Z"]
        elif shape == 2:    # all-day, one day
            nd = (day + timedelta(days=1)).strftime("%Y%m%d")
            lines += [f"DTSTART;VALUE=DATE:{d}", f"DTEND;VALUE=DATE:{nd}"]
        elif shape == 3:    # UTC
            lines += [f"DTSTART:{d}T120000Z", f"DTEND:{d}T130000Z", "LOCATION:Room 7"]
        elif shape == 4:    # floating
            lines += [f"DTSTART:{d}T080000", f"DTEND:{d}T083000"]
        elif shape == 5:    # yearly all-day: a birthday
            nd = (day + timedelta(days=1)).strftime("%Y%m%d")
            lines += [f"DTSTART;VALUE=DATE:{d}", f"DTEND;VALUE=DATE:{nd}",
                      "RRULE:FREQ=YEARLY", "CATEGORIES:Birthday"]
        else:               # weekly on two days, UNTIL, Berlin
            tzid = "Europe/Berlin"
            lines += [f"DTSTART;TZID={tzid}:{d}T070000", f"DTEND;TZID={tzid}:{d}T071500",
                      "RRULE:FREQ=WEEKLY;BYDAY=MO,TH;UNTIL=20260630T220000Z"]
        body = "BEGIN:VEVENT\r\n" + "".join(l + "\r\n" for l in lines) + "END:VEVENT\r\n"
        events[f"event-{i:02d}.ics"] = calendar(body, tzid)
    return events


def make_tasks():
    tasks = {}
    statuses = ["NEEDS-ACTION", "IN-PROCESS", "COMPLETED", "CANCELLED"]
    for i in range(20):
        due = (date(2026, 4, 1) + timedelta(days=i)).strftime("%Y%m%d")
        lines = [f"UID:conflux-task-{i:02d}@example.org", "DTSTAMP:20260101T000000Z",
                 f"SUMMARY:Task {i}", f"PRIORITY:{1 + i % 9}", f"STATUS:{statuses[i % 4]}",
                 f"DUE;VALUE=DATE:{due}" if i % 2 else f"DUE:{due}T170000Z"]
        body = "BEGIN:VTODO\r\n" + "".join(l + "\r\n" for l in lines) + "END:VTODO\r\n"
        tasks[f"task-{i:02d}.ics"] = calendar(body)
    return tasks


# -- a small iCalendar normaliser (stdlib only) ---------------------------

def unfold(text):
    return text.replace("\r\n ", "").replace("\r\n\t", "").replace("\n ", "") \
        .replace("\r\n", "\n").split("\n")


def component(text, kind):
    """[(NAME, {PARAM: value}, value)] of the first `kind` component."""
    props, inside, depth = [], False, 0
    for line in unfold(text):
        if line == f"BEGIN:{kind}" and not inside:
            inside = True
            continue
        if not inside:
            continue
        if line.startswith("BEGIN:"):
            depth += 1
        elif line.startswith("END:"):
            if depth == 0:
                break
            depth -= 1
        elif depth == 0 and ":" in line:
            head, _, value = line.partition(":")
            name, *params = head.split(";")
            props.append((name.upper(), dict(p.split("=", 1) for p in params if "=" in p), value))
    return props


def prop(props, name):
    for n, params, value in props:
        if n == name:
            return params, value
    return None


def when(props, name):
    """('date', date) | ('instant', aware datetime) | ('floating', naive)."""
    found = prop(props, name)
    if not found:
        return None
    params, value = found
    if params.get("VALUE") == "DATE" or len(value) == 8:
        return ("date", datetime.strptime(value, "%Y%m%d").date())
    t = datetime.strptime(value.rstrip("Z"), "%Y%m%dT%H%M%S")
    if value.endswith("Z"):
        return ("instant", t.replace(tzinfo=timezone.utc))
    if "TZID" in params:
        return ("instant", t.replace(tzinfo=ZoneInfo(params["TZID"].strip('"'))))
    return ("floating", t)


def rrule_facts(props):
    """FREQ, INTERVAL, BYDAY and the date of the last occurrence (None when
    the rule is endless) of the RRULE, computed from COUNT or UNTIL."""
    found = prop(props, "RRULE")
    if not found:
        return None
    parts = dict(p.split("=", 1) for p in found[1].split(";"))
    freq, interval = parts["FREQ"], int(parts.get("INTERVAL", "1"))
    byday = tuple(sorted(parts.get("BYDAY", "").split(","))) if "BYDAY" in parts else ()
    kind, start = when(props, "DTSTART")
    last = None
    if "COUNT" in parts or "UNTIL" in parts:
        until = None
        if "UNTIL" in parts:
            u = parts["UNTIL"]
            until = (datetime.strptime(u, "%Y%m%d").date() if len(u) == 8 else
                     datetime.strptime(u.rstrip("Z"), "%Y%m%dT%H%M%S").replace(tzinfo=timezone.utc))
        count = int(parts["COUNT"]) if "COUNT" in parts else 10 ** 6
        last = last_occurrence(start, freq, interval, byday, count, until)
    return (freq, interval, byday, last)


DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]


def last_occurrence(start, freq, interval, byday, count, until):
    """Enough of RFC 5545 for the rules this test writes: WEEKLY (with
    BYDAY), MONTHLY and YEARLY on DTSTART's day.  Walks wall-clock times in
    DTSTART's zone; returns the last occurrence's date."""
    last = _last_occurrence(start, freq, interval, byday, count, until)
    return last.date() if isinstance(last, datetime) else last


def _last_occurrence(start, freq, interval, byday, count, until):
    def before_until(t):
        if until is None:
            return True
        if isinstance(until, date) and not isinstance(until, datetime):
            return (t.date() if isinstance(t, datetime) else t) <= until
        return t.astimezone(timezone.utc) <= until
    occurrences, n, last = 0, 0, None
    while occurrences < count and n < 2000:
        if freq == "WEEKLY":
            week = start + timedelta(weeks=n * interval)
            monday = week - timedelta(days=week.weekday())
            days = byday or (DAYS[start.weekday()],)
            cands = sorted(monday + timedelta(days=DAYS.index(d)) for d in days)
            cands = [c for c in cands if c >= start]
        elif freq == "MONTHLY":
            m = start.month - 1 + n * interval
            try:
                cands = [start.replace(year=start.year + m // 12, month=m % 12 + 1)]
            except ValueError:
                cands = []
        elif freq == "YEARLY":
            cands = [start.replace(year=start.year + n * interval)]
        else:
            raise AssertionError(freq)
        n += 1
        for c in cands:
            if occurrences >= count or not before_until(c):
                return last
            last, occurrences = c, occurrences + 1
    return last


def facts(text, kind):
    props = component(text, kind)
    out = {"SUMMARY": prop(props, "SUMMARY")[1]}
    for name in ("DTSTART", "DTEND", "DUE"):
        out[name] = when(props, name)
    for name in ("PRIORITY", "STATUS", "CATEGORIES"):
        found = prop(props, name)
        out[name] = found[1] if found else None
    out["RRULE"] = rrule_facts(props) if prop(props, "RRULE") else None
    return out


def by_uid(texts, kind):
    out = {}
    for text in texts:
        found = prop(component(text, kind), "UID")
        if found:
            out[found[1]] = text
    return out


class CalendarTest(IntegrationTest):

    def test_events_and_tasks_round_trip_between_devices(self):
        events, tasks = make_events(), make_tasks()
        server = self.make_server()
        server.add_user(USER, PASSWORD)
        server.start()
        a = self.make_device(server, "cal-a", USER, PASSWORD, datastores=DATASTORES)
        b = self.make_device(server, "cal-b", USER, PASSWORD, datastores=DATASTORES)
        a.env["TZ"] = "Pacific/Honolulu"      # UTC-10
        b.env["TZ"] = "Pacific/Tongatapu"     # UTC+13
        for name, text in events.items():
            a.write_item("calendar", name, text)
        for name, text in tasks.items():
            a.write_item("todo", name, text)

        _, out = a.sync("slow")
        counts = parse_summary(out)
        self.assertEqual(counts["calendar"].remote_new, len(events), counts)
        self.assertEqual(counts["todo"].remote_new, len(tasks), counts)

        _, out = b.sync("slow")
        counts = parse_summary(out)
        self.assertEqual(counts["calendar"].local_new, len(events), counts)
        self.assertEqual(counts["todo"].local_new, len(tasks), counts)

        for ds, kind, originals in (("calendar", "VEVENT", events), ("todo", "VTODO", tasks)):
            want = by_uid(originals.values(), kind)
            got = by_uid(b.items(ds).values(), kind)
            self.assertEqual(sorted(got), sorted(want), ds)
            for uid, text in want.items():
                with self.subTest(uid=uid):
                    self.assertEqual(facts(got[uid], kind), facts(text, kind), got[uid])

        # Both devices sync again two-way: nothing changes, A's items keep
        # their dates (the birthday and the all-day events in particular).
        a.sync("two-way")
        b.sync("two-way")
        a_events = by_uid(a.items("calendar").values(), "VEVENT")
        for uid, text in by_uid(events.values(), "VEVENT").items():
            if "VALUE=DATE" not in text:
                continue
            with self.subTest(all_day=uid):
                for device_items in (a_events, by_uid(b.items("calendar").values(), "VEVENT")):
                    self.assertEqual(when(component(device_items[uid], "VEVENT"), "DTSTART"),
                                     when(component(text, "VEVENT"), "DTSTART"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
