#!/usr/bin/python3
"""The postgresql back end over any other table: the rows of a shop's
`orders` as typed Records (application/vnd.conflux.record+json), with a
PostgreSQL the test starts itself (tests/pg/pg_test_server) and a hand-made
SyncML client (syncml_client.py: SyncEvolution has no Record datastore).

test_orders_table (cache on, backend_monitor = "push", a poll interval of a
day, install_triggers = true):
  1. a field naming a missing column, or a column of a type no Record holds
     (jsonb), stops the store with one line naming the store, the key and
     the column;
  2. a device slow-syncs two Records: two rows with the values in their
     typed columns (numeric, boolean, date, timestamptz, bytea), the owner
     column set, internal_note (not mapped) left to its default; a column
     the mapping lacks ("colour") is kept beside the row;
  3. psql sets internal_note, then inserts, updates and deletes a row in one
     transaction: the NOTIFY brings it into the cache (no poll could have in
     a day) and the device's next sync gets 1 new, 1 changed, 1 deleted, as
     Records of the right types;
  4. the device edits one Record and deletes another: the row follows,
     internal_note keeps psql's value, the other row is gone;
  5. a second device gets the row left, every column with its type.

test_soft_delete_and_modified_column_without_triggers: no triggers, no
cache; rows psql inserts, updates (bumping `changed_at`) and marks deleted
reach the device at its next sync, the kept "colour" with them; the
device's delete marks the row; a Record column of the wrong type fails its
item with 400 naming the column.

Run: CONFLUX_BIN=/path/to/conflux /usr/bin/python3 test_pg_records.py
"""

import json
import re
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pg_server  # noqa: E402
from conflux_server import IntegrationTest, error_lines, poll_until  # noqa: E402
from syncml_client import RawSession  # noqa: E402

DS = "orders"
USER = "olga"
PASSWORD = "Pg-records-pw-3"
RECORD = "application/vnd.conflux.record+json"
PUSH_TIMEOUT = 60  # seconds a NOTIFY may take to bring a change into the cache

SCHEMA = """
CREATE TABLE shop.orders (
  id SERIAL PRIMARY KEY,
  clerk TEXT NOT NULL,
  customer TEXT, total NUMERIC(10,2), paid BOOLEAN, due DATE,
  updated TIMESTAMPTZ, scan BYTEA, meta JSONB,
  changed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  status CHAR(1) NOT NULL DEFAULT 'A',
  internal_note TEXT NOT NULL DEFAULT 'none');
"""

MAPPING = """
table = "shop.orders"
key = "id"
owner = "clerk"
field_customer = "customer"
field_total = "total"
field_paid = "paid"
field_due = "due"
field_updated = "updated"
field_scan = "scan"
"""


def record(customer, total, paid, due, updated, scan=None, extra=(),
           key=None):
    """A Record of shop.orders as a device sends it (JSON text); `key`:
    the id the server gave the row, None for a new one."""
    columns = [
        {"name": "id", "type": "integer", "value": key},
        {"name": "customer", "type": "text", "value": customer},
        {"name": "total", "type": "real", "value": total},
        {"name": "paid", "type": "boolean", "value": paid},
        {"name": "due", "type": "date", "value": due},
        {"name": "updated", "type": "timestamp", "value": updated},
        {"name": "scan", "type": "blob", "value": scan},
    ] + list(extra)
    return json.dumps({"table": "shop.orders", "key": ["id"],
                       "columns": columns})


def columns_of(text):
    """A Record's columns as {name: (type, value)}."""
    doc = json.loads(text)
    return {c["name"]: (c["type"], c["value"]) for c in doc["columns"]}


ACME = record("Acme", 12.5, True, "2026-03-01", "2026-02-03T04:05:06Z",
              scan="AAEC")
BOLT = record("Bolt & Nut", 40, False, None, None,
              extra=[{"name": "colour", "type": "text", "value": "red"}])


