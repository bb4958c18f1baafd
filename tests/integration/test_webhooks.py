#!/usr/bin/python3
"""Notifications (issue #19): a change another program makes in a vdir
store reaches a subscribed receiver as a JSON event signed per Standard
Webhooks, from a persistent outbox, and every device that synced the store
as a Server Alerted Notification over its push channel.

test_signed_retried_and_kept_across_a_crash (contacts in a vdir, cached,
backend_monitor = "push"; subscriptions "crm" (this user, contacts) and
"audit" (everything); retries after 1 s and 1 s):
  1. two devices sync once (the cache loads the user's store); dev-w's
     sync adds a contact: both subscriptions get an event of source
     "device" naming dev-w; then another program writes a .vcf file and
     inotify brings it in;
  2. device dev-w gets a SAN POSTed to its push URL
     (application/vnd.syncml.ds.notification), device dev-u one by WAP Push
     over UDP (a WSP push PDU); both decode to a two-way sync alerted by the
     server (206) of "contacts" (text/vcard), digest from the password;
  3. crm takes the event; audit answers 500 three times — the same
     webhook-id every time — and the message becomes a dead letter
     (`conflux webhooks failed`); every signature checks out with Python's
     hmac, and the body names the user, the datastore, the source and the
     new item;
  4. a second file: crm's delivery hangs and the server is SIGKILLed; after
     the restart crm gets the same webhook-id again: nothing was lost;
  5. `conflux webhooks retry ID` sends the dead letter once more, same id;
  6. GET /metrics counts the deliveries and `promtool check metrics` accepts
     the whole page.

test_receivers_answers_are_honoured (subscriptions "gone", "busy" and "ok",
retries after 1 s and 600 s): a device's change reaches all three; "gone"
answers 410 Gone: the log says once that it is disabled until a reload, its
message is a dead letter and the next change is not sent to it, until
`conflux reload`; "busy" answers 503 with Retry-After: 120: the message's
next attempt is put off 120 s (as the log says), not the 1 s of the
schedule (Retry-After applies to the message that got it).
test_alert_survives_a_kill_inside_the_debounce_window: dev-a's change
queues a SAN for dev-b, due 5 s later; the server is SIGKILLed as soon as
it logged the queued alert, before it was due; after the restart dev-b's
push URL gets the SAN once, of "contacts".

Run: CONFLUX_BIN=/path/to/conflux /usr/bin/python3 test_webhooks.py
"""

import base64
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import syncml_client as sc  # noqa: E402
import vcards  # noqa: E402
from conflux_server import IntegrationTest, http_request, poll_until  # noqa: E402
from webhook_receiver import WebhookReceiver, verify_standard_webhook  # noqa: E402

USER = "wanda"
PASSWORD = "Webhook-pw-3"
SECRET_CRM = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SECRET_AUDIT = "whsec_YXVkaXQtc2VjcmV0LW9mLWF0LWxlYXN0LTI0LWJ5dGVz"
WAIT = 60  # seconds an expected request may take on a loaded machine


def b64md5(data):
    return base64.b64encode(hashlib.md5(data).digest())


def decode_san(san):
    """(server id, [(sync type, content type, server URI)]) of a DS 1.2
    SAN whose digest checks out with USER and PASSWORD (empty nonce)."""
    digest, body = san[:16], san[16:]
    expected = hashlib.md5(b64md5(f"{USER}:{PASSWORD}".encode()) + b"::" +
                           b64md5(body)).digest()
    assert digest == expected, "SAN digest does not check out"
    head = int.from_bytes(body[:5], "big")
    assert head >> 30 == 12, "not DS 1.2"
    assert (head >> 27) & 1 == 1, "not server initiated"
    n = body[7]
    server_id = body[8:8 + n].decode()
    rest = body[8 + n:]
    syncs = []
    count = rest[0] >> 4
    rest = rest[1:]
    for _ in range(count):
        uri_length = rest[4]
        syncs.append((200 + (rest[0] >> 4), int.from_bytes(rest[1:4], "big"),
                      rest[5:5 + uri_length].decode()))
        rest = rest[5 + uri_length:]
    assert rest == b"", "bytes after the last sync"
    return server_id, syncs


