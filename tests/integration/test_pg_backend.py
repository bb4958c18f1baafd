#!/usr/bin/python3
"""The postgresql back end: contacts in an organisation's own tables, with a
real SyncEvolution client and a PostgreSQL the test starts itself
(tests/pg/pg_test_server).

test_customers_table (cache on, backend_monitor = "push", a poll interval of
a day, install_triggers = true):
  1. psql creates crm.customers (with a column Conflux does not know,
     loyalty_points) and crm.customer_channels (further phones and e-mails);
  2. device A slow-syncs 4 contacts: 4 rows appear, names, company, birthday
     and e-mail in their columns, further phones in the child table;
  3. psql sets loyalty_points, then inserts, updates and deletes a row in one
     transaction: the NOTIFY brings it into the cache (the server logs it;
     no poll could have in a day) and A's next sync gets exactly 1 new,
     1 changed, 1 deleted;
  4. the commit-order trap: a transaction that wrote first but commits
     after a later one still reaches the device (both rows, one sync);
  5. A adds, edits and deletes a contact: the table shows the new row, the
     edit and the row gone; loyalty_points kept its value;
  6. device B slow-syncs and gets every contact whole: what no column holds
     (CATEGORIES, UID, a second ADR ...) was kept in the side table.

test_appointments_table: events in a booking system's crm.appointments
(timestamptz start and end, all-day flag, time zone, recurrence rule, a
column Conflux does not know). A field naming a column of the wrong type
stops the server; SyncEvolution slow-syncs three events (a weekly meeting
in Europe/Berlin, an all-day holiday, a UTC call with an alarm) into rows
with the right instants; a row inserted with psql reaches the device with
its time zone; the device's edit moves the row; a second device gets
every event whole (what no column holds was kept beside the row).

test_owner_through_an_accounts_table: the owner column holds a key of
crm.accounts, whose login column names the Conflux user (owner_table*):
a missing login column stops the server with one line; olga's device gets
only her account's rows, its adds carry her account's id, and a row psql
adds to her account is pushed to her (the change log names the account).

test_a_row_the_table_refuses_fails_alone: a batch is one transaction; a
row a CHECK constraint refuses fails only its item (the savepoint), the
other four of the upload are in the table.

test_a_locked_table_times_out_and_the_next_sync_writes: another psql
session holds crm.customers locked (EXCLUSIVE: reads pass, writes wait);
with statement_timeout_seconds = 1 the device's new contact fails with a
temporary error (SyncML 503), the log says the statement timed out, the
table is unchanged; after ROLLBACK the next sync writes the contact, once.

test_bad_mapping_and_connection_stop_the_server_with_one_line: a missing
column, a column of the wrong type, a malformed connection string, a server
nobody listens on, a wrong password, a database that does not exist and a
role without rights on the table each stop `conflux serve` with one line
(its only output) naming the store, the key and what to fix.

test_per_user_login_is_refused_when_postgresql_refuses_the_password: the
role asks for its password (scram-sha-256 in pg_hba.conf); a device with
a wrong one is refused and writes nothing, with the right one it syncs.

test_per_user_login (login = "per-user", no cache, no Conflux accounts at
all): a user whose PostgreSQL role exists syncs and their rows carry their
name, a device's delete marks the row (delete = "soft"); a user with no
role is refused. Without install_triggers the trigger SQL is written to the
data directory, and it runs by hand (the test cluster trusts local connections, so PostgreSQL checks the
role, not the password).

Run: CONFLUX_BIN=/path/to/conflux /usr/bin/python3 test_pg_backend.py
"""

import re
import subprocess
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pg_server  # noqa: E402
import vcards  # noqa: E402
from conflux_server import IntegrationTest, error_lines, poll_until  # noqa: E402
from sync_summary import local_changes, parse_summary  # noqa: E402

DS = "contacts"
USER = "olga"
PASSWORD = "Pg-backend-pw-5"
PUSH_TIMEOUT = 60  # seconds a NOTIFY may take to bring a change into the cache

