#!/usr/bin/python3
"""The caldav back end against a real Radicale 3.1.8 (python3-radicale),
with a real SyncEvolution client. Radicale runs on a free loopback port with
htpasswd logins and a temporary storage folder (radicale.py); this test is
the "other DAV client" that checks and changes Radicale with plain requests.

test_contacts_events_tasks_both_ways (login = "service", no cache): the
  device's adds, edits and deletes of contacts, events and tasks appear in
  Radicale; adds, edits and deletes made in Radicale by another client
  reach the device, exactly those and nothing more.
test_conflict_policy_decides_and_keeps_the_loser: the same contact changed
  in Radicale and on the device: server-wins keeps Radicale's, the device's
  version is in the conflict record.
test_radicale_down_with_cache: Radicale stopped while the device syncs
  (cache = true): syncs succeed, the queue drains when Radicale is back,
  nothing lost, nothing doubled; idle, each Back End Monitor poll is one
  sync-collection REPORT; a change made in Radicale then reaches the
  device through the Back End Monitor.
test_expired_sync_token: Radicale with --storage-max-sync-token-age 0
  forgets every sync token on each change: Conflux lists in full and the
  device gets exactly the changes.
test_first_sync_of_1000_contacts_uses_multiget: 1,000 contacts in Radicale
  reach a new device with 10 multiget REPORTs, one sync-collection REPORT
  and no GET (counted in Radicale's log); a sync without changes costs the
  login's PROPFIND and one sync-collection REPORT.
test_per_user_login_with_discovery (login = "per-user", url = base URL):
  the user's own password opens their address book, found by discovery; a
  wrong password is refused by Radicale and so by Conflux.
test_tls_with_a_ca_file: Radicale over HTTPS with a self-signed
  certificate: trusted through ca_file; without it the server is "down".

Run: CONFLUX_BIN=/path/to/conflux /usr/bin/python3 test_caldav.py
"""

import re
import subprocess
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import vcards  # noqa: E402
from conflux_server import IntegrationTest, error_lines, poll_until  # noqa: E402
from engine_checks import device_fns, doubled  # noqa: E402
from radicale import Radicale  # noqa: E402
from sync_summary import local_changes, parse_summary  # noqa: E402

USER = "alice"
PASSWORD = "Alice-dav-pw"
SERVICE = "conflux"
SERVICE_PASSWORD = "Service-dav-pw"
DS, CAL, TASKS = "contacts", "calendar", "tasks"
DRAIN_TIMEOUT = 120  # seconds the cache queue may take to reach Radicale
UPDATED = 201  # Radicale 3.1.8 answers a PUT over an existing item with 201 too

# The service account may read and write every user's collections; users
# their own (Radicale's from_file rules, first match wins).
RIGHTS = f"""
[service]
user: {SERVICE}
collection: .*
permissions: RrWw

[owner]
user: .+
collection: {{user}}(/.*)?
permissions: RrWw

[root]
user: .+
collection:
permissions: R
"""


def ical(uid, summary, component="VEVENT", day=10):
    when = (f"DTSTART:202605{day:02d}T090000Z\r\nDTEND:202605{day:02d}T100000Z\r\n"
            if component == "VEVENT" else f"DUE:202605{day:02d}T170000Z\r\n")
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Conflux tests//caldav//EN\r\n"
            f"BEGIN:{component}\r\nUID:{uid}\r\nDTSTAMP:20260101T000000Z\r\n{when}"
            f"SUMMARY:{summary}\r\nEND:{component}\r\nEND:VCALENDAR\r\n")


def prop(text, name):
    unfolded = text.replace("\r\n ", "").replace("\n ", "")
    m = re.search(rf"^{name}(?:;[^:\r\n]*)?:(.*?)\r?$", unfolded, re.M)
    return m.group(1) if m else None


def by_uid(texts):
    """{UID: SUMMARY} of iCalendar texts."""
    return {prop(t, "UID"): prop(t, "SUMMARY") for t in texts}


