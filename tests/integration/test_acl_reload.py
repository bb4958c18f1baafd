#!/usr/bin/python3
"""System preferences, tokens and ACLs against a running server:

  1. reload: conflict_policy changes from server-wins to client-wins by
     editing the config file and running `conflux reload` (SIGHUP); the next
     conflict between two SyncEvolution devices follows the new policy, with
     the same server process; an invalid edit is refused and the old
     settings stay in force;
  2. reload: a datastore's `access` turns read-only and back, then
     `conflux user set --access` does so for one user; adds are refused per
     item while it is read-only (DS 1.2's 425 for this raw client, which
     matches no device quirk rule);
  3. a read-only datastore (vdir back end) with the real SyncEvolution
     client: the device's adds and edits are refused, the files on the
     server stay as they were, and the device still gets the changes other
     programs make there. SyncEvolution gets 500 for the refused items,
     from the built-in device quirk rule for libsynthesis clients (they
     abort the whole session on 425), from its first session on; a raw
     client whose DevInf matches no rule gets 425 in the same setup;
  4. per-user back-end login (vdir with an accounts_file): a user Conflux
     does not know syncs with the back end's own account (basic from a raw
     client, MD5 from SyncEvolution); a wrong password is refused; an unrestricted-read datastore takes a write only from a
     message that carries credentials the back end accepts again.

Run: CONFLUX_BIN=/path/to/conflux /usr/bin/python3 test_acl_reload.py
"""

import base64
import hashlib
import os
import re
import signal
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import syncml_client  # noqa: E402
import vcards  # noqa: E402
from conflux_server import IntegrationTest, poll_until  # noqa: E402

DS = "contacts"


def card(name, note):
    return ("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:" + name + "\r\nN:" + name + ";;;;\r\n"
            "NOTE:" + note + "\r\nEND:VCARD\r\n")


def notes(device, name):
    """Sorted NOTE values of the device's contacts named `name`."""
    out = []
    for text in device.items(DS).values():
        fields = vcards.parse_vcard(text)
        if any(v == name for _, v in fields.get("FN", [])):
            out.extend(v for _, v in fields.get("NOTE", []))
    return sorted(out)


def reload_and_wait(server, expect):
    """`conflux reload`, then wait for the server's log line matching the
    regex `expect` (written after the reload took effect or was refused)."""
    offset = len(server.log_text())
    server.cli("reload")
    return poll_until(lambda: re.search(expect, server.log_text()[offset:]), 30,
                      what=f"log line {expect!r}")


def backend_account(user, password):
    digest = base64.b64encode(hashlib.md5(f"{user}:{password}".encode()).digest()).decode()
    return f"{user}:{digest}\n"


