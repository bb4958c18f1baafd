"""A throw-away PostgreSQL 15 for integration tests.

`PgServer` runs tests/pg/pg_test_server (initdb in a temporary directory
right under /tmp, a Unix socket there, no TCP port; as root the server runs
as the "postgres" user).  `shared()` is the one server of this test process,
started on first use and stopped at exit; tests take fresh databases from it.

Set CONFLUX_TEST_STORE=postgresql and every ConfluxServer keeps its state
and users in a fresh database of the shared server ([storage] database)
instead of conflux.db: the state-heavy integration tests run that way too
(see tests/integration/CMakeLists.txt).
"""

import atexit
import itertools
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "pg" / "pg_test_server"
PSQL = "/usr/bin/psql"


class PgServer:
    def __init__(self):
        # Not inside a test's directory: as root the server runs as
        # "postgres", which cannot enter a private (0700) directory of root's.
        self.dir = tempfile.mkdtemp(prefix="conflux-pg-")
        self._names = itertools.count()
        self._run("init")
        self.start()

    def _run(self, command):
        proc = subprocess.run([str(SCRIPT), command, self.dir], text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=120)
        if proc.returncode != 0:
            raise RuntimeError(f"pg_test_server {command} failed: {proc.stdout}")
        return proc.stdout

    def uri(self, database, user="conflux_test", password=None):
        auth = f"&password={password}" if password else ""
        return f"postgresql:///{database}?host={self.dir}&user={user}{auth}"

    def psql(self, database, sql, user="conflux_test"):
        """Run SQL with psql (ON_ERROR_STOP); returns its unaligned output."""
        proc = subprocess.run([PSQL, "-X", "-v", "ON_ERROR_STOP=1", "-At",
                               "-d", self.uri(database, user), "-c", sql],
                              text=True, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=60)
        if proc.returncode != 0:
            raise AssertionError(f"psql failed: {proc.stderr}")
        return proc.stdout

    def require_password(self, role, password):
        """Gives `role` a password and makes the server ask it for one
        (scram-sha-256) on every connection; every other role stays trusted."""
        self.psql("postgres", f"ALTER ROLE {role} PASSWORD '{password}'")
        hba = Path(self.dir) / "data" / "pg_hba.conf"
        rule = f"local all {role} scram-sha-256\n"
        text = hba.read_text()
        if rule not in text:
            hba.write_text(rule + text)  # the first matching line wins
        self.psql("postgres", "SELECT pg_reload_conf()")
        # The reload is a signal: wait until a login without the password fails.
        for _ in range(600):
            proc = subprocess.run([PSQL, "-X", "-w", "-d", self.uri("postgres", role),
                                   "-c", "SELECT 1"], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, timeout=60)
            if proc.returncode != 0:
                return
            time.sleep(0.1)
        raise RuntimeError(f"pg_hba.conf reload did not take effect for {role}")

    def create_database(self, prefix="conflux"):
        """A new empty database; returns its name."""
        name = f"{prefix}_{os.getpid()}_{next(self._names)}"
        self.psql("postgres", f"CREATE DATABASE {name}")
        return name

    def stop(self):
        """Fast shutdown: open sessions are cut, as when the server dies."""
        self._run("stop")

    def start(self):
        self._run("start")

    def destroy(self):
        try:
            self._run("stop")
        except RuntimeError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


_shared = None


def shared():
    """The PostgreSQL server of this test process."""
    global _shared
    if _shared is None:
        _shared = PgServer()
        atexit.register(_shared.destroy)
    return _shared


def store_from_environment():
    """'postgresql' when CONFLUX_TEST_STORE asks for the PostgreSQL store,
    else 'sqlite'."""
    store = os.environ.get("CONFLUX_TEST_STORE", "sqlite")
    if store not in ("sqlite", "postgresql"):
        raise RuntimeError(f"CONFLUX_TEST_STORE={store}: expected sqlite or "
                           "postgresql")
    return store
