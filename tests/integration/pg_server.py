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
