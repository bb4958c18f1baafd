#!/usr/bin/python3
"""Every SyncML sync type the real SyncEvolution client can ask for, each
checked on both sides: the client's item files and the server's items.db
(and, where the brief asks for it, a second device that reads the server
back):

  200 two-way              changes flow both ways, nothing echoed back
  201 slow                 union of both sides, identical contacts not doubled
  202 one-way-from-local   server gets the client's changes; the client gets
                           none of the server's until a later two-way
  203 refresh-from-local   server's contacts become exactly the client's
  204 one-way-from-remote  client gets the server's changes; its own local
                           change reaches the server only in a later two-way
  205 refresh-from-remote  client ends with exactly the server's contacts

Run: CONFLUX_BIN=/path/to/conflux /usr/bin/python3 test_sync_types.py
"""

import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import vcards  # noqa: E402
from conflux_server import IntegrationTest  # noqa: E402
from engine_checks import (device_fns, doubled, fns_of,  # noqa: E402
                           server_fns, server_items)
from sync_summary import parse_summary  # noqa: E402

DS = "contacts"
USER = "tina"
PASSWORD = "Types-pw-7"


def cards(n, start, seed=11):
    """{file name: vCard} of n generated contacts from index start."""
    return dict(vcards.generate(n, seed=seed, start=start))


def one(start, seed=11):
    """(file name, vCard) of one generated contact."""
    return next(iter(cards(1, start, seed).items()))


