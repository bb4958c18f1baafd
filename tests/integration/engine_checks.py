"""Helpers shared by the sync-engine acceptance tests (test_sync_types,
test_anchors, test_interruptions, test_multi_datastore,
test_slow_sync_twice): reading the server's own state from its data
directory, starting a SyncEvolution sync in the background so it can be
killed, and comparing contact sets by FN.

The server keeps items in <data>/items.db (table items: user, database,
guid, revision, created, deleted, content_type, data) and the engine state
in <data>/conflux.db (anchors, maps, sessions, conflicts).  Both are read
with Python's sqlite3 module in read-only mode, which is safe while the
server is writing (the reader sees the last committed state).
"""

import os
import signal
import sqlite3
import subprocess
from collections import Counter

import vcards


def _query(path, sql, args=()):
    if not path.exists():
        return []
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def server_items(server, user, ds="contacts"):
    """[data text] of the live (deleted=0) items the server holds for
    user in datastore ds."""
    rows = _query(server.data_dir / "items.db",
                  "select data from items where user=? and database=? "
                  "and deleted=0", (user, ds))
    out = []
    for (data,) in rows:
        if isinstance(data, bytes):
            data = data.decode("utf-8", errors="replace")
        out.append(data)
    return out


def server_count(server, user=None, ds="contacts"):
    """Number of live items in items.db (of user, when given) in ds."""
    if user is None:
        rows = _query(server.data_dir / "items.db",
                      "select count(*) from items where database=? "
                      "and deleted=0", (ds,))
    else:
        rows = _query(server.data_dir / "items.db",
                      "select count(*) from items where user=? and "
                      "database=? and deleted=0", (user, ds))
    return rows[0][0] if rows else 0


def server_fns(server, user, ds="contacts"):
    """Counter of the FNs of the server's live contacts (a value > 1 is a
    doubled contact)."""
    return Counter(vcards.fn_of(t) for t in server_items(server, user, ds))


def anchor_rows(server, device_id=None):
    """[(user, device, database, client_next, server_next)] of conflux.db."""
    sql = ("select user, device, database, client_next, server_next "
           "from anchors")
    args = ()
    if device_id is not None:
        sql += " where device=?"
        args = (device_id,)
    return _query(server.data_dir / "conflux.db", sql, args)


def delete_anchors(server, device_id):
    """Make a STOPPED server forget the device's anchors."""
    assert not server.running(), "stop the server before editing its state"
    con = sqlite3.connect(str(server.data_dir / "conflux.db"), timeout=10)
    try:
        n = con.execute("delete from anchors where device=?",
                        (device_id,)).rowcount
        con.commit()
    finally:
        con.close()
    return n


def device_fns(device, ds="contacts"):
    """Counter of the FNs of the device's contact files."""
    return Counter(vcards.fn_of(t) for t in device.items(ds).values())


def doubled(counter):
    """{FN: count} of entries seen more than once."""
    return {k: v for k, v in counter.items() if v > 1}


def fns_of(cards):
    """Set of FNs of an iterable of vCard texts or a {name: text} dict."""
    if isinstance(cards, dict):
        cards = cards.values()
    return {vcards.fn_of(t) for t in cards}


class BackgroundSync:
    """`syncevolution --sync MODE` for a syncevo.Device, started with
    subprocess.Popen (same command and environment as Device.sync) in its
    own process group so the test can SIGKILL it mid-session."""

    def __init__(self, device, mode="two-way", datastores=None):
        env = dict(device.env)
        env["LD_PRELOAD"] = " ".join(
            p for p in (device.shim, env.get("LD_PRELOAD")) if p)
        self.cmd = ["syncevolution", "--daemon=no", "--sync", mode,
                    device.name, *(datastores or device.datastores)]
        self.out_path = device.home / f"background-{os.getpid()}-{id(self)}.out"
        self._out = open(self.out_path, "wb")
        self.proc = subprocess.Popen(self.cmd, env=env,
                                     stdin=subprocess.DEVNULL,
                                     stdout=self._out,
                                     stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def running(self):
        return self.proc.poll() is None

    def kill(self):
        """SIGKILL the client (and any helper it forked into its group)."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return self.wait(30)

    def wait(self, timeout):
        try:
            code = self.proc.wait(timeout=timeout)
        finally:
            if self.proc.poll() is not None:
                self._out.close()
        return code

    def output(self):
        self._out.flush()
        return self.out_path.read_bytes().decode(errors="replace")
