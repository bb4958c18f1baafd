#!/usr/bin/python3
"""conflux_loadgen against a real Conflux server, at small sizes:

  - every scenario passes its own checks (exit 0, no failed session), the
    counts in its JSON are the ones the scenarios imply, and the server's
    item database holds exactly what the devices uploaded minus what they
    deleted;
  - the same with WBXML and basic authentication;
  - a run whose accounts have other passwords fails every session, says
    why, and exits 1: the generator does not measure errors as successes.

Run: CONFLUX_BIN=build/src/cli/conflux LOADGEN_BIN=build/bench/loadgen/conflux_loadgen \
     /usr/bin/python3 bench/loadgen/tests/test_loadgen.py
"""

import json
import os
import sqlite3
import subprocess
import sys
import unittest
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "tests" / "integration"))
sys.dont_write_bytecode = True
from conflux_server import IntegrationTest  # noqa: E402

SMALL = ["--a-devices", "3", "--a-rounds", "2", "--a-base", "5",
         "--b-devices", "2", "--b-contacts", "30",
         "--c-devices", "1", "--c-contacts", "200"]


def loadgen_binary():
    path = os.environ.get("LOADGEN_BIN")
    if not path or not os.access(path, os.X_OK):
        raise RuntimeError("LOADGEN_BIN must name the built conflux_loadgen "
                           "(CTest sets it)")
    return path


class LoadgenTest(IntegrationTest):

    def loadgen(self, *args):
        return subprocess.run([loadgen_binary(), *args], text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=300)

    def accounts(self, *args):
        out = self.loadgen("--print-accounts", *args)
        self.assertEqual(out.returncode, 0, out.stderr)
        return [line.split() for line in out.stdout.splitlines()]

    def run_against(self, server, *args):
        """Runs the generator against server; (exit code, parsed JSON)."""
        json_path = self.tmp / f"out-{len(list(self.tmp.glob('out-*')))}.json"
        proc = self.loadgen("--url", server.url, "--server-pid",
                            str(server.proc.pid), "--json", str(json_path),
                            *args)
        self.assertTrue(json_path.exists(),
                        f"no JSON written:\n{proc.stdout}\n{proc.stderr}")
        return proc, json.loads(json_path.read_text())

    def server_items(self, server):
        db = sqlite3.connect(server.data_dir / "items.db")
        try:
            return db.execute(
                "select count(*) from items where deleted = 0").fetchone()[0]
        finally:
            db.close()

    def test_every_scenario_passes_with_the_counts_it_implies(self):
        server = self.make_server()
        accounts = self.accounts(*SMALL)
        self.assertEqual(len(accounts), 3 + 2 + 1)
        for user, password, *devices in accounts:
            self.assertEqual(len(devices), 2)
            server.add_user(user, password)
        server.start()
        proc, result = self.run_against(server, *SMALL)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertEqual(result["failures"], 0)
        phases = {p["phase"]: p for p in result["phases"]}
        self.assertEqual(list(phases), ["a1", "a2", "a3", "b1", "b2", "c1", "c2"])
        for p in phases.values():
            self.assertEqual(p["failures"], 0, p["errors"])
            self.assertGreater(p["messages"], p["sessions"])
            self.assertGreater(p["session_latency"]["max_ms"], 0)
            self.assertGreaterEqual(p["session_latency"]["max_ms"],
                                    p["session_latency"]["p50_ms"])
            self.assertGreater(p["server"]["peak_rss_kb"], 0)
            self.assertGreater(p["server"]["rss_after_kb"], 0)
        # a: 5 contacts, then 2 rounds of +5 -2 each: 11 per user.
        self.assertEqual(phases["a1"]["sessions"], 3)
        self.assertEqual(phases["a1"]["items_sent"], 15)
        self.assertEqual(phases["a2"]["sessions"], 6)
        self.assertEqual(phases["a2"]["items_sent"], 6 * (5 + 3 + 2))
        self.assertEqual(phases["a3"]["items_received"], 3 * 11)
        self.assertEqual(phases["b1"]["items_sent"], 60)
        self.assertEqual(phases["b2"]["items_received"], 60)
        self.assertEqual(phases["c1"]["items_sent"], 200)
        self.assertEqual(phases["c2"]["items_received"], 200)
        self.assertEqual(self.server_items(server), 3 * 11 + 60 + 200)
        # The first sync of a asked for two-way without history: the server
        # must have refused it and run a slow sync instead.
        self.assertIn("anchors do not match", server.log_text())

    def test_wbxml_and_basic_authentication(self):
        server = self.make_server()
        args = ["--scenarios", "a", "--a-devices", "2", "--a-rounds", "1",
                "--a-base", "5", "--encoding", "wbxml", "--auth", "basic"]
        for user, password, *_ in self.accounts(*args):
            server.add_user(user, password)
        server.start()
        proc, result = self.run_against(server, *args)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertEqual(result["encoding"], "wbxml")
        self.assertEqual([p["failures"] for p in result["phases"]], [0, 0, 0])
        self.assertEqual(self.server_items(server), 2 * 8)

    def test_refused_logins_are_counted_as_failures(self):
        server = self.make_server()
        args = ["--scenarios", "b", "--b-devices", "2", "--b-contacts", "5"]
        for user, _password, *_ in self.accounts(*args):
            server.add_user(user, "another-password")
        server.start()
        proc, result = self.run_against(server, *args)
        self.assertEqual(proc.returncode, 1, proc.stdout)
        self.assertEqual(result["failures"], 4)
        for p in result["phases"]:
            self.assertEqual(p["failures"], p["sessions"])
            self.assertTrue(any("authentication refused" in e
                                for e in p["errors"]), p["errors"])
        self.assertIn("FAILED b1", proc.stdout)
        self.assertEqual(self.server_items(server), 0)


if __name__ == "__main__":
    unittest.main()
