#!/usr/bin/python3
"""The portal's JMAP-style API (docs/API.md) over a real HTTP socket, with a
real Conflux and a real SyncEvolution device.

test_contacts_with_a_device: a contact created through ContactCard/set
  reaches the device at its next sync; the device's edit shows up in
  ContactCard/changes (and /get) with the new state; an update through the
  API reaches the device; destroy reaches it too.
test_query_paging_search_errors: /query text search, sort and position/limit
  paging; back-references; bad JSON, a non-request, an unknown method and an
  invalid property come back as JMAP errors naming the property; another
  user's ids are notFound; a write on a read-only datastore is forbidden;
  a state the CAF does not know gives cannotCalculateChanges; CalendarEvent
  create/get/query; the session resource; Basic logins are throttled.
test_tasks_and_notes: Task (JSCalendar, a VTODO in the tasks datastore)
  and Note (Conflux's own {title, body}, text/plain in the notes datastore)
  through /set, /get, /query, /changes; what is stored (the raw iCalendar /
  text); events and tasks of one calendar datastore kept apart; invalid
  properties named; /queryChanges answered cannotCalculateChanges.
test_aggregation: a user with contacts on sqlite, vdir, CardDAV (Radicale)
  and the postgresql back end (a CRM table in a PostgreSQL the test starts)
  sees all of them in one query (the accountId-less query of the Conflux
  extension), a row another program inserted into the table too.

Run: CONFLUX_BIN=/path/to/conflux /usr/bin/python3 test_portal.py
"""

import base64
import http.client
import json
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import vcards  # noqa: E402
from conflux_server import IntegrationTest, error_lines, http_request  # noqa: E402
import pg_server  # noqa: E402
from radicale import Radicale  # noqa: E402
from sync_summary import local_changes, parse_summary  # noqa: E402

USER, PASSWORD = "pia", "Portal-pw-3"
OTHER, OTHER_PASSWORD = "otto", "Other-pw-9"
USING = ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:contacts",
         "urn:ietf:params:jmap:calendars", "urn:ietf:params:jmap:tasks",
         "urn:conflux:params:jmap:notes"]

STORES = (
    '[stores.contacts]\nadapter = "sqlite"\ncontent_type = "text/vcard"\n'
    'content_version = "3.0"\n'
    '[stores.calendar]\nadapter = "sqlite"\ncontent_type = "text/calendar"\n'
    'content_version = "2.0"\n'
    '[stores.directory]\nadapter = "sqlite"\ncontent_type = "text/vcard"\n'
    'content_version = "3.0"\naccess = "read-only"\n')


def basic(user, password):
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


class EventSource:
    """A client of GET /jmap/eventsource: reads one Server-Sent Event at a
    time (bounded by the socket timeout)."""

    def __init__(self, server, query, user=USER, password=PASSWORD):
        self.conn = http.client.HTTPConnection("127.0.0.1", server.port,
                                               timeout=60)
        self.conn.request("GET", "/jmap/eventsource?" + query,
                          headers=basic(user, password))
        self.response = self.conn.getresponse()
        self.status = self.response.status
        self.content_type = self.response.getheader("Content-Type")

    def next_event(self):
        """(event type, parsed data) of the next event; None at the end."""
        kind, data = None, ""
        while True:
            line = self.response.readline()
            if not line:
                return None
            line = line.decode().rstrip("\n")
            if not line:
                if kind:
                    return kind, json.loads(data)
                continue
            field, _, value = line.partition(": ")
            if field == "event":
                kind = value
            elif field == "data":
                data += value

    def close(self):
        self.conn.close()


