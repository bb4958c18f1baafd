#!/usr/bin/python3
"""Prove that syncevo_curl_fix.so makes Debian 12's SyncEvolution client work.

Runs the real client against a throwaway http.server on 127.0.0.1:
  1. without the shim: only reports what happens (expected: SIGSEGV);
  2. with the shim, server answers an empty 200: the client must not die
     from a signal and the server must receive one complete XML SyncML
     message (the request path, i.e. the read callback);
  3. with the shim, server answers a valid SyncML 1.2 message (~100 KB,
     padded with an XML comment, so libcurl delivers it in many write
     callbacks and the reply buffer has to grow) whose SyncHdr status is 401
     with an MD5 challenge: the client must parse it and send a second
     message whose MD5 credentials use our nonce (the reply path).

Usage: syncevo_shim_check.py [work_dir]
(default: a fresh temp dir, removed again on success)
Exit status 0 on success.
"""

import base64
import hashlib
import http.server
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import syncevo  # noqa: E402

USER, PASSWORD, DEVICE_ID = "alice", "secret", "shim-check-device"
NONCE = b"conflux-test-nonce"
PADDING = 100 * 1024


class FakeServer:
    """Records every POST and answers it with respond(index, body) -> bytes
    (by default an empty body)."""

    def __init__(self, respond=lambda index, body: b""):
        self.requests = []  # (headers dict, body bytes, complete?)
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                want = int(self.headers.get("Content-Length", 0))
                body = b""
                try:
                    while len(body) < want:
                        chunk = self.rfile.read(want - len(body))
                        if not chunk:
                            break
                        body += chunk
                except OSError:
                    pass
                server.requests.append((dict(self.headers), body,
                                        len(body) == want))
                if len(body) < want:
                    return  # the client died mid-request
                reply = respond(len(server.requests) - 1, body)
                self.send_response(200)
                self.send_header("Content-Type", "application/vnd.syncml+xml")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/sync"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def md5_b64(data):
    return base64.b64encode(hashlib.md5(data).digest())


def expected_md5_cred(nonce):
    """SyncML 1.1+ auth-md5:
    b64(md5(b64(md5(user:password)) + ":" + nonce))."""
    return md5_b64(md5_b64(f"{USER}:{PASSWORD}".encode()) + b":" + nonce)


def tag(xml, name):
    m = re.search(rf"<{name}[^>]*>(.*?)</{name}>", xml, re.S)
    return m.group(1) if m else None


def challenge_reply(first_request):
    """A valid SyncML 1.2 reply rejecting the SyncHdr with 401 and an MD5
    challenge, padded with an XML comment to PADDING bytes."""
    xml = first_request.decode()
    hdr = tag(xml, "SyncHdr")
    session = tag(hdr, "SessionID")
    target = tag(tag(hdr, "Target"), "LocURI")   # our URL
    source = tag(tag(hdr, "Source"), "LocURI")   # the device id
    pad = "<!-- " + "x" * PADDING + " -->"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>' + pad +
        "<SyncML xmlns='SYNCML:SYNCML1.2'><SyncHdr><VerDTD>1.2</VerDTD>"
        "<VerProto>SyncML/1.2</VerProto>"
        f"<SessionID>{session}</SessionID><MsgID>1</MsgID>"
        f"<Target><LocURI>{source}</LocURI></Target>"
        f"<Source><LocURI>{target}</LocURI></Source></SyncHdr><SyncBody>"
        "<Status><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>0</CmdRef>"
        f"<Cmd>SyncHdr</Cmd><TargetRef>{target}</TargetRef>"
        f"<SourceRef>{source}</SourceRef>"
        "<Chal><Meta><Format xmlns='syncml:metinf'>b64</Format>"
        "<Type xmlns='syncml:metinf'>syncml:auth-md5</Type>"
        "<NextNonce xmlns='syncml:metinf'>"
        f"{base64.b64encode(NONCE).decode()}</NextNonce></Meta></Chal>"
        "<Data>401</Data></Status><Final/></SyncBody></SyncML>"
    ).encode()


