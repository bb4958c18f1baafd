#!/usr/bin/python3
"""A new user's first hour with the `conflux` command: every mistake gets a
message that says where and what to do, and no admin command lies.

- check-config names file and line for errors only the adapters or the
  file system find (adapter, a vdir store's root, adapter keys, the data
  directory), refuses a host name for `listen`, and suggests the key meant;
- the global options work after the subcommand (`serve --config FILE`);
- `user set` refuses a user that does not exist; `user add` into a data
  directory no server uses says so;
- `conflux` alone prints the help; `--version` gives version and commit;
- a server started with no users says how to add one and how to stop.

Run: CONFLUX_BIN=/path/to/conflux /usr/bin/python3 test_first_hour.py
"""

import re
import subprocess
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conflux_server import IntegrationTest, conflux_binary  # noqa: E402


class FirstHourTest(IntegrationTest):

    def conflux(self, *args, stdin=None):
        return subprocess.run([conflux_binary(), *args], input=stdin, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)

    def check_config(self, toml):
        path = self.tmp / "conflux.toml"
        path.write_text(f"[storage]\ndata_dir = \"{self.tmp / 'data'}\"\n" + toml)
        # The global option after the subcommand, as `serve --config` takes it.
        proc = self.conflux("check-config", "--config", str(path))
        return proc, str(path)

    def assert_refused(self, toml, expected):
        proc, path = self.check_config(toml)
        self.assertNotEqual(proc.returncode, 0, proc.stdout)
        self.assertEqual(proc.stderr.strip().splitlines()[-1], f"conflux: {path}:{expected}")

    def test_config_errors_name_file_and_line(self):
        self.assert_refused("[stores.books]\nadapter = \"vdr\"\ncontent_type = \"text/vcard\"\n",
                            "4: stores.books.adapter: unknown adapter 'vdr' (known: caldav, plugin, postgresql, sqlite, vdir)")
        self.assert_refused("\n[stores.books]\nadapter = \"vdir\"\ncontent_type = \"text/vcard\"\n",
                            "4: stores.books.root: missing (adapter vdir needs a directory)")
        self.assert_refused("[stores.books]\nadapter = \"sqlite\"\ncontent_type = \"text/vcard\"\nfiel = \"b.db\"\n",
                            "6: stores.books.fiel: unknown key for adapter sqlite (its keys: file, accounts_file)")
        # Adapter keys keep their TOML types: a number in quotes is refused, naming the key.
        self.assert_refused("[stores.books]\nadapter = \"caldav\"\ncontent_type = \"text/vcard\"\n"
                            "login = \"per-user\"\ncollection_url = \"http://127.0.0.1:1/{user}/books/\"\n"
                            "multiget_batch = \"100\"\n",
                            "8: stores.books.multiget_batch: must be an integer from 1 to 1000")
        blocker = self.tmp / "a-file"
        blocker.write_text("not a directory\n")
        self.assert_refused(f"[stores.books]\nadapter = \"vdir\"\ncontent_type = \"text/vcard\"\n"
                            f"root = \"{blocker}/books\"\n",
                            f"6: stores.books.root: cannot create directory {blocker}/books: Not a directory")
        self.assert_refused("[server]\nlisten = \"localhost\"\n",
                            "4: server.listen: 'localhost' is not an IP address; use 127.0.0.1 (or ::1) for "
                            "this machine only, 0.0.0.0 (or ::) for every interface")
        self.assert_refused("[stores.books]\nadapter = \"sqlite\"\ncontent_type = \"text/vcard\"\n"
                            "conflict_polcy = \"merge\"\n",
                            "6: stores.books.conflict_polcy: unknown key (did you mean 'conflict_policy'?)")
        # A data directory that cannot be made: the line of data_dir.
        path = self.tmp / "blocked.toml"
        path.write_text(f"[storage]\ndata_dir = \"{blocker}/data\"\n")
        proc = self.conflux("check-config", "--config", str(path))
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn(f"{path}:2: storage.data_dir: cannot create {blocker}/data", proc.stderr)

        proc, _ = self.check_config("")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("configuration is valid", proc.stdout)

    def test_user_commands_refuse_and_warn(self):
        data = self.tmp / "fresh"
        added = self.conflux("--data-dir", str(data), "user", "add", "alice", stdin="pw-alice\n")
        self.assertEqual(added.returncode, 0, added.stderr)
        self.assertIn(f"created data directory {data}", added.stderr)
        self.assertIn(f"no server runs with data directory {data}", added.stderr)

        missing = self.conflux("user", "set", "nobody", "--access", "contacts=read-only", "--data-dir", str(data))
        self.assertNotEqual(missing.returncode, 0)
        self.assertIn("no user 'nobody'", missing.stderr)
        existing = self.conflux("user", "set", "alice", "--access", "contacts=read-only", "--data-dir", str(data))
        self.assertEqual(existing.returncode, 0, existing.stderr)

    def test_help_version_and_first_start(self):
        bare = self.conflux()
        self.assertNotEqual(bare.returncode, 0)
        self.assertIn("Subcommands:", bare.stdout)
        self.assertIn("serve", bare.stdout)

        version = self.conflux("--version")
        self.assertEqual(version.returncode, 0)
        self.assertRegex(version.stdout.strip(), r"^conflux \d+\.\d+\.\d+ \((\S+|no git commit known)\)$")

        server = self.make_server()
        server.start()
        log = server.log_text()
        self.assertIn("no users yet", log)
        self.assertIn("conflux user add NAME", log)
        self.assertIn("stop with Ctrl-C or SIGTERM", log)
        server.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