class ReloadTest(IntegrationTest):

    def store_section(self, **keys):
        lines = ['[stores.contacts]', 'adapter = "sqlite"', 'content_type = "text/vcard"',
                 'content_version = "3.0"']
        lines += [f'{k} = "{v}"' for k, v in keys.items()]
        return "\n".join(lines) + "\n"

    def edit_store(self, server, **keys):
        """Rewrite [stores.contacts] in the server's config file."""
        text = server.config_path.read_text()
        head = text.split("[stores.contacts]")[0]
        server.config_path.write_text(head + self.store_section(**keys))

    def conflict(self, a, b, name, round_):
        """A and B change contact `name` differently, A syncs first."""
        a.write_item(DS, name.lower() + ".vcf", card(name, f"A{round_}"))
        a.sync("two-way")
        (file_b,) = [f for f, t in b.items(DS).items() if "FN:" + name + "\r" in t]
        b.write_item(DS, file_b, card(name, f"B{round_}"))
        b.sync("two-way")

    def test_conflict_policy_changes_by_reload_without_restart(self):
        server = self.make_server(self.store_section(conflict_policy="server-wins"))
        server.add_user("rita", "reload-pw")
        server.start()
        pid = server.proc.pid
        a = self.make_device(server, "dev-a", "rita", "reload-pw")
        b = self.make_device(server, "dev-b", "rita", "reload-pw")
        a.write_item(DS, "one.vcf", card("One", "start"))
        a.write_item(DS, "two.vcf", card("Two", "start"))
        a.sync("slow")
        b.sync("slow")

        self.conflict(a, b, "One", 1)
        self.assertEqual(notes(b, "One"), ["A1"])  # server-wins

        self.edit_store(server, conflict_policy="client-wins")
        reload_and_wait(server, r"reload: changed stores\.contacts\.conflict_policy; applied by engine")
        self.conflict(a, b, "Two", 2)
        self.assertEqual(notes(b, "Two"), ["B2"])  # client-wins, same process
        a.sync("two-way")
        self.assertEqual(notes(a, "Two"), ["B2"])

        # An invalid edit: `conflux reload` names the error and signals
        # nothing; a SIGHUP all the same is refused by the server, and
        # client-wins stays in force.
        self.edit_store(server, conflict_policy="coin-toss")
        refused = server.cli("reload", check=False)
        self.assertNotEqual(refused.returncode, 0)
        self.assertIn("stores.contacts.conflict_policy", refused.stderr)
        offset = len(server.log_text())
        os.kill(server.proc.pid, signal.SIGHUP)
        poll_until(lambda: re.search(r"reload refused, the old settings stay in force: .*conflict_policy",
                                     server.log_text()[offset:]), 30, what="the refused reload")
        self.conflict(a, b, "One", 3)
        self.assertEqual(notes(b, "One"), ["B3"])
        self.assertTrue(server.running())
        self.assertEqual(server.proc.pid, pid)
        self.edit_store(server, conflict_policy="client-wins")  # the admin command reads the file too
        listing = server.cli("conflicts", "list", "--all").stdout
        self.assertEqual(listing.count("server-wins"), 1, listing)
        self.assertEqual(listing.count("client-wins"), 2, listing)

    def test_access_changes_by_reload(self):
        server = self.make_server(self.store_section())
        server.add_user("rosa", "access-pw")
        server.start()

        def add(device, luid, name):
            s = syncml_client.RawSession(server.url, device, "rosa", "access-pw")
            s.start(alert=201)
            s.sync(adds=[(luid, card(name, "x"))])
            s.finish()
            return [code for cmd, _, code in s.item_statuses if cmd == "Add"], s

        codes, _ = add("raw-1", "1", "Before")
        self.assertEqual(codes, [201])

        self.edit_store(server, access="read-only")
        reload_and_wait(server, r"reload: changed stores\.contacts\.access; applied by caf")
        codes, s = add("raw-2", "1", "Refused")
        self.assertEqual(codes, [425])  # DS 1.2: no quirk rule matches this client
        self.assertEqual(len(s.received), 1)  # reading still works: the first contact

        # A key that needs a restart is named, the rest still applies.
        text = server.config_path.read_text().replace('listen = "127.0.0.1"', 'listen = "127.0.0.2"')
        server.config_path.write_text(text.replace('access = "read-only"', 'access = "read-write"'))
        reload_and_wait(server, r"server\.listen changed but needs a restart")
        codes, s = add("raw-3", "1", "After")
        self.assertEqual(codes, [201])
        self.assertEqual(sorted(vcards.fn_of(t) for t in s.received.values()), ["Before"])

        # A per-user override in the state database, no reload needed.
        out = server.cli("user", "set", "rosa", "--access", "contacts=read-only").stdout
        self.assertIn("contacts read-only", out)
        codes, _ = add("raw-4", "1", "Overridden")
        self.assertEqual(codes, [425])
        server.cli("user", "set", "rosa", "--access", "contacts=default")
        codes, _ = add("raw-5", "1", "Default again")
        self.assertEqual(codes, [201])
        bad = server.cli("user", "set", "rosa", "--access", "movies=read-only", check=False)
        self.assertIn("no datastore 'movies'", bad.stderr)

    def test_reload_without_a_server_fails_clearly(self):
        server = self.make_server(self.store_section())
        proc = server.cli("reload", check=False)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("no server runs", proc.stderr)


