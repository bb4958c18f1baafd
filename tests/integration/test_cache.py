#!/usr/bin/python3
"""The persistent cache in front of a vdir store, with a real SyncEvolution
client (MISSION §4 "Persistent Store", "Cache Monitor"; §7 "nothing
acknowledged is ever lost"):

  1. device A slow-syncs 5 contacts: with the trickle trigger (amount 1) the
     Cache Monitor writes 5 .vcf files under <root>/<user>/contacts/;
  2. the collection is made unwritable (moved aside, a plain file in its
     place — mode bits do not stop root): A adds 3 contacts and its sync
     still succeeds, answered by the cache;
  3. the collection back: the queue drains, all 8 files are there with the
     right content;
  4. broken again, A adds 2 and syncs; the server is SIGKILLed with those 2
     queued; the collection comes back and the server starts: the 2 reach
     the directory;
  5. device B slow-syncs and gets all 10; A's next sync brings nothing back
     (the Cache Monitor's writes are not echoed by the Back End Monitor).
  While the back end is broken, `conflux cache status` and GET /metrics show
  the queued changes and their age (replication lag). With
  CONFLUX_TEST_STORE=postgresql the cache and its queue live in the server's
  PostgreSQL database: no cache.db, and psql finds the 10 items there.

test_stuck_entries: a change the back end refuses is marked stuck after
cache_stuck_after_attempts failures; `conflux cache stuck` lists it,
`retry` makes it due again (and it sticks again), `drop` takes it out of the
queue and `conflux cache dropped` still shows its content. The refusal is
the back end's own: the owner of the sqlite back-end database froze the
user's address book with a trigger (RAISE(ABORT) -> SQLITE_CONSTRAINT ->
failed_precondition, not "down"), after the device's add was accepted into
the cache. (A wrong-kind item no longer gets that far: the engine answers
415 at ingest. The vdir adapter refuses nothing else of the right kind: a
removed or replaced-by-a-directory file makes the Cache Monitor recreate
the item, and its file-system errors count as "down", retried forever.)

test_push_needs_an_adapter_that_reports_changes: backend_monitor = "push" on
a back end without change notifications is refused at start, naming the key.

Run: CONFLUX_BIN=/path/to/conflux /usr/bin/python3 test_cache.py
"""

import os
import re
import sqlite3
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pg_server  # noqa: E402
import syncml_client as sc  # noqa: E402
import vcards  # noqa: E402
from conflux_server import (IntegrationTest, error_lines, http_request,  # noqa: E402
                            poll_until)
from engine_checks import device_fns, doubled  # noqa: E402
from sync_summary import local_changes, parse_summary  # noqa: E402

DS = "contacts"
USER = "carla"
PASSWORD = "Cache-pw-3"
DRAIN_TIMEOUT = 60  # seconds the queue may take to reach the directory