SCHEMA = """
CREATE TABLE crm.customers (
  id SERIAL PRIMARY KEY,
  account_manager TEXT NOT NULL,
  first_name TEXT, last_name TEXT, company TEXT, job_title TEXT,
  email TEXT, phone TEXT, birthday DATE, notes TEXT, photo BYTEA,
  loyalty_points INTEGER NOT NULL DEFAULT 0, status CHAR(1) NOT NULL DEFAULT 'A');
CREATE TABLE crm.customer_channels (
  customer_id INTEGER NOT NULL REFERENCES crm.customers(id) ON DELETE CASCADE,
  kind TEXT NOT NULL, label TEXT, value TEXT NOT NULL);
"""

MAPPING = """
table = "crm.customers"
key = "id"
owner = "account_manager"
field_given = "first_name"
field_family = "last_name"
field_org = "company"
field_title = "job_title"
field_email_work = "email"
field_tel = "phone"
field_birthday = "birthday"
field_note = "notes"
field_photo = "photo"
child_table = "crm.customer_channels"
child_key = "customer_id"
child_kind = "kind"
child_type = "label"
child_value = "value"
"""


APPOINTMENTS = """
CREATE TABLE crm.appointments (
  id SERIAL PRIMARY KEY,
  booked_by TEXT NOT NULL,
  title TEXT, place TEXT, details TEXT,
  starts_at TIMESTAMPTZ NOT NULL, ends_at TIMESTAMPTZ,
  whole_day BOOLEAN NOT NULL DEFAULT false, zone TEXT, repeats TEXT,
  room_confirmed BOOLEAN NOT NULL DEFAULT false);
"""

EVENT_MAPPING = """
table = "crm.appointments"
key = "id"
owner = "booked_by"
field_summary = "title"
field_location = "place"
field_description = "details"
field_start = "starts_at"
field_end = "ends_at"
field_all_day = "whole_day"
field_timezone = "zone"
field_rrule = "repeats"
"""

BERLIN = ("BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n"
          "BEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\n"
          "TZNAME:CEST\r\nDTSTART:19700329T020000\r\n"
          "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3\r\nEND:DAYLIGHT\r\n"
          "BEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\n"
          "TZNAME:CET\r\nDTSTART:19701025T030000\r\n"
          "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\r\nEND:STANDARD\r\n"
          "END:VTIMEZONE\r\n")


def vcalendar(body, timezone=""):
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Conflux tests//pg//EN\r\n"
            + timezone + "BEGIN:VEVENT\r\nDTSTAMP:20260101T000000Z\r\n" + body
            + "END:VEVENT\r\nEND:VCALENDAR\r\n")


EVENTS = {
    "review.ics": vcalendar(
        "UID:review-1\r\nSUMMARY:Design review\r\nLOCATION:Room 4\r\n"
        "DESCRIPTION:Bring the drafts\r\nCATEGORIES:Work\r\n"
        "DTSTART;TZID=Europe/Berlin:20260715T100000\r\n"
        "DTEND;TZID=Europe/Berlin:20260715T113000\r\n"
        "RRULE:FREQ=WEEKLY;COUNT=4;BYDAY=WE\r\n", BERLIN),
    "holiday.ics": vcalendar(
        "UID:holiday-1\r\nSUMMARY:Holiday\r\nDTSTART;VALUE=DATE:20261224\r\n"
        "DTEND;VALUE=DATE:20261227\r\n"),
    "call.ics": vcalendar(
        "UID:call-1\r\nSUMMARY:Call\r\nDTSTART:20260110T090000Z\r\n"
        "DTEND:20260110T093000Z\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\n"
        "DESCRIPTION:Call\r\nTRIGGER:-PT10M\r\nEND:VALARM\r\n"),
}


def unfolded_lines(text):
    return text.replace("\r\n ", "").replace("\r\n", "\n").split("\n")


FACTS = ("SUMMARY", "LOCATION", "DESCRIPTION", "DTSTART", "DTEND", "UID",
         "CATEGORIES", "ACTION", "BEGIN:VALARM")


def event_facts(text):
    """The lines of the VEVENT that hold what was sent (not what each
    device adds itself: LAST-MODIFIED, its spelling of RRULE), sorted."""
    lines = unfolded_lines(text)
    start = lines.index("BEGIN:VEVENT")
    out, depth = [], 0
    for line in lines[start + 1:]:
        if line.startswith("BEGIN:"):
            depth += 1
        if line == "END:VEVENT" and depth == 0:
            break
        if line.startswith("END:"):
            depth -= 1
        if line.startswith(FACTS):
            out.append(line)
    return sorted(out)