class PgRecordsTest(IntegrationTest):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pg = pg_server.shared()

    def shop_database(self):
        """A fresh database with schema shop and its orders table, owned by
        the role shop_sync; returns (database, shop_sync's URI)."""
        database = self.pg.create_database("shop")
        self.pg.psql(database, "DO $$ BEGIN CREATE ROLE shop_sync LOGIN; "
                     "EXCEPTION WHEN duplicate_object THEN NULL; END $$; "
                     "CREATE SCHEMA shop AUTHORIZATION shop_sync")
        self.pg.psql(database, SCHEMA, user="shop_sync")
        return database, self.pg.uri(database, user="shop_sync")

    def store_section(self, uri, mapping=MAPPING, extra=""):
        return (f'[stores.{DS}]\nadapter = "postgresql"\n'
                f'content_type = "{RECORD}"\n'
                f'connection = "{uri}"\n' + mapping + extra)

    def session(self, server, device, session_id):
        return RawSession(server.url, device, USER, PASSWORD, datastore=DS,
                          session_id=session_id, local="./orders",
                          item_type=RECORD)

    def rows(self, database, columns="customer"):
        return self.pg.psql(database, f"SELECT {columns} FROM shop.orders "
                            "ORDER BY id").splitlines()

    def pushed(self, server):
        return len(re.findall(rf"store '{DS}' user '{USER}': \d+ changes by "
                              "others brought into the cache",
                              server.log_text()))

    def unavailable_line(self, server):
        """The one log line saying why the store is unavailable."""
        server.start()
        lines = [line for line in server.log_text().splitlines()
                 if f"datastore '{DS}' is unavailable" in line]
        self.assertEqual(len(lines), 1, server.log_text())
        server.stop()
        return lines[0]

    def test_orders_table(self):
        database, uri = self.shop_database()
        for name, mapping, wanted in [
                ("missing", MAPPING + 'field_remark = "remark"\n',
                 ["stores.orders.field_remark", "shop.orders", "remark"]),
                ("jsonb", MAPPING + 'field_meta = "meta"\n',
                 ["stores.orders.field_meta", "meta", "jsonb"])]:
            with self.subTest(name):
                line = self.unavailable_line(self.make_server(
                    self.store_section(uri, mapping), name=name))
                for text in wanted:
                    self.assertIn(text, line)

        server = self.make_server(self.store_section(
            uri, extra='install_triggers = true\ncache = true\n'
            'backend_monitor = "push"\nbackend_poll_seconds = 86400\n'))
        server.add_user(USER, PASSWORD)
        server.start()
        a = self.session(server, "shop-a", "1")
        a.start(alert=201, next_anchor="a1")
        a.sync(adds=[("1", ACME), ("2", BOLT)])
        a.finish()
        self.assertEqual([code for cmd, _, code in a.item_statuses
                          if cmd == "Add"], [201, 201], a.item_statuses)

        # The Cache Monitor writes the rows, each value in its typed column.
        poll_until(lambda: len(self.rows(database)) == 2, PUSH_TIMEOUT,
                   what="2 rows in shop.orders")
        self.assertEqual(self.rows(
            database, "customer, total, total = 12.5, paid, due,"
            " updated = '2026-02-03 04:05:06Z'::timestamptz,"
            " encode(scan, 'hex'), clerk, internal_note"),
            ["Acme|12.50|t|t|2026-03-01|t|000102|olga|none",
             "Bolt & Nut|40.00|f|f||||olga|none"])
        acme_id, bolt_id = self.rows(database, "id")
        kept = self.pg.psql(database, "SELECT item_key, vcard FROM "
                            "shop.conflux_item_extra").strip().split("|", 1)
        self.assertEqual(kept[0], bolt_id)
        self.assertEqual(columns_of(kept[1]), {"colour": ("text", "red")})

        # Another program: a column Conflux does not map, then an insert,
        # an update and a delete in one transaction.
        self.pg.psql(database, "UPDATE shop.orders SET internal_note = 'vip'")
        before = self.pushed(server)
        self.pg.psql(database, f"""BEGIN;
            INSERT INTO shop.orders (clerk, customer, total, paid, due, updated)
              VALUES ('olga', 'Psql Ltd', 99.90, false, '2026-04-30',
                      '2026-01-02 03:04:05+02');
            UPDATE shop.orders SET total = 13.75 WHERE id = {acme_id};
            DELETE FROM shop.orders WHERE id = {bolt_id};
            COMMIT;""", user="shop_sync")
        poll_until(lambda: self.pushed(server) > before, PUSH_TIMEOUT,
                   what="the change brought into the cache by NOTIFY")
        a = self.session(server, "shop-a", "2")
        a.start(alert=200, last="a1", next_anchor="a2")
        a.sync()
        maps = dict(a.maps)  # server id -> the device's id; finish() sends them
        a.finish()
        self.assertEqual(len(a.received), 2, a.received)
        self.assertEqual(a.deleted, ["2"])  # Bolt, the device's item "2"
        by_customer = {columns_of(t)["customer"][1]: columns_of(t)
                       for t in a.received.values()}
        self.assertEqual(by_customer["Acme"]["total"], ("real", 13.75))
        psql_row = by_customer["Psql Ltd"]
        self.assertEqual(psql_row["id"][0], "integer")
        self.assertEqual(psql_row["total"], ("real", 99.9))
        self.assertEqual(psql_row["paid"], ("boolean", False))
        self.assertEqual(psql_row["due"], ("date", "2026-04-30"))
        self.assertEqual(psql_row["updated"],
                         ("timestamp", "2026-01-02T01:04:05Z"))
        self.assertEqual(psql_row["scan"], ("blob", None))
        self.assertNotIn("internal_note", psql_row)
        psql_id = str(psql_row["id"][1])

        # The device edits Acme (its own item "1", with the id it received)
        # and deletes the psql row (the item it mapped to that server id).
        psql_luid = maps[psql_id]
        a = self.session(server, "shop-a", "3")
        a.start(alert=200, last="a2", next_anchor="a3")
        a.sync(replaces=[("1", record("Acme", 20, True, "2026-03-15",
                                      "2026-02-04T00:00:00Z", scan="AAEC",
                                      key=int(acme_id)))],
               deletes=[psql_luid])
        a.finish()
        poll_until(lambda: self.rows(database, "customer, total, due") ==
                   ["Acme|20.00|2026-03-15"], PUSH_TIMEOUT,
                   what="the device's edit and delete in shop.orders")
        self.assertEqual(self.rows(database, "internal_note"), ["vip"])

        # A second device gets the one row left whole.
        b = self.session(server, "shop-b", "1")
        b.start(alert=201, next_anchor="b1")
        b.sync()
        b.finish()
        self.assertEqual([columns_of(t) for t in b.received.values()], [{
            "id": ("integer", int(acme_id)), "customer": ("text", "Acme"),
            "total": ("real", 20), "paid": ("boolean", True),
            "due": ("date", "2026-03-15"),
            "updated": ("timestamp", "2026-02-04T00:00:00Z"),
            "scan": ("blob", "AAEC")}])
        server.stop()
        self.assertEqual(error_lines(server.log_text()), [])

    def test_soft_delete_and_modified_column_without_triggers(self):
        database, uri = self.shop_database()
        server = self.make_server(self.store_section(
            uri, extra='delete = "soft"\ndeleted_column = "status"\n'
            'deleted_value = "D"\nmodified_column = "changed_at"\n'))
        server.add_user(USER, PASSWORD)
        server.start()
        a = self.session(server, "shop-a", "1")
        a.start(alert=201, next_anchor="a1")
        a.sync(adds=[("1", ACME), ("2", BOLT)])
        a.finish()
        self.assertEqual(self.rows(database, "customer, status"),
                         ["Acme|A", "Bolt & Nut|A"])
        acme_id, bolt_id = self.rows(database, "id")
        self.assertIn("no change-log triggers on shop.orders",
                      server.log_text())

        # Another program inserts a row, edits one (bumping changed_at, as
        # every writer must) and marks one deleted.
        self.pg.psql(database, f"""BEGIN;
            INSERT INTO shop.orders (clerk, customer, total)
              VALUES ('olga', 'Polled', 1.25);
            UPDATE shop.orders SET paid = true, changed_at = now() + interval '1 s'
              WHERE id = {bolt_id};
            UPDATE shop.orders SET status = 'D' WHERE id = {acme_id};
            COMMIT;""", user="shop_sync")
        a = self.session(server, "shop-a", "2")
        a.start(alert=200, last="a1", next_anchor="a2")
        a.sync()
        a.finish()
        self.assertEqual(sorted(columns_of(t)["customer"][1]
                                for t in a.received.values()),
                         ["Bolt & Nut", "Polled"])
        bolt = next(columns_of(t) for t in a.received.values()
                    if columns_of(t)["customer"][1] == "Bolt & Nut")
        self.assertEqual(bolt["paid"], ("boolean", True))
        self.assertEqual(bolt["colour"], ("text", "red"))
        self.assertEqual(a.deleted, ["1"])  # Acme, the device's item "1"

        # The device's delete marks the row; it stays in the table. A Record
        # whose column has another type than the table's fails alone (400).
        a = self.session(server, "shop-a", "3")
        a.start(alert=200, last="a2", next_anchor="a3")
        wrong = record("Wrong", 1, "yes", None, None).replace(
            '"type": "boolean"', '"type": "text"')
        a.sync(adds=[("3", wrong)], deletes=["2"])
        a.finish()
        self.assertIn(("Add", "3", 400), a.item_statuses)
        self.assertRegex(server.log_text(), r"item 3 from the device failed "
                         r"with 400: .*record column 'paid': is text, the "
                         r"table's column holds boolean")
        self.assertEqual(self.rows(database, "customer, status"),
                         ["Acme|D", "Bolt & Nut|D", "Polled|A"])
        server.stop()
        self.assertEqual(error_lines(server.log_text()), [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