class CacheTest(IntegrationTest):

    def collection(self):
        return self.root / USER / DS

    def aside(self):
        return self.root / USER / "contacts.aside"

    def server_cards(self):
        """{file name: text} of the .vcf files of the collection; {} while
        it is not a directory."""
        if not self.collection().is_dir():
            return {}
        return {p.name: p.read_bytes().decode("utf-8")
                for p in sorted(self.collection().iterdir())
                if p.is_file() and p.suffix == ".vcf"}

    def break_collection(self):
        os.rename(self.collection(), self.aside())
        self.collection().write_text("not a directory\n")

    def restore_collection(self):
        self.collection().unlink()
        os.rename(self.aside(), self.collection())

    def replication_failures(self):
        return self.server.log_text().count("failed (attempt")

    def wait_for_failed_replication(self, before):
        """Waits (bounded) until the Cache Monitor has tried the broken
        back end and kept the queue: a failure logged after `before`."""
        poll_until(lambda: self.replication_failures() > before,
                   DRAIN_TIMEOUT, what="a failed replication attempt")

    def wait_for_cards(self, expected):
        """Waits (bounded) until the directory holds exactly the contacts of
        `expected` (texts), then checks each one's content."""
        want = {vcards.fn_of(t) for t in expected}

        def arrived():
            cards = self.server_cards()
            fns = [vcards.fn_of(t) for t in cards.values()]
            return cards if len(fns) == len(want) and set(fns) == want else None

        cards = poll_until(arrived, DRAIN_TIMEOUT,
                           what=f"{len(want)} contacts in {self.collection()}")
        on_server = vcards.by_fn(cards.values())
        for text in expected:
            fn = vcards.fn_of(text)
            self.assertTrue(vcards.same_contact(text, on_server[fn]),
                            vcards.contact_diff(text, on_server[fn]))

    def test_queue_survives_a_broken_backend_and_sigkill(self):
        self.root = self.tmp / "vdir"
        self.server = self.make_server(
            f'[stores.contacts]\nadapter = "vdir"\nroot = "{self.root}"\n'
            'content_type = "text/vcard"\ncontent_version = "3.0"\n'
            'cache = true\ncache_trigger = "amount"\ncache_amount = 1\n'
            'backend_poll_seconds = 1\n')
        self.server.add_user(USER, PASSWORD)
        self.server.start()

        contacts = [text for _, text in vcards.generate(10, seed=303)]
        names = [name for name, _ in vcards.generate(10, seed=303)]
        a = self.make_device(self.server, "dev-a", USER, PASSWORD)

        # 1. Five contacts reach the directory through the cache.
        for name, text in zip(names[:5], contacts[:5]):
            a.write_item(DS, name, text)
        a.sync("slow", timeout=120)
        self.wait_for_cards(contacts[:5])

        # 2. The back end broken: the device's sync still succeeds.
        self.break_collection()
        failures = self.replication_failures()
        for name, text in zip(names[5:8], contacts[5:8]):
            a.write_item(DS, name, text)
        _, out = a.sync("two-way", timeout=120)
        counts = parse_summary(out)[DS]
        self.assertEqual(counts.remote_err, 0, out[-3000:])
        self.wait_for_failed_replication(failures)
        self.assertTrue(self.collection().is_file(), "nothing wrote there")
        # The lag is visible: 3 queued, none stuck (the back end is down,
        # which never makes an entry stuck).
        status = self.server.cli("cache", "status").stdout
        self.assertRegex(status, r"(?m)^contacts\t3\t\d+\t0\t\d+$", status)
        code, _, body = http_request(self.server.base_url + "/metrics")
        self.assertEqual(code, 200)
        metrics = body.decode()
        self.assertIn('conflux_cache_queue_length{datastore="contacts"} 3',
                      metrics)
        self.assertIn('conflux_cache_stuck_entries{datastore="contacts"} 0',
                      metrics)
        self.assertRegex(metrics, r'conflux_cache_replication_lag_seconds'
                         r'\{datastore="contacts"\} \d+')

        # 3. Back again: the queue drains, 8 files with the right content.
        self.restore_collection()
        self.wait_for_cards(contacts[:8])

        # 4. Broken again, 2 more acknowledged, then a crash.
        self.break_collection()
        for name, text in zip(names[8:], contacts[8:]):
            a.write_item(DS, name, text)
        failures = self.replication_failures()
        _, out = a.sync("two-way", timeout=120)
        self.assertEqual(parse_summary(out)[DS].remote_err, 0, out[-3000:])
        self.wait_for_failed_replication(failures)
        self.server.kill()
        self.restore_collection()
        self.assertEqual(len(self.server_cards()), 8)
        self.server.start()
        self.wait_for_cards(contacts)

        # 5. A second device gets all 10; A gets nothing back.
        b = self.make_device(self.server, "dev-b", USER, PASSWORD)
        b.sync("slow", timeout=120)
        got = device_fns(b)
        self.assertEqual(doubled(got), {})
        self.assertEqual(set(got), {vcards.fn_of(t) for t in contacts})
        _, out = a.sync("two-way", timeout=120)
        self.assertEqual(local_changes(parse_summary(out)[DS]), (0, 0, 0),
                         out[-3000:])
        self.assertEqual(len(self.server_cards()), 10)

        self.server.stop()
        self.assertEqual(error_lines(self.server.log_text()), [])
        self.assert_cache_holds(10)
        status = self.server.cli("cache", "status").stdout
        self.assertRegex(status, r"(?m)^contacts\t0\t0\t0\t\d+$", status)

    def assert_cache_holds(self, live_items):
        """The cache is where [storage] says: cache.db beside the state, or
        (CONFLUX_TEST_STORE=postgresql) the server's PostgreSQL database,
        with no cache.db at all; there it holds the user's `live_items`
        and an empty queue."""
        cache_file = self.server.data_dir / "cache.db"
        if self.server.database is None:
            self.assertTrue(cache_file.exists())
            return
        self.assertFalse(cache_file.exists())
        pg = pg_server.shared()
        items = pg.psql(self.server.database,
                        "SELECT count(*) FROM cache_items WHERE user_name = "
                        f"'{USER}' AND database = '{DS}' AND NOT deleted")
        self.assertEqual(items.strip(), str(live_items))
        queued = pg.psql(self.server.database, "SELECT count(*) FROM cache_queue")
        self.assertEqual(queued.strip(), "0")

    def stuck_lines(self):
        return [line for line in self.server.cli("cache", "stuck")
                .stdout.splitlines()[1:] if line]  # under the header

    def freeze_backend(self, db_file, user):
        """What the owner of a back-end database may do: a trigger that
        refuses every new item of `user` (any program's, not only ours)."""
        con = sqlite3.connect(db_file, timeout=30)
        try:
            with con:
                con.execute(
                    f"CREATE TRIGGER frozen_{user} BEFORE INSERT ON items "
                    f"WHEN NEW.user = '{user}' BEGIN SELECT RAISE(ABORT, "
                    f"'address book of {user} is frozen'); END")
        finally:
            con.close()

    def backend_items(self, db_file, user):
        con = sqlite3.connect(db_file, timeout=30)
        try:
            return con.execute("SELECT count(*) FROM items WHERE user = ?",
                               (user,)).fetchone()[0]
        finally:
            con.close()

    def test_stuck_entries(self):
        backend_db = self.tmp / "backend" / "contacts.db"
        self.server = self.make_server(
            f'[stores.contacts]\nadapter = "sqlite"\nfile = "{backend_db}"\n'
            'content_type = "text/vcard"\ncontent_version = "3.0"\n'
            'cache = true\ncache_stuck_after_attempts = 2\n')
        self.server.add_user(USER, PASSWORD)
        self.server.start()
        self.freeze_backend(backend_db, USER)
        card = vcards.contact(7, seed=404)
        session = sc.slow_sync(self.server.url, "raw-dev-1", USER, PASSWORD,
                               adds=[("1", card)], datastore=DS)
        # Accepted: the cache answers for the back end.
        self.assertEqual([code for cmd, _, code in session.item_statuses
                          if cmd == "Add"], [201], session.item_statuses)

        # Refused twice by the back end (the frozen address book).
        lines = poll_until(self.stuck_lines, DRAIN_TIMEOUT,
                           what="a stuck queue entry")
        self.assertEqual(len(lines), 1, lines)
        seq = lines[0].split("\t")[0]
        self.assertIn("\tcreate\t", lines[0])
        self.assertIn("2 attempts", lines[0])
        self.assertIn(f"address book of {USER} is frozen", lines[0])
        status = self.server.cli("cache", "status").stdout
        self.assertRegex(status, r"(?m)^contacts\t1\t\d+\t1\t0$", status)

        # Retried: due again, refused again, stuck again.
        out = self.server.cli("cache", "retry", seq).stdout
        self.assertIn(f"queue entry {seq} will be tried again", out)
        poll_until(lambda: self.server.log_text().count("marked stuck") >= 2,
                   DRAIN_TIMEOUT, what="the retried entry stuck again")
        self.assertEqual(len(self.stuck_lines()), 1)

        # Dropped: out of the queue, its content on record.
        out = self.server.cli("cache", "drop", seq).stdout
        self.assertIn("dropped", out)
        self.assertEqual(self.stuck_lines(), [])
        dropped = self.server.cli("cache", "dropped").stdout
        self.assertIn(f"(queue entry {seq},", dropped)
        self.assertIn(f"address book of {USER} is frozen", dropped)
        self.assertIn(vcards.fn_of(card), dropped)
        status = self.server.cli("cache", "status").stdout
        self.assertRegex(status, r"(?m)^contacts\t0\t0\t0\t0$", status)
        unknown = self.server.cli("cache", "drop", seq, check=False)
        self.assertNotEqual(unknown.returncode, 0)
        self.assertIn(f"no queue entry {seq}", unknown.stderr)
        self.assertEqual(self.backend_items(backend_db, USER), 0)
        self.assertTrue(self.server.running())
        self.server.stop()

    def test_push_needs_an_adapter_that_reports_changes(self):
        server = self.make_server(
            '[stores.contacts]\nadapter = "sqlite"\n'
            'content_type = "text/vcard"\ncache = true\n'
            'backend_monitor = "push"\n')
        refused = server.cli("check-config", check=False)
        self.assertNotEqual(refused.returncode, 0)
        self.assertIn("stores.contacts.backend_monitor: adapter sqlite cannot "
                      "report changes", refused.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