class PgBackendTest(IntegrationTest):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pg = pg_server.shared()

    def crm_database(self):
        """A fresh database with schema crm and the two tables, owned by
        the role crm_sync; returns (database, crm_sync's URI)."""
        database = self.pg.create_database("crm")
        self.pg.psql(database, "DO $$ BEGIN CREATE ROLE crm_sync LOGIN; "
                     "EXCEPTION WHEN duplicate_object THEN NULL; END $$; "
                     "CREATE SCHEMA crm AUTHORIZATION crm_sync")
        self.pg.psql(database, SCHEMA, user="crm_sync")
        return database, self.pg.uri(database, user="crm_sync")

    def store_section(self, uri, extra=""):
        return (f'[stores.{DS}]\nadapter = "postgresql"\n'
                'content_type = "text/vcard"\ncontent_version = "3.0"\n'
                f'connection = "{uri}"\n' + MAPPING + extra)

    def rows(self, database, columns="first_name, last_name"):
        out = self.pg.psql(database, f"SELECT {columns} FROM crm.customers "
                           "ORDER BY id")
        return [tuple(line.split("|")) for line in out.splitlines()]

    def pushed(self, server):
        return len(re.findall(rf"store '{DS}' user '{USER}': \d+ changes by "
                              "others brought into the cache",
                              server.log_text()))

    def test_customers_table(self):
        database, uri = self.crm_database()
        server = self.make_server(self.store_section(
            uri, 'install_triggers = true\ncache = true\n'
            'backend_monitor = "push"\nbackend_poll_seconds = 86400\n'))
        server.add_user(USER, PASSWORD)
        server.start()
        a = self.make_device(server, "dev-a", USER, PASSWORD)
        originals = dict(vcards.generate(4, seed=141))
        for name, text in originals.items():
            a.write_item(DS, name, text)
        a.sync("slow", timeout=120)

        # The Cache Monitor writes the rows.
        poll_until(lambda: len(self.rows(database)) == 4, PUSH_TIMEOUT,
                   what="4 rows in crm.customers")
        want = {(n[1], n[0]) for n in
                (vcards.parse_vcard(t)["N"][0][1] for t in originals.values())}
        self.assertEqual(set(self.rows(database)), want)
        self.assertEqual(self.pg.psql(
            database, "SELECT count(*) FROM crm.customers WHERE email LIKE "
            "'%@example.org' AND birthday IS NOT NULL AND company <> ''"
            " AND account_manager = 'olga'").strip(), "4")
        self.assertNotEqual(self.pg.psql(
            database, "SELECT count(*) FROM crm.customer_channels").strip(),
            "0")

        # Another program: a column Conflux does not know, then an insert,
        # an update and a delete in one transaction.
        ids = [r[0] for r in self.rows(database, "id")]
        self.pg.psql(database, "UPDATE crm.customers SET loyalty_points = 42")
        before = self.pushed(server)
        self.pg.psql(database, f"""BEGIN;
            INSERT INTO crm.customers (account_manager, first_name, last_name,
              company) VALUES ('olga', 'Ines', 'Inserted', 'Psql GmbH');
            UPDATE crm.customers SET first_name = 'Udo' WHERE id = {ids[0]};
            DELETE FROM crm.customers WHERE id = {ids[1]};
            COMMIT;""", user="crm_sync")
        poll_until(lambda: self.pushed(server) > before, PUSH_TIMEOUT,
                   what="the change brought into the cache by NOTIFY")
        _, out = a.sync("two-way", timeout=120)
        self.assertEqual(local_changes(parse_summary(out)[DS]), (1, 1, 1),
                         out[-3000:])
        fns = {vcards.fn_of(t) for t in a.items(DS).values()}
        self.assertIn("Ines Inserted", fns)
        self.assertEqual(len(fns), 4)

        # The commit-order trap: a transaction that began first (its change
        # log row is older) commits after a later one. Both reach the device.
        late = subprocess.Popen(
            [pg_server.PSQL, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", uri],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        late.stdin.write("BEGIN;\nINSERT INTO crm.customers (account_manager,"
                         " first_name, last_name) VALUES ('olga', 'Lena',"
                         " 'Late');\n")
        late.stdin.flush()
        poll_until(lambda: self.pg.psql(
            database, "SELECT count(*) FROM pg_stat_activity WHERE state = "
            "'idle in transaction' AND backend_xid IS NOT NULL").strip()
            == "1", PUSH_TIMEOUT, what="the late transaction holding its row")
        before = self.pushed(server)
        self.pg.psql(database, "INSERT INTO crm.customers (account_manager,"
                     " first_name, last_name) VALUES ('olga', 'Erik', "
                     "'Early')", user="crm_sync")
        late.stdin.write("COMMIT;\n")
        late.stdin.close()
        self.assertEqual(late.wait(timeout=60), 0)
        poll_until(lambda: self.pushed(server) > before, PUSH_TIMEOUT,
                   what="both commits brought into the cache by NOTIFY")
        _, out = a.sync("two-way", timeout=120)
        self.assertEqual(local_changes(parse_summary(out)[DS]), (2, 0, 0),
                         out[-3000:])
        fns = {vcards.fn_of(t) for t in a.items(DS).values()}
        self.assertTrue({"Lena Late", "Erik Early"} <= fns, fns)

        # The device adds, edits and deletes.
        items = a.items(DS)
        by_fn = {vcards.fn_of(t): n for n, t in items.items()}
        edited_name = by_fn[next(f for f in fns if f.startswith("Udo "))]
        deleted_name = by_fn["Ines Inserted"]
        a.write_item(DS, edited_name, vcards.replace_property(
            items[edited_name], "NOTE", "NOTE:edited on the device"))
        a.delete_item(DS, deleted_name)
        a.write_item(DS, "new.vcf", vcards.contact(77, seed=141))
        a.sync("two-way", timeout=120)
        new_family = vcards.parse_vcard(
            vcards.contact(77, seed=141))["N"][0][1][0]
        poll_until(lambda: self.pg.psql(
            database, "SELECT count(*) FROM crm.customers WHERE "
            "notes = 'edited on the device' OR last_name = 'Inserted' OR "
            f"last_name = '{new_family}'").strip() == "2",
            PUSH_TIMEOUT, what="the device's add, edit and delete in the table")
        self.assertEqual(self.pg.psql(
            database, "SELECT loyalty_points FROM crm.customers WHERE "
            f"id = {ids[0]}").strip(), "42")

        # Nothing the table cannot hold was lost: B gets A's contacts whole.
        b = self.make_device(server, "dev-b", USER, PASSWORD)
        b.sync("slow", timeout=120)
        on_a = vcards.by_fn(a.items(DS).values())
        on_b = vcards.by_fn(b.items(DS).values())
        self.assertEqual(set(on_a), set(on_b))
        for fn, text in on_a.items():
            self.assertEqual(vcards.contact_diff(text, on_b[fn]), [], fn)
        server.stop()
        self.assertEqual(error_lines(server.log_text()), [])

    def test_appointments_table(self):
        database, uri = self.crm_database()
        self.pg.psql(database, APPOINTMENTS, user="crm_sync")
        section = ('[stores.calendar]\nadapter = "postgresql"\n'
                   'content_type = "text/calendar"\ncontent_version = "2.0"\n'
                   f'connection = "{uri}"\n' + EVENT_MAPPING)
        # Checked against the live schema like contacts.
        wrong = self.make_server(section.replace('field_all_day = "whole_day"',
                                                 'field_all_day = "title"'),
                                 name="wrongtype")
        line = self.unavailable_line(wrong, "calendar")
        for text in ("stores.calendar.field_all_day", "title", "boolean"):
            self.assertIn(text, line)

        server = self.make_server(section)
        server.add_user(USER, PASSWORD)
        server.start()
        stores = {"calendar": ("text/calendar", "calendar")}
        a = self.make_device(server, "cal-a", USER, PASSWORD, datastores=stores)
        for name, text in EVENTS.items():
            a.write_item("calendar", name, text)
        a.sync("slow", timeout=120)

        def rows(columns):
            return self.pg.psql(database, f"SELECT {columns} FROM "
                                "crm.appointments ORDER BY title")
        self.assertEqual(rows(
            "title, place, to_char(starts_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'),"
            " to_char(ends_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'),"
            " whole_day, zone, repeats IS NOT NULL, booked_by"),
            "Call||2026-01-10 09:00|2026-01-10 09:30|f||f|olga\n"
            "Design review|Room 4|2026-07-15 08:00|2026-07-15 09:30|f|"
            "Europe/Berlin|t|olga\n"
            "Holiday||2026-12-24 00:00|2026-12-27 00:00|t||f|olga\n")
        # SyncEvolution sends COUNT=4 as the UNTIL of the fourth meeting.
        self.assertRegex(rows("repeats").splitlines()[1],
                         r"^FREQ=WEEKLY;(COUNT=4|UNTIL=20260805T080000Z);BYDAY=WE$")

        # Another program books an appointment; the device gets it.
        self.pg.psql(database, "INSERT INTO crm.appointments (booked_by, title,"
                     " place, starts_at, ends_at, zone) VALUES ('olga', 'Dentist',"
                     " 'Main St 5', '2026-03-02 15:00 America/New_York',"
                     " '2026-03-02 15:45 America/New_York', 'America/New_York')",
                     user="crm_sync")
        _, out = a.sync("two-way", timeout=120)
        self.assertEqual(local_changes(parse_summary(out)["calendar"]),
                         (1, 0, 0), out[-3000:])
        dentist = next(t for t in a.items("calendar").values()
                       if "SUMMARY:Dentist" in t)
        facts = event_facts(dentist)
        self.assertIn("DTSTART;TZID=America/New_York:20260302T150000", facts)
        self.assertIn("LOCATION:Main St 5", facts)

        # The device moves the review; the row follows, room_confirmed (a
        # column the mapping does not know) keeps its value.
        self.pg.psql(database, "UPDATE crm.appointments SET room_confirmed = true"
                     " WHERE title = 'Design review'")
        a.write_item("calendar", "review.ics", EVENTS["review.ics"].replace(
            "T100000", "T140000").replace("T113000", "T153000"))
        a.sync("two-way", timeout=120)
        self.assertEqual(self.pg.psql(
            database, "SELECT to_char(starts_at AT TIME ZONE 'Europe/Berlin',"
            " 'HH24:MI'), room_confirmed FROM crm.appointments"
            " WHERE title = 'Design review'").strip(), "14:00|t")

        # A second device gets every event whole: UID, CATEGORIES, the
        # alarm were kept beside the row.
        b = self.make_device(server, "cal-b", USER, PASSWORD, datastores=stores)
        b.sync("slow", timeout=120)
        on_a = {tuple(event_facts(t)) for t in a.items("calendar").values()}
        on_b = {tuple(event_facts(t)) for t in b.items("calendar").values()}
        self.assertEqual(len(on_b), 4)
        self.assertEqual(on_a, on_b)
        review = next(f for f in on_b if "UID:review-1" in f)
        self.assertIn("CATEGORIES:Work", review)
        self.assertIn("DTSTART;TZID=Europe/Berlin:20260715T140000", review)
        server.stop()
        self.assertEqual(error_lines(server.log_text()), [])

    def test_owner_through_an_accounts_table(self):
        database, uri = self.crm_database()
        self.pg.psql(database, """
            CREATE TABLE crm.accounts (id SERIAL PRIMARY KEY, login TEXT UNIQUE NOT NULL);
            CREATE TABLE crm.leads (id SERIAL PRIMARY KEY,
              account_id INTEGER NOT NULL REFERENCES crm.accounts(id),
              first_name TEXT, last_name TEXT, email TEXT);
            INSERT INTO crm.accounts (login) VALUES ('olga'), ('piet');
            INSERT INTO crm.leads (account_id, first_name, last_name)
              SELECT id, 'Piets', 'Lead' FROM crm.accounts WHERE login = 'piet';
            """, user="crm_sync")
        section = (f'[stores.{DS}]\nadapter = "postgresql"\n'
                   'content_type = "text/vcard"\ncontent_version = "3.0"\n'
                   f'connection = "{uri}"\ntable = "crm.leads"\nkey = "id"\n'
                   'owner = "account_id"\nowner_table = "crm.accounts"\n'
                   'owner_table_key = "id"\nowner_table_user = "login"\n'
                   'field_given = "first_name"\nfield_family = "last_name"\n'
                   'field_email = "email"\ninstall_triggers = true\ncache = true\n'
                   'backend_monitor = "push"\nbackend_poll_seconds = 86400\n')
        line = self.unavailable_line(self.make_server(
            section.replace('"login"', '"username"'), name="nouser"))
        for text in ("stores.contacts.owner_table_user", "crm.accounts",
                     "username"):
            self.assertIn(text, line)

        server = self.make_server(section)
        server.add_user(USER, PASSWORD)
        server.start()
        a = self.make_device(server, "dev-a", USER, PASSWORD)
        for name, text in vcards.generate(2, seed=144):
            a.write_item(DS, name, text)
        _, out = a.sync("slow", timeout=120)
        self.assertEqual(local_changes(parse_summary(out)[DS]), (0, 0, 0),
                         "piet's lead must not reach olga's device")
        poll_until(lambda: self.pg.psql(
            database, "SELECT count(*) FROM crm.leads l JOIN crm.accounts a"
            " ON a.id = l.account_id WHERE a.login = 'olga'").strip() == "2",
            PUSH_TIMEOUT, what="olga's 2 rows in crm.leads")

        # Another program adds a lead to olga's account: the change log
        # names account 1, the NOTIFY brings it to olga.
        before = self.pushed(server)
        self.pg.psql(database, "INSERT INTO crm.leads (account_id, first_name,"
                     " last_name) SELECT id, 'Nora', 'New' FROM crm.accounts"
                     " WHERE login = 'olga'", user="crm_sync")
        poll_until(lambda: self.pushed(server) > before, PUSH_TIMEOUT,
                   what="the change brought into olga's cache by NOTIFY")
        _, out = a.sync("two-way", timeout=120)
        self.assertEqual(local_changes(parse_summary(out)[DS]), (1, 0, 0),
                         out[-3000:])
        self.assertIn("Nora New", {vcards.fn_of(t) for t in a.items(DS).values()})
        self.assertEqual(self.pg.psql(
            database, "SELECT count(*) FROM crm.leads").strip(), "4")
        server.stop()
        self.assertEqual(error_lines(server.log_text()), [])

    def test_a_row_the_table_refuses_fails_alone(self):
        database, uri = self.crm_database()
        self.pg.psql(database, "ALTER TABLE crm.customers ADD CONSTRAINT "
                     "no_refused CHECK (last_name IS DISTINCT FROM 'Refused')",
                     user="crm_sync")
        server = self.make_server(self.store_section(uri))
        server.add_user(USER, PASSWORD)
        server.start()
        a = self.make_device(server, "dev-a", USER, PASSWORD)
        for name, text in vcards.generate(4, seed=145):
            a.write_item(DS, name, text)
        a.write_item(DS, "refused.vcf", "BEGIN:VCARD\r\nVERSION:3.0\r\n"
                     "N:Refused;Rita;;;\r\nFN:Rita Refused\r\nEND:VCARD\r\n")
        _, out = a.sync("slow", expect_ok=False, timeout=120)
        counts = parse_summary(out)[DS]
        self.assertEqual((counts.remote_new, counts.remote_err), (4, 1), out[-3000:])
        self.assertEqual(len(self.rows(database)), 4)
        self.assertNotIn(("Rita", "Refused"), self.rows(database))
        self.assertRegex(server.log_text(), r"item \(new\) not applied: .*no_refused")

        # The table took the other four in the same transaction; once the
        # device drops the refused one, a sync has nothing left to do.
        a.delete_item(DS, "refused.vcf")
        _, out = a.sync("two-way", timeout=120)
        self.assertEqual(local_changes(parse_summary(out)[DS]), (0, 0, 0))
        self.assertEqual(len(self.rows(database)), 4)
        server.stop()

    def test_a_locked_table_times_out_and_the_next_sync_writes(self):
        database, uri = self.crm_database()
        server = self.make_server(self.store_section(
            uri, "statement_timeout_seconds = 1\n"))
        server.add_user(USER, PASSWORD)
        server.start()
        a = self.make_device(server, "dev-a", USER, PASSWORD)
        contacts = vcards.generate(3, seed=149)
        for name, text in contacts[:2]:
            a.write_item(DS, name, text)
        a.sync("slow", timeout=120)
        self.assertEqual(len(self.rows(database)), 2)

        # Another program holds the table: reads pass, writes wait.
        locker = subprocess.Popen(
            [pg_server.PSQL, "-X", "-q", "-v", "ON_ERROR_STOP=1",
             "-d", self.pg.uri(database, user="crm_sync")],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, text=True)
        try:
            locker.stdin.write(
                "BEGIN;\nLOCK TABLE crm.customers IN EXCLUSIVE MODE;\n")
            locker.stdin.flush()
            poll_until(lambda: self.pg.psql(
                database, "SELECT count(*) FROM pg_locks WHERE granted AND "
                "mode = 'ExclusiveLock' AND "
                "relation = 'crm.customers'::regclass").strip() == "1",
                30, what="crm.customers locked by psql")
            name, text = contacts[2]
            a.write_item(DS, name, text)
            _, out = a.sync("two-way", expect_ok=False, timeout=120)
            # SyncML 503 for the item: SyncEvolution ends the sync there
            # ("remote, status 503") and keeps the contact to send again.
            self.assertIn("remote, status 503", out, out[-3000:])
            self.assertEqual(len(self.rows(database)), 2)
            self.assertRegex(
                server.log_text(),
                r"item \(new\) not applied: UNAVAILABLE: .*statement timed "
                r"out after 1 s .*canceling statement due to statement timeout")
        finally:
            locker.stdin.write("ROLLBACK;\n")
            locker.stdin.close()
            locker.wait(timeout=30)

        # The lock is gone: the device sends its contact again, and it is
        # written once.
        _, out = a.sync("two-way", timeout=120)
        family = vcards.parse_vcard(text)["N"][0][1][0]
        rows = self.rows(database)
        self.assertEqual(len(rows), 3, out[-3000:])
        self.assertEqual(sum(1 for row in rows if row[1] == family), 1, rows)
        server.stop()

    def unavailable_line(self, server, store=DS):
        """The one log line saying why `store` is unavailable; the server
        starts all the same (a store that cannot be made stops no other)."""
        server.start()
        lines = [line for line in server.log_text().splitlines()
                 if f"datastore '{store}' is unavailable" in line]
        self.assertEqual(len(lines), 1, server.log_text())
        self.assertNotIn("wrong-pw-2", server.log_text())
        server.stop()
        return lines[0]

    def test_bad_mapping_and_connection_leave_the_store_unavailable_with_one_line(self):
        database, uri = self.crm_database()
        cases = [
            ("missing", self.store_section(uri).replace(
                'field_note = "notes"', 'field_note = "remarks"'),
             ["stores.contacts.field_note", "remarks", "crm.customers"]),
            ("wrongtype", self.store_section(uri).replace(
                'field_birthday = "birthday"', 'field_birthday = "notes"'),
             ["stores.contacts.field_birthday", "notes", "date"]),
            ("malformed", self.store_section("postgresql://[::1"),
             ["stores.contacts.connection"]),
            ("nobody", self.store_section(
                "postgresql:///crm?host=/nonexistent-conflux"),
             ["stores.contacts.connection", "unreachable"]),
        ]
        self.pg.psql(database, "DO $$ BEGIN CREATE ROLE crm_reader LOGIN; "
                     "EXCEPTION WHEN duplicate_object THEN NULL; END $$; "
                     "GRANT USAGE ON SCHEMA crm TO crm_reader; "
                     "GRANT SELECT ON crm.customers TO crm_reader")
        cases.append(("reader", self.store_section(
            self.pg.uri(database, user="crm_reader")),
            ["stores.contacts.table", "crm_reader", "INSERT",
             "GRANT"]))
        self.pg.psql(database, "DO $$ BEGIN CREATE ROLE crm_pw LOGIN; "
                     "EXCEPTION WHEN duplicate_object THEN NULL; END $$")
        self.pg.require_password("crm_pw", "right-pw-1")
        cases.append(("password", self.store_section(
            self.pg.uri(database, user="crm_pw", password="wrong-pw-2")),
            ["stores.contacts.connection", "password", "crm_pw"]))
        cases.append(("nodatabase", self.store_section(
            self.pg.uri("crm_nonexistent")),
            ["stores.contacts.connection", "crm_nonexistent",
             "does not exist"]))
        for name, section, wanted in cases:
            with self.subTest(name):
                line = self.unavailable_line(self.make_server(section, name=name))
                for text in wanted:
                    self.assertIn(text, line)
                self.assertNotIn("wrong-pw-2", line)

    def test_per_user_login(self):
        database, uri = self.crm_database()
        # PostgreSQL checks the password itself: the devices must send it (basic).
        server = self.make_server("[auth]\nmd5 = false\n" + self.store_section(
            uri, 'login = "per-user"\ndelete = "soft"\n'
            'deleted_column = "status"\ndeleted_value = "D"\n'))
        server.start()
        # After the start: the side table Conflux made at start included.
        self.pg.psql(database, f"DO $$ BEGIN CREATE ROLE {USER} LOGIN; "
                     "EXCEPTION WHEN duplicate_object THEN NULL; END $$")
        self.pg.psql(database, f"GRANT USAGE ON SCHEMA crm TO {USER}; "
                     "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN "
                     f"SCHEMA crm TO {USER}; GRANT USAGE ON ALL SEQUENCES IN "
                     f"SCHEMA crm TO {USER}", user="crm_sync")
        a = self.make_device(server, "dev-a", USER, PASSWORD)
        for name, text in vcards.generate(2, seed=142):
            a.write_item(DS, name, text)
        a.sync("slow", timeout=120)
        self.assertEqual(self.pg.psql(
            database, "SELECT count(*) FROM crm.customers WHERE "
            f"account_manager = '{USER}'").strip(), "2")

        # A soft delete: the row stays, marked, and is gone for the device.
        a.delete_item(DS, sorted(a.items(DS))[0])
        a.sync("two-way", timeout=120)
        self.assertEqual(self.pg.psql(
            database, "SELECT status, count(*) FROM crm.customers "
            "GROUP BY status ORDER BY status"), "A|1\nD|1\n")
        _, out = a.sync("two-way", timeout=120)
        self.assertEqual(local_changes(parse_summary(out)[DS]), (0, 0, 0))

        # No install_triggers: the SQL is written out for the owner to run;
        # it runs cleanly by hand.
        script = server.data_dir / "postgresql-contacts-triggers.sql"
        self.assertIn(str(script), server.log_text())
        self.assertIn("CREATE TRIGGER conflux_changes", script.read_text())
        self.pg.psql(database, script.read_text(), user="crm_sync")

        ghost = self.make_device(server, "ghost", "ghost", "whatever")
        code, out = ghost.sync("slow", expect_ok=False, timeout=120)
        self.assertNotEqual(code, 0)
        self.assertRegex(server.log_text(), r"device conflux-it-ghost: "
                         r"authentication refused \(syncml:auth-basic")
        self.assertEqual(self.pg.psql(
            database, "SELECT count(*) FROM crm.customers WHERE "
            "account_manager <> 'olga'").strip(), "0")
        server.stop()

    def test_per_user_login_is_refused_when_postgresql_refuses_the_password(self):
        database, uri = self.crm_database()
        role, password = "petra", "Petra-pg-pw-7"
        self.pg.psql(database, f"DO $$ BEGIN CREATE ROLE {role} LOGIN; "
                     "EXCEPTION WHEN duplicate_object THEN NULL; END $$")
        self.pg.require_password(role, password)
        server = self.make_server("[auth]\nmd5 = false\n" + self.store_section(
            uri, 'login = "per-user"\n'))
        server.start()
        # After the start: the side table Conflux made at start included.
        self.pg.psql(database, f"GRANT USAGE ON SCHEMA crm TO {role}; "
                     "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN "
                     f"SCHEMA crm TO {role}; GRANT USAGE ON ALL SEQUENCES IN "
                     f"SCHEMA crm TO {role}", user="crm_sync")
        wrong = self.make_device(server, "wrong", role, "Not-her-pw-8")
        wrong.write_item(DS, "w.vcf", vcards.contact(1, seed=143))
        code, _ = wrong.sync("slow", expect_ok=False, timeout=120)
        self.assertNotEqual(code, 0)
        self.assertRegex(server.log_text(), r"device conflux-it-wrong: "
                         r"authentication refused")
        self.assertNotIn("Not-her-pw-8", server.log_text())
        self.assertEqual(self.pg.psql(
            database, "SELECT count(*) FROM crm.customers").strip(), "0")

        right = self.make_device(server, "right", role, password)
        right.write_item(DS, "r.vcf", vcards.contact(2, seed=143))
        right.sync("slow", timeout=120)
        self.assertEqual(self.pg.psql(
            database, "SELECT count(*) FROM crm.customers WHERE "
            f"account_manager = '{role}'").strip(), "1")
        server.stop()
        self.assertEqual(error_lines(server.log_text()), [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
