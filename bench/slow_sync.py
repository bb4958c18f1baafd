#!/usr/bin/python3
"""Slow-sync benchmark: Debian 12's real SyncEvolution client against
Conflux and (optionally) against SyncEvolution's own SyncML server.

One repetition, on fresh data directories and a freshly started server:
  a) device A (file backend, N generated vCard 3.0 contacts) slow-syncs:
     uploads N;
  b) device B (empty) slow-syncs: downloads N, in several messages (the
     client's default MaxMsgSize, 150000 bytes);
  c) device A slow-syncs again: the server must match all N, so it still
     holds N afterwards (checked, outside the timed window);
  d) device A two-way syncs with nothing changed.
For each phase: wall time of the client command, the client's CPU time
(getrusage(RUSAGE_CHILDREN) delta), the server's CPU time (utime+stime
delta from /proc, over the server's whole process tree, including children
it reaped) and its peak RSS (VmHWM, reset at the start of each phase through
/proc/PID/clear_refs, summed over the process tree).

Run through bench/run; see docs/PERFORMANCE.md.  Nothing here asserts a
timing: the checks are about correctness (counts), the figures are printed.
"""

import argparse
import json
import os
import platform
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Import from tests/integration without leaving __pycache__ there.
sys.dont_write_bytecode = True
sys.path.insert(0, str(HERE.parent / "tests" / "integration"))
sys.path.insert(0, str(HERE))

import pg_server  # noqa: E402  (tests/integration: a throw-away PostgreSQL)
import syncevo  # noqa: E402  (tests/integration, owned by the test suite)
import vcards  # noqa: E402  (the integration tests' contact generator)

USER, PASSWORD = "bench", "bench-pw"
DEVICE_A, DEVICE_B = "bench-dev-a", "bench-dev-b"
DEVICE_W = "bench-dev-warmup"   # one untimed empty sync first, on both servers
PHASES = [
    ("a", "A slow sync, upload N"),
    ("b", "B slow sync, download N"),
    ("c", "A slow sync again, match N"),
    ("d", "A two-way, no changes"),
]
CLK_TCK = os.sysconf("SC_CLK_TCK")
SAMPLE_INTERVAL = 0.05      # seconds between RSS samples of a process tree


class BenchError(RuntimeError):
    pass


# -- /proc --------------------------------------------------------------------

def _stat_fields(pid):
    """Fields of /proc/PID/stat after the command name (field 3 first)."""
    with open(f"/proc/{pid}/stat") as f:
        data = f.read()
    return data[data.rindex(")") + 2:].split()


def proc_cpu_seconds(pid, children_only=False, self_only=False):
    """utime+stime of pid plus cutime+cstime (children it has reaped);
    with children_only, cutime+cstime alone; with self_only, utime+stime."""
    f = _stat_fields(pid)
    # fields 14..17 of stat(5) -> indexes 11..14 here
    lo = 13 if children_only else 11
    hi = 13 if self_only else 15
    return sum(int(x) for x in f[lo:hi]) / CLK_TCK


