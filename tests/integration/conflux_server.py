"""Run a real Conflux server process for integration tests.

`ConfluxServer` owns one server: its config file, data directory and log,
all under one root directory.  The binary comes from the CONFLUX_BIN
environment variable (CTest sets it to the freshly built target).

`IntegrationTest` is the unittest base class the tests share: each test gets
its own temporary directory, removed when the test passes and kept (its path
printed) when it fails, so the server log and the clients' session logs can
be read afterwards.  Set CONFLUX_KEEP_TMP=1 to keep them even on success.
"""

import os
import re
import signal
import subprocess
import sys
import tempfile
import shutil
import time
import unittest
import urllib.error
import urllib.request
from pathlib import Path

import pg_server

# In the text log format, or the JSON one ([log] format = "json").
LISTEN_RE = re.compile(
    r"(?:\[server\] |\"logger\":\"server\",\"message\":\")"
    r"Conflux listening on (https?)://127\.0\.0\.1:(\d+)/sync")
START_TIMEOUT = 30      # seconds until the listening line must appear
STOP_TIMEOUT = 30       # seconds a SIGTERM'd server may take to exit


def conflux_binary():
    """Path of the conflux executable from CONFLUX_BIN; fails clearly when
    it is unset or not executable."""
    path = os.environ.get("CONFLUX_BIN")
    if not path:
        raise RuntimeError(
            "CONFLUX_BIN is not set: point it at the built conflux binary, "
            "e.g. CONFLUX_BIN=/work/build/src/cli/conflux (CTest sets it)")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise RuntimeError(f"CONFLUX_BIN={path} is not an executable file")
    return path


def poll_until(predicate, timeout, interval=0.05, what="condition"):
    """Call predicate() until it returns something truthy (returned) or
    timeout seconds pass (AssertionError).  The sleep only spaces out the
    polls; it never stands in for the event waited for."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for "
                                 f"{what}")
        time.sleep(interval)


def http_request(url, method="GET", body=None, headers=None, timeout=30,
                 context=None):
    """(status, headers dict, body bytes); HTTP errors are returned, not
    raised.  context: the ssl.SSLContext for an https:// URL."""
    req = urllib.request.Request(url, data=body, method=method,
                                 headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout,
                                    context=context) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def merge_toml(base, extra):
    """Merge the TOML fragment `extra` into `base` line by line: keys under
    a [section] that base already has go into that section (replacing a key
    of the same name), other sections are appended.  Enough for the flat
    tables Conflux's config uses.  Each [[array]] table is appended as it
    is, in order (a tuple names it, so it never merges)."""
    def sections(text):
        out, name = {None: []}, None
        for line in text.splitlines():
            array = re.fullmatch(r"\s*\[\[([^\]]+)\]\]\s*", line)
            m = re.fullmatch(r"\s*\[([^\]]+)\]\s*", line)
            if array:
                name = (array.group(1).strip(), len(out))
                out[name] = []
            elif m:
                name = m.group(1).strip()
                out.setdefault(name, [])
            elif line.strip():
                out[name].append(line)
        return out

    def key(line):
        return line.split("=", 1)[0].strip()

    merged = sections(base)
    for name, lines in sections(extra).items():
        if name is None and lines:
            raise ValueError("config_extra keys must be under a [section]")
        target = merged.setdefault(name, [])
        for line in lines:
            target[:] = [t for t in target if key(t) != key(line)]
            target.append(line)
    text = []
    for name, lines in merged.items():
        if isinstance(name, tuple):
            text.append(f"[[{name[0]}]]")
        elif name is not None:
            text.append(f"[{name}]")
        text.extend(lines)
    return "\n".join(text) + "\n"


