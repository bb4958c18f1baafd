#!/usr/bin/python3
"""Conflux with its state in PostgreSQL ([storage] database), against a
PostgreSQL the test starts itself (tests/pg/pg_test_server):

  (a) PostgreSQL is stopped in the middle of a session (after pkg 1,
      before pkg 3 with three Adds): pkg 3 gets 503 with Retry-After, nothing
      is applied, the server stays up (/health); once PostgreSQL is back the
      same message is accepted, the session completes with each contact
      once, and SyncEvolution's next sync gets exactly them;
  (b) two Conflux processes on one PostgreSQL database (and one back end)
      serve one device, its HTTP requests alternating between them through
      a round-robin proxy: the slow sync, an edit and a delete all arrive,
      nothing doubled, and a second device gets exactly the result;
  (c) bad storage settings stop the server at start with one line naming
      the key: a malformed URI, a server nobody listens on, a role without
      the right to create the tables.

Run: CONFLUX_BIN=/path/to/conflux /usr/bin/python3 test_pg_store.py
"""

import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pg_server  # noqa: E402
import syncml_client as sc  # noqa: E402
import vcards  # noqa: E402
from conflux_server import IntegrationTest, http_request  # noqa: E402
from engine_checks import (device_fns, doubled,  # noqa: E402
                           server_count, server_fns)
from http_proxies import RoundRobinProxy  # noqa: E402

DS = "contacts"
USER = "pia"
PASSWORD = "Pg-store-pw-3"
CLIENT_EXTRA = {"maxMsgSize": "4000", "retryDuration": "0",
                "retryInterval": "0"}


class PgStoreTest(IntegrationTest):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pg = pg_server.shared()

    def pg_server(self, name="server", database=None, extra=""):
        """A Conflux whose state is in `database` (a fresh one by default)."""
        database = database or self.pg.create_database()
        server = self.make_server(
            f'[storage]\ndatabase = "{self.pg.uri(database)}"\n' + extra,
            name=name)
        return server, database

    def test_postgres_stopped_mid_sync_fails_cleanly_and_the_next_sync_completes(self):
        server, _ = self.pg_server()
        server.add_user(USER, PASSWORD)
        server.start()
        cards = [vcards.contact(i, seed=41) for i in range(3)]
        session = sc.RawSession(server.url, "raw-pg", USER, PASSWORD)
        session.start(alert=201)

        # pkg 3 while PostgreSQL is down: 503 with Retry-After, nothing
        # applied, the server stays up.
        pkg3 = session.next_message(session.sync_body(
            adds=[(str(i + 1), card) for i, card in enumerate(cards)]))
        self.pg.stop()
        try:
            status, headers, _ = sc.post(session.next_url, pkg3)
            self.assertEqual(status, 503)
            self.assertGreater(int(headers.get("Retry-After", "0")), 0)
            self.assertEqual(server_count(server, USER), 0)
            status, _, body = http_request(server.base_url + "/health")
            self.assertEqual((status, body.strip()), (200, b"ok"))
        finally:
            self.pg.start()

        # The client retries the same message once the database is back: the
        # session goes on where it was, and finishes.
        reply = sc.post_syncml(session.next_url, pkg3)
        session.last_reply = reply
        session._answer(reply)
        session._continue_until_final(reply)
        session.finish()
        self.assertEqual(set(server_fns(server, USER)),
                         {vcards.fn_of(c) for c in cards})
        self.assertEqual(doubled(server_fns(server, USER)), {})

        # And a real client's next sync completes and gets exactly those.
        device = self.make_device(server, "dev", USER, PASSWORD)
        device.sync("slow")
        self.assertEqual(set(device_fns(device)),
                         {vcards.fn_of(c) for c in cards})
        self.assertIn("unavailable", server.log_text().lower())

    def test_two_servers_on_one_database_serve_one_device_in_turn(self):
        # One back end for both: node a's items.db (where server_fns looks).
        shared_items = self.tmp / "node-a" / "data" / "items.db"
        store = (f'[stores.contacts]\nadapter = "sqlite"\nfile = "{shared_items}"\n'
                 'content_type = "text/vcard"\ncontent_version = "3.0"\n')
        a, database = self.pg_server("node-a", extra=store)
        b, _ = self.pg_server("node-b", database=database, extra=store)
        a.add_user(USER, PASSWORD)   # the account is in PostgreSQL: b has it too
        a.start()
        b.start()
        proxy = RoundRobinProxy([a.url, b.url])
        self.addCleanup(proxy.close)

        device = self.make_device(proxy, "dev", USER, PASSWORD,
                                  extra=CLIENT_EXTRA)
        originals = dict(vcards.generate(200, seed=43))
        for name, text in originals.items():
            device.write_item(DS, name, text)
        device.sync("slow")
        self.assertGreater(min(proxy.served), 3, proxy.served)

        # An edit and a delete, then a no-change sync: still exactly right.
        names = sorted(originals)
        edited = vcards.replace_property(originals[names[0]], "FN",
                                         "FN:Edited Through Two Nodes")
        device.write_item(DS, names[0], edited)
        device.delete_item(DS, names[1])
        device.sync("two-way")
        device.sync("two-way")

        expected = {vcards.fn_of(originals[n]) for n in names[2:]}
        expected.add("Edited Through Two Nodes")
        got = server_fns(a, USER, DS)
        self.assertEqual(set(got), expected)
        self.assertEqual(doubled(got), {})

        other = self.make_device(proxy, "other", USER, PASSWORD)
        other.sync("slow")
        self.assertEqual(set(device_fns(other)), expected)
        self.assertEqual(doubled(device_fns(other)), {})

    def start_fails(self, server):
        proc = server.cli("serve", check=False)
        self.assertNotEqual(proc.returncode, 0)
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        return lines

    def test_bad_storage_settings_stop_the_server_with_one_line(self):
        malformed = self.make_server('[storage]\ndatabase = "postgresql://[::1"\n',
                                     name="malformed")
        lines = self.start_fails(malformed)
        self.assertIn("storage.database", lines[-1])
        self.assertIn("malformed", lines[-1])

        nobody = self.make_server(
            '[storage]\ndatabase = "postgresql:///x?host=/nonexistent-conflux"\n',
            name="nobody")
        lines = self.start_fails(nobody)
        self.assertIn("storage.database", lines[-1])
        self.assertIn("unreachable", lines[-1])

        database = self.pg.create_database()
        self.pg.psql(database, "CREATE ROLE weak LOGIN; "
                     "REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        weak = self.make_server(
            f'[storage]\ndatabase = "{self.pg.uri(database, user="weak")}"\n',
            name="weak")
        lines = self.start_fails(weak)
        self.assertIn("storage.database", lines[-1])
        self.assertIn("permission denied", lines[-1])


if __name__ == "__main__":
    unittest.main()
