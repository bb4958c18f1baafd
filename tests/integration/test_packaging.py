#!/usr/bin/python3
"""Packaging (issue #19, item 7): `cmake --install` into a temporary prefix
gives a binary that runs, the documented example configuration under
etc/conflux, a systemd unit that `systemd-analyze verify` accepts (and a
broken one it refuses, so the check means something) and the sysusers.d
entry for the user it runs as; serving with the installed configuration,
only the data directory and port overridden, answers /health.

Needs CONFLUX_BUILD_DIR (the configured build tree). Run:
  CONFLUX_BUILD_DIR=build CONFLUX_BIN=build/src/cli/conflux \\
    /usr/bin/python3 tests/integration/test_packaging.py
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conflux_server import (IntegrationTest, LISTEN_RE, http_request,  # noqa: E402
                            poll_until)


def verify(unit):
    """(exit status, everything systemd-analyze verify printed)."""
    proc = subprocess.run(["systemd-analyze", "verify", str(unit)],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=60)
    return proc.returncode, proc.stdout


class PackagingTest(IntegrationTest):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        build = os.environ.get("CONFLUX_BUILD_DIR")
        if not build:
            raise RuntimeError("CONFLUX_BUILD_DIR is not set (CTest sets it)")
        cls.build = Path(build)

    def install(self):
        prefix = self.tmp / "prefix"
        subprocess.run(["cmake", "--install", str(self.build), "--prefix", str(prefix)],
                       check=True, stdout=subprocess.PIPE, timeout=300)
        return prefix

    def test_install_gives_a_runnable_server_and_a_valid_unit(self):
        prefix = self.install()
        binary = prefix / "bin" / "conflux"
        config = prefix / "etc" / "conflux" / "conflux.toml"
        unit = prefix / "lib" / "systemd" / "system" / "conflux.service"
        sysusers = prefix / "lib" / "sysusers.d" / "conflux.conf"
        for path in (binary, config, unit, sysusers):
            self.assertTrue(path.is_file(), path)

        helped = subprocess.run([str(binary), "--help"], stdout=subprocess.PIPE,
                                text=True, timeout=60)
        self.assertEqual(helped.returncode, 0)
        for command in ("serve", "doctor", "devices", "export", "import"):
            self.assertRegex(helped.stdout, rf"\n\s+{command}\s")

        text = unit.read_text()
        self.assertIn(f"Environment=CONFLUX_CONFIG={config}\n", text)
        self.assertIn(f"ExecStart={binary} serve\n", text)
        for line in ("User=conflux", "ProtectSystem=strict", "StateDirectory=conflux",
                     "NoNewPrivileges=yes", "PrivateTmp=yes"):
            self.assertIn(line + "\n", text)
        self.assertRegex(sysusers.read_text(), r"(?m)^u conflux ")
        if shutil.which("systemd-analyze") is None:
            self.fail("systemd-analyze is missing: install Debian's systemd package")
        status, said = verify(unit)
        self.assertEqual((status, said), (0, ""))
        # The same check refuses a unit whose program is missing and names a
        # typo'd key, so a broken unit cannot pass unnoticed.
        broken = self.tmp / "broken" / "conflux.service"
        broken.parent.mkdir()
        broken.write_text(text.replace(f"ExecStart={binary}", "ExecStart=/nonexistent/conflux")
                          .replace("ProtectSystem=strict", "ProtectSystm=strict"))
        status, said = verify(broken)
        self.assertNotEqual(status, 0)
        self.assertIn("ProtectSystm", said)
        self.assertIn("/nonexistent/conflux", said)

        # The installed configuration as it is; the data directory and the
        # port are the only overrides.
        checked = subprocess.run([str(binary), "--config", str(config), "--data-dir",
                                  str(self.tmp / "data"), "check-config"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True, timeout=60)
        self.assertEqual(checked.returncode, 0, checked.stderr)
        log_path = self.tmp / "serve.log"
        with open(log_path, "wb") as log:
            proc = subprocess.Popen([str(binary), "--config", str(config), "--data-dir",
                                     str(self.tmp / "data"), "serve", "--port", "0"],
                                    stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        try:
            def listening():
                if proc.poll() is not None:
                    raise AssertionError(f"conflux exited: {log_path.read_text()}")
                m = LISTEN_RE.search(log_path.read_text(errors="replace"))
                return int(m.group(2)) if m else None
            port = poll_until(listening, 30, what="the listening line")
            status, _, body = http_request(f"http://127.0.0.1:{port}/health")
            self.assertEqual((status, body.strip()), (200, b"ok"))
        finally:
            proc.send_signal(signal.SIGTERM)
            self.assertEqual(proc.wait(timeout=30), 0)
        self.assertTrue((self.tmp / "data" / "conflux.db").is_file())

    def test_reinstall_keeps_an_edited_configuration(self):
        prefix = self.install()
        config = prefix / "etc" / "conflux" / "conflux.toml"
        edited = config.read_text().replace("port = 8080", "port = 9090")
        config.write_text(edited)
        self.install()
        self.assertEqual(config.read_text(), edited)
        self.assertTrue((prefix / "etc" / "conflux" / "conflux.toml.example").is_file())


if __name__ == "__main__":
    unittest.main()