class SyncTypesTest(IntegrationTest):

    def setUp(self):
        super().setUp()
        self.server = self.make_server()
        self.server.add_user(USER, PASSWORD)
        self.server.start()

    def device(self, name):
        return self.make_device(self.server, name, USER, PASSWORD)

    def sync(self, device, mode):
        _, out = device.sync(mode)
        self.last_output = out
        return parse_summary(out)[DS]

    def seeded_pair(self, n=3):
        """A uploads n contacts (slow), B slow-syncs them; returns
        (a, b, {name: text} of the n contacts)."""
        a, b = self.device("dev-a"), self.device("dev-b")
        base = cards(n, 0)
        for name, text in base.items():
            a.write_item(DS, name, text)
        self.sync(a, "slow")
        self.sync(b, "slow")
        self.assertEqual(set(device_fns(b)), fns_of(base))
        return a, b, base

    def assert_server_fns(self, expected, what):
        got = server_fns(self.server, USER)
        self.assertEqual(doubled(got), {}, f"{what}: doubled on the server")
        self.assertEqual(set(got), set(expected), f"{what}: server's set")

    def assert_device_fns(self, device, expected, what):
        got = device_fns(device)
        self.assertEqual(doubled(got), {}, f"{what}: doubled on {device.name}")
        self.assertEqual(set(got), set(expected),
                         f"{what}: {device.name}'s set")

    # -- 200 -----------------------------------------------------------------

    def test_200_two_way(self):
        a, b, base = self.seeded_pair(4)
        names = sorted(base)
        # A: add one, edit one, delete one.
        new_name, new_text = one(100)
        a.write_item(DS, new_name, new_text)
        edited = vcards.replace_property(base[names[0]], "NOTE",
                                         "NOTE:edited by A in two-way")
        a.write_item(DS, names[0], edited)
        a.delete_item(DS, names[1])
        counts = self.sync(a, "two-way")
        self.assertEqual((counts.remote_new, counts.remote_mod,
                          counts.remote_del), (1, 1, 1), counts)
        expected = (fns_of(base) - {vcards.fn_of(base[names[1]])}) | \
            {vcards.fn_of(new_text)}
        self.assert_server_fns(expected, "after A's two-way")
        # B: gets exactly that, and adds its own.
        b_name, b_text = one(200)
        b.write_item(DS, b_name, b_text)
        counts = self.sync(b, "two-way")
        self.assertEqual((counts.local_new, counts.local_mod,
                          counts.local_del), (1, 1, 1), counts)
        self.assertEqual(counts.remote_new, 1, counts)
        expected |= {vcards.fn_of(b_text)}
        self.assert_device_fns(b, expected, "B after two-way")
        b_edited = [t for t in b.items(DS).values()
                    if vcards.fn_of(t) == vcards.fn_of(edited)]
        self.assertTrue(vcards.same_contact(b_edited[0], edited),
                        vcards.contact_diff(b_edited[0], edited))
        self.assert_server_fns(expected, "after B's two-way")
        # A: gets B's contact only; its own changes are not echoed.
        counts = self.sync(a, "two-way")
        self.assertEqual((counts.local_new, counts.local_mod,
                          counts.local_del), (1, 0, 0), counts)
        self.assert_device_fns(a, expected, "A after second two-way")

    # -- 201 -----------------------------------------------------------------

    def test_201_slow(self):
        # Server: 4 contacts from B.  A holds 2 of them (identical) and 2
        # of its own.  A's slow sync must give the union of 6, no doubles.
        b = self.device("dev-b")
        server_side = cards(4, 0)
        for name, text in server_side.items():
            b.write_item(DS, name, text)
        self.sync(b, "slow")
        a = self.device("dev-a")
        shared = dict(list(server_side.items())[:2])
        own = cards(2, 50)
        for name, text in {**shared, **own}.items():
            a.write_item(DS, name, text)
        counts = self.sync(a, "slow")
        self.assertEqual(counts.local_new, 2, counts)
        union = fns_of(server_side) | fns_of(own)
        self.assert_device_fns(a, union, "A after slow sync")
        self.assert_server_fns(union, "after A's slow sync")
        # A's matched contacts are the very same content on the server.
        a_by_fn = vcards.by_fn(a.items(DS).values())
        for text in server_side.values():
            fn = vcards.fn_of(text)
            self.assertTrue(vcards.same_contact(text, a_by_fn[fn]), fn)
        # B two-way then receives A's own 2 and nothing else.
        counts = self.sync(b, "two-way")
        self.assertEqual((counts.local_new, counts.local_mod,
                          counts.local_del), (2, 0, 0), counts)
        self.assert_device_fns(b, union, "B after two-way")

    # -- 202 -----------------------------------------------------------------

    def test_202_one_way_from_local(self):
        a, b, base = self.seeded_pair(3)
        # The server has a change pending for A (B added X) ...
        x_name, x_text = one(300)
        b.write_item(DS, x_name, x_text)
        self.sync(b, "two-way")
        # ... and A has its own local change (Y) plus an edit.
        y_name, y_text = one(400)
        a.write_item(DS, y_name, y_text)
        a_before = a.items(DS)
        counts = self.sync(a, "one-way-from-local")
        self.assertEqual(counts.remote_new, 1, counts)
        self.assertEqual((counts.local_new, counts.local_mod,
                          counts.local_del), (0, 0, 0), counts)
        everything = fns_of(base) | {vcards.fn_of(x_text),
                                     vcards.fn_of(y_text)}
        # Server got Y.
        self.assert_server_fns(everything, "after A's one-way-from-local")
        # A got nothing: X is not there, files unchanged.
        self.assertEqual(a.items(DS), a_before,
                         "one-way-from-local changed the client's files")
        # A later two-way delivers X (still pending) and sends nothing new.
        counts = self.sync(a, "two-way")
        self.assertEqual((counts.local_new, counts.local_mod,
                          counts.local_del), (1, 0, 0), counts)
        self.assert_device_fns(a, everything, "A after later two-way")
        self.assert_server_fns(everything, "after A's later two-way")
        # B gets Y from the server.
        self.sync(b, "two-way")
        self.assert_device_fns(b, everything, "B after two-way")

    # -- 203 -----------------------------------------------------------------

    def test_203_refresh_from_local(self):
        a, b, base = self.seeded_pair(4)
        names = sorted(base)
        # The server also holds B's contact X, unknown to A.
        x_name, x_text = one(500)
        b.write_item(DS, x_name, x_text)
        self.sync(b, "two-way")
        # A: deletes one contact, edits one, adds Y; then refresh-from-local.
        a.delete_item(DS, names[0])
        edited = vcards.replace_property(base[names[1]], "NOTE",
                                         "NOTE:edited before refresh")
        a.write_item(DS, names[1], edited)
        y_name, y_text = one(600)
        a.write_item(DS, y_name, y_text)
        a_before = a.items(DS)
        client_set = fns_of(a_before)
        _, out = a.sync("refresh-from-local")
        counts = parse_summary(out)[DS]
        self.assertEqual((counts.local_new, counts.local_mod,
                          counts.local_del), (0, 0, 0), counts)
        self.assertEqual(a.items(DS), a_before,
                         "refresh-from-local changed the client's files")
        # The server's contacts are exactly A's: X and the contact A
        # deleted are gone, nothing doubled.
        self.assert_server_fns(client_set, "after A's refresh-from-local")
        server_by_fn = vcards.by_fn(server_items(self.server, USER))
        self.assertTrue(vcards.same_contact(server_by_fn[vcards.fn_of(edited)],
                                            edited),
                        "the edit A sent in the refresh is not on the server")
        # A fresh device sees exactly A's set.
        c = self.device("dev-c")
        self.sync(c, "slow")
        self.assert_device_fns(c, client_set, "C after slow sync")
        # And B, which had synced before, loses X and A's deleted contact.
        self.sync(b, "two-way")
        self.assert_device_fns(b, client_set, "B after two-way")

    # -- 204 -----------------------------------------------------------------

    def test_204_one_way_from_remote(self):
        a, b, base = self.seeded_pair(3)
        x_name, x_text = one(700)
        b.write_item(DS, x_name, x_text)
        self.sync(b, "two-way")
        y_name, y_text = one(800)
        a.write_item(DS, y_name, y_text)
        counts = self.sync(a, "one-way-from-remote")
        self.assertEqual((counts.local_new, counts.local_mod,
                          counts.local_del), (1, 0, 0), counts)
        self.assertEqual((counts.remote_new, counts.remote_mod,
                          counts.remote_del), (0, 0, 0), counts)
        with_x = fns_of(base) | {vcards.fn_of(x_text)}
        everything = with_x | {vcards.fn_of(y_text)}
        # A got X; the server did not get Y.
        self.assert_device_fns(a, everything, "A after one-way-from-remote")
        self.assert_server_fns(with_x, "after A's one-way-from-remote")
        self.sync(b, "two-way")
        self.assert_device_fns(b, with_x, "B after A's one-way-from-remote")
        # A later two-way sends Y (still a local change) and gets nothing.
        counts = self.sync(a, "two-way")
        # The client sends Y, and (Synthesis' own change tracking) also X,
        # which it received in the one-way session; its counters are not
        # server facts: the server matches X through its map, and the
        # assertions below check that nothing is doubled.
        self.assertIn(counts.remote_new, (1, 2), counts)
        self.assertEqual((counts.local_new, counts.local_mod,
                          counts.local_del), (0, 0, 0), counts)
        self.assert_server_fns(everything, "after A's later two-way")
        self.assert_device_fns(a, everything, "A after later two-way")
        self.sync(b, "two-way")
        self.assert_device_fns(b, everything, "B after A's two-way")

    # -- 205 -----------------------------------------------------------------

    def test_205_refresh_from_remote(self):
        a, b, base = self.seeded_pair(3)
        x_name, x_text = one(900)
        b.write_item(DS, x_name, x_text)
        self.sync(b, "two-way")
        # A has two local-only contacts that never reached the server.
        local_only = cards(2, 950)
        for name, text in local_only.items():
            a.write_item(DS, name, text)
        server_set = fns_of(base) | {vcards.fn_of(x_text)}
        self.assert_server_fns(server_set, "before A's refresh-from-remote")
        self.sync(a, "refresh-from-remote")
        self.assert_device_fns(a, server_set, "A after refresh-from-remote")
        self.assertEqual(len(a.items(DS)), len(server_set))
        self.assert_server_fns(server_set, "after A's refresh-from-remote")
        # The server's items arrive with their content.
        a_by_fn = vcards.by_fn(a.items(DS).values())
        for text in list(base.values()) + [x_text]:
            fn = vcards.fn_of(text)
            self.assertTrue(vcards.same_contact(text, a_by_fn[fn]),
                            vcards.contact_diff(text, a_by_fn[fn]))
        # Next two-way is quiet on both sides.
        counts = self.sync(a, "two-way")
        self.assertEqual((counts.local_new, counts.local_mod,
                          counts.local_del, counts.remote_new,
                          counts.remote_mod, counts.remote_del),
                         (0, 0, 0, 0, 0, 0), counts)


if __name__ == "__main__":
    unittest.main(verbosity=2)