class PortalTest(IntegrationTest):

    def start_server(self, extra=""):
        self.server = self.make_server(STORES + extra)
        self.server.add_user(USER, PASSWORD)
        self.server.add_user(OTHER, OTHER_PASSWORD)
        self.server.start()
        return self.server

    def post(self, body, user=USER, password=PASSWORD,
             content_type="application/json"):
        """(HTTP status, parsed JSON) of one POST to /jmap/api."""
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        status, _, out = http_request(
            self.server.base_url + "/jmap/api", "POST", raw,
            {**basic(user, password), "Content-Type": content_type})
        return status, json.loads(out)

    def call(self, name, args, user=USER, password=PASSWORD):
        """The [name, args] of the single response to one method call."""
        status, out = self.post({"using": USING,
                                 "methodCalls": [[name, args, "c0"]]},
                                user, password)
        self.assertEqual(status, 200, out)
        [[rname, rargs, call_id]] = out["methodResponses"]
        self.assertEqual(call_id, "c0")
        return rname, rargs

    def ok(self, name, args, **kw):
        rname, rargs = self.call(name, args, **kw)
        self.assertEqual(rname, name, rargs)
        return rargs

    def create_card(self, card, account="contacts", **kw):
        out = self.ok("ContactCard/set",
                      {"accountId": account, "create": {"k": card}}, **kw)
        self.assertIn("k", out["created"], out)
        return out["created"]["k"]["id"]

    def card(self, given, surname, **more):
        c = {"@type": "Card",
             "name": {"components": [{"kind": "given", "value": given},
                                     {"kind": "surname", "value": surname}],
                      "full": f"{given} {surname}"}}
        c.update(more)
        return c

    # ------------------------------------------------------------------

    def test_contacts_with_a_device(self):
        self.start_server()
        device = self.make_device(self.server, "dev-a", USER, PASSWORD)
        for name, text in vcards.generate(3, seed=41):
            device.write_item("contacts", name, text)
        device.sync("slow", timeout=120)

        got = self.ok("ContactCard/get", {"accountId": "contacts", "ids": None})
        self.assertEqual(len(got["list"]), 3)
        state = got["state"]

        # Created through the API -> on the device after its next sync.
        new_id = self.create_card(self.card(
            "Api", "Created",
            phones={"p1": {"number": "+49 30 1234567",
                           "features": {"mobile": True}}},
            emails={"e1": {"address": "api@example.org",
                           "contexts": {"work": True}}},
            organizations={"o1": {"name": "Conflux"}},
            notes={"n1": {"note": "made by the portal"}},
            anniversaries={"k1": {"kind": "birth", "date": {
                "@type": "PartialDate", "year": 1980, "month": 5,
                "day": 3}}}))
        _, out = device.sync("two-way", timeout=120)
        self.assertEqual(local_changes(parse_summary(out)["contacts"]),
                         (1, 0, 0), out[-3000:])
        on_device = vcards.by_fn(device.items("contacts").values())
        self.assertIn("Api Created", on_device)
        text = on_device["Api Created"]
        for expected in ("api@example.org", "+49 30 1234567", "Conflux",
                         "made by the portal"):
            self.assertIn(expected, text)
        # SyncEvolution writes the date in the basic format.
        self.assertIn("BDAY:19800503", text.replace("-", ""))

        changes = self.ok("ContactCard/changes",
                          {"accountId": "contacts", "sinceState": state})
        self.assertEqual(changes["created"], [new_id])
        state = changes["newState"]

        # The device's edit -> pushed on the EventSource, and visible
        # through /changes and /get.
        events = EventSource(self.server, "types=ContactCard&closeafter=no"
                             "&ping=0")
        self.addCleanup(events.close)
        self.assertEqual((events.status, events.content_type),
                         (200, "text/event-stream"))
        kind, first = events.next_event()
        self.assertEqual((kind, first["@type"]), ("state", "StateChange"))
        self.assertEqual(first["changed"]["contacts"],
                         {"ContactCard": state})
        name = next(n for n, t in device.items("contacts").items()
                    if vcards.fn_of(t) == "Api Created")
        device.write_item("contacts", name, vcards.replace_property(
            text, "NOTE", "NOTE:edited on the phone"))
        device.sync("two-way", timeout=120)
        changes = self.ok("ContactCard/changes",
                          {"accountId": "contacts", "sinceState": state})
        self.assertEqual(changes["updated"], [new_id], changes)
        self.assertEqual(changes["created"] + changes["destroyed"], [])
        self.assertNotEqual(changes["newState"], state)
        kind, pushed = events.next_event()
        self.assertEqual(kind, "state")
        self.assertEqual(pushed["changed"],
                         {"contacts": {"ContactCard": changes["newState"]}})
        events.close()
        got = self.ok("ContactCard/get", {"accountId": "contacts",
                                          "ids": [new_id]})
        self.assertEqual(list(got["list"][0]["notes"].values()),
                         [{"note": "edited on the phone"}])
        state = changes["newState"]

        # An update through the API (a patch) -> the device; what the API
        # does not model (the device's other properties) is kept.
        out = self.ok("ContactCard/set", {
            "accountId": "contacts", "ifInState": state,
            "update": {new_id: {"notes/n1/note": "edited in the portal",
                                "phones/p2": {"number": "+1 555 0100"}}}})
        self.assertEqual(out["updated"], {new_id: None}, out)
        _, out = device.sync("two-way", timeout=120)
        self.assertEqual(local_changes(parse_summary(out)["contacts"]),
                         (0, 1, 0), out[-3000:])
        text = vcards.by_fn(device.items("contacts").values())["Api Created"]
        self.assertIn("edited in the portal", text)
        self.assertIn("+1 555 0100", text)
        self.assertIn("api@example.org", text)

        # A stale ifInState is refused.
        _, err = self.call("ContactCard/set", {
            "accountId": "contacts", "ifInState": state,
            "destroy": [new_id]})
        self.assertEqual(err["type"], "stateMismatch")

        # Destroy -> gone from the device.
        out = self.ok("ContactCard/set", {"accountId": "contacts",
                                          "destroy": [new_id]})
        self.assertEqual(out["destroyed"], [new_id])
        _, out = device.sync("two-way", timeout=120)
        self.assertEqual(local_changes(parse_summary(out)["contacts"]),
                         (0, 0, 1), out[-3000:])
        self.server.stop()
        self.assertEqual(error_lines(self.server.log_text()), [])

    def test_query_paging_search_errors(self):
        self.start_server()
        # The session resource: one account per datastore.
        status, _, body = http_request(
            self.server.base_url + "/.well-known/jmap",
            headers=basic(USER, PASSWORD))
        self.assertEqual(status, 200)
        session = json.loads(body)
        self.assertEqual(sorted(session["accounts"]),
                         ["calendar", "contacts", "directory"])
        self.assertTrue(session["accounts"]["directory"]["isReadOnly"])
        self.assertFalse(session["accounts"]["contacts"]["isReadOnly"])
        self.assertTrue(session["apiUrl"].endswith("/jmap/api"))
        status, headers, _ = http_request(
            self.server.base_url + "/.well-known/jmap",
            headers=basic(USER, "wrong"))
        self.assertEqual(status, 401)
        self.assertIn("Basic", headers.get("WWW-Authenticate", ""))

        names = [("Ada", "Lovelace"), ("Alan", "Turing"), ("Grace", "Hopper"),
                 ("Edsger", "Dijkstra"), ("Barbara", "Liskov"),
                 ("Donald", "Knuth"), ("Ken", "Thompson")]
        creates = {f"c{i}": self.card(g, s, emails={
            "e1": {"address": f"{g.lower()}@example.org"}})
            for i, (g, s) in enumerate(names)}
        out = self.ok("ContactCard/set", {"accountId": "contacts",
                                          "create": creates})
        self.assertEqual(len(out["created"]), len(names), out)
        ids = {cid: v["id"] for cid, v in out["created"].items()}

        # Sort by surname, page through 3 at a time.
        by_surname = sorted(names, key=lambda n: n[1])
        pages = []
        for position in (0, 3, 6):
            q = self.ok("ContactCard/query", {
                "accountId": "contacts",
                "sort": [{"property": "name/surname"}],
                "position": position, "limit": 3, "calculateTotal": True})
            self.assertEqual(q["total"], len(names))
            self.assertEqual(q["position"], position)
            pages.append(q["ids"])
        self.assertEqual([len(p) for p in pages], [3, 3, 1])
        flat = [i for p in pages for i in p]
        got = self.ok("ContactCard/get", {"accountId": "contacts",
                                          "ids": flat})
        by_id = {c["id"]: c["name"]["full"] for c in got["list"]}
        self.assertEqual([by_id[i] for i in flat],
                         [f"{g} {s}" for g, s in by_surname])

        # Search (case-insensitive) with a back-reference into /get.
        status, out = self.post({"using": USING, "methodCalls": [
            ["ContactCard/query", {"accountId": "contacts",
                                   "filter": {"text": "HOPPER"}}, "q"],
            ["ContactCard/get", {"accountId": "contacts", "#ids": {
                "resultOf": "q", "name": "ContactCard/query",
                "path": "/ids"}, "properties": ["name", "conflux:raw"]},
             "g"]]})
        self.assertEqual(status, 200)
        (_, q, _), (_, g, _) = out["methodResponses"]
        self.assertEqual(q["ids"], [ids["c2"]])
        self.assertEqual(g["list"][0]["name"]["full"], "Grace Hopper")
        self.assertIn("BEGIN:VCARD", g["list"][0]["conflux:raw"])
        self.assertIn("EMAIL", g["list"][0]["conflux:raw"])

        # Request-level errors: problem details.
        status, out = self.post(b"{not json")
        self.assertEqual(status, 400)
        self.assertEqual(out["type"], "urn:ietf:params:jmap:error:notJSON")
        status, out = self.post({"methodCalls": []})
        self.assertEqual(out["type"], "urn:ietf:params:jmap:error:notRequest")
        status, out = self.post(b"{}", content_type="text/plain")
        self.assertEqual(out["type"], "urn:ietf:params:jmap:error:notJSON")
        # Method-level errors.
        name, err = self.call("ContactCard/frobnicate", {})
        self.assertEqual((name, err["type"]), ("error", "unknownMethod"))
        name, err = self.call("ContactCard/get", {"accountId": "nope"})
        self.assertEqual(err["type"], "accountNotFound")
        out = self.ok("ContactCard/set", {"accountId": "contacts", "create": {
            "bad": self.card("Bad", "Phone",
                             phones={"p1": {"number": 42}}),
            "odd": {"@type": "Card", "favouriteColour": "blue"}}})
        self.assertEqual(out["notCreated"]["bad"]["type"], "invalidProperties")
        self.assertEqual(out["notCreated"]["bad"]["properties"],
                         ["phones/p1/number"])
        self.assertEqual(out["notCreated"]["odd"]["properties"],
                         ["favouriteColour"])
        self.assertEqual(out["created"], {})
        name, err = self.call("ContactCard/changes", {
            "accountId": "contacts", "sinceState": "not-an-anchor"})
        self.assertEqual(err["type"], "cannotCalculateChanges")

        # Another user's ids are not found, for every method.
        theirs = self.ok("ContactCard/get", {"accountId": "contacts",
                                             "ids": [ids["c0"]]},
                         user=OTHER, password=OTHER_PASSWORD)
        self.assertEqual((theirs["list"], theirs["notFound"]),
                         ([], [ids["c0"]]))
        out = self.ok("ContactCard/set", {
            "accountId": "contacts",
            "update": {ids["c0"]: {"name/full": "Stolen"}},
            "destroy": [ids["c1"]]}, user=OTHER, password=OTHER_PASSWORD)
        self.assertEqual(out["notUpdated"][ids["c0"]]["type"], "notFound")
        self.assertEqual(out["notDestroyed"][ids["c1"]]["type"], "notFound")
        q = self.ok("ContactCard/query", {"accountId": "contacts"},
                    user=OTHER, password=OTHER_PASSWORD)
        self.assertEqual(q["ids"], [])
        got = self.ok("ContactCard/get", {"accountId": "contacts",
                                          "ids": [ids["c0"]]})
        self.assertEqual(got["list"][0]["name"]["full"], "Ada Lovelace")

        # A read-only datastore: the CAF refuses the write.
        out = self.ok("ContactCard/set", {"accountId": "directory",
                                          "create": {"w": self.card("No",
                                                                    "Way")}})
        self.assertEqual(out["notCreated"]["w"]["type"], "forbidden", out)
        q = self.ok("ContactCard/query", {"accountId": "directory"})
        self.assertEqual(q["ids"], [])

        # CalendarEvent: create, read back, query.
        out = self.ok("CalendarEvent/set", {"accountId": "calendar", "create": {
            "e": {"@type": "Event", "title": "Portal planning",
                  "start": "2026-04-10T09:00:00", "timeZone": "Etc/UTC",
                  "duration": "PT1H30M",
                  "locations": {"l1": {"name": "Room 4"}}},
            "bad": {"@type": "Event", "title": "no start"}}})
        self.assertEqual(out["notCreated"]["bad"]["properties"], ["start"])
        event_id = out["created"]["e"]["id"]
        got = self.ok("CalendarEvent/get", {"accountId": "calendar",
                                            "ids": [event_id]})
        event = got["list"][0]
        self.assertEqual((event["title"], event["start"], event["timeZone"],
                          event["duration"]),
                         ("Portal planning", "2026-04-10T09:00:00", "Etc/UTC",
                          "PT1H30M"))
        self.assertEqual(event["locations"]["l1"]["name"], "Room 4")
        q = self.ok("CalendarEvent/query", {"accountId": "calendar",
                                            "filter": {"text": "planning"}})
        self.assertEqual(q["ids"], [event_id])

        # Password guessing is throttled like SyncML logins.
        statuses = [http_request(self.server.base_url + "/.well-known/jmap",
                                 headers=basic(USER, "guess"))[0]
                    for _ in range(8)]
        self.assertIn(429, statuses)
        self.server.stop()

    def test_tasks_and_notes(self):
        self.start_server(
            '[stores.tasks]\nadapter = "sqlite"\ncontent_type = "text/calendar"\n'
            'content_version = "2.0"\n'
            '[stores.notes]\nadapter = "sqlite"\ncontent_type = "text/plain"\n'
            'content_version = "1.0"\n')
        status, _, body = http_request(self.server.base_url + "/.well-known/jmap",
                                       headers=basic(USER, PASSWORD))
        session = json.loads(body)
        self.assertEqual(sorted(session["accounts"]["tasks"]["accountCapabilities"]),
                         ["urn:ietf:params:jmap:calendars", "urn:ietf:params:jmap:tasks"])
        self.assertEqual(list(session["accounts"]["notes"]["accountCapabilities"]),
                         ["urn:conflux:params:jmap:notes"])

        # Tasks: create, read back, what is stored.
        old_state = self.ok("Task/get", {"accountId": "tasks", "ids": []})["state"]
        out = self.ok("Task/set", {"accountId": "tasks", "create": {
            "t1": {"@type": "Task", "title": "File taxes", "due": "2026-04-30T17:00:00",
                   "timeZone": "Europe/Berlin", "progress": "needs-action", "priority": 1},
            "t2": {"title": "Buy stamps", "due": "2026-03-01T09:00:00",
                   "percentComplete": 50, "progress": "in-process"},
            "bad": {"title": "Nope", "progress": "done", "colour": "red"}}})
        self.assertEqual(sorted(out["created"]), ["t1", "t2"], out)
        self.assertEqual(out["notCreated"]["bad"]["type"], "invalidProperties")
        self.assertEqual(sorted(out["notCreated"]["bad"]["properties"]), ["colour", "progress"])
        taxes, stamps = out["created"]["t1"]["id"], out["created"]["t2"]["id"]
        got = self.ok("Task/get", {"accountId": "tasks", "ids": [taxes],
                                   "properties": ["title", "due", "timeZone", "progress",
                                                  "priority", "conflux:raw"]})
        [task] = got["list"]
        self.assertEqual((task["title"], task["due"], task["timeZone"], task["progress"],
                          task["priority"]),
                         ("File taxes", "2026-04-30T17:00:00", "Europe/Berlin", "needs-action", 1))
        raw = task["conflux:raw"]
        self.assertIn("BEGIN:VTODO", raw)
        self.assertIn("DUE;TZID=Europe/Berlin:20260430T170000", raw)
        self.assertIn("STATUS:NEEDS-ACTION", raw)
        # Sorted by due date; searched by text.
        q = self.ok("Task/query", {"accountId": "tasks", "sort": [{"property": "due"}]})
        self.assertEqual(q["ids"], [stamps, taxes])
        q = self.ok("Task/query", {"filter": {"text": "TAXES"}})
        self.assertEqual(q["ids"], [taxes])
        # Completed: the VTODO says so, and /changes lists the update.
        out = self.ok("Task/set", {"accountId": "tasks", "update": {
            taxes: {"progress": "completed", "percentComplete": 100}}})
        self.assertEqual(out["updated"], {taxes: None}, out)
        raw = self.ok("Task/get", {"accountId": "tasks", "ids": [taxes],
                                   "properties": ["conflux:raw"]})["list"][0]["conflux:raw"]
        self.assertIn("STATUS:COMPLETED", raw)
        self.assertIn("PERCENT-COMPLETE:100", raw)
        self.assertIn("COMPLETED:", raw)
        changes = self.ok("Task/changes", {"accountId": "tasks", "sinceState": old_state})
        self.assertEqual(sorted(changes["created"] + changes["updated"]), sorted([taxes, stamps]))
        # An event and a task in one calendar datastore stay apart.
        self.ok("CalendarEvent/set", {"accountId": "tasks", "create": {"e": {
            "title": "Dentist", "start": "2026-05-02T10:00:00", "duration": "PT1H"}}})
        self.assertEqual(len(self.ok("CalendarEvent/query", {"accountId": "tasks"})["ids"]), 1)
        self.assertEqual(len(self.ok("Task/query", {"accountId": "tasks"})["ids"]), 2)
        lists = self.ok("TaskList/get", {"accountId": "tasks"})
        self.assertEqual([(t["id"], t["myRights"]["mayWrite"]) for t in lists["list"]],
                         [("default", True)])
        # Tasks live in calendar datastores only.
        name, err = self.call("Task/query", {"accountId": "contacts"})
        self.assertEqual((name, err["type"]), ("error", "accountNotFound"))

        # Notes: text/plain, the first line is the title.
        old_state = self.ok("Note/get", {"accountId": "notes", "ids": []})["state"]
        out = self.ok("Note/set", {"accountId": "notes", "create": {
            "n1": {"@type": "Note", "title": "Shopping", "body": "milk\neggs"},
            "n2": {"title": "Ideas", "body": "a portal"},
            "bad": {"title": "two\nlines", "body": 7}}})
        self.assertEqual(sorted(out["created"]), ["n1", "n2"], out)
        self.assertEqual(sorted(out["notCreated"]["bad"]["properties"]), ["body", "title"])
        shopping = out["created"]["n1"]["id"]
        [note] = self.ok("Note/get", {"accountId": "notes", "ids": [shopping],
                                      "properties": ["title", "body", "conflux:raw"]})["list"]
        self.assertEqual((note["title"], note["body"], note["conflux:raw"]),
                         ("Shopping", "milk\neggs", "Shopping\nmilk\neggs"))
        q = self.ok("Note/query", {"filter": {"text": "eggs"}})
        self.assertEqual(q["ids"], [shopping])
        q = self.ok("Note/query", {"accountId": "notes", "sort": [{"property": "title"}]})
        self.assertEqual(len(q["ids"]), 2)
        self.assertEqual(q["ids"][1], shopping)
        out = self.ok("Note/set", {"accountId": "notes", "update": {shopping: {"body": "milk"}}})
        self.assertEqual(out["updated"], {shopping: None}, out)
        changes = self.ok("Note/changes", {"accountId": "notes", "sinceState": old_state})
        self.assertIn(shopping, changes["created"] + changes["updated"])
        out = self.ok("Note/set", {"accountId": "notes", "destroy": [shopping]})
        self.assertEqual(out["destroyed"], [shopping])
        self.assertEqual(self.ok("Note/get", {"accountId": "notes", "ids": [shopping]})["notFound"],
                         [shopping])

        # Query results are not tracked: /queryChanges says so, as JMAP allows.
        for type_name, account in (("ContactCard", "contacts"), ("Task", "tasks"), ("Note", "notes")):
            name, err = self.call(f"{type_name}/queryChanges",
                                  {"accountId": account, "sinceQueryState": "x"})
            self.assertEqual((name, err["type"]), ("error", "cannotCalculateChanges"))
        self.server.stop()
        self.assertEqual(error_lines(self.server.log_text()), [])

    def test_aggregation(self):
        root = self.tmp / "vdir"
        # Radicale: the service account Conflux logs in with may use every
        # user's collections (from_file rules, first match wins).
        dav = Radicale(self.tmp / "radicale", {USER: PASSWORD, "conflux": "Service-pw-1"},
                       rights="[service]\nuser: conflux\ncollection: .*\npermissions: RrWw\n"
                              "[owner]\nuser: .+\ncollection: {user}(/.*)?\npermissions: RrWw\n"
                              "[root]\nuser: .+\ncollection:\npermissions: R\n")
        dav.start()
        self.addCleanup(dav.stop)
        dav.make_collection(USER, "book", "addressbook")
        (self.tmp / "service.pw").write_text("Service-pw-1\n")
        # PostgreSQL: an organisation's table the postgresql back end maps.
        pg = pg_server.shared()
        database = pg.create_database("crm")
        pg.psql(database, "DO $$ BEGIN CREATE ROLE crm_sync LOGIN; "
                "EXCEPTION WHEN duplicate_object THEN NULL; END $$; "
                "CREATE SCHEMA crm AUTHORIZATION crm_sync")
        pg.psql(database, "CREATE TABLE crm.customers (id SERIAL PRIMARY KEY, "
                "account_manager TEXT NOT NULL, full_name TEXT, first_name TEXT, last_name TEXT)",
                user="crm_sync")
        pg.psql(database, "INSERT INTO crm.customers(account_manager, full_name, first_name, "
                f"last_name) VALUES ('{USER}', 'Crm Row', 'Crm', 'Row'), "
                f"('{OTHER}', 'Not Hers', 'Not', 'Hers')", user="crm_sync")
        self.start_server(
            f'[stores.vcontacts]\nadapter = "vdir"\nroot = "{root}"\n'
            'content_type = "text/vcard"\ncontent_version = "3.0"\n'
            '[stores.davcontacts]\nadapter = "caldav"\ncontent_type = "text/vcard"\n'
            f'content_version = "3.0"\ncollection_url = "{dav.base_url}/{{user}}/book/"\n'
            'login = "service"\nservice_user = "conflux"\n'
            f'service_password_file = "{self.tmp / "service.pw"}"\nserver_quirks = "radicale"\n'
            '[stores.pgcontacts]\nadapter = "postgresql"\ncontent_type = "text/vcard"\n'
            f'content_version = "3.0"\nconnection = "{pg.uri(database, user="crm_sync")}"\n'
            'table = "crm.customers"\nkey = "id"\nowner = "account_manager"\n'
            'field_formatted = "full_name"\nfield_given = "first_name"\n'
            'field_family = "last_name"\n')
        self.create_card(self.card("Sql", "Ite"), account="contacts")
        self.create_card(self.card("Vee", "Dir"), account="vcontacts")
        self.create_card(self.card("Card", "Dav"), account="davcontacts")
        self.create_card(self.card("Post", "Gres"), account="pgcontacts")
        # The vdir item is a file another program could edit.
        files = list((root / USER / "vcontacts").glob("*.vcf"))
        self.assertEqual(len(files), 1)
        self.assertIn("Vee Dir", files[0].read_text())

        q = self.ok("ContactCard/query", {"sort": [{"property": "name/full"}]})
        got = self.ok("ContactCard/get", {"ids": q["ids"]})
        self.assertEqual(sorted((c["name"]["full"], c["conflux:accountId"])
                                for c in got["list"]),
                         [("Card Dav", "davcontacts"), ("Crm Row", "pgcontacts"),
                          ("Post Gres", "pgcontacts"), ("Sql Ite", "contacts"),
                          ("Vee Dir", "vcontacts")])
        self.assertEqual(len(q["ids"]), 5)
        # The contact made through the API is a row of the table.
        self.assertEqual(pg.psql(database, "SELECT first_name, last_name FROM crm.customers "
                                 f"WHERE account_manager = '{USER}' ORDER BY id",
                                 user="crm_sync").split(),
                         ["Crm|Row", "Post|Gres"])
        # The CardDAV item is in Radicale.
        status, _, body = dav.request(USER, "PROPFIND", f"/{USER}/book/",
                                      headers={"Depth": "1"})
        self.assertEqual(status, 207)
        self.assertEqual(body.decode().count(".vcf</"), 1, body)
        self.server.stop()
        self.assertEqual(error_lines(self.server.log_text()), [])


if __name__ == "__main__":
    unittest.main()
