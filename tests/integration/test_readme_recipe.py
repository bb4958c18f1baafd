#!/usr/bin/python3
"""The README's SyncEvolution recipe, as written: the lines of the fenced
block after the `<!-- readme-recipe: syncevolution -->` marker run in a
shell (HOME a fresh directory, the repository root as working directory)
against a real server, with only the port changed. One item waits in each
of the four datastores' directories before the first sync; the server's
session reports must show each arriving, and the later two-way sync of all
four must succeed.

Run: CONFLUX_BIN=/path/to/conflux /usr/bin/python3 test_readme_recipe.py
"""

import os
import re
import subprocess
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conflux_server import IntegrationTest  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
MARKER = "<!-- readme-recipe: syncevolution -->"
README_URL = "http://127.0.0.1:8080/sync"

ITEMS = {
    "contacts": ("readme.vcf", "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Rita Readme\r\n"
                 "N:Readme;Rita;;;\r\nTEL;TYPE=CELL:+49 170 7654321\r\nEND:VCARD\r\n"),
    "calendar": ("readme.ics", "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//readme//EN\r\n"
                 "BEGIN:VEVENT\r\nUID:readme-event-1\r\nDTSTAMP:20250101T090000Z\r\n"
                 "DTSTART:20250110T090000Z\r\nDTEND:20250110T100000Z\r\n"
                 "SUMMARY:Readme meeting\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"),
    "tasks": ("readme-task.ics", "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//readme//EN\r\n"
              "BEGIN:VTODO\r\nUID:readme-task-1\r\nDTSTAMP:20250101T090000Z\r\n"
              "SUMMARY:Read the README\r\nSTATUS:NEEDS-ACTION\r\nEND:VTODO\r\nEND:VCALENDAR\r\n"),
    "notes": ("readme.txt", "Readme note\nThe recipe works.\n"),
}


def recipe():
    """The recipe's shell text, from the README."""
    text = (ROOT / "README.md").read_text()
    assert MARKER in text, f"README.md has no {MARKER}"
    block = re.search(r"```sh\n(.*?)```", text[text.index(MARKER):], re.S)
    assert block, "no ```sh block after the marker"
    return block.group(1)


class ReadmeRecipeTest(IntegrationTest):

    def run_shell(self, script, env):
        proc = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              errors="replace", timeout=600)
        self.assertEqual(proc.returncode, 0, f"{script}\n---\n{proc.stdout[-4000:]}")
        return proc.stdout

    def test_recipe_syncs_all_four_datastores(self):
        server = self.make_server()
        server.start()
        server.add_user("alice", "secret")

        script = recipe()
        self.assertIn(README_URL, script)
        script = script.replace(README_URL, server.url)
        # Set up (shim, directories, peer), then each sync line on its own.
        lines = script.splitlines(keepends=True)
        first_sync = next(i for i, line in enumerate(lines) if line.startswith("LD_PRELOAD="))
        setup, syncs = "".join(lines[:first_sync]), [line for line in lines[first_sync:] if line.strip()]
        self.assertEqual(len(syncs), 2, "a slow sync, then the later two-way sync")

        home = self.tmp / "home"
        home.mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_")}
        env.update(HOME=str(home), LC_ALL="C.UTF-8")
        self.run_shell(setup, env)
        for ds, (name, text) in ITEMS.items():
            (home / "sync" / ds / name).write_bytes(text.encode())

        self.run_shell(syncs[0], env)
        reports = server.cli("sessions", "list").stdout
        for ds in ITEMS:
            line = next((line for line in reports.splitlines() if f"\t{ds}\t" in line), None)
            self.assertIsNotNone(line, f"no report for {ds}:\n{reports}")
            self.assertIn("from device +1 ", line, f"{ds}'s item did not arrive:\n{reports}")

        # `sessions show` takes the start of a listed id.
        self.assertTrue(reports.startswith("session\t"), "a header row first")
        session = reports.splitlines()[1].split("\t")[0]
        shown = server.cli("sessions", "show", session[:8]).stdout
        self.assertEqual(sorted(ds for ds in ITEMS if f"\t{ds}\t" in shown), sorted(ITEMS), shown)

        self.run_shell(syncs[1], env)
        reports = server.cli("sessions", "list").stdout
        two_way = [line for line in reports.splitlines() if "\ttwo-way\t" in line]
        self.assertEqual(sorted(ds for line in two_way for ds in ITEMS if f"\t{ds}\t" in line),
                         sorted(ITEMS), reports)


if __name__ == "__main__":
    unittest.main(verbosity=2)
