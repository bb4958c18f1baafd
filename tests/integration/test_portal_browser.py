#!/usr/bin/python3
"""The portal page in headless Chromium (Debian's `chromium`), driven over
the DevTools protocol (python3-websocket), with a real Conflux and a real
SyncEvolution device. Every step is checked by what the page shows:

  1. log in through the form;
  2. the device's contacts are listed; a search narrows the list;
  3. edit a contact in the form -> the device gets the edit at its next sync;
  4. a conflict (device and portal changed the same contact) is shown with
     both versions side by side; "Keep device version" settles it, the
     server's item becomes the device's version and the list says so;
  5. a contact and an event are created in the forms, the contact deleted;
  6. a task and a note made through the API are listed in their tabs, and
     the notes' search narrows the list;
  7. the device and its sessions are listed.

Run: CONFLUX_BIN=/path/to/conflux /usr/bin/python3 test_portal_browser.py
"""

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request
from pathlib import Path

import websocket  # python3-websocket

sys.path.insert(0, str(Path(__file__).resolve().parent))
import vcards  # noqa: E402
from conflux_server import IntegrationTest, http_request, poll_until  # noqa: E402

USER, PASSWORD = "bea", "Browser-pw-5"
STEP_TIMEOUT = 60  # seconds the page may take to show the result of one step


def chromium_binary():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    raise RuntimeError("chromium is not installed (scripts/install-deps --test installs it)")


