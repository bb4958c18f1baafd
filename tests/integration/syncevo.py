"""Drive Debian 12's real SyncEvolution 2.0 command line client in tests.

Each `Device` is one simulated SyncML client: its own configuration, its own
item directories (the `file` backend: one file per item) and its own session
logs, all under `root_dir/name`, so devices never share state and nothing is
written outside the test's directory.

Debian 12's client crashes at its first HTTP POST (see the header comment of
syncevo_curl_fix.c); `build_shim` compiles the LD_PRELOAD library that fixes
it and `Device.sync` always runs the client with it.
"""

import os
import re
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHIM_SOURCE = HERE / "syncevo_curl_fix.c"
SYNCEVOLUTION = "syncevolution"


class SyncError(RuntimeError):
    """A syncevolution command failed; the message carries the output tail."""


def build_shim(build_dir):
    """Compile syncevo_curl_fix.c into build_dir (once; rebuilt when the
    source is newer than the library) and return the library's path."""
    build_dir = Path(build_dir)
    out = build_dir / "syncevo_curl_fix.so"
    if out.exists() and out.stat().st_mtime >= SHIM_SOURCE.stat().st_mtime:
        return str(out)
    build_dir.mkdir(parents=True, exist_ok=True)
    # Build under a private name, then rename: parallel test processes may
    # race here and must never LD_PRELOAD a half-written library.
    tmp = build_dir / f".syncevo_curl_fix.{os.getpid()}.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-O2", "-o", str(tmp),
                    str(SHIM_SOURCE), "-ldl"], check=True)
    os.replace(tmp, out)
    return str(out)


def default_shim_dir(root_dir):
    """Where build_shim puts the library: $SYNCEVO_SHIM_DIR when set (CTest
    sets it inside the build tree, so all tests share one build), otherwise
    root_dir/.syncevo-shim."""
    return os.environ.get("SYNCEVO_SHIM_DIR") or \
        str(Path(root_dir) / ".syncevo-shim")


def _tail(text, lines=60):
    return "\n".join(text.splitlines()[-lines:])


class Device:
    """One simulated SyncML client device talking to `url`.

    datastores maps the local datastore name to (databaseFormat, uri):
    the MIME type the items are stored in locally and the name of the
    datastore on the server.  extra holds further properties, passed to
    `--configure` as given (use "<datastore>/<prop>" for one datastore only);
    they override the defaults below.  shim is the path of the compiled
    syncevo_curl_fix.so; by default it is built in default_shim_dir().
    """

    def __init__(self, root_dir, name, url, username, password, device_id,
                 datastores=None, wbxml=False, extra=None, shim=None):
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", name):
            # It doubles as the config name, which SyncEvolution lower-cases
            # and uses in the session log directory names.
            raise ValueError(f"device name must be [a-z0-9_-]+: {name!r}")
        self.name = name
        self.home = Path(root_dir).resolve() / name
        self.datastores = dict(datastores or
                               {"contacts": ("text/vcard", "contacts")})
        self.shim = shim or build_shim(default_shim_dir(root_dir))
        self.env = dict(os.environ,
                        XDG_CONFIG_HOME=str(self.home / "config"),
                        XDG_DATA_HOME=str(self.home / "data"),
                        XDG_CACHE_HOME=str(self.home / "cache"),
                        LC_ALL="C.UTF-8")
        for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
            Path(self.env[var]).mkdir(parents=True, exist_ok=True)

        props = {
            "syncURL": url,
            "username": username,
            "password": password,
            # Unique per device: the server keys its sync anchors and
            # mappings on it.
            "deviceId": device_id,
            # The default keyring needs a desktop session (D-Bus secrets).
            "keyring": "no",
            # The client's default is WBXML; tests choose explicitly.
            "enableWBXML": "1" if wbxml else "0",
            # The default refuses a slow sync while local data exists, which
            # is exactly what a first sync with pre-filled items is.
            "preventSlowSync": "0",
            # Otherwise refresh-from-server is emulated locally (wipe + slow
            # sync) and alert 205 never reaches the server.
            "enableRefreshSync": "1",
            # Comparing and dumping data before/after each sync is slow and
            # needs tools Debian does not ship (synccompare).
            "printChanges": "0",
            "dumpData": "0",
        }
        for ds, (mime, uri) in self.datastores.items():
            self.item_dir(ds).mkdir(parents=True, exist_ok=True)
            props.update({
                f"{ds}/backend": "file",
                f"{ds}/database": self.item_dir(ds).as_uri(),
                f"{ds}/databaseFormat": mime,
                f"{ds}/uri": uri,
                f"{ds}/sync": "two-way",
            })
        props.update(extra or {})
        self._run(["--configure", "--template", "none",
                   *(f"{k}={v}" for k, v in props.items()),
                   self.name, *self.datastores], expect_ok=True, timeout=120)

    # -- running the client --------------------------------------------

    def _run(self, args, expect_ok, timeout, env=None):
        cmd = [SYNCEVOLUTION, "--daemon=no", *args]
        try:
            proc = subprocess.run(cmd, env=env or self.env, timeout=timeout,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT,
                                  text=True, errors="replace")
        except subprocess.TimeoutExpired as e:
            out = e.stdout or b""
            if isinstance(out, bytes):
                out = out.decode(errors="replace")
            raise SyncError(f"{self.name}: timed out after {timeout}s: "
                            f"{' '.join(cmd)}\n{_tail(out)}") from None
        if expect_ok and proc.returncode != 0:
            raise SyncError(
                f"{self.name}: exit status {proc.returncode}: {' '.join(cmd)}"
                f"\nsession log: {self.session_log_dir()}\n"
                f"{_tail(proc.stdout)}")
        return proc.returncode, proc.stdout

    def sync(self, mode="two-way", datastores=None, expect_ok=True,
             timeout=300):
        """Run one sync; returns (returncode, stdout+stderr).  A negative
        returncode means the client died from that signal."""
        env = dict(self.env)
        env["LD_PRELOAD"] = " ".join(
            p for p in (self.shim, env.get("LD_PRELOAD")) if p)
        return self._run(["--sync", mode, self.name,
                          *(datastores or self.datastores)],
                         expect_ok=expect_ok, timeout=timeout, env=env)

    # -- local items ---------------------------------------------------

    def item_dir(self, ds):
        return self.home / "items" / ds

    # Items are read and written as exact bytes (UTF-8): text mode would
    # turn the CRLF line ends of vCard/iCalendar data into LF.

    def items(self, ds):
        """{file name: text} of all items of datastore ds."""
        return {p.name: p.read_bytes().decode("utf-8")
                for p in sorted(self.item_dir(ds).iterdir()) if p.is_file()}

    def write_item(self, ds, name, text):
        """Create or replace one item.  The file backend's revision is the
        file's mtime including nanoseconds, so a rewrite between two syncs
        is always seen as a change."""
        (self.item_dir(ds) / name).write_bytes(text.encode("utf-8"))

    def delete_item(self, ds, name):
        (self.item_dir(ds) / name).unlink()

    def session_log_dir(self):
        """Directory of the newest session's logs (syncevolution-log.html,
        status.ini), or None before the first session."""
        root = Path(self.env["XDG_CACHE_HOME"]) / "syncevolution"
        if not root.is_dir():
            return None
        dirs = [d for d in root.iterdir() if d.is_dir()]
        return max(dirs, key=lambda d: d.stat().st_mtime_ns, default=None)