class WebhookTest(IntegrationTest):

    def write_card(self, name, index):
        """Another program adds a contact, as vdirsyncer writes."""
        folder = self.root / USER / "contacts"
        tmp = folder / f".{name}.tmp"
        tmp.write_bytes(vcards.contact(index, seed=19).encode())
        os.replace(tmp, folder / name)

    @staticmethod
    def events(receiver, path, source):
        """The requests to `path` whose event came from `source`."""
        return [r for r in receiver.received(path)
                if json.loads(r[2])["data"]["source"] == source]

    def test_signed_retried_and_kept_across_a_crash(self):
        receiver = WebhookReceiver()
        self.addCleanup(receiver.close)
        gateway = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(gateway.close)
        gateway.bind(("127.0.0.1", 0))
        gateway.settimeout(WAIT)
        self.root = self.tmp / "vdir"
        server = self.make_server(
            f'[stores.contacts]\nadapter = "vdir"\nroot = "{self.root}"\n'
            'content_type = "text/vcard"\ncontent_version = "3.0"\n'
            'cache = true\nbackend_monitor = "push"\n'
            'backend_poll_seconds = 86400\n'
            '[notify]\nwebhook_retry_seconds = [1, 1]\n'
            # long enough that the hung delivery of step 4 is still in flight
            # when the server is killed
            'webhook_timeout_seconds = 300\n'
            'push_debounce_seconds = 1\n'
            f'[[webhooks]]\nname = "crm"\nurl = "{receiver.url("/crm")}"\n'
            f'secret = "{SECRET_CRM}"\nuser = "{USER}"\nstore = "contacts"\n'
            f'[[webhooks]]\nname = "audit"\nurl = "{receiver.url("/audit")}"\n'
            f'secret = "{SECRET_AUDIT}"\n'
            f'[[push]]\nuser = "{USER}"\ndevice = "dev-w"\n'
            f'url = "{receiver.url("/san")}"\n'
            f'[[push]]\nuser = "{USER}"\ndevice = "dev-u"\n'
            f'wap_push = "127.0.0.1:{gateway.getsockname()[1]}"\n')
        server.add_user(USER, PASSWORD)
        server.start()
        sc.slow_sync(server.url, "dev-u", USER, PASSWORD)
        sc.slow_sync(server.url, "dev-w", USER, PASSWORD,
                     adds=list(vcards.generate(1, seed=23)))

        # 1. The device's change, then one by another program.
        for path, secret in (("/crm", SECRET_CRM), ("/audit", SECRET_AUDIT)):
            _, headers, body = poll_until(
                lambda: self.events(receiver, path, "device"), WAIT,
                what=f"the device's change at {path}")[0]
            self.assertTrue(verify_standard_webhook(secret, headers, body))
            data = json.loads(body)["data"]
            self.assertEqual((data["device"], data["count"]), ("dev-w", 1))
            self.assertEqual(data["changes"][0]["action"], "create")
        # The Cache Monitor writes the device's contact into the vdir first.
        folder = self.root / USER / "contacts"
        poll_until(lambda: folder.is_dir() and list(folder.glob("*.vcf")),
                   WAIT, what="the device's contact in the vdir")
        receiver.answer("/audit", 500)
        self.write_card("khard.vcf", 700)

        # 2. The devices are alerted: dev-w over HTTP, dev-u by WAP Push.
        pushed = poll_until(lambda: receiver.received("/san"), WAIT,
                            what="the SAN POSTed to dev-w")
        self.assertEqual(pushed[0][1]["content-type"],
                         "application/vnd.syncml.ds.notification")
        self.assertEqual(decode_san(pushed[0][2]),
                         (USER, [(206, 0x0309, "contacts")]))
        pdu = gateway.recv(4096)
        self.assertEqual(pdu[1:4], bytes([0x06, 0x01, 0xCE]),
                         "not a WSP push of application/vnd.syncml.ds."
                         "notification")
        self.assertEqual(decode_san(pdu[4:]),
                         (USER, [(206, 0x0309, "contacts")]))

        # 3. crm takes the event; audit fails three times, then gives up.
        crm = poll_until(lambda: self.events(receiver, "/crm", "backend"),
                         WAIT, what="the crm webhook")
        audit = poll_until(
            lambda: (lambda r: r if len(r) >= 3 else None)(
                self.events(receiver, "/audit", "backend")), WAIT,
            what="three attempts of the audit webhook")
        poll_until(lambda: "audit" in server.cli("webhooks", "failed").stdout,
                   WAIT, what="the audit message among the dead letters")
        self.assertEqual(len(self.events(receiver, "/audit", "backend")), 3,
                         "a dead letter was sent again")
        audit_id = audit[0][1]["webhook-id"]
        self.assertEqual({r[1]["webhook-id"] for r in audit}, {audit_id})
        self.assertTrue(audit_id.startswith("msg_"))
        for path, headers, body in crm + audit:
            secret = SECRET_CRM if path == "/crm" else SECRET_AUDIT
            self.assertTrue(verify_standard_webhook(secret, headers, body),
                            f"bad signature on {path}: {headers}")
            self.assertEqual(headers["content-type"], "application/json")
        self.assertFalse(verify_standard_webhook(SECRET_AUDIT, crm[0][1],
                                                 crm[0][2]),
                         "a signature that any secret passes")
        event = json.loads(crm[0][2])
        self.assertEqual(event["type"], "datastore.changed")
        data = event["data"]
        self.assertEqual((data["user"], data["datastore"], data["source"]),
                         (USER, "contacts", "backend"))
        self.assertEqual(data["count"], 1)
        self.assertEqual(data["changes"][0]["action"], "create")
        self.assertEqual(json.loads(audit[0][2]), event)

        # 4. A crash while crm's delivery of the next change hangs: after
        # the restart the same message goes again and is taken.
        receiver.answer("/crm", "hang")
        receiver.answer("/audit", 200)
        self.write_card("khard-2.vcf", 701)
        hung = poll_until(
            lambda: (lambda r: r if len(r) >= 2 else None)(
                self.events(receiver, "/crm", "backend")), WAIT,
            what="the second crm webhook")[1]
        server.kill()
        receiver.answer("/crm", 200)
        receiver.release_hung()
        since_restart = len(receiver.requests)
        server.start()
        again = poll_until(
            lambda: (lambda r: r if len(r) >= 3 else None)(
                self.events(receiver, "/crm", "backend")), WAIT,
            what="the crm webhook after the restart")[2]
        self.assertEqual(again[1]["webhook-id"], hung[1]["webhook-id"])
        self.assertTrue(verify_standard_webhook(SECRET_CRM, again[1],
                                                again[2]))
        self.assertEqual(json.loads(again[2]), json.loads(hung[2]))

        # 5. The dead letter, sent again on request.
        server.cli("webhooks", "retry", audit_id)
        poll_until(lambda: len([r for r in receiver.received("/audit")
                                if r[1]["webhook-id"] == audit_id]) == 4,
                   WAIT, what="the retried audit webhook")
        poll_until(lambda: "no failed webhooks" in
                   server.cli("webhooks", "failed").stdout, WAIT,
                   what="no dead letters left")

        # 6. Metrics since the restart: one delivery per webhook request
        # answered since (every answer is 200 by now).
        def scrape():
            return http_request(server.base_url + "/metrics")[2].decode()
        poll_until(lambda: "conflux_webhook_outbox_waiting 0" in scrape(),
                   WAIT, what="an empty outbox")
        delivered = len([r for r in receiver.requests[since_restart:]
                         if r[0] in ("/crm", "/audit")])
        metrics = scrape()
        self.assertIn('conflux_webhook_deliveries_total{outcome="delivered"} '
                      f'{delivered}\n', metrics)
        self.assertIn("conflux_webhook_dead_letters 0", metrics)
        self.assertIn('conflux_san_deliveries_total{outcome="sent"}', metrics)
        promtool = shutil.which("promtool")
        self.assertIsNotNone(promtool, "promtool (Debian prometheus) missing")
        check = subprocess.run([promtool, "check", "metrics"],
                               input=metrics.encode(), capture_output=True)
        self.assertEqual(check.returncode, 0,
                         check.stdout.decode() + check.stderr.decode())
        self.assertEqual(len(receiver.received("/crm")), 4,
                         "a delivered message was sent again")
        server.stop()

    def test_receivers_answers_are_honoured(self):
        receiver = WebhookReceiver()
        self.addCleanup(receiver.close)
        hooks = "".join(
            f'[[webhooks]]\nname = "{name}"\nurl = "{receiver.url("/" + name)}"\n'
            f'secret = "{SECRET_CRM}"\n' for name in ("gone", "busy", "ok"))
        server = self.make_server(
            '[stores.contacts]\nadapter = "sqlite"\n'
            'content_type = "text/vcard"\ncontent_version = "3.0"\n'
            '[notify]\nwebhook_retry_seconds = [1, 600]\n' + hooks)
        server.add_user(USER, PASSWORD)
        server.start()
        receiver.answer("/gone", 410)
        receiver.answer("/busy", (503, {"Retry-After": "120"}))

        def change(n):
            """A device adds a contact; returns when "ok" has its event.
            The subscriptions' messages are queued in the configuration's
            order and sent in turn, so "gone" and "busy" had theirs first."""
            sc.slow_sync(server.url, f"dev-{n}", USER, PASSWORD,
                         adds=list(vcards.generate(1, seed=40 + n)))
            poll_until(lambda: len(receiver.received("/ok")) >= n, WAIT,
                       what=f"event {n} at the ok receiver")

        change(1)
        self.assertEqual(len(receiver.received("/gone")), 1)
        self.assertEqual(len(receiver.received("/busy")), 1)
        gone_line = "'gone': the receiver .* answered 410 Gone; the " \
            "subscription is disabled until the configuration is reloaded"
        poll_until(lambda: re.search(gone_line, server.log_text()), WAIT,
                   what="the log line saying 'gone' is disabled")
        failed = server.cli("webhooks", "failed").stdout
        self.assertIn(receiver.received("/gone")[0][1]["webhook-id"], failed)
        retry = poll_until(
            lambda: re.search(r"to 'busy' failed \(HTTP 503 \(Retry-After: "
                              r"120\)\); retry 1 of 2 in (\d+) s",
                              server.log_text()), WAIT,
            what="the log line of busy's failed attempt")
        self.assertGreaterEqual(int(retry.group(1)), 120,
                                "Retry-After was not honoured")

        change(2)
        self.assertEqual(len(receiver.received("/gone")), 1,
                         "a change was sent to a receiver that is gone")
        busy_ids = [r[1]["webhook-id"] for r in receiver.received("/busy")]
        self.assertEqual(len(busy_ids), len(set(busy_ids)),
                         "busy's message was sent again before its "
                         "Retry-After")
        self.assertEqual(len(re.findall(gone_line, server.log_text())), 1,
                         "the 410 was not logged once")

        # A reload enables "gone" again.
        receiver.answer("/gone", 200)
        offset = len(server.log_text())
        server.cli("reload")
        poll_until(lambda: "reload: " in server.log_text()[offset:], WAIT,
                   what="the reload")
        change(3)
        third = poll_until(lambda: receiver.received("/gone")[1:], WAIT,
                           what="the event after the reload at gone")
        self.assertTrue(verify_standard_webhook(SECRET_CRM, third[0][1],
                                                third[0][2]))
        server.stop()

    def test_alert_survives_a_kill_inside_the_debounce_window(self):
        receiver = WebhookReceiver()
        self.addCleanup(receiver.close)
        server = self.make_server(
            '[stores.contacts]\nadapter = "sqlite"\n'
            'content_type = "text/vcard"\ncontent_version = "3.0"\n'
            '[notify]\npush_debounce_seconds = 5\n'
            f'[[push]]\nuser = "{USER}"\ndevice = "dev-b"\n'
            f'url = "{receiver.url("/san")}"\n')
        server.add_user(USER, PASSWORD)
        server.start()
        sc.slow_sync(server.url, "dev-b", USER, PASSWORD)
        offset = len(server.log_text())
        sc.slow_sync(server.url, "dev-a", USER, PASSWORD,
                     adds=list(vcards.generate(1, seed=29)))
        poll_until(lambda: "for device 'dev-b' of user 'wanda' queued" in
                   server.log_text()[offset:], WAIT,
                   what="the alert for dev-b queued")
        server.kill()
        self.assertEqual(receiver.received("/san"), [],
                         "the alert was due before the kill: the test "
                         "proves nothing")
        server.start()
        pushed = poll_until(lambda: receiver.received("/san"), WAIT,
                            what="the SAN after the restart")
        self.assertEqual(decode_san(pushed[0][2]),
                         (USER, [(206, 0x0309, "contacts")]))
        poll_until(lambda: 'conflux_san_deliveries_total{outcome="sent"} 1' in
                   http_request(server.base_url + "/metrics")[2].decode(),
                   WAIT, what="the alert counted as sent")
        self.assertEqual(len(receiver.received("/san")), 1, "sent twice")
        server.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