class Browser:
    """One headless Chromium with one page, spoken to over DevTools."""

    def __init__(self, root):
        self.profile = tempfile.mkdtemp(prefix="chromium-", dir=root)
        self.log = open(Path(root) / "chromium.log", "wb")
        self.proc = subprocess.Popen(
            [chromium_binary(), "--headless=new", "--no-sandbox", "--disable-gpu",
             "--no-first-run", "--no-default-browser-check", "--disable-extensions",
             "--disable-background-networking", "--disable-dev-shm-usage",
             f"--user-data-dir={self.profile}", "--remote-debugging-port=0",
             "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=self.log)
        port_file = Path(self.profile) / "DevToolsActivePort"
        # Chromium writes the file in two steps: wait for a whole first line.
        first_line = poll_until(
            lambda: port_file.exists() and "\n" in port_file.read_text()
            and port_file.read_text().split("\n")[0],
            60, what="Chromium's DevTools port")
        port = int(first_line)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list",
                                    timeout=30) as r:
            pages = [t for t in json.load(r) if t["type"] == "page"]
        self.ws = websocket.create_connection(pages[0]["webSocketDebuggerUrl"],
                                              timeout=60, suppress_origin=True)
        self.next_id = 0

    def command(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method,
                                 "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise AssertionError(f"{method}: {message['error']}")
                return message["result"]

    def js(self, expression):
        """The value of a JavaScript expression in the page (promises awaited)."""
        result = self.command("Runtime.evaluate", expression=expression,
                              awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression, what):
        """Polls `expression` until it is truthy; an element not there yet
        (the page still loading) counts as not yet."""
        guarded = f"(() => {{ try {{ return {expression}; }} catch (e) {{ return false; }} }})()"
        return poll_until(lambda: self.js(guarded), STEP_TIMEOUT, 0.2, what)

    def text(self, element_id):
        return self.js(f"document.getElementById({json.dumps(element_id)}).textContent")

    def set_value(self, element_id, value):
        self.js(f"document.getElementById({json.dumps(element_id)}).value = {json.dumps(value)}")

    def click(self, element_id):
        self.js(f"document.getElementById({json.dumps(element_id)}).click()")

    def close(self):
        try:
            self.ws.close()
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.log.close()


def contact_rows(browser):
    """The names in the page's contact list."""
    return browser.js("[...document.querySelectorAll('#contact-list tr')]"
                      ".map(r => r.cells[0].textContent)")


def notes_of(text):
    return [v for _, v in vcards.parse_vcard(text).get("NOTE", [])]


class PortalBrowserTest(IntegrationTest):

    def api(self, calls, capability="urn:ietf:params:jmap:contacts"):
        token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        body = json.dumps({"using": ["urn:ietf:params:jmap:core", capability],
                           "methodCalls": calls}).encode()
        status, _, out = http_request(
            self.server.base_url + "/jmap/api", "POST", body,
            {"Authorization": f"Basic {token}",
             "Content-Type": "application/json"})
        self.assertEqual(status, 200)
        return [r[1] for r in json.loads(out)["methodResponses"]]

    def test_log_in_search_edit_resolve(self):
        self.server = self.make_server(
            '[stores.contacts]\nadapter = "sqlite"\ncontent_type = "text/vcard"\n'
            'content_version = "3.0"\n'
            '[stores.calendar]\nadapter = "sqlite"\ncontent_type = "text/calendar"\n'
            'content_version = "2.0"\n'
            '[stores.tasks]\nadapter = "sqlite"\ncontent_type = "text/calendar"\n'
            'content_version = "2.0"\n'
            '[stores.notes]\nadapter = "sqlite"\ncontent_type = "text/plain"\n'
            'content_version = "1.0"\n')
        self.server.add_user(USER, PASSWORD)
        self.server.start()
        device = self.make_device(self.server, "dev-b", USER, PASSWORD)
        originals = dict(vcards.generate(5, seed=57))
        for name, text in originals.items():
            device.write_item("contacts", name, text)
        device.sync("slow", timeout=120)
        names = sorted(vcards.fn_of(t) for t in originals.values())

        browser = Browser(self.tmp)
        self.addCleanup(browser.close)
        browser.command("Page.navigate", url=self.server.base_url + "/portal/")

        # 1. Log in.
        browser.wait_for("!document.getElementById('login').hidden", "the login form")
        browser.set_value("username", USER)
        browser.set_value("password", "wrong")
        browser.click("login-button")
        browser.wait_for("document.getElementById('login-error').textContent",
                         "the login error")
        self.assertIn("wrong", browser.text("login-error"))
        browser.set_value("password", PASSWORD)
        browser.click("login-button")
        browser.wait_for("!document.getElementById('app').hidden", "the app")
        self.assertEqual(browser.text("who"), f"Logged in as {USER}")

        # 2. The device's contacts, then a search.
        poll_until(lambda: sorted(contact_rows(browser)) == names, STEP_TIMEOUT,
                   0.2, "the device's contacts in the list")
        target = names[2]
        target_text = next(t for t in originals.values() if vcards.fn_of(t) == target)
        family_name = vcards.parse_vcard(target_text)["N"][0][1][0]
        surname = target.split()[-1]  # the generated names end in a unique number
        browser.set_value("contact-query", surname.upper())
        browser.js("document.querySelector('#contact-search button[type=submit]').click()")
        poll_until(lambda: contact_rows(browser) == [target], STEP_TIMEOUT, 0.2,
                   f"only {target} after searching {surname}")

        # 3. Edit it in the form; the device gets the edit.
        browser.js("document.querySelector('#contact-list tr').click()")
        browser.wait_for("!document.getElementById('contact-edit').hidden", "the edit form")
        self.assertEqual(browser.js("document.getElementById('c-surname').value"), family_name)
        browser.set_value("c-note", "edited in the browser")
        browser.click("c-save")
        browser.wait_for("document.getElementById('status').textContent.startsWith('Saved')",
                         "the saved message")
        device.sync("two-way", timeout=120)
        on_device = vcards.by_fn(device.items("contacts").values())
        self.assertEqual(notes_of(on_device[target]), ["edited in the browser"])

        # 4. A conflict: the device and the portal change the same contact.
        file_name = next(n for n, t in device.items("contacts").items()
                         if vcards.fn_of(t) == target)
        device.write_item("contacts", file_name, vcards.replace_property(
            on_device[target], "NOTE", "NOTE:the phone's note"))
        [query] = self.api([["ContactCard/query", {"accountId": "contacts",
                                                   "filter": {"text": surname}}, "q"]])
        [item_id] = query["ids"]
        [result] = self.api([["ContactCard/set", {"accountId": "contacts", "update": {
            item_id: {"notes": {"n1": {"note": "the server's note"}}}}}, "s"]])
        self.assertEqual(result["updated"], {item_id: None})
        device.sync("two-way", timeout=120)  # server-wins: a conflict record
        browser.js("document.querySelector('nav button[data-tab=conflicts]').click()")
        browser.js("refresh()")
        browser.wait_for("document.querySelectorAll('#conflict-list .conflict').length === 1",
                         "one conflict shown")
        self.assertIn("the server's note", browser.js(
            "document.querySelector('#conflict-list .version-server').textContent"))
        self.assertIn("the phone's note", browser.js(
            "document.querySelector('#conflict-list .version-device').textContent"))
        browser.js("document.querySelector('#conflict-list .keep-device').click()")
        browser.wait_for("document.getElementById('status').textContent.includes('resolved')",
                         "the resolved message")
        browser.wait_for("document.getElementById('conflict-list').textContent === 'No open conflicts.'",
                         "no open conflicts")
        [got] = self.api([["ContactCard/get", {"accountId": "contacts", "ids": [item_id]}, "g"]])
        self.assertEqual([n["note"] for n in got["list"][0]["notes"].values()],
                         ["the phone's note"])
        device.sync("two-way", timeout=120)
        on_device = vcards.by_fn(device.items("contacts").values())
        self.assertEqual(notes_of(on_device[target]), ["the phone's note"])

        # 5. Create a contact and an event in the forms, delete the contact.
        browser.js("document.querySelector('nav button[data-tab=contacts]').click()")
        browser.set_value("contact-query", "")
        browser.click("contact-new")
        browser.set_value("c-given", "Paula")
        browser.set_value("c-surname", "Page")
        browser.set_value("c-email", "paula@example.org")
        browser.click("c-save")
        browser.wait_for("document.getElementById('status').textContent === 'Saved Paula Page'",
                         "the new contact saved")
        poll_until(lambda: "Paula Page" in contact_rows(browser), STEP_TIMEOUT, 0.2,
                   "the new contact in the list")
        browser.js("[...document.querySelectorAll('#contact-list tr')]"
                   ".find(r => r.cells[0].textContent === 'Paula Page').click()")
        browser.wait_for("!document.getElementById('c-delete').hidden", "the delete button")
        browser.click("c-delete")
        poll_until(lambda: "Paula Page" not in contact_rows(browser), STEP_TIMEOUT, 0.2,
                   "the contact gone from the list")
        browser.js("document.querySelector('nav button[data-tab=events]').click()")
        browser.click("event-new")
        browser.set_value("e-title", "Browser meeting")
        browser.set_value("e-start", "2026-06-01T10:30")
        browser.set_value("e-location", "Room 7")
        browser.click("e-save")
        browser.wait_for("document.getElementById('event-list').textContent.includes('Browser meeting')",
                         "the new event in the list")
        self.assertIn("2026-06-01 10:30:00", browser.text("event-list"))
        self.assertIn("Room 7", browser.text("event-list"))

        # 6. Tasks and notes (read only in the page).
        [made] = self.api([["Task/set", {"accountId": "tasks", "create": {"t": {
            "title": "Water the plants", "due": "2026-06-02T08:00:00",
            "progress": "in-process"}}}, "0"]], "urn:ietf:params:jmap:tasks")
        self.assertIn("t", made["created"], made)
        [made] = self.api([["Note/set", {"accountId": "notes", "create": {
            "a": {"title": "Shopping", "body": "milk"},
            "b": {"title": "Ideas", "body": "a garden"}}}, "0"]], "urn:conflux:params:jmap:notes")
        self.assertEqual(sorted(made["created"]), ["a", "b"], made)
        browser.js("document.querySelector('nav button[data-tab=tasks]').click()")
        browser.wait_for("document.getElementById('task-list').textContent.includes('Water the plants')",
                         "the task in the list")
        self.assertIn("2026-06-02 08:00:00", browser.text("task-list"))
        self.assertIn("in-process", browser.text("task-list"))
        browser.js("document.querySelector('nav button[data-tab=notes]').click()")
        browser.wait_for("document.getElementById('note-list').textContent.includes('Ideas')",
                         "the notes in the list")
        browser.set_value("note-query", "milk")
        browser.js("document.querySelector('#note-search button[type=submit]').click()")
        browser.wait_for("document.getElementById('note-list').textContent.includes('Shopping') && "
                         "!document.getElementById('note-list').textContent.includes('Ideas')",
                         "the search narrowing the notes")

        # 7. Devices and sessions.
        browser.js("document.querySelector('nav button[data-tab=devices]').click()")
        browser.js("refresh()")
        browser.wait_for("document.getElementById('device-list').textContent.includes('conflux-it-dev-b')",
                         "the device listed")
        self.assertIn("conflux-it-dev-b", browser.text("session-list"))
        self.server.stop()


if __name__ == "__main__":
    unittest.main()
