#!/usr/bin/python3
"""The README's two commands in the README's order: `scripts/serve` first
configures build/ without tests, then `scripts/test` must still build and run
every test there, integration tests included, and count them.

Simulated on fresh build directories, configure only (no second build): each
`cmake -S . -B DIR ...` line of the two scripts runs as written, DIR mapped to
a temporary directory; then ctest must list the integration tests where
scripts/test runs its first pass, and every pass's tree has its tests on.

Run: /usr/bin/python3 test_scripts.py
"""

import re
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONFIGURE_RE = re.compile(r"^cmake -S \. -B (\S+) (.*?)(?:\s*>/dev/null)?$", re.M)
RUN_CTEST_RE = re.compile(r'^(?:timed "[^"]*" )?run_ctest (\S+) (.*)--(.*)$', re.M)


def configure_lines(script):
    """[(build dir, [cmake args])] of a script's configure steps, in order."""
    text = (ROOT / "scripts" / script).read_text()
    return [(d, args.split()) for d, args in CONFIGURE_RE.findall(text)]


def ctest_count(build_dir, *args):
    out = subprocess.run(["ctest", "-N", *args], cwd=build_dir, text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         timeout=300).stdout
    match = re.search(r"Total Tests: (\d+)", out)
    assert match, out
    return int(match.group(1))


class ServeThenTestTest(unittest.TestCase):

    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="conflux-scripts-"))
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.dirs = {}

    def configure(self, build_dir, args):
        target = self.dirs.setdefault(build_dir, self.tmp / build_dir)
        subprocess.run(["cmake", "-S", str(ROOT), "-B", str(target), *args],
                       check=True, stdout=subprocess.DEVNULL, timeout=600)

    def test_the_test_command_finds_integration_tests_after_serve(self):
        serve = configure_lines("serve")
        test = configure_lines("test")
        self.assertTrue(serve and test, "both scripts configure a build")
        for build_dir, args in serve + test:
            self.configure(build_dir, args)

        text = (ROOT / "scripts" / "test").read_text()
        runs = RUN_CTEST_RE.findall(text)
        self.assertTrue(runs, "scripts/test runs ctest through run_ctest")
        # Every ctest call fails when it finds no tests.
        calls = re.findall(r"^.*\bctest\s+-.*$", text, re.M)
        self.assertTrue(calls)
        for call in calls:
            self.assertIn("--no-tests=error", call)
        build_dir = runs[0][0]
        self.assertIn(build_dir, self.dirs, "the first pass runs in a directory scripts/test configured")
        self.assertGreater(ctest_count(self.dirs[build_dir], "-L", "integration"), 0,
                           "the first pass runs the integration tests")
        # Unit tests are listed only once built (gtest_discover_tests): for
        # every pass, the tree must at least be configured with tests.
        for build_dir, _, _ in runs:
            cache = (self.dirs[build_dir] / "CMakeCache.txt").read_text()
            self.assertIn("CONFLUX_BUILD_TESTS:BOOL=ON", cache, f"{build_dir} has its tests")

        # The closing line CI reads.
        self.assertIn('echo "$passed passed, $failed failed"', text)


if __name__ == "__main__":
    unittest.main(verbosity=2)