class ReadOnlyStoreTest(IntegrationTest):

    def test_device_writes_are_refused_and_server_changes_still_arrive(self):
        root = self.tmp / "vdir"
        server = self.make_server(
            f'[stores.contacts]\nadapter = "vdir"\nroot = "{root}"\n'
            'content_type = "text/vcard"\ncontent_version = "3.0"\naccess = "read-only"\n')
        server.add_user("olga", "ro-pw")
        server.start()
        collection = root / "olga" / DS
        collection.mkdir(parents=True)
        (collection / "seed.vcf").write_bytes(card("Seed", "from the server").encode())

        d = self.make_device(server, "dev-ro", "olga", "ro-pw")
        d.sync("slow")
        self.assertEqual(notes(d, "Seed"), ["from the server"])

        (seed_file,) = [f for f, t in d.items(DS).items() if "FN:Seed" in t]
        d.write_item(DS, seed_file, card("Seed", "edited on the device"))
        d.write_item(DS, "mine.vcf", card("Mine", "added on the device"))
        d.sync("two-way", expect_ok=False)
        self.assertEqual(sorted(p.name for p in collection.iterdir()), ["seed.vcf"])
        self.assertIn("NOTE:from the server", (collection / "seed.vcf").read_text())
        # 500, not 425: the built-in rule for libsynthesis clients (no
        # quirks_file is configured).
        log = server.log_text()
        self.assertRegex(log, r"device conflux-it-dev-ro: quirk rule 'libsynthesis clients[^']*' applies")
        self.assertRegex(log, r"item mine\.vcf from the device failed with 500: create failed: PERMISSION_DENIED")
        self.assertRegex(log, r"failed with 500: update failed: PERMISSION_DENIED")

        # Another program adds a contact on the server: the device gets it.
        (collection / "later.vcf").write_bytes(card("Later", "also from the server").encode())
        d.sync("two-way", expect_ok=False)
        self.assertEqual(notes(d, "Later"), ["also from the server"])
        self.assertEqual(sorted(p.name for p in collection.iterdir()), ["later.vcf", "seed.vcf"])

        # A device with a contact of its own before its first sync: its
        # DevInf comes as Results in the same message as the refused Add, and
        # the rule already applies; it gets the server's contacts in that
        # first session.
        first = self.make_device(server, "dev-ro-first", "olga", "ro-pw")
        first.write_item(DS, "own.vcf", card("Own", "on the device before its first sync"))
        first.sync("slow", expect_ok=False)
        self.assertEqual(notes(first, "Seed"), ["from the server"])
        self.assertEqual(notes(first, "Later"), ["also from the server"])
        self.assertRegex(server.log_text(),
                         r"item own\.vcf from the device failed with 500: create failed: PERMISSION_DENIED")

        # A client whose DevInf matches no rule gets DS 1.2's 425 for the
        # refused item; the rest of its session goes on.
        raw = syncml_client.RawSession(server.url, "raw-ro", "olga", "ro-pw",
                                       devinf={"Man": "Conflux tests", "Mod": "raw client",
                                               "OEM": "nobody", "DevTyp": "phone"})
        raw.start(alert=201)
        raw.sync(adds=[("1", card("Raw", "x"))])
        self.assertEqual([c for cmd, _, c in raw.item_statuses if cmd == "Add"], [425])
        self.assertTrue(raw.finish().final)
        self.assertEqual(sorted(vcards.fn_of(t) for t in raw.received.values()), ["Later", "Seed"])
        self.assertNotRegex(server.log_text(), r"device raw-ro: quirk rule")
        self.assertEqual(sorted(p.name for p in collection.iterdir()), ["later.vcf", "seed.vcf"])
        self.assertTrue(server.running())


    def test_a_quirks_file_replaces_the_built_in_rules(self):
        """Without the rule (a quirks_file that has none), SyncEvolution gets
        DS 1.2's 425 and ends the session: why the built-in rule exists."""
        root = self.tmp / "vdir"
        quirks = self.tmp / "quirks.toml"
        quirks.write_text("version = 1\n")
        server = self.make_server(
            f'[server]\nquirks_file = "{quirks}"\n'
            f'[stores.contacts]\nadapter = "vdir"\nroot = "{root}"\n'
            'content_type = "text/vcard"\ncontent_version = "3.0"\naccess = "read-only"\n')
        server.add_user("olga", "ro-pw")
        server.start()
        self.assertRegex(server.log_text(), r"device quirks: 0 rules from .*quirks\.toml")
        collection = root / "olga" / DS
        collection.mkdir(parents=True)
        (collection / "seed.vcf").write_bytes(card("Seed", "from the server").encode())
        d = self.make_device(server, "dev-425", "olga", "ro-pw")
        d.sync("slow")
        d.write_item(DS, "mine.vcf", card("Mine", "added on the device"))
        (collection / "later.vcf").write_bytes(card("Later", "also from the server").encode())
        rc, out = d.sync("two-way", expect_ok=False)
        self.assertNotEqual(rc, 0)
        self.assertIn("status 425", out)
        self.assertRegex(server.log_text(), r"item mine\.vcf from the device failed with 425")
        self.assertEqual(notes(d, "Later"), [])  # the session ended before it came
        self.assertTrue(server.running())


