#!/usr/bin/python3
"""Conflict policies with the real SyncEvolution client: two devices change
the same contact differently, then sync; the result is what the datastore's
policy says, and `conflux conflicts show` holds both versions.

Run: CONFLUX_BIN=/path/to/conflux /usr/bin/python3 test_conflicts.py
"""

import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import vcards  # noqa: E402
from conflux_server import IntegrationTest  # noqa: E402

DS = "contacts"
USER = "carol"
PASSWORD = "conflict-pw"
NAME = "Conny Conflict"


def card(note, extra=""):
    return ("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:" + NAME + "\r\nN:Conflict;Conny;;;\r\n"
            "TEL;TYPE=CELL:+49 170 1234567\r\nNOTE:" + note + "\r\n" + extra + "END:VCARD\r\n")


def fields_of(device, name):
    """Values of property `name` in the device's contacts named NAME, sorted."""
    out = []
    for text in device.items(DS).values():
        if isinstance(text, bytes):
            text = text.decode()
        fields = vcards.parse_vcard(text)
        if any(v == NAME for _, v in fields.get("FN", [])):
            out.extend(v for _, v in fields.get(name, []))
    return sorted(out)


def notes(device):
    """Sorted NOTE values of the device's contacts named NAME."""
    out = []
    for text in device.items(DS).values():
        if isinstance(text, bytes):
            text = text.decode()
        fields = vcards.parse_vcard(text)
        if any(v == NAME for _, v in fields.get("FN", [])):
            out.extend(v for _, v in fields.get("NOTE", []))
    return sorted(out)