def proc_status(pid, key):
    """Value in kB of a 'Key:   123 kB' line of /proc/PID/status, or 0."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def proc_name(pid):
    with open(f"/proc/{pid}/comm") as f:
        return f.read().strip()


def process_tree(root):
    """root and all its live descendants (pids)."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            ppid = int(_stat_fields(entry)[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def reset_hwm(pid):
    """Reset VmHWM to the current RSS (Linux >= 4.0, clear_refs value 5)."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class TreeMeter:
    """CPU and peak RSS of a process tree over one timed phase.

    CPU: sum over the tree's live processes of utime+stime+cutime+cstime at
    the end minus the same at the start; a helper that exits in between is
    counted through its parent's cutime/cstime once reaped.  Peak RSS: for
    every process seen (sampled every SAMPLE_INTERVAL, and at the end), its
    last VmHWM; the figure is the sum.  VmHWM is reset at the start so a
    phase does not inherit the previous phase's peak."""

    def __init__(self, root_pid, sample=True, root_is_reaper=False):
        self.root = root_pid
        self.sample = sample
        # A reaper root (bench/reaper.py) is not part of the server: only
        # the CPU of the descendants it reaped (cutime+cstime) counts, and
        # its own RSS does not.
        self.root_is_reaper = root_is_reaper
        self._hwm = {}
        self._self_cpu = {}     # pid -> (first seen, last seen) utime+stime
        self._names = {}
        self._stop = threading.Event()
        self._thread = None

    def _members(self):
        pids = process_tree(self.root)
        return pids[1:] if self.root_is_reaper else pids

    def _cpu(self):
        total = 0.0
        for pid in process_tree(self.root):
            try:
                if pid == self.root and self.root_is_reaper:
                    total += proc_cpu_seconds(pid, children_only=True)
                else:
                    total += proc_cpu_seconds(pid)
            except OSError:
                continue
        return total

    def _sample_once(self):
        for pid in self._members():
            try:
                hwm = proc_status(pid, "VmHWM")
                cpu = proc_cpu_seconds(pid, self_only=True)
                if pid not in self._names:
                    self._names[pid] = proc_name(pid)
            except OSError:
                continue
            self._hwm[pid] = max(hwm, self._hwm.get(pid, 0))
            first = self._self_cpu.get(pid, (cpu, cpu))[0]
            self._self_cpu[pid] = (first, cpu)

    def rss_now(self):
        """Sum of VmRSS over the tree now, in kB."""
        total = 0
        for pid in self._members():
            try:
                total += proc_status(pid, "VmRSS")
            except OSError:
                pass
        return total

    def _loop(self):
        while not self._stop.wait(SAMPLE_INTERVAL):
            self._sample_once()

    def start(self):
        for pid in self._members():
            reset_hwm(pid)
        self.cpu0 = self._cpu()
        self._sample_once()
        if self.sample:
            self._thread = threading.Thread(target=self._loop, daemon=True)
            self._thread.start()

    def stop(self):
        if self._thread:
            self._stop.set()
            self._thread.join()
        self._sample_once()
        cpu1 = self._cpu()
        rss_by_name, cpu_by_name = {}, {}
        for pid, kb in self._hwm.items():
            name = self._names.get(pid, "?")
            rss_by_name[name] = rss_by_name.get(name, 0) + kb
            first, last = self._self_cpu.get(pid, (0, 0))
            cpu_by_name[name] = round(cpu_by_name.get(name, 0) + last - first,
                                      3)
        return {
            "server_cpu_s": round(cpu1 - self.cpu0, 3),
            "server_rss_kb": sum(self._hwm.values()),
            "server_rss_by_process_kb": rss_by_name,
            # Own utime+stime per process name as sampled (a process that
            # exits between two samples loses up to SAMPLE_INTERVAL here;
            # server_cpu_s above is exact).
            "server_cpu_by_process_s": cpu_by_name,
            "server_processes": len(self._hwm),
        }


# -- servers under test -------------------------------------------------------

def wait_for_line(path, regex, proc, timeout, what):
    deadline = time.monotonic() + timeout
    pattern = re.compile(regex)
    while True:
        text = path.read_text(errors="replace") if path.exists() else ""
        m = pattern.search(text)
        if m:
            return m
        if proc.poll() is not None:
            raise BenchError(f"{what} exited with {proc.returncode} before "
                             f"it was ready; log {path}:\n"
                             + "\n".join(text.splitlines()[-30:]))
        if time.monotonic() > deadline:
            raise BenchError(f"{what} not ready after {timeout}s; log {path}")
        time.sleep(0.05)


def stop_process(proc, timeout=30):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