class CaldavTest(IntegrationTest):

    def start_radicale(self, extra_args=()):
        self.dav = Radicale(self.tmp / "radicale",
                            {USER: PASSWORD, SERVICE: SERVICE_PASSWORD},
                            extra_args, rights=RIGHTS)
        self.dav.start()
        self.addCleanup(self.dav.stop)
        return self.dav

    def store(self, name, kind, extra=""):
        content = ('content_type = "text/vcard"\ncontent_version = "3.0"\n'
                   if kind == "addressbook" else
                   'content_type = "text/calendar"\ncontent_version = "2.0"\n')
        return (f'[stores.{name}]\nadapter = "caldav"\n{content}'
                f'collection_url = "{self.dav.base_url}/{{user}}/{name}/"\n'
                f'login = "service"\nservice_user = "{SERVICE}"\n'
                f'service_password_file = "{self.tmp / "service.pw"}"\n'
                f'server_quirks = "radicale"\n{extra}')

    def conflux(self, stores, extra=""):
        (self.tmp / "service.pw").write_text(SERVICE_PASSWORD + "\n")
        self.server = self.make_server(stores + extra)
        self.server.add_user(USER, PASSWORD)
        self.server.start()
        return self.server

    def cards(self, name=DS):
        """{FN: (href, etag, text)} of the user's address book in Radicale."""
        out = {}
        for href, (etag, text) in self.dav.items(USER, name).items():
            self.assertNotIn(vcards.fn_of(text), out, "doubled in Radicale")
            out[vcards.fn_of(text)] = (href, etag, text)
        return out

    def components(self, name):
        """{UID: (href, etag, text)} of a calendar collection in Radicale."""
        return {prop(text, "UID"): (href, etag, text)
                for href, (etag, text) in self.dav.items(USER, name).items()}

    def assert_clean_log(self):
        self.server.stop()
        self.assertEqual(error_lines(self.server.log_text()), [])
        self.assertNotIn(SERVICE_PASSWORD, self.server.log_text())
        self.assertNotIn(PASSWORD, self.server.log_text())

    # ------------------------------------------------------------------

    def test_contacts_events_tasks_both_ways(self):
        dav = self.start_radicale()
        dav.make_collection(USER, DS, "addressbook")
        dav.make_collection(USER, CAL, "calendar", ["VEVENT"])
        dav.make_collection(USER, TASKS, "calendar", ["VTODO"])
        self.conflux(self.store(DS, "addressbook")
                     + self.store(CAL, "calendar", 'component = "VEVENT"\n')
                     + self.store(TASKS, "calendar", 'component = "VTODO"\n'))
        stores = {DS: ("text/vcard", DS), CAL: ("text/calendar", CAL),
                  TASKS: ("text/calendar", TASKS)}
        a = self.make_device(self.server, "dev-a", USER, PASSWORD, datastores=stores)
        contacts = dict(vcards.generate(5, seed=151))
        for name, text in contacts.items():
            a.write_item(DS, name, text)
        for i in range(3):
            a.write_item(CAL, f"ev{i}.ics", ical(f"ev-{i}@conflux", f"Meeting {i}", day=10 + i))
        for i in range(2):
            a.write_item(TASKS, f"td{i}.ics", ical(f"td-{i}@conflux", f"Task {i}", "VTODO", day=20 + i))
        a.sync("slow", timeout=180)

        # 1. The device's items are in Radicale, each once, with their content.
        cards = self.cards()
        self.assertEqual(set(cards), {vcards.fn_of(t) for t in contacts.values()})
        for text in contacts.values():
            got = cards[vcards.fn_of(text)][2]
            self.assertTrue(vcards.same_contact(text, got), vcards.contact_diff(text, got))
        self.assertEqual(by_uid(t for _, _, t in self.components(CAL).values()),
                         {f"ev-{i}@conflux": f"Meeting {i}" for i in range(3)})
        self.assertEqual(by_uid(t for _, _, t in self.components(TASKS).values()),
                         {f"td-{i}@conflux": f"Task {i}" for i in range(2)})
        self.assertTrue(all("BEGIN:VTODO" in t for _, _, t in self.components(TASKS).values()))

        # 2. The device edits and deletes: Radicale follows.
        names = sorted(contacts)
        edited = vcards.replace_property(contacts[names[0]], "NOTE", "NOTE:edited on the phone")
        a.write_item(DS, names[0], edited)
        a.delete_item(DS, names[1])
        a.write_item(CAL, "ev0.ics", ical("ev-0@conflux", "Meeting moved", day=15))
        a.delete_item(TASKS, "td1.ics")
        _, out = a.sync("two-way", timeout=180)
        cards = self.cards()
        self.assertEqual(len(cards), 4)
        self.assertNotIn(vcards.fn_of(contacts[names[1]]), cards)
        self.assertIn("NOTE:edited on the phone", cards[vcards.fn_of(edited)][2])
        self.assertEqual(by_uid(t for _, _, t in self.components(CAL).values())["ev-0@conflux"],
                         "Meeting moved")
        self.assertEqual(set(self.components(TASKS)), {"td-0@conflux"})

        # 3. Another DAV client adds, edits and deletes in Radicale.
        fn_changed = vcards.fn_of(contacts[names[2]])
        href, etag, text = cards[fn_changed]
        self.assertEqual(dav.put(USER, href, vcards.replace_property(text, "NOTE", "NOTE:edited in DAVx5"),
                                 etag=etag), UPDATED)
        href, _, _ = cards[vcards.fn_of(contacts[names[3]])]
        self.assertEqual(dav.delete(USER, href), 200)
        added = vcards.contact(900, seed=152)
        self.assertEqual(dav.put(USER, f"/{USER}/{DS}/from-davx5.vcf", added, create=True), 201)
        events = self.components(CAL)
        href, etag, text = events["ev-1@conflux"]
        self.assertEqual(dav.put(USER, href, text.replace("Meeting 1", "Meeting 1 (Thunderbird)"),
                                 etag=etag), UPDATED)
        self.assertEqual(dav.delete(USER, events["ev-2@conflux"][0]), 200)
        self.assertEqual(dav.put(USER, f"/{USER}/{TASKS}/tb-task.ics",
                                 ical("tb-task@conflux", "Task from Thunderbird", "VTODO", day=25),
                                 create=True), 201)

        _, out = a.sync("two-way", timeout=180)
        counts = parse_summary(out)
        self.assertEqual(local_changes(counts[DS]), (1, 1, 1), out[-3000:])
        self.assertEqual(local_changes(counts[CAL]), (0, 1, 1), out[-3000:])
        self.assertEqual(local_changes(counts[TASKS]), (1, 0, 0), out[-3000:])
        got = device_fns(a)
        self.assertEqual(doubled(got), {})
        self.assertEqual(set(got), set(cards) - {vcards.fn_of(contacts[names[3]])} | {vcards.fn_of(added)})
        on_device = vcards.by_fn(a.items(DS).values())
        self.assertIn("edited in DAVx5", on_device[fn_changed])
        self.assertEqual(by_uid(a.items(CAL).values()),
                         {"ev-0@conflux": "Meeting moved", "ev-1@conflux": "Meeting 1 (Thunderbird)"})
        self.assertEqual(by_uid(a.items(TASKS).values()),
                         {"td-0@conflux": "Task 0", "tb-task@conflux": "Task from Thunderbird"})

        # 4. Nothing owed either way afterwards; Radicale unchanged by it.
        before = {fn: etag for fn, (_, etag, _) in self.cards().items()}
        _, out = a.sync("two-way", timeout=180)
        for ds in (DS, CAL, TASKS):
            self.assertEqual(local_changes(parse_summary(out)[ds]), (0, 0, 0), out[-3000:])
        self.assertEqual({fn: etag for fn, (_, etag, _) in self.cards().items()}, before)
        # Preconditions on every write: no PUT without one (Radicale logs
        # the request lines only; the adapter's own counter has the kinds).
        self.assert_clean_log()

    def test_conflict_policy_decides_and_keeps_the_loser(self):
        dav = self.start_radicale()
        dav.make_collection(USER, DS, "addressbook")
        self.conflux(self.store(DS, "addressbook", 'conflict_policy = "server-wins"\n'))
        a = self.make_device(self.server, "dev-a", USER, PASSWORD)
        original = vcards.contact(7, seed=161)
        a.write_item(DS, "c.vcf", original)
        a.sync("slow", timeout=180)
        (fn, (href, etag, text)), = self.cards().items()

        self.assertEqual(dav.put(USER, href, vcards.replace_property(text, "NOTE", "NOTE:changed in Radicale"),
                                 etag=etag), UPDATED)
        a.write_item(DS, "c.vcf", vcards.replace_property(original, "NOTE", "NOTE:changed on the phone"))
        a.sync("two-way", timeout=180)

        # server-wins: Radicale's version everywhere, the phone's on record.
        (_, _, text), = self.cards().values()
        self.assertIn("changed in Radicale", text)
        (device_text,) = a.items(DS).values()
        self.assertIn("changed in Radicale", device_text)
        listing = self.server.cli("conflicts", "list").stdout.strip().splitlines()[1:]  # after the header row
        self.assertEqual(len(listing), 1, listing)
        self.assertIn("server-wins", listing[0])
        shown = self.server.cli("conflicts", "show", listing[0].split("\t")[0]).stdout
        server_part, device_part = shown.split("--- device version")
        self.assertIn("changed in Radicale", server_part)
        self.assertIn("changed on the phone", device_part)
        self.assert_clean_log()

    def test_radicale_down_with_cache(self):
        dav = self.start_radicale()
        dav.make_collection(USER, DS, "addressbook")
        self.conflux(self.store(DS, "addressbook",
                                'cache = true\ncache_trigger = "amount"\ncache_amount = 1\n'
                                'backend_poll_seconds = 1\n'))
        contacts = dict(vcards.generate(9, seed=171))
        names = sorted(contacts)
        a = self.make_device(self.server, "dev-a", USER, PASSWORD)
        for name in names[:5]:
            a.write_item(DS, name, contacts[name])
        a.sync("slow", timeout=180)
        poll_until(lambda: len(self.cards()) == 5, DRAIN_TIMEOUT, 0.5, "5 contacts in Radicale")

        # Radicale down: the device's syncs still succeed against the cache.
        dav.stop()
        for name in names[5:8]:
            a.write_item(DS, name, contacts[name])
        edited = vcards.replace_property(contacts[names[0]], "NOTE", "NOTE:edited while down")
        a.write_item(DS, names[0], edited)
        a.delete_item(DS, names[1])
        _, out = a.sync("two-way", timeout=180)
        self.assertEqual(parse_summary(out)[DS].remote_err, 0, out[-3000:])
        poll_until(lambda: re.search(r"replication of .* failed \(attempt \d+\), retry in \d+ s: "
                                     r"UNAVAILABLE", self.server.log_text()),
                   DRAIN_TIMEOUT, 0.5, "a failed replication in the log")
        a.write_item(DS, names[8], contacts[names[8]])
        _, out = a.sync("two-way", timeout=180)
        self.assertEqual(parse_summary(out)[DS].remote_err, 0, out[-3000:])

        # Back: the queue drains; nothing lost, nothing doubled.
        dav.start()
        expected = {vcards.fn_of(contacts[n]) for n in names} - {vcards.fn_of(contacts[names[1]])}

        def drained():
            cards = self.cards()
            return set(cards) == expected and "edited while down" in cards[vcards.fn_of(edited)][2]
        poll_until(drained, DRAIN_TIMEOUT, 0.5, "the queue drained into Radicale")
        status = self.server.cli("cache", "status").stdout
        self.assertRegex(status, r"(?m)^contacts\t0\t", status)

        # Idle, the Back End Monitor's poll (every second here) costs one
        # small sync-collection REPORT: no listing, no read.
        mark = dav.log_size()
        poll_until(lambda: len(dav.conflux_requests(mark)) >= 3, DRAIN_TIMEOUT, 0.5, "three polls")
        self.assertEqual(set(dav.conflux_requests(mark)), {("REPORT", f"/{USER}/{DS}/", "0")})

        # A change in Radicale reaches the device through the Back End Monitor.
        added = vcards.contact(950, seed=172)
        self.assertEqual(dav.put(USER, f"/{USER}/{DS}/added-by-others.vcf", added, create=True), 201)
        poll_until(lambda: re.search(r"store 'contacts' user 'alice': \d+ changes by others brought into "
                                     r"the cache", self.server.log_text()),
                   DRAIN_TIMEOUT, 0.5, "the Back End Monitor's pick-up")
        _, out = a.sync("two-way", timeout=180)
        self.assertEqual(local_changes(parse_summary(out)[DS]), (1, 0, 0), out[-3000:])
        got = device_fns(a)
        self.assertEqual(doubled(got), {})
        self.assertEqual(set(got), expected | {vcards.fn_of(added)})
        self.assertEqual(len(self.cards()), len(expected) + 1)
        self.server.stop()
        # Errors while Radicale was down are expected; none after.
        self.assertNotIn(SERVICE_PASSWORD, self.server.log_text())

    def test_expired_sync_token(self):
        dav = self.start_radicale(["--storage-max-sync-token-age", "0"])
        dav.make_collection(USER, DS, "addressbook")
        self.conflux(self.store(DS, "addressbook"))
        contacts = dict(vcards.generate(6, seed=181))
        a = self.make_device(self.server, "dev-a", USER, PASSWORD)
        for name, text in contacts.items():
            a.write_item(DS, name, text)
        a.sync("slow", timeout=180)
        cards = self.cards()
        self.assertEqual(len(cards), 6)

        fns = sorted(cards)
        href, etag, text = cards[fns[0]]
        self.assertEqual(dav.put(USER, href, vcards.replace_property(text, "NOTE", "NOTE:new token"),
                                 etag=etag), UPDATED)
        self.assertEqual(dav.delete(USER, cards[fns[1]][0]), 200)
        added = vcards.contact(990, seed=182)
        self.assertEqual(dav.put(USER, f"/{USER}/{DS}/other.vcf", added, create=True), 201)
        _, out = a.sync("two-way", timeout=180)
        self.assertEqual(local_changes(parse_summary(out)[DS]), (1, 1, 1), out[-3000:])
        self.assertIn("no longer knows our sync token; listing it in full", self.server.log_text())
        self.assertIn("Client provided invalid sync token", dav.log_text())
        got = device_fns(a)
        self.assertEqual(doubled(got), {})
        self.assertEqual(set(got), (set(fns) - {fns[1]}) | {vcards.fn_of(added)})
        _, out = a.sync("two-way", timeout=180)
        self.assertEqual(local_changes(parse_summary(out)[DS]), (0, 0, 0), out[-3000:])
        self.assertEqual(len(self.cards()), 6)
        self.assert_clean_log()

    def test_first_sync_of_1000_contacts_uses_multiget(self):
        dav = self.start_radicale()
        dav.make_collection(USER, DS, "addressbook")
        n = 1000
        # Written as files into Radicale's storage (its documented layout;
        # a PUT each would only slow the test down), then read by Radicale.
        folder = dav.storage / "collection-root" / USER / DS
        contacts = {}
        for name, text in vcards.generate(n, seed=191):
            (folder / name).write_bytes(text.encode())
            contacts[name] = text
        self.conflux(self.store(DS, "addressbook", "multiget_batch = 100\n"))
        b = self.make_device(self.server, "dev-b", USER, PASSWORD)
        mark = dav.log_size()
        b.sync("slow", timeout=600)
        got = device_fns(b)
        self.assertEqual(doubled(got), {})
        self.assertEqual(set(got), {vcards.fn_of(t) for t in contacts.values()})
        requests = dav.conflux_requests(mark)
        multigets = [r for r in requests if r[0] == "REPORT" and r[2] == "1"]
        # The engine reads what goes into each message in one CAF search
        # (at most 100 items; fewer where a message fills up), the adapter
        # fetches each search with one multiget: no item alone.
        self.assertEqual([r for r in requests if r[0] == "GET"], [])
        self.assertGreaterEqual(len(multigets), n // 100, requests[:40])
        self.assertLess(len(multigets), n // 50, requests[:40])
        # One listing serves the whole session: one sync-collection REPORT,
        # not one per message.
        self.assertEqual(len([r for r in requests if r[0] == "REPORT" and r[2] == "0"]), 1, requests[:40])
        print(f"\nfirst sync of {n}: {len(requests)} requests to Radicale, "
              f"{len(multigets)} multiget", file=sys.stderr)

        mark = dav.log_size()
        _, out = b.sync("two-way", timeout=600)
        self.assertEqual(local_changes(parse_summary(out)[DS]), (0, 0, 0))
        requests = dav.conflux_requests(mark)
        # The login's check of the service account, then one sync-collection
        # REPORT that finds nothing: no listing, no item read or written.
        self.assertEqual(requests, [("PROPFIND", "/", "0"), ("REPORT", f"/{USER}/{DS}/", "0")])
        print(f"no-change sync: {len(requests)} requests to Radicale ({requests})", file=sys.stderr)
        self.assert_clean_log()

    def test_per_user_login_with_discovery(self):
        dav = self.start_radicale()
        dav.make_collection(USER, DS, "addressbook")
        self.conflux(f'[stores.{DS}]\nadapter = "caldav"\ncontent_type = "text/vcard"\n'
                     f'content_version = "3.0"\nurl = "{dav.base_url}/"\nlogin = "per-user"\n',
                     # The DAV server needs the password itself: syncml:auth-basic.
                     "[auth]\nmd5 = false\n")
        a = self.make_device(self.server, "dev-a", USER, PASSWORD)
        contacts = dict(vcards.generate(3, seed=201))
        for name, text in contacts.items():
            a.write_item(DS, name, text)
        a.sync("slow", timeout=180)
        self.assertEqual(set(self.cards()), {vcards.fn_of(t) for t in contacts.values()})
        self.assertRegex(self.server.log_text(), r"collection /alice/contacts/: sync-collection")

        wrong = self.make_device(self.server, "dev-w", USER, "not-her-password")
        code, _ = wrong.sync("slow", expect_ok=False, timeout=180)
        self.assertNotEqual(code, 0)
        self.assertIn("Failed login attempt", dav.log_text())
        self.assertEqual(len(self.cards()), 3)
        self.server.stop()
        self.assertNotIn(PASSWORD, self.server.log_text())

    def test_tls_with_a_ca_file(self):
        # A self-signed certificate for 127.0.0.1: trusted through ca_file only.
        cert, key = self.tmp / "dav-cert.pem", self.tmp / "dav-key.pem"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
        self.dav = dav = Radicale(self.tmp / "radicale", {USER: PASSWORD, SERVICE: SERVICE_PASSWORD},
                                  rights=RIGHTS, tls=(cert, key))
        dav.start()
        self.addCleanup(dav.stop)
        dav.make_collection(USER, DS, "addressbook")
        self.assertTrue(dav.base_url.startswith("https://"))
        self.conflux(self.store(DS, "addressbook", f'ca_file = "{cert}"\n'))
        a = self.make_device(self.server, "dev-a", USER, PASSWORD)
        contacts = dict(vcards.generate(2, seed=211))
        for name, text in contacts.items():
            a.write_item(DS, name, text)
        a.sync("slow", timeout=180)
        self.assertEqual(set(self.cards()), {vcards.fn_of(t) for t in contacts.values()})
        self.assert_clean_log()

        # Without the CA file the system's CAs do not know the certificate:
        # the DAV server counts as down, the device's login is not taken.
        other = self.make_server(self.store(DS, "addressbook"), name="server-no-ca")
        other.add_user(USER, PASSWORD)
        other.start()
        b = self.make_device(other, "dev-b", USER, PASSWORD)
        code, _ = b.sync("slow", expect_ok=False, timeout=180)
        self.assertNotEqual(code, 0)
        self.assertRegex(other.log_text(), r"(?i)certificate")
        self.assertEqual(len(self.cards()), 2)


if __name__ == "__main__":
    unittest.main()
