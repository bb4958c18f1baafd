#!/usr/bin/python3
"""Users never see each other's data, with the real client and with
hand-made messages that try to ride on another user's session.

Run: CONFLUX_BIN=/path/to/conflux /usr/bin/python3 test_isolation.py
"""

import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import syncml_client as sc  # noqa: E402
import vcards  # noqa: E402
from conflux_server import IntegrationTest  # noqa: E402
from sync_summary import (local_changes, parse_summary,  # noqa: E402
                          remote_changes)

DS = "contacts"
ALICE, ALICE_PW = "alice", "alice-Secret-1"
BOB, BOB_PW = "bob", "bob-Secret-2"


def alice_cards(n=10):
    return dict(vcards.generate(n, seed=2))


def bob_cards(n=3):
    # Another seed and another index range: no FN in common with alice's.
    return dict(vcards.generate(n, seed=3, start=500))


def injected_card(i):
    return vcards.contact(900 + i, seed=9).replace(
        "FN:", "FN:Injected ", 1)


class IsolationTest(IntegrationTest):

    def start_server(self):
        server = self.make_server()
        server.add_user(ALICE, ALICE_PW)
        server.add_user(BOB, BOB_PW)
        server.start()
        return server

    def sync(self, device, mode):
        _, out = device.sync(mode)
        return parse_summary(out)[DS]

    def assert_same_contacts(self, expected_texts, actual_texts, what):
        expected = vcards.by_fn(expected_texts)
        actual = vcards.by_fn(actual_texts)
        self.assertEqual(sorted(actual), sorted(expected), what)
        for fn, text in expected.items():
            self.assertTrue(vcards.same_contact(text, actual[fn]),
                            f"{what}: {fn}: " +
                            "; ".join(vcards.contact_diff(text, actual[fn])))

    def server_contents(self, server, user, password, device_id):
        """{FN: vCard} the server holds for user, read back through a
        fresh hand-made slow sync."""
        session = sc.slow_sync(server.url, device_id, user, password)
        return vcards.by_fn(session.received.values())

    # -- with the real client ------------------------------------------------

    def test_users_see_only_their_own_contacts(self):
        server = self.start_server()
        alice = alice_cards()
        bob = bob_cards()

        a1 = self.make_device(server, "alice-1", ALICE, ALICE_PW)
        for name, text in alice.items():
            a1.write_item(DS, name, text)
        counts = self.sync(a1, "slow")
        self.assertEqual(remote_changes(counts), (10, 0, 0), counts)

        # Bob receives nothing of alice's, and uploads his own three.
        b1 = self.make_device(server, "bob-1", BOB, BOB_PW)
        for name, text in bob.items():
            b1.write_item(DS, name, text)
        counts = self.sync(b1, "slow")
        self.assertEqual(local_changes(counts), (0, 0, 0), counts)
        self.assertEqual(remote_changes(counts), (3, 0, 0), counts)
        self.assertEqual(b1.items(DS), bob, "bob's device got foreign items")

        # Alice's second device sees exactly her ten.
        a2 = self.make_device(server, "alice-2", ALICE, ALICE_PW)
        counts = self.sync(a2, "slow")
        self.assertEqual(local_changes(counts), (10, 0, 0), counts)
        self.assert_same_contacts(alice.values(), a2.items(DS).values(),
                                  "alice's second device")

        # Bob's second device sees exactly his three.
        b2 = self.make_device(server, "bob-2", BOB, BOB_PW)
        self.sync(b2, "slow")
        self.assert_same_contacts(bob.values(), b2.items(DS).values(),
                                  "bob's second device")

        # And nothing crossed over afterwards either.
        counts = self.sync(a1, "two-way")
        self.assertEqual(local_changes(counts), (0, 0, 0), counts)
        self.assertEqual(a1.items(DS), alice)

    def test_same_device_id_for_two_users(self):
        """One phone used with two accounts: anchors and item maps belong
        to (user, device), so the shared device id must not leak."""
        server = self.start_server()
        alice = alice_cards(4)
        bob = bob_cards(2)
        shared_id = "conflux-it-shared-phone"
        a = self.make_device(server, "shared-alice", ALICE, ALICE_PW,
                             device_id=shared_id)
        for name, text in alice.items():
            a.write_item(DS, name, text)
        self.sync(a, "slow")
        b = self.make_device(server, "shared-bob", BOB, BOB_PW,
                             device_id=shared_id)
        for name, text in bob.items():
            b.write_item(DS, name, text)
        counts = self.sync(b, "slow")
        self.assertEqual(local_changes(counts), (0, 0, 0), counts)
        # Both two-way again, in turn: still nothing crosses.
        counts = self.sync(a, "two-way")
        self.assertEqual(local_changes(counts), (0, 0, 0), counts)
        counts = self.sync(b, "two-way")
        self.assertEqual(local_changes(counts), (0, 0, 0), counts)
        self.assertEqual(a.items(DS), alice)
        self.assertEqual(b.items(DS), bob)
        self.assertEqual(
            sorted(self.server_contents(server, ALICE, ALICE_PW, "check-a")),
            sorted(vcards.fn_of(t) for t in alice.values()))
        self.assertEqual(
            sorted(self.server_contents(server, BOB, BOB_PW, "check-b")),
            sorted(vcards.fn_of(t) for t in bob.values()))

    # -- crafted messages ----------------------------------------------------

    def assert_refused_without_data(self, response, what):
        status, headers, body = response
        self.assertEqual(status, 404, f"{what}: {body[:400]!r}")
        self.assertNotIn(b"</SyncML>", body, what)
        self.assertNotIn(b"BEGIN:VCARD", body, what)

    def test_session_id_is_bound_to_its_device(self):
        """Another device posting to alice's RespURI, with bob's
        credentials or none, gets HTTP 404 and no data; alice's own device
        carries on as if nothing happened."""
        server = self.start_server()
        alice = alice_cards()
        bob = bob_cards()
        sc.slow_sync(server.url, "alice-seed", ALICE, ALICE_PW,
                     adds=list(alice.items()))
        sc.slow_sync(server.url, "bob-seed", BOB, BOB_PW,
                     adds=list(bob.items()))

        # Alice's session, stopped after pkg 1 -> pkg 2.
        session = sc.RawSession(server.url, "alice-raw", ALICE, ALICE_PW)
        session.start(alert=201)
        resp_uri = session.next_url
        self.assertIn("sid=", resp_uri)

        attacks = {
            "bob's credentials": sc.basic_cred(BOB, BOB_PW),
            "no credentials": "",
        }
        n = 0
        for what, cred in attacks.items():
            # A Sync with an Add (writing), then an Alert for a slow sync
            # (which would answer with alice's items).
            sync = sc.sync_cmd(1, DS, adds=[(f"x{n}", injected_card(n))]) \
                + "<Final/>"
            n += 1
            bodies = {
                "Sync/Add": sync,
                "Alert 201": sc.alert_cmd(1, 201, DS) + "<Final/>",
            }
            for kind, body in bodies.items():
                for msg_id in (1, 2):
                    msg = sc.message(server.url, "mallory-phone",
                                     session.session_id, msg_id, body, cred)
                    with self.subTest(attack=what, kind=kind, msg_id=msg_id):
                        self.assert_refused_without_data(
                            sc.post(resp_uri, msg),
                            f"{kind} from another device with {what}")

        # Alice's own device goes on: pkg 3 with one Add, pkg 4 brings her
        # ten contacts (a slow sync), pkg 5/6 close the session.
        mine = vcards.contact(77, seed=2).replace("FN:", "FN:Sanity ", 1)
        reply = session.sync(adds=[("a-1", mine)])
        self.assertEqual(reply.hdr_status(), 200, reply.text())
        self.assertIn(("Add", "a-1", 201), session.item_statuses)
        session.finish()
        self.assertEqual(sorted(vcards.by_fn(session.received.values())),
                         sorted(vcards.fn_of(t) for t in alice.values()))

        # The server holds alice's ten plus her sanity add, bob his three;
        # nothing injected anywhere.
        expected_alice = list(alice.values()) + [mine]
        self.assert_same_contacts(
            expected_alice,
            self.server_contents(server, ALICE, ALICE_PW,
                                 "alice-check").values(),
            "alice on the server")
        self.assert_same_contacts(
            bob.values(),
            self.server_contents(server, BOB, BOB_PW, "bob-check").values(),
            "bob on the server")

    def test_session_rechecks_credentials(self):
        """A message on alice's session (her RespURI and device id) that
        carries someone else's credentials, or a wrong password, must not
        be executed as alice: HTTP 404, or a SyncHdr 401/403 with the Sync
        refused.  (Conflux ignores Cred after pkg 1 today: see the report.)
        """
        server = self.start_server()
        cases = {
            "bob's credentials": sc.basic_cred(BOB, BOB_PW),
            "alice, wrong password": sc.basic_cred(ALICE, "not-her-pw"),
        }
        for n, (what, cred) in enumerate(cases.items()):
            with self.subTest(case=what):
                session = sc.RawSession(server.url, f"alice-dev-{n}", ALICE,
                                        ALICE_PW)
                session.start(alert=201)
                body = session.sync_body(adds=[(f"x{n}", injected_card(n))])
                msg = session.next_message(body, cred)
                status, headers, raw = sc.post(session.next_url, msg)
                if status == 404:
                    continue
                self.assertEqual(status, 200, raw[:300])
                reply = sc.Reply(status, headers, raw)
                self.assertIn(reply.hdr_status(), (401, 403),
                              f"{what}: message executed as alice: "
                              f"{reply.text()}")
                for st in reply.statuses("Add"):
                    self.assertGreaterEqual(int(st.findtext("Data")), 300,
                                            reply.text())
        held = self.server_contents(server, ALICE, ALICE_PW, "alice-check")
        self.assertEqual([fn for fn in held if fn.startswith("Injected")],
                         [], "injected items stored in alice's contacts")
        self.assertEqual(self.server_contents(server, BOB, BOB_PW,
                                              "bob-check"), {})


if __name__ == "__main__":
    unittest.main(verbosity=2)