class Conflux:
    name = "conflux"

    def __init__(self, binary, root):
        self.binary = binary
        self.root = root
        self.data_dir = root / "data"
        self.log_path = root / "server.log"
        self.proc = None

    def start(self):
        self.data_dir.mkdir(parents=True)
        subprocess.run([self.binary, "--data-dir", str(self.data_dir),
                        "--log-level", "warn", "user", "add", USER],
                       input=PASSWORD + "\n", text=True, check=True,
                       stdout=subprocess.DEVNULL)
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [self.binary, "--data-dir", str(self.data_dir),
                 "--log-level", "info", "serve", "--listen", "127.0.0.1",
                 "--port", "0"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        m = wait_for_line(self.log_path,
                          r"Conflux listening on (http://127\.0\.0\.1:\d+/sync)",
                          self.proc, 30, "conflux")
        self.url = m.group(1)

    def meter(self):
        # One process: VmHWM at the end is its exact peak, no sampling.
        return TreeMeter(self.proc.pid, sample=False)

    def stored_count(self):
        out = subprocess.run(
            ["sqlite3", str(self.data_dir / "items.db"),
             "select count(*) from items where deleted=0"],
            check=True, stdout=subprocess.PIPE, text=True).stdout
        return int(out.strip())

    def stop(self):
        """SIGTERM; True when the server exited cleanly."""
        return stop_process(self.proc) == 0

    def log_problems(self):
        text = self.log_path.read_text(errors="replace")
        # spdlog pattern "%Y-%m-%dT%H:%M:%S.%e%z %-5l [%n] %v"
        return [line for line in text.splitlines()
                if re.match(r"\S+ (warning|error|critical)\b", line)]


# The packaged syncevo-http-server listens on every interface and has no
# option to choose one; this copy (made at run time from the installed
# script) passes the URL's host as the interface.  Its first line is a
# broken shebang (#!@PYTHON@): it is run with /usr/bin/python3.
HTTP_SERVER = Path("/usr/bin/syncevo-http-server")
LISTEN_ORIG = "port = reactor.listenTCP(url.port, site)"
LISTEN_LOCAL = "port = reactor.listenTCP(url.port, site, interface=url.hostname)"


class SyncEvoServer:
    """SyncEvolution's own SyncML server: syncevo-http-server (Python,
    Twisted) talking over a private D-Bus session to syncevo-dbus-server,
    which forks a helper per sync session.  Server-side datastore: the file
    backend (one file per item), like the clients."""

    name = "syncevolution"

    def __init__(self, root):
        self.root = root
        self.log_path = root / "server.log"
        self.items_dir = root / "items" / "contacts"
        self.env = dict(os.environ,
                        XDG_CONFIG_HOME=str(root / "config"),
                        XDG_DATA_HOME=str(root / "data"),
                        XDG_CACHE_HOME=str(root / "cache"),
                        LC_ALL="C.UTF-8")
        self.env.pop("DBUS_SESSION_BUS_ADDRESS", None)
        self.env.pop("DISPLAY", None)
        self.proc = None

    def _configure(self, peer, device_id):
        props = {
            "peerIsClient": "1",
            "remoteDeviceId": device_id,
            "username": USER,
            "password": PASSWORD,
            "keyring": "no",
            # Like the clients: no data dumps/comparisons around a session.
            "printChanges": "0",
            "dumpData": "0",
            "contacts/backend": "file",
            "contacts/database": self.items_dir.as_uri(),
            "contacts/databaseFormat": "text/vcard",
            "contacts/sync": "two-way",
        }
        proc = subprocess.run(
            ["syncevolution", "--daemon=no", "--configure", "--template",
             "none", *(f"{k}={v}" for k, v in props.items()),
             f"{peer}@server", "contacts"],
            env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, timeout=120)
        if proc.returncode != 0:
            raise BenchError(f"configuring server peer {peer} failed:\n"
                             f"{proc.stdout}")

    def start(self):
        for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
            Path(self.env[var]).mkdir(parents=True, exist_ok=True)
        self.items_dir.mkdir(parents=True)
        self._configure("dev-a", DEVICE_A)
        self._configure("dev-b", DEVICE_B)
        self._configure("dev-w", DEVICE_W)
        script_text = HTTP_SERVER.read_text()
        if LISTEN_ORIG not in script_text:
            raise BenchError(f"{HTTP_SERVER}: cannot find '{LISTEN_ORIG}' to "
                             "bind it to 127.0.0.1")
        script = self.root / "syncevo-http-server.py"
        script.write_text(script_text.replace(LISTEN_ORIG, LISTEN_LOCAL))
        with open(self.log_path, "wb") as log:
            # dbus-run-session: a private session bus for this server only;
            # syncevo-dbus-server is started by D-Bus activation on it,
            # which double-forks: reaper.py keeps it (and its helpers) in
            # the measured process tree.
            self.proc = subprocess.Popen(
                [sys.executable, str(HERE / "reaper.py"),
                 "dbus-run-session", "--",
                 "/usr/bin/python3", str(script),
                 "http://127.0.0.1:0/syncevolution"],
                env=self.env, stdin=subprocess.DEVNULL, stdout=log,
                stderr=log, start_new_session=True)
        m = wait_for_line(self.log_path, r"listening on port (\d+)",
                          self.proc, 60, "syncevo-http-server")
        self.url = f"http://127.0.0.1:{m.group(1)}/syncevolution"

    def meter(self):
        return TreeMeter(self.proc.pid, sample=True, root_is_reaper=True)

    def stored_count(self):
        return sum(1 for p in self.items_dir.iterdir() if p.is_file())

    def stop(self):
        # reaper.py passes SIGTERM on to dbus-run-session, then to the rest
        # of its process group (the bus, the HTTP server, syncevo-dbus-server).
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            return False
        # dbus-run-session reports the SIGTERM its bus got: 128+15.
        return self.proc.returncode in (0, 128 + signal.SIGTERM)

    def log_problems(self):
        text = self.log_path.read_text(errors="replace")
        return [line for line in text.splitlines()
                if re.search(r"\[(ERROR|WARNING|CRITICAL)\]|Traceback", line)]


# -- one repetition -----------------------------------------------------------

class ConfluxPg(Conflux):
    """Conflux with its state and users in PostgreSQL ([storage] database),
    a fresh database per repetition on one throw-away PostgreSQL 15 (fsync
    on, as SQLite's synchronous=FULL). PostgreSQL's own CPU and peak RSS
    (postmaster and its backends) are measured beside Conflux's."""
    name = "conflux-pg"

    def __init__(self, binary, root, pg):
        super().__init__(binary, root)
        self.pg = pg
        self.database = pg.create_database("bench")

    def start(self):
        self.data_dir.mkdir(parents=True)
        config = self.root / "conflux.toml"
        config.write_text(f'[storage]\ndata_dir = "{self.data_dir}"\n'
                          f'database = "{self.pg.uri(self.database)}"\n')
        subprocess.run([self.binary, "--config", str(config), "--log-level",
                        "warn", "user", "add", USER],
                       input=PASSWORD + "\n", text=True, check=True,
                       stdout=subprocess.DEVNULL)
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [self.binary, "--config", str(config), "--log-level", "info",
                 "serve", "--listen", "127.0.0.1", "--port", "0"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        m = wait_for_line(self.log_path,
                          r"Conflux listening on (http://127\.0\.0\.1:\d+/sync)",
                          self.proc, 30, "conflux")
        self.url = m.group(1)

    def db_meter(self):
        postmaster = int((Path(self.pg.dir) / "data" / "postmaster.pid")
                         .read_text().split()[0])
        return TreeMeter(postmaster)


class ConfluxPgBackend(ConfluxPg):
    """Conflux with the contacts themselves in PostgreSQL: the postgresql
    adapter over a CRM-like crm.customers table (README's worked example:
    mapped columns, further phones and e-mails in a child table, what no
    column holds in the side table), no cache; Conflux's own state stays in
    conflux.db, so only the back end differs from `conflux`."""
    name = "conflux-pg-backend"

    SCHEMA = """
CREATE SCHEMA crm;
CREATE TABLE crm.customers (
  id SERIAL PRIMARY KEY, account_manager TEXT NOT NULL,
  first_name TEXT, last_name TEXT, company TEXT, job_title TEXT,
  email TEXT, phone TEXT, birthday DATE, notes TEXT, photo BYTEA,
  loyalty_points INTEGER NOT NULL DEFAULT 0);
CREATE TABLE crm.customer_channels (
  customer_id INTEGER NOT NULL REFERENCES crm.customers(id) ON DELETE CASCADE,
  kind TEXT NOT NULL, label TEXT, value TEXT NOT NULL);
CREATE INDEX ON crm.customers (account_manager);
CREATE INDEX ON crm.customer_channels (customer_id);
"""
    MAPPING = """table = "crm.customers"
key = "id"
owner = "account_manager"
field_given = "first_name"
field_family = "last_name"
field_org = "company"
field_title = "job_title"
field_email_work = "email"
field_tel = "phone"
field_birthday = "birthday"
field_note = "notes"
field_photo = "photo"
child_table = "crm.customer_channels"
child_key = "customer_id"
child_kind = "kind"
child_type = "label"
child_value = "value"
install_triggers = true
"""

    def start(self):
        self.data_dir.mkdir(parents=True)
        self.pg.psql(self.database, self.SCHEMA)
        config = self.root / "conflux.toml"
        config.write_text(
            f'[storage]\ndata_dir = "{self.data_dir}"\n'
            '[stores.contacts]\nadapter = "postgresql"\n'
            'content_type = "text/vcard"\ncontent_version = "3.0"\n'
            f'connection = "{self.pg.uri(self.database)}"\n' + self.MAPPING)
        subprocess.run([self.binary, "--config", str(config), "--log-level",
                        "warn", "user", "add", USER],
                       input=PASSWORD + "\n", text=True, check=True,
                       stdout=subprocess.DEVNULL)
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [self.binary, "--config", str(config), "--log-level", "info",
                 "serve", "--listen", "127.0.0.1", "--port", "0"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        m = wait_for_line(self.log_path,
                          r"Conflux listening on (http://127\.0\.0\.1:\d+/sync)",
                          self.proc, 60, "conflux")
        self.url = m.group(1)

    def stored_count(self):
        return int(self.pg.psql(self.database,
                                "SELECT count(*) FROM crm.customers").strip())


def children_cpu():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def timed_sync(server, device, mode):
    meter = server.meter()
    meter.start()
    db_meter = server.db_meter() if hasattr(server, "db_meter") else None
    if db_meter:
        db_meter.start()
    cpu0 = children_cpu()
    t0 = time.monotonic()
    device.sync(mode, timeout=600)
    wall = time.monotonic() - t0
    client_cpu = children_cpu() - cpu0
    m = meter.stop()
    if db_meter:
        db = db_meter.stop()
        m.update(db_cpu_s=db["server_cpu_s"], db_rss_kb=db["server_rss_kb"])
    m.update(wall_s=round(wall, 3), client_cpu_s=round(client_cpu, 3))
    m.update(client_session_stats(device))
    return m


def client_session_stats(device):
    """Item bytes the client sent/received, from its session's status.ini
    (source-contacts-stat-local-any-sent/-received)."""
    out = {}
    log_dir = device.session_log_dir()
    status = log_dir / "status.ini" if log_dir else None
    if status and status.exists():
        for line in status.read_text(errors="replace").splitlines():
            m = re.fullmatch(r"source-contacts-stat-local-any-(sent|received)"
                             r"\s*=\s*(\d+)", line.strip())
            if m:
                out[f"client_item_bytes_{m.group(1)}"] = int(m.group(2))
    return out


def expect(what, got, want):
    if got != want:
        raise BenchError(f"{what}: got {got}, expected {want}")


def one_repetition(server, root, items, shim, log):
    n = len(items)
    server.start()
    try:
        dev_a = syncevo.Device(root / "clients", "dev-a", server.url, USER,
                               PASSWORD, DEVICE_A, shim=shim)
        dev_b = syncevo.Device(root / "clients", "dev-b", server.url, USER,
                               PASSWORD, DEVICE_B, shim=shim)
        # Untimed: the first request starts the peer's syncevo-dbus-server
        # (D-Bus activation); Conflux gets the same treatment.
        syncevo.Device(root / "clients", "dev-w", server.url, USER, PASSWORD,
                       DEVICE_W, shim=shim).sync("slow", timeout=300)
        for name, text in items:
            dev_a.write_item("contacts", name, text)
        res = {"idle_rss_kb": server.meter().rss_now()}

        res["a"] = timed_sync(server, dev_a, "slow")
        expect(f"{server.name}: items on the server after A's upload",
               server.stored_count(), n)
        log(f"    a {res['a']['wall_s']:.2f}s")

        res["b"] = timed_sync(server, dev_b, "slow")
        expect(f"{server.name}: items on B after its download",
               len(dev_b.items("contacts")), n)
        log(f"    b {res['b']['wall_s']:.2f}s")

        res["c"] = timed_sync(server, dev_a, "slow")
        expect(f"{server.name}: items on the server after A's second slow "
               "sync (matching must not double them)",
               server.stored_count(), n)
        expect(f"{server.name}: items on A after its second slow sync",
               len(dev_a.items("contacts")), n)
        log(f"    c {res['c']['wall_s']:.2f}s")

        res["d"] = timed_sync(server, dev_a, "two-way")
        expect(f"{server.name}: items on the server after the two-way sync",
               server.stored_count(), n)
        log(f"    d {res['d']['wall_s']:.2f}s")
        return res
    finally:
        if not server.stop():
            log(f"    note: {server.name} did not stop cleanly "
                f"(status {server.proc.returncode}); log {server.log_path}")


# -- summary ------------------------------------------------------------------

METRICS = ["wall_s", "client_cpu_s", "server_cpu_s", "other_s",
           "server_rss_kb"]
HEADINGS = ["wall s", "client CPU s", "server CPU s", "other s",
            "server peak RSS MiB"]
RATIO_METRICS = ["wall_s", "server_cpu_s", "server_rss_kb"]


def summarise(runs):
    """{phase: {metric: {median, min, max, values}}} over repetitions,
    plus "idle_rss_kb" (after start and the warm-up sync)."""
    out = {}
    for phase, _ in PHASES:
        out[phase] = {}
        for metric in METRICS:
            if metric == "other_s":
                # Wall time neither the client nor the server spent on a
                # CPU: waiting, sleeping, I/O.  (Negative when both ran in
                # parallel on different cores.)
                values = [round(r[phase]["wall_s"] - r[phase]["client_cpu_s"]
                                - r[phase]["server_cpu_s"], 3) for r in runs]
            else:
                values = [r[phase][metric] for r in runs]
            out[phase][metric] = _stats(values)
    out["idle_rss_kb"] = _stats([r["idle_rss_kb"] for r in runs])
    for phase, _ in PHASES:
        for metric in ("db_cpu_s", "db_rss_kb"):
            if all(metric in r[phase] for r in runs):
                out[phase][metric] = _stats([r[phase][metric] for r in runs])
    return out


def _stats(values):
    return {"median": statistics.median(values), "min": min(values),
            "max": max(values), "values": values}


def fmt(stat, metric):
    if metric.endswith("_kb"):
        scale, digits = 1 / 1024, 1     # MiB
    else:
        scale, digits = 1, 2
    med, lo, hi = (stat[k] * scale for k in ("median", "min", "max"))
    if len(stat["values"]) == 1:
        med = 0.0 if abs(med) < 0.005 else med
        return f"{med:.{digits}f}"
    med, lo, hi = (0.0 if abs(v) < 0.005 else v for v in (med, lo, hi))
    return f"{med:.{digits}f} [{lo:.{digits}f}-{hi:.{digits}f}]"


def table(summary, n, repeat):
    names = list(summary)
    head = ["phase", "server", *HEADINGS]
    rows = []
    for phase, label in PHASES:
        for name in names:
            s = summary[name][phase]
            rows.append([f"{phase}) {label}", name,
                         *(fmt(s[m], m) for m in METRICS)])
        if len(names) == 2:
            base, peer = names
            ratio = []
            for m in METRICS:
                bm = summary[base][phase][m]["median"]
                pm = summary[peer][phase][m]["median"]
                # The client is the same program on both sides, and
                # "other" can be ~0 or negative: no ratio for those.
                ratio.append(f"{bm / pm:.2f}x" if m in RATIO_METRICS
                             and pm > 0 else "")
            rows.append(["", f"{base}/{peer}", *ratio])
    for name in names:
        rows.append(["idle after warm-up sync", name, "", "", "", "",
                     fmt(summary[name]["idle_rss_kb"], "idle_rss_kb")])
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
    lines = [" | ".join(h.ljust(w) for h, w in zip(head, widths)).rstrip(),
             "-+-".join("-" * w for w in widths)]
    lines += [" | ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()
              for r in rows]
    for name in names:
        if "db_cpu_s" not in summary[name]["a"]:
            continue
        lines.append(f"PostgreSQL beside {name} (postmaster and backends): "
                     "CPU s / peak RSS MiB per phase: " + "; ".join(
                         f"{phase}) {fmt(summary[name][phase]['db_cpu_s'], 'db_cpu_s')}"
                         f" / {fmt(summary[name][phase]['db_rss_kb'], 'db_rss_kb')}"
                         for phase, _ in PHASES))
    lines.append(
        f"N={n} contacts; median [min-max] of {repeat} repetition(s), each on "
        "fresh data and a fresh server.\nother = wall - client CPU - server "
        "CPU (waiting/sleeping).")
    if len(names) == 2:
        lines.append(f"Ratios are of medians, {names[0]}/{names[1]}: below 1 "
                     f"means {names[0]} is cheaper.")
    return "\n".join(lines)


def fmt_load(load):
    return "/".join(f"{x:.2f}" for x in load)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--conflux", required=True, help="conflux binary")
    ap.add_argument("--work-dir", required=True,
                    help="scratch directory (emptied first)")
    ap.add_argument("--n", type=int, default=1000, help="contacts (1000)")
    ap.add_argument("--repeat", type=int, default=3,
                    help="repetitions per server (3)")
    ap.add_argument("--no-peer", action="store_true",
                    help="skip SyncEvolution's own server")
    ap.add_argument("--json", help="write the results here")
    ap.add_argument("--pg-store", action="store_true",
                    help="also Conflux with its state in a throw-away "
                    "PostgreSQL 15 ([storage] database)")
    ap.add_argument("--pg-backend", action="store_true",
                    help="also Conflux with the contacts in a CRM-like table "
                    "of a throw-away PostgreSQL 15 (adapter postgresql)")
    ap.add_argument("--baseline", metavar="BIN",
                    help="also this other conflux binary (say, built from "
                    "the commit before a change), as conflux-baseline, "
                    "interleaved with the first: before and after in one run")
    ap.add_argument("--keep", action="store_true",
                    help="keep the work directory (logs, data)")
    args = ap.parse_args()

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    work = Path(args.work_dir).resolve()
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    shim = syncevo.build_shim(work / "shim")
    items = vcards.generate(args.n)
    sizes = sorted(len(t.encode()) for _, t in items)

    servers = [("conflux", lambda root: Conflux(args.conflux, root))]
    if args.baseline:
        servers.append(("conflux-baseline",
                        lambda root: Conflux(args.baseline, root)))
    if args.pg_store:
        os.environ["PG_TEST_FSYNC"] = "on"
        pg = pg_server.shared()
        servers.append(("conflux-pg",
                        lambda root: ConfluxPg(args.conflux, root, pg)))
    if args.pg_backend:
        os.environ["PG_TEST_FSYNC"] = "on"
        pg = pg_server.shared()
        servers.append(("conflux-pg-backend",
                        lambda root: ConfluxPgBackend(args.conflux, root, pg)))
    if not args.no_peer:
        servers.append(("syncevolution", SyncEvoServer))

    runs = {name: [] for name, _ in servers}
    problems = {name: [] for name, _ in servers}
    t_start = time.monotonic()
    load_start = os.getloadavg()
    # Interleave the servers repetition by repetition, so a slow patch of
    # the machine hits both rather than one.
    for rep in range(args.repeat):
        for name, make in servers:
            root = work / f"{name}-{rep}"
            root.mkdir()
            log(f"[{name} repetition {rep + 1}/{args.repeat}]")
            server = make(root)
            runs[name].append(one_repetition(server, root, items, shim, log))
            problems[name] += server.log_problems()
            if not args.keep:
                # keep the server log, drop the bulky data
                for sub in root.iterdir():
                    if sub.is_dir():
                        shutil.rmtree(sub)

    summary = {name: summarise(r) for name, r in runs.items()}
    text = table(summary, args.n, args.repeat)
    print(text)
    print(f"Load average (1/5/15 min) at start {fmt_load(load_start)}, at "
          f"end {fmt_load(os.getloadavg())}; {os.cpu_count()} CPUs.",
          flush=True)
    for name, lines in problems.items():
        if lines:
            print(f"\n{name}: {len(lines)} warning/error line(s) in the "
                  "server logs, first ones:")
            for line in lines[:5]:
                print("  " + line[:300])
    result = {
        "benchmark": "slow_sync",
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "host": platform.node(),
        "n_contacts": args.n,
        "vcard_bytes": {"min": sizes[0], "median": sizes[len(sizes) // 2],
                        "max": sizes[-1], "total": sum(sizes)},
        "repeat": args.repeat,
        "phases": dict(PHASES),
        "summary": summary,
        "runs": runs,
        "server_log_problems": {k: v[:50] for k, v in problems.items()},
        "total_seconds": round(time.monotonic() - t_start, 1),
        # Other work on the machine shows here (1/5/15-minute averages).
        "loadavg_start": load_start,
        "loadavg_end": os.getloadavg(),
        "table": text,
    }
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1,
                                              ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (BenchError, syncevo.SyncError) as e:
        print(f"slow_sync: {e}", file=sys.stderr)
        sys.exit(1)
