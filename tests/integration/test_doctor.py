#!/usr/bin/python3
"""`conflux doctor` (issue #19, item 5): with a configuration whose CardDAV
store's service password is wrong, whose CalDAV store points at a closed
port and whose vdir root does not exist, doctor prints one line per finding
naming each of the three stores and what is wrong, leaves the missing
directory uncreated, and exits 1; once they are fixed only the closed port
remains, and stopping Radicale makes the CardDAV store broken again as
"down or unreachable"; a stopped PostgreSQL holding the state is named the
same way. A healthy configuration exits 0.

Run: CONFLUX_BIN=/path/to/conflux /usr/bin/python3 test_doctor.py
"""

import re
import socket
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pg_server  # noqa: E402
from conflux_server import IntegrationTest  # noqa: E402
from radicale import Radicale  # noqa: E402

SERVICE = "svc"
SERVICE_PASSWORD = "Svc-pw-right"


def closed_port():
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def lines_about(output, subject):
    return [line for line in output.splitlines()
            if re.match(rf"^\S+\s+{re.escape(subject)}: ", line)]


class DoctorTest(IntegrationTest):

    def doctor(self, server):
        return server.cli("doctor", check=False)

    def test_names_a_wrong_password_a_stopped_back_end_and_a_missing_directory(self):
        dav = Radicale(self.tmp / "radicale", {SERVICE: SERVICE_PASSWORD})
        dav.start()
        self.addCleanup(dav.stop)
        secret = self.tmp / "dav.secret"
        secret.write_text("Svc-pw-wrong\n")
        missing = self.tmp / "vdir-root"
        down = closed_port()
        server = self.make_server(
            "[stores.contacts]\nadapter = \"sqlite\"\ncontent_type = \"text/vcard\"\n"
            "content_version = \"3.0\"\n"
            "[stores.dav]\nadapter = \"caldav\"\ncontent_type = \"text/vcard\"\n"
            "content_version = \"3.0\"\n"
            f"collection_url = \"{dav.base_url}/{{user}}/contacts/\"\n"
            f"login = \"service\"\nservice_user = \"{SERVICE}\"\n"
            f"service_password_file = \"{secret}\"\n"
            "[stores.gone]\nadapter = \"caldav\"\ncontent_type = \"text/calendar\"\n"
            "content_version = \"2.0\"\n"
            f"collection_url = \"http://127.0.0.1:{down}/{{user}}/calendar/\"\n"
            f"login = \"service\"\nservice_user = \"{SERVICE}\"\n"
            f"service_password_file = \"{secret}\"\n"
            "[stores.files]\nadapter = \"vdir\"\ncontent_type = \"text/vcard\"\n"
            f"root = \"{missing}\"\n")
        server.add_user("alice", "Alice-pw-1")
        server.data_dir.chmod(0o755)

        found = self.doctor(server)
        self.assertEqual(found.returncode, 1, found.stdout + found.stderr)
        out = found.stdout
        dav_lines = lines_about(out, "stores.dav")
        self.assertEqual(len(dav_lines), 1, out)
        self.assertRegex(dav_lines[0], rf"^BROKEN\s+stores\.dav: the back end refused "
                         rf"service_user '{SERVICE}' .*wrong user or password; put the right "
                         rf"password in {re.escape(str(secret))}$")
        gone_lines = lines_about(out, "stores.gone")
        self.assertEqual(len(gone_lines), 1, out)
        self.assertRegex(gone_lines[0], r"^BROKEN\s+stores\.gone: .*the back end is down or "
                         r"unreachable: start it, or correct its address")
        self.assertIn(str(down), gone_lines[0])
        files_lines = lines_about(out, "stores.files")
        self.assertEqual(len(files_lines), 1, out)
        self.assertRegex(files_lines[0], rf"^BROKEN\s+stores\.files: stores\.files\.root: directory "
                         rf"{re.escape(str(missing))} does not exist: create it")
        self.assertFalse(missing.exists())  # doctor changes nothing
        self.assertRegex(out, r"(?m)^ok\s+stores\.contacts: adapter sqlite opened$")
        self.assertRegex(out, rf"(?m)^warn\s+data directory {re.escape(str(server.data_dir))}: "
                         r"mode 0755 lets others in.*chmod 700")
        self.assertRegex(out, r"(?m)^ok\s+state database .*: 1 users$")
        self.assertRegex(out, r"(?m)^3 things broken$")
        self.assertNotIn("Svc-pw", out + found.stderr)  # no password is printed

        # Fixed: the right password, the directory made; the closed port stays.
        secret.write_text(SERVICE_PASSWORD + "\n")
        missing.mkdir()
        found = self.doctor(server)
        self.assertEqual(found.returncode, 1)
        self.assertRegex(found.stdout, rf"(?m)^ok\s+stores\.dav: adapter caldav: reachable, login "
                         rf"as service_user '{SERVICE}' accepted$")
        self.assertRegex(found.stdout, r"(?m)^ok\s+stores\.files: adapter vdir opened$")
        self.assertEqual(len(lines_about(found.stdout, "stores.gone")), 1)
        self.assertRegex(found.stdout, r"(?m)^1 thing broken$")

        # A stopped back end: Radicale down, the CardDAV store says so.
        dav.stop()
        found = self.doctor(server)
        self.assertEqual(found.returncode, 1)
        dav_lines = lines_about(found.stdout, "stores.dav")
        self.assertEqual(len(dav_lines), 1, found.stdout)
        self.assertRegex(dav_lines[0], r"^BROKEN\s+stores\.dav: .*the back end is down or unreachable")
        self.assertRegex(found.stdout, r"(?m)^2 things broken$")

    def test_a_healthy_configuration_exits_zero(self):
        server = self.make_server()
        server.add_user("alice", "Alice-pw-1")
        found = self.doctor(server)
        self.assertEqual(found.returncode, 0, found.stdout)
        self.assertRegex(found.stdout, r"(?m)^ok\s+data directory .*: mode 0700, \d+ MiB free$")
        for store in ("contacts", "calendar", "tasks", "notes"):
            self.assertRegex(found.stdout, rf"(?m)^ok\s+stores\.{store}: adapter sqlite opened$")
        self.assertTrue(found.stdout.endswith("nothing broken\n"))

    def test_a_stopped_postgresql_state_database(self):
        pg = pg_server.PgServer()  # its own: this test stops it
        self.addCleanup(pg.destroy)
        server = self.make_server(f"[storage]\ndatabase = \"{pg.uri(pg.create_database('doctor'))}\"\n")
        server.add_user("alice", "Alice-pw-1")
        found = self.doctor(server)
        self.assertEqual(found.returncode, 0, found.stdout)
        self.assertRegex(found.stdout, r"(?m)^ok\s+state database \(storage\.database\): postgresql:.*1 users$")
        pg.stop()
        found = self.doctor(server)
        self.assertEqual(found.returncode, 1, found.stdout)
        lines = lines_about(found.stdout, "state database (storage.database)")
        self.assertEqual(len(lines), 1, found.stdout)
        self.assertRegex(lines[0], r"^BROKEN\s+.*the back end is down or unreachable: start it")

    def test_too_little_free_space_is_broken(self):
        server = self.make_server("[storage]\nmin_free_bytes = 562949953421312\n")  # 512 TiB
        server.add_user("alice", "Alice-pw-1")
        found = self.doctor(server)
        self.assertEqual(found.returncode, 1)
        self.assertRegex(found.stdout, r"(?m)^BROKEN\s+data directory .*: \d+ MiB free, below "
                         r"storage\.min_free_bytes \(536870912 MiB\): new sessions get 503")


if __name__ == "__main__":
    unittest.main()
