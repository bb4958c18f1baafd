"""A real Radicale (Debian's python3-radicale, 3.1.8) for integration tests,
and plain DAV requests (urllib) to check and change what it holds, the way
another DAV client (a phone with DAVx5, Thunderbird) would.

`Radicale` starts the server on a free loopback port (port 0; the bound port
is read from its log line "Listening on '[127.0.0.1]:PORT'") with htpasswd
auth (plain passwords), owner_only rights (or rules of its own) and a
temporary storage folder,
and stops it.  It can be stopped and started again on the same port.
Requests Conflux sends carry the User-Agent "Conflux-caldav", so the log
tells them apart (conflux_requests).
"""

import base64
import re
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

START_TIMEOUT = 60
LISTEN_RE = re.compile(r"Listening on '\[127\.0\.0\.1\]:(\d+)'")
REQUEST_RE = re.compile(r"\[INFO\] (\w+) request for '([^']*)' with depth "
                        r"'(\w+)' received from [^ ]+ using '([^']*)'")
RADICALE = "/usr/bin/python3"   # Debian's Python, where python3-radicale lives


class Radicale:

    def __init__(self, root, users, extra_args=(), rights=None, tls=None):
        """tls: (certificate file, key file) to serve HTTPS with."""
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.storage = self.root / "storage"
        self.users_file = self.root / "users"
        self.users_file.write_text(
            "".join(f"{u}:{p}\n" for u, p in users.items()))
        self.users = dict(users)
        self.log_path = self.root / "radicale.log"
        self.extra_args = list(extra_args)
        if rights is None:
            self.rights_args = ["--rights-type", "owner_only"]
        else:
            # Radicale's from_file rules (DOCUMENTATION.md "Rights").
            (self.root / "rights").write_text(rights)
            self.rights_args = ["--rights-type", "from_file",
                                "--rights-file", str(self.root / "rights")]
        self.tls = tls
        if tls:
            self.extra_args += ["--server-ssl", "True", "--server-certificate", str(tls[0]),
                                "--server-key", str(tls[1])]
        self.proc = None
        self.port = None

    @property
    def base_url(self):
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def start(self):
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        host = f"127.0.0.1:{self.port or 0}"
        args = [RADICALE, "-m", "radicale", "--config", "",
                "--server-hosts", host,
                "--storage-filesystem-folder", str(self.storage),
                "--auth-type", "htpasswd",
                "--auth-htpasswd-filename", str(self.users_file),
                "--auth-htpasswd-encryption", "plain",
                "--auth-delay", "0",
                *self.rights_args,
                "--web-type", "none",
                "--server-max-connections", "32",
                "--logging-level", "info", *self.extra_args]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=log)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            text = self._log_since(offset)
            m = LISTEN_RE.search(text)
            if m and "Radicale server ready" in text:
                self.port = int(m.group(1))
                return
            if self.proc.poll() is not None:
                raise AssertionError(f"radicale exited: {text[-2000:]}")
            if time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"radicale did not start: {text[-2000:]}")
            time.sleep(0.05)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
        self.proc = None

    def _log_since(self, offset):
        if not self.log_path.exists():
            return ""
        with open(self.log_path, "rb") as f:
            f.seek(offset)
            return f.read().decode(errors="replace")

    def log_text(self):
        return self._log_since(0)

    def conflux_requests(self, since=0):
        """[(method, path, depth)] of the requests Conflux sent, in order,
        from log offset `since`."""
        return [(m.group(1), m.group(2), m.group(3))
                for m in REQUEST_RE.finditer(self._log_since(since))
                if m.group(4) == "Conflux-caldav"]

    def log_size(self):
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    # -- plain DAV requests ----------------------------------------------

    def request(self, user, method, path, body=None, headers=None):
        """(status, headers, body bytes) of one request as `user`."""
        auth = base64.b64encode(
            f"{user}:{self.users[user]}".encode()).decode()
        req = urllib.request.Request(
            self.base_url + path, method=method,
            data=body.encode() if isinstance(body, str) else body,
            headers={"Authorization": "Basic " + auth, **(headers or {})})
        context = ssl.create_default_context(cafile=str(self.tls[0])) if self.tls else None
        try:
            with urllib.request.urlopen(req, timeout=60, context=context) as resp:
                return resp.status, dict(resp.headers), resp.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def make_collection(self, user, name, kind, components=("VEVENT",)):
        """An address book or calendar at /<user>/<name>/ (extended MKCOL,
        RFC 5689), as an administrator or a DAV client would make it."""
        if kind == "addressbook":
            rtype = "<C:addressbook/>"
            ns = 'xmlns:C="urn:ietf:params:xml:ns:carddav"'
            extra = ""
        else:
            rtype = "<C:calendar/>"
            ns = 'xmlns:C="urn:ietf:params:xml:ns:caldav"'
            extra = ("<C:supported-calendar-component-set>"
                     + "".join(f'<C:comp name="{c}"/>' for c in components)
                     + "</C:supported-calendar-component-set>")
        body = (f'<?xml version="1.0"?><D:mkcol xmlns:D="DAV:" {ns}><D:set>'
                f"<D:prop><D:resourcetype><D:collection/>{rtype}"
                f"</D:resourcetype>{extra}</D:prop></D:set></D:mkcol>")
        status, _, out = self.request(user, "MKCOL", f"/{user}/{name}/", body,
                                      {"Content-Type": "application/xml"})
        if status != 201:
            raise AssertionError(f"MKCOL /{user}/{name}/: {status} {out!r}")

    def items(self, user, name):
        """{href: (etag, text)} of the collection, by PROPFIND and GET."""
        body = ('<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop>'
                "<D:getetag/></D:prop></D:propfind>")
        status, _, out = self.request(user, "PROPFIND", f"/{user}/{name}/",
                                      body, {"Depth": "1"})
        if status != 207:
            raise AssertionError(f"PROPFIND: {status} {out!r}")
        hrefs = [h for h in re.findall(r"<href>([^<]+)</href>", out.decode())
                 if not h.endswith("/")]
        result = {}
        for href in hrefs:
            status, headers, data = self.request(user, "GET", href)
            if status == 200:
                result[href] = (headers.get("ETag"), data.decode("utf-8"))
        return result

    def put(self, user, href, text, etag=None, create=False):
        headers = {"Content-Type": "text/vcard" if href.endswith(".vcf")
                   else "text/calendar"}
        if create:
            headers["If-None-Match"] = "*"
        if etag:
            headers["If-Match"] = etag
        status, headers, _ = self.request(user, "PUT", href, text, headers)
        return status

    def delete(self, user, href):
        return self.request(user, "DELETE", href)[0]
