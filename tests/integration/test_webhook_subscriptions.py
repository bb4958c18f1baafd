#!/usr/bin/python3
"""Webhook subscriptions users make through the portal API (issue #19 part 1,
docs/API.md "Webhook subscriptions"), against a real server over its socket.

test_subscribe_receive_destroy ([notify] subscription_allowed_networks lets
the test's loopback receiver through):
  1. pia subscribes to her contacts, otto to everything of his: each gets a
     ws_ id and a whsec_ secret once; /get shows each only their own, never
     the secret; otto cannot see nor destroy pia's;
  2. pia's portal write and her device's sync reach pia's receiver as events
     signed with her secret (checked with Python's hmac), of source "portal"
     and "device"; otto's write reaches only otto's receiver;
  3. pia destroys hers: her next change is not sent (otto's later change,
     queued after it, arrives: the outbox sends in order);
  4. a receiver answering 410 Gone ends otto's subscription.
test_private_addresses_refused: without the allowance, a loopback URL (by
  address or by name), a private one and a non-HTTP one are refused with
  invalidProperties on "url", saying why; nothing is stored.
test_a_user_holds_at_most_twenty: the 21st subscription of a user is
  refused with overQuota (in the same call as others, and alone); after a
  destroy the next one is created; another user is not limited by hers.

Run: CONFLUX_BIN=/path/to/conflux /usr/bin/python3 test_webhook_subscriptions.py
"""

import base64
import json
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import syncml_client as sc  # noqa: E402
import vcards  # noqa: E402
from conflux_server import IntegrationTest, http_request, poll_until  # noqa: E402
from webhook_receiver import WebhookReceiver, verify_standard_webhook  # noqa: E402

USER, PASSWORD = "pia", "Subscribe-pw-3"
OTHER, OTHER_PASSWORD = "otto", "Other-pw-9"
USING = ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:contacts",
         "urn:conflux:params:jmap:webhooks"]
STORES = (
    '[stores.contacts]\nadapter = "sqlite"\ncontent_type = "text/vcard"\n'
    'content_version = "3.0"\n'
    '[stores.calendar]\nadapter = "sqlite"\ncontent_type = "text/calendar"\n'
    'content_version = "2.0"\n')
WAIT = 60  # seconds an expected request may take on a loaded machine


def basic(user, password):
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def card(given, surname):
    return {"@type": "Card",
            "name": {"components": [{"kind": "given", "value": given},
                                    {"kind": "surname", "value": surname}],
                     "full": f"{given} {surname}"}}