def require(ok, message):
    """Like assert, but not skipped under python -O."""
    if not ok:
        raise SystemExit(f"FAIL: {message}")


def check_message(request, what):
    headers, body, complete = request
    ctype = headers.get("Content-Type", "")
    require(complete, f"{what}: body truncated ({len(body)} bytes)")
    require(ctype == "application/vnd.syncml+xml", f"{what}: {ctype}")
    require(body.startswith(b"<?xml"), f"{what}: {body[:40]!r}")
    require(b"<SyncML" in body and body.rstrip().endswith(b"</SyncML>"),
            f"{what}: not one whole SyncML message")
    return body.decode()


def main(work):
    shim = syncevo.build_shim(work / "build")
    print(f"work dir {work}\nshim {shim}")

    def device(name, url):
        return syncevo.Device(work, name, url, USER, PASSWORD, DEVICE_ID,
                              shim=shim)

    # 1. Without the shim (report only).
    server = FakeServer()
    dev = device("noshim", server.url)
    proc = subprocess.run(["syncevolution", "--daemon=no", "--sync",
                           "two-way", dev.name, "contacts"], env=dev.env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=300)
    server.close()
    got = [(len(b), c) for _, b, c in server.requests]
    print(f"[1] without shim: returncode {proc.returncode} "
          f"(negative = killed by that signal); requests (body bytes, "
          f"complete): {got}")

    # 2. With the shim, one round trip answered with an empty body.
    server = FakeServer()
    dev = device("oneshot", server.url)
    rc, out = dev.sync(expect_ok=False)
    server.close()
    require(rc >= 0 and rc != 139,
            f"client died: {rc}\n{syncevo._tail(out)}")
    require("syncevo_curl_fix: inactive" not in out, out)
    require(len(server.requests) == 1, len(server.requests))
    xml = check_message(server.requests[0], "first message")
    print(f"[2] with shim: returncode {rc}; server got a complete "
          f"{len(xml)}-byte XML SyncML message "
          f"(VerProto {tag(xml, 'VerProto')}, "
          f"auth {tag(tag(xml, 'Cred') or '', 'Type')}, "
          f"MaxMsgSize {tag(xml, 'MaxMsgSize')})")

    # 3. With the shim: a ~100 KB 401 challenge must be read and answered.
    server = FakeServer(lambda index, body:
                        challenge_reply(body) if index == 0 else b"")
    dev = device("challenge", server.url)
    rc, out = dev.sync(expect_ok=False)
    server.close()
    require(rc >= 0 and rc != 139,
            f"client died: {rc}\n{syncevo._tail(out)}")
    require(len(server.requests) >= 2,
            f"no second message after the 401 challenge; "
            f"{len(server.requests)} request(s)\n{syncevo._tail(out)}")
    check_message(server.requests[0], "first message")
    second = check_message(server.requests[1], "second message")
    cred = tag(second, "Cred")
    require(cred and "syncml:auth-md5" in cred, cred)
    require(tag(cred, "Data").encode() == expected_md5_cred(NONCE), cred)
    print(f"[3] with shim: returncode {rc}; reply of "
          f"{len(challenge_reply(server.requests[0][1]))} bytes parsed; "
          f"second message (MsgID {tag(tag(second, 'SyncHdr'), 'MsgID')}, "
          f"{len(second)} bytes) carries MD5 credentials for our nonce; "
          f"{len(server.requests)} request(s) in total")
    print(f"session log: {dev.session_log_dir()}")
    print("OK")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1:
        sys.exit(main(Path(sys.argv[1]).resolve()))
    tmp = tempfile.mkdtemp(prefix="syncevo-shim-check-")
    status = main(Path(tmp))
    shutil.rmtree(tmp)
    sys.exit(status)