class ConflictPolicyTest(IntegrationTest):

    def scenario(self, policy, a_extra="", b_extra=""):
        """A and B share one contact; A changes its NOTE (adding `a_extra`
        lines) and syncs, then B changes it differently (adding `b_extra`)
        and syncs. Returns (server, a, b)."""
        server = self.make_server(
            "[stores.contacts]\nadapter = \"sqlite\"\ncontent_type = \"text/vcard\"\n"
            f"content_version = \"3.0\"\nconflict_policy = \"{policy}\"\n")
        server.add_user(USER, PASSWORD)
        server.start()
        a = self.make_device(server, "dev-a", USER, PASSWORD)
        b = self.make_device(server, "dev-b", USER, PASSWORD)
        a.write_item(DS, "conny.vcf", card("original"))
        a.sync("slow")
        b.sync("slow")
        self.assertEqual(notes(b), ["original"])

        a.write_item(DS, "conny.vcf", card("changed on A", a_extra))
        a.sync("two-way")
        (name,) = list(b.items(DS))
        b.write_item(DS, name, card("changed on B", b_extra))
        b.sync("two-way")
        return server, a, b

    def assert_one_conflict_with_both_versions(self, server, policy):
        listing = server.cli("conflicts", "list").stdout.strip().splitlines()
        self.assertEqual(len(listing), 2, listing)
        self.assertTrue(listing.pop(0).startswith("id\t"), "a header row first")
        self.assertIn(policy, listing[0])
        conflict_id = listing[0].split("\t")[0]
        shown = server.cli("conflicts", "show", conflict_id).stdout
        server_part, device_part = shown.split("--- device version")
        self.assertIn("NOTE:changed on A", server_part, shown)
        self.assertIn("NOTE:changed on B", device_part, shown)
        return conflict_id

    def test_server_wins(self):
        server, a, b = self.scenario("server-wins")
        self.assert_one_conflict_with_both_versions(server, "server-wins")
        # The session report counts it: newest first, B's two-way.
        reports = server.cli("sessions", "list").stdout.splitlines()[1:]  # under the header
        self.assertIn("conflux-it-dev-b", reports[0])
        self.assertIn("two-way", reports[0])
        self.assertIn("conflicts 1", reports[0])
        session = reports[0].split("\t")[0]
        self.assertIn("conflicts 1", server.cli("sessions", "show", session).stdout)
        self.assertEqual(notes(b), ["changed on A"])
        a.sync("two-way")
        self.assertEqual(notes(a), ["changed on A"])

    def test_client_wins(self):
        server, a, b = self.scenario("client-wins")
        self.assert_one_conflict_with_both_versions(server, "client-wins")
        self.assertEqual(notes(b), ["changed on B"])
        a.sync("two-way")
        self.assertEqual(notes(a), ["changed on B"])

    def test_duplicate(self):
        server, a, b = self.scenario("duplicate")
        self.assert_one_conflict_with_both_versions(server, "duplicate")
        self.assertEqual(notes(b), ["changed on A", "changed on B"])
        a.sync("two-way")
        self.assertEqual(notes(a), ["changed on A", "changed on B"])

    def test_newest_wins_by_the_cards_own_rev(self):
        # B syncs last, but A's edit is the newer one by the cards' REV: the
        # server keeps A's version and B gets it; B's is on record.
        server, a, b = self.scenario("newest-wins",
                                     a_extra="REV:20250105T120000Z\r\n",
                                     b_extra="REV:20250103T120000Z\r\n")
        cid = self.assert_one_conflict_with_both_versions(server, "newest-wins")
        shown = server.cli("conflicts", "show", cid).stdout
        self.assertIn("server version newer", shown)
        self.assertIn("20250103T120000Z", shown.split("--- device version")[1])
        self.assertEqual(notes(b), ["changed on A"])
        a.sync("two-way")
        self.assertEqual(notes(a), ["changed on A"])

    def test_newest_wins_without_rev_takes_the_later_change(self):
        server, a, b = self.scenario("newest-wins")
        cid = self.assert_one_conflict_with_both_versions(server, "newest-wins")
        self.assertIn("device version newer",
                      server.cli("conflicts", "show", cid).stdout)
        self.assertEqual(notes(b), ["changed on B"])
        a.sync("two-way")
        self.assertEqual(notes(a), ["changed on B"])

    def test_merge(self):
        # Both change NOTE (both texts are kept, the server's, A's, first)
        # and each adds a field of its own: both fields end up on both devices.
        server, a, b = self.scenario("merge",
                                     a_extra="EMAIL;TYPE=INTERNET:conny@example.org\r\n",
                                     b_extra="TITLE:Chief Tester\r\n")
        cid = self.assert_one_conflict_with_both_versions(server, "merge")
        shown = server.cli("conflicts", "show", cid).stdout
        self.assertIn("merged", shown)
        server_part, device_part = shown.split("--- device version")
        self.assertNotIn("Chief Tester", server_part, "the server original is kept as it was")
        self.assertIn("Chief Tester", device_part)
        for device in (b, a):
            if device is a:
                a.sync("two-way")
            self.assertEqual(notes(device), ["changed on A\nchanged on B"])
            self.assertEqual(fields_of(device, "EMAIL"), ["conny@example.org"])
            self.assertEqual(fields_of(device, "TITLE"), ["Chief Tester"])
            self.assertEqual(len(device.items(DS)), 1)

    def test_report_then_resolve(self):
        server, a, b = self.scenario("report")
        conflict_id = self.assert_one_conflict_with_both_versions(server, "report")
        # Both sides stay as they are until a person decides.
        a.sync("two-way")
        b.sync("two-way")
        self.assertEqual(notes(a), ["changed on A"])
        self.assertEqual(notes(b), ["changed on B"])

        server.cli("conflicts", "resolve", conflict_id, "--keep", "device")
        self.assertEqual(server.cli("conflicts", "list").stdout.strip(), "")
        a.sync("two-way")
        b.sync("two-way")
        self.assertEqual(notes(a), ["changed on B"])
        self.assertEqual(notes(b), ["changed on B"])

        # Settled is settled: a second resolve is refused and writes nothing.
        again = server.cli("conflicts", "resolve", conflict_id, "--keep", "server", check=False)
        self.assertNotEqual(again.returncode, 0)
        self.assertIn("already resolved", again.stderr)
        # An edit after the resolution is newer than both recorded versions:
        # even --force does not write the stale one over it.
        name = next(iter(a.items(DS)))
        a.write_item(DS, name, card("edited after the resolution"))
        a.sync("two-way")
        forced = server.cli("conflicts", "resolve", conflict_id, "--keep", "server", "--force", check=False)
        self.assertNotEqual(forced.returncode, 0)
        self.assertIn("changed since", forced.stderr)
        b.sync("two-way")
        self.assertEqual(notes(b), ["edited after the resolution"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