class PerUserLoginTest(IntegrationTest):

    def test_back_end_accounts_decide(self):
        root = self.tmp / "vdir"
        accounts = self.tmp / "backend-accounts"
        accounts.write_text("# the vdir back end's own accounts\n" + backend_account("bruno", "backend-pw"))
        server = self.make_server(
            f'[stores.contacts]\nadapter = "vdir"\nroot = "{root}"\naccounts_file = "{accounts}"\n'
            'login = "per-user"\ncontent_type = "text/vcard"\ncontent_version = "3.0"\n'
            '[stores.notes]\nadapter = "sqlite"\ncontent_type = "text/plain"\n')
        server.start()  # bruno has no Conflux account
        listing = server.cli("store", "list").stdout
        self.assertRegex(listing, r"contacts\tadapter=vdir\t.*\taccess=read-write\tlogin=per-user")

        s = syncml_client.slow_sync(server.url, "raw-bruno", "bruno", "backend-pw",
                                    adds=[("1", card("Bruno", "per-user"))])
        self.assertEqual([c for cmd, _, c in s.item_statuses if cmd == "Add"], [201])
        files = list((root / "bruno" / DS).glob("*.vcf"))
        self.assertEqual(len(files), 1)
        self.assertIn("FN:Bruno", files[0].read_text())

        # The real client logs in with syncml:auth-md5, checked by the back end
        # against the same account line.
        d = self.make_device(server, "dev-bruno", "bruno", "backend-pw")
        d.write_item(DS, "phone.vcf", card("From the phone", "md5"))
        d.sync("slow")
        self.assertEqual(notes(d, "Bruno"), ["per-user"])
        texts = [p.read_text() for p in (root / "bruno" / DS).glob("*.vcf")]
        self.assertEqual(sorted(vcards.fn_of(t) for t in texts), ["Bruno", "From the phone"])

        with self.assertRaisesRegex(syncml_client.ProtocolError, "SyncHdr status 401"):
            syncml_client.RawSession(server.url, "raw-bruno-2", "bruno", "wrong").start(alert=201)
        # Conflux's own datastore does not know bruno: 403 on the Alert.
        with self.assertRaisesRegex(syncml_client.ProtocolError,
                                    r"Alert not answered with 200: .*<Cmd>Alert</Cmd>.*<Data>403</Data>"):
            syncml_client.RawSession(server.url, "raw-bruno-3", "bruno", "backend-pw", datastore="notes",
                                     local="./notes").start(alert=201)

    def test_unrestricted_read_writes_only_with_credentials_again(self):
        root = self.tmp / "vdir"
        accounts = self.tmp / "backend-accounts"
        accounts.write_text(backend_account("ulla", "ur-pw"))
        server = self.make_server(
            f'[stores.contacts]\nadapter = "vdir"\nroot = "{root}"\naccounts_file = "{accounts}"\n'
            'login = "per-user"\naccess = "unrestricted-read"\ncontent_type = "text/vcard"\n')
        server.start()

        s = syncml_client.RawSession(server.url, "raw-ulla", "ulla", "ur-pw")
        s.start(alert=201)
        # pkg 3 without credentials: the write is refused.
        s.sync(adds=[("1", card("NoCred", "x"))])
        self.assertEqual([c for cmd, _, c in s.item_statuses if cmd == "Add"], [425])
        s.finish()

        s = syncml_client.RawSession(server.url, "raw-ulla", "ulla", "ur-pw", session_id="2")
        s.start(alert=201)
        # pkg 3 carrying them: checked at the back end again, and written.
        reply = s._send(s.sync_body(adds=[("2", card("WithCred", "x"))]),
                        cred=syncml_client.basic_cred("ulla", "ur-pw"))
        s._continue_until_final(reply)
        self.assertEqual([c for cmd, _, c in s.item_statuses if cmd == "Add"], [201])
        s.finish()
        texts = [p.read_text() for p in (root / "ulla" / DS).glob("*.vcf")]
        self.assertEqual(len(texts), 1)
        self.assertIn("FN:WithCred", texts[0])


if __name__ == "__main__":
    unittest.main(verbosity=2)