class ConfluxServer:
    """One Conflux server process.

    root_dir holds conflux.toml, data/ and server.log.  config_extra is a
    TOML fragment merged into the generated config (e.g.
    "[server]\\nmax_body_bytes = 65536").  The first start() binds any free
    port; restart() keeps that port, so configured clients stay valid.
    env: variables added to the process's environment (e.g. a preloaded
    library that steers its clock, test_backend_outage.py).
    """

    def __init__(self, binary, root_dir, config_extra="", env=None):
        self.binary = binary
        self.root = Path(root_dir).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self.data_dir = self.root / "data"
        self.config_path = self.root / "conflux.toml"
        self.log_path = self.root / "server.log"
        self.proc = None
        self.env = dict(env or {})
        self.port = None
        self.scheme = "http"      # "https" when the config sets TLS files
        self.ssl_context = None   # trusts the server's certificate (https)
        base = ("[server]\nlisten = \"127.0.0.1\"\nport = 0\n"
                f"[storage]\ndata_dir = \"{self.data_dir}\"\n"
                "[log]\nlevel = \"debug\"\n")
        self.database = None     # PostgreSQL database name, when used
        if pg_server.store_from_environment() == "postgresql":
            self.database = pg_server.shared().create_database()
            base = merge_toml(base, "[storage]\ndatabase = "
                              f"\"{pg_server.shared().uri(self.database)}\"\n")
        self.config_path.write_text(merge_toml(base, config_extra))

    # -- command line ----------------------------------------------------

    def cli(self, *args, stdin=None, check=True):
        """Run a `conflux --config ... ARGS` admin command; returns the
        CompletedProcess (stdout and stderr as text)."""
        proc = subprocess.run([self.binary, "--config", str(self.config_path),
                               *args], input=stdin, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=60)
        if check and proc.returncode != 0:
            raise AssertionError(f"conflux {' '.join(args)} failed "
                                 f"({proc.returncode}): {proc.stderr}")
        return proc

    def add_user(self, name, password):
        self.cli("user", "add", name, stdin=password + "\n")

    # -- process ---------------------------------------------------------

    @property
    def url(self):
        """The SyncML endpoint, http(s)://127.0.0.1:PORT/sync."""
        if self.port is None:
            raise RuntimeError("server has not been started")
        return f"{self.base_url}/sync"

    @property
    def base_url(self):
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def start(self):
        """Spawn the server, wait (bounded) for its listening line, then
        check GET /health.  Fails with the log tail if it does not come up."""
        assert not self.running(), "server already running"
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        args = [self.binary, "--config", str(self.config_path), "serve"]
        if self.port is not None:
            args += ["--port", str(self.port)]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=log,
                                         env={**os.environ, **self.env})

        def listening():
            m = LISTEN_RE.search(self._log_since(offset))
            if m:
                return m.group(1), int(m.group(2))
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"conflux exited with {self.proc.returncode} before "
                    f"listening; log {self.log_path}:\n{self.log_tail()}")
            return None

        try:
            self.scheme, port = poll_until(
                listening, START_TIMEOUT, what="the server's listening line")
        except AssertionError:
            self.kill()
            raise
        if self.port is not None and port != self.port:
            raise AssertionError(f"restarted on port {port}, not {self.port}")
        self.port = port
        status, _, body = http_request(self.base_url + "/health",
                                       context=self.ssl_context)
        if (status, body.strip()) != (200, b"ok"):
            raise AssertionError(f"/health answered {status} {body!r}")

    def stop(self):
        """SIGTERM, wait, and require a clean exit (status 0)."""
        assert self.proc is not None, "server was never started"
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"conflux did not exit {STOP_TIMEOUT}s "
                                 f"after SIGTERM:\n{self.log_tail()}")
        if code != 0:
            raise AssertionError(f"conflux exited with {code} after SIGTERM:"
                                 f"\n{self.log_tail()}")

    def kill(self):
        """SIGKILL (a crash, as far as the data directory can tell)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=STOP_TIMEOUT)

    def restart(self):
        """stop() then start() on the same port."""
        self.stop()
        self.start()

    # -- log -------------------------------------------------------------

    def log_text(self):
        return self.log_path.read_text(errors="replace") \
            if self.log_path.exists() else ""

    def _log_since(self, offset):
        if not self.log_path.exists():
            return ""
        with open(self.log_path, "rb") as f:
            f.seek(offset)
            return f.read().decode(errors="replace")

    def log_tail(self, lines=40):
        return "\n".join(self.log_text().splitlines()[-lines:])


def error_lines(log_text):
    """Log lines at level error or critical, and any other line that
    mentions an error: a clean run has none."""
    return [line for line in log_text.splitlines()
            if re.search(r"\b(error|critical|fatal)\b", line, re.I)]


# -- unittest plumbing ----------------------------------------------------


def _keep_message(path):
    print(f"\n*** files kept in {path}", file=sys.stderr)


class IntegrationTest(unittest.TestCase):
    """Base class: self.tmp is a fresh directory per test (removed on
    success, kept and printed on failure); servers made with
    self.make_server() are stopped or killed at the end of the test.

    Subclasses that share one server across tests use the class-level
    variants: cls.class_tmp and cls.make_class_server() in setUpClass; the
    class directory is removed only when every test of the class passed."""

    @classmethod
    def setUpClass(cls):
        cls._keep_class_tmp = bool(os.environ.get("CONFLUX_KEEP_TMP"))
        cls.class_tmp = None      # made by make_class_server
        cls._class_servers = []

    @classmethod
    def tearDownClass(cls):
        for server in cls._class_servers:
            server.kill()
        if cls.class_tmp is None:
            return
        if cls._keep_class_tmp:
            _keep_message(cls.class_tmp)
        else:
            shutil.rmtree(cls.class_tmp, ignore_errors=True)

    @classmethod
    def make_class_server(cls, config_extra=""):
        """A server shared by all tests of the class (call in setUpClass);
        lives in cls.class_tmp, kept when any test of the class fails."""
        if cls.class_tmp is None:
            cls.class_tmp = Path(tempfile.mkdtemp(
                prefix=f"conflux-{cls.__name__}-"))
        server = ConfluxServer(conflux_binary(), cls.class_tmp / "server",
                               config_extra)
        cls._class_servers.append(server)
        return server

    def setUp(self):
        name = self.id().split(".")[-1]
        self.tmp = Path(tempfile.mkdtemp(prefix=f"conflux-{name}-"))
        self._servers = []
        self.addCleanup(self._cleanup_tmp)

    def make_server(self, config_extra="", name="server", env=None):
        server = ConfluxServer(conflux_binary(), self.tmp / name,
                               config_extra, env)
        self._servers.append(server)
        return server

    def make_device(self, server, name, user, password, device_id=None,
                    **kwargs):
        """A SyncEvolution client device under self.tmp/<name> pointed at
        server; device_id defaults to a name unique to this test."""
        import syncevo
        return syncevo.Device(self.tmp, name, server.url, user, password,
                              device_id or f"conflux-it-{name}", **kwargs)

    def _failed(self):
        """Has this test (or one of its subtests) failed so far?  Read from
        the result's lists: inside a cleanup, unittest's own success flag
        only describes the cleanup itself."""
        outcome = getattr(self, "_outcome", None)
        result = getattr(outcome, "result", None)
        if result is None:
            return True     # unknown: keep the files
        for test, _ in list(result.errors) + list(result.failures):
            if test is self or getattr(test, "test_case", None) is self:
                return True
        return False

    def _cleanup_tmp(self):
        for server in self._servers:
            server.kill()
        if self._failed() or os.environ.get("CONFLUX_KEEP_TMP"):
            type(self)._keep_class_tmp = True
            _keep_message(self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)