class SubscriptionTest(IntegrationTest):

    def start_server(self, extra=""):
        self.server = self.make_server(STORES + extra)
        self.server.add_user(USER, PASSWORD)
        self.server.add_user(OTHER, OTHER_PASSWORD)
        self.server.start()

    def call(self, name, args, user=USER, password=PASSWORD):
        """The arguments of the single response to one method call; fails
        on a method error."""
        status, _, out = http_request(
            self.server.base_url + "/jmap/api", "POST",
            json.dumps({"using": USING,
                        "methodCalls": [[name, args, "c0"]]}).encode(),
            {**basic(user, password), "Content-Type": "application/json"})
        self.assertEqual(status, 200, out)
        [[rname, rargs, _]] = json.loads(out)["methodResponses"]
        self.assertEqual(rname, name, rargs)
        return rargs

    def subscribe(self, url, user=USER, password=PASSWORD, **more):
        """The set response to creating one subscription as "s"."""
        return self.call("WebhookSubscription/set",
                         {"create": {"s": {"url": url, **more}}},
                         user, password)

    def write(self, user, password, given):
        out = self.call("ContactCard/set",
                        {"accountId": "contacts",
                         "create": {"k": card(given, "Hook")}},
                        user, password)
        self.assertIn("k", out["created"], out)

    @staticmethod
    def events(receiver, path):
        return [json.loads(r[2])["data"] for r in receiver.received(path)]

    def test_subscribe_receive_destroy(self):
        receiver = WebhookReceiver()
        self.addCleanup(receiver.close)
        self.start_server('[notify]\nwebhook_retry_seconds = [1]\n'
                          'subscription_allowed_networks = ["127.0.0.0/8"]\n')

        # 1. Subscriptions, secrets once, each user's own.
        mine = self.subscribe(receiver.url("/pia"), accountIds=["contacts"])
        created = mine["created"]["s"]
        sub_id, secret = created["id"], created["secret"]
        self.assertTrue(sub_id.startswith("ws_"), created)
        self.assertTrue(secret.startswith("whsec_"), created)
        self.assertEqual(len(base64.b64decode(secret[len("whsec_"):])), 32)
        self.assertEqual(created["accountIds"], ["contacts"])
        theirs = self.subscribe(receiver.url("/otto"), OTHER,
                                OTHER_PASSWORD)["created"]["s"]
        self.assertEqual(sorted(theirs["accountIds"]), ["calendar", "contacts"])
        self.assertNotEqual(theirs["secret"], secret)

        listed = self.call("WebhookSubscription/get", {"ids": None})["list"]
        self.assertEqual([s["id"] for s in listed], [sub_id])
        self.assertNotIn("secret", listed[0])
        self.assertEqual(listed[0]["url"], receiver.url("/pia"))
        foreign = self.call("WebhookSubscription/get", {"ids": [sub_id]},
                            OTHER, OTHER_PASSWORD)
        self.assertEqual((foreign["list"], foreign["notFound"]), ([], [sub_id]))
        refused = self.call("WebhookSubscription/set", {"destroy": [sub_id]},
                            OTHER, OTHER_PASSWORD)
        self.assertEqual(refused["notDestroyed"][sub_id]["type"], "notFound")

        # 2. Pia's changes, from the portal and from a device.
        self.write(USER, PASSWORD, "Portal")
        sc.slow_sync(self.server.url, "pia-phone", USER, PASSWORD,
                     adds=list(vcards.generate(1, seed=61)))
        got = poll_until(lambda: (lambda r: r if len(r) >= 2 else None)(
            receiver.received("/pia")), WAIT, what="pia's two events")
        for _, headers, body in got:
            self.assertTrue(verify_standard_webhook(secret, headers, body),
                            f"bad signature: {headers}")
            self.assertFalse(verify_standard_webhook(theirs["secret"],
                                                     headers, body))
        data = self.events(receiver, "/pia")
        self.assertEqual([(d["user"], d["datastore"], d["source"])
                          for d in data],
                         [(USER, "contacts", "portal"),
                          (USER, "contacts", "device")])
        self.assertEqual(data[1]["device"], "pia-phone")
        self.write(OTHER, OTHER_PASSWORD, "Other")
        poll_until(lambda: receiver.received("/otto"), WAIT,
                   what="otto's event")
        self.assertEqual({d["user"] for d in self.events(receiver, "/otto")},
                         {OTHER}, "otto got another user's change")
        self.assertEqual({d["user"] for d in self.events(receiver, "/pia")},
                         {USER}, "pia got another user's change")

        # 3. Destroyed: pia's next change goes nowhere. Otto's change after
        # it is queued later and sent in turn, so once it arrived, pia's
        # would have too.
        out = self.call("WebhookSubscription/set", {"destroy": [sub_id]})
        self.assertEqual(out["destroyed"], [sub_id])
        self.assertEqual(self.call("WebhookSubscription/get", {})["list"], [])
        self.write(USER, PASSWORD, "After")
        self.write(OTHER, OTHER_PASSWORD, "Later")
        poll_until(lambda: len(receiver.received("/otto")) >= 2, WAIT,
                   what="otto's second event")
        self.assertEqual(len(receiver.received("/pia")), 2,
                         "a destroyed subscription was sent to")

        # 4. 410 Gone ends otto's subscription.
        receiver.answer("/otto", 410)
        self.write(OTHER, OTHER_PASSWORD, "Gone")
        poll_until(lambda: len(receiver.received("/otto")) >= 3, WAIT,
                   what="otto's third event")
        poll_until(lambda: not self.call("WebhookSubscription/get", {},
                                         OTHER, OTHER_PASSWORD)["list"],
                   WAIT, what="otto's subscription deleted after 410")
        self.assertIn("the receiver answered 410 Gone; the subscription is "
                      "deleted", self.server.log_text())
        self.assertNotIn(secret, self.server.log_text(), "a secret logged")
        self.server.stop()

    def test_private_addresses_refused(self):
        receiver = WebhookReceiver()
        self.addCleanup(receiver.close)
        self.start_server()
        port = receiver.url("/")  # a listening loopback receiver
        for url, says in ((receiver.url("/x"), "127.0.0.1 is a loopback"),
                          (port.replace("127.0.0.1", "localhost"),
                           "loopback"),
                          ("http://10.1.2.3/hook", "10.1.2.3 is a private"),
                          ("http://169.254.169.254/latest", "link-local"),
                          ("ftp://example.org/x", "http:// or https://")):
            out = self.subscribe(url)
            self.assertNotIn("s", out["created"], url)
            error = out["notCreated"]["s"]
            self.assertEqual(error["type"], "invalidProperties", url)
            self.assertEqual(error["properties"], ["url"], url)
            self.assertIn(says, error["description"], url)
        out = self.subscribe("https://hooks.example.org/x",
                             accountIds=["nonesuch"])
        self.assertEqual(out["notCreated"]["s"]["properties"], ["accountIds"])
        self.assertEqual(self.call("WebhookSubscription/get", {})["list"], [])
        self.server.stop()

    def test_a_user_holds_at_most_twenty(self):
        receiver = WebhookReceiver()
        self.addCleanup(receiver.close)
        self.start_server('[notify]\nsubscription_allowed_networks = ["127.0.0.0/8"]\n')
        url = receiver.url("/hook")
        out = self.call("WebhookSubscription/set",
                        {"create": {f"s{i}": {"url": url} for i in range(21)}})
        self.assertEqual(len(out["created"]), 20, out)
        [(_, refused)] = out["notCreated"].items()
        self.assertEqual(refused["type"], "overQuota", refused)
        self.assertEqual(self.subscribe(url)["notCreated"]["s"]["type"], "overQuota")
        self.assertEqual(len(self.subscribe(url, OTHER, OTHER_PASSWORD)["created"]), 1)
        some_id = next(iter(out["created"].values()))["id"]
        self.call("WebhookSubscription/set", {"destroy": [some_id]})
        self.assertIn("s", self.subscribe(url)["created"])
        self.assertEqual(len(self.call("WebhookSubscription/get", {})["list"]), 20)
        self.server.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
