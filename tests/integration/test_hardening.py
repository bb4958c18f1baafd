#!/usr/bin/python3
"""Hostile clients (issue #11), attacked the way the black-box probe did.

Each test starts its own server (a few share one) and drives it over real
sockets: request smuggling, half-open sockets (slowloris), lockout by wrong
passwords, session ids in the log, state left by strangers, and the smaller
items (XML character references, user names, disk headroom, duplicate
contacts with a changed phone).

Run: CONFLUX_BIN=/path/to/conflux /usr/bin/python3 test_hardening.py
"""

import base64
import http.client
import re
import socket
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import syncml_client as sc  # noqa: E402
from conflux_server import IntegrationTest, http_request, poll_until  # noqa: E402

USER, PASSWORD = "alice", "Hardening-pw-1"
OTHER, OTHER_PASSWORD = "bob", "Hardening-pw-2"
WAIT = 60  # bound on any single wait for the server; never a threshold


def raw_exchange(port, data, source="127.0.0.1"):
    """Send `data` on a fresh socket from `source`, half-close, read until
    the server closes; the bytes read."""
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT,
                                  source_address=(source, 0)) as s:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        chunks = []
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)


def status_lines(raw):
    return re.findall(rb"HTTP/1\.[01] (\d{3})", raw)


def post_from(source, port, path, body, headers=None):
    """POST a SyncML body from the local address `source`; (status,
    headers, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT,
                                      source_address=(source, 0))
    try:
        all_headers = {"Content-Type": sc.SYNCML_TYPE}
        all_headers.update(headers or {})
        conn.request("POST", path, body.encode(), all_headers)
        r = conn.getresponse()
        return r.status, dict(r.getheaders()), r.read()
    finally:
        conn.close()


def hdr_status(raw):
    return sc.Reply(200, {}, raw).hdr_status()


def data_files_size(data_dir):
    """Total bytes of the data directory's databases, WAL and SHM included."""
    return {p.name: p.stat().st_size for p in Path(data_dir).iterdir()
            if re.search(r"\.db(-wal|-shm)?$", p.name)}


class SmugglingTest(IntegrationTest):
    """Item 1: after a framing error the connection is closed; what follows
    in the same bytes is never answered as a request."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = cls.make_class_server()
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        try:
            cls.server.stop()
        finally:
            super().tearDownClass()

    SMUGGLED = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"

    def assert_one_refusal(self, head, expected):
        raw = raw_exchange(self.server.port, head + self.SMUGGLED)
        self.assertEqual(status_lines(raw), [expected], raw)
        self.assertNotIn(b"\r\n\r\nok\n", raw)

    def test_unsupported_transfer_codings(self):
        for coding, expected in ((b"gzip", b"400"), (b"chunked, identity", b"400"),
                                 (b"gzip, chunked", b"501"), (b"identity", b"400")):
            with self.subTest(coding=coding):
                self.assert_one_refusal(
                    b"POST /sync HTTP/1.1\r\nHost: x\r\nContent-Type: "
                    b"application/vnd.syncml+xml\r\nTransfer-Encoding: " + coding + b"\r\n\r\n", expected)

    def test_transfer_encoding_with_content_length(self):
        self.assert_one_refusal(
            b"POST /sync HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", b"400")

    def test_transfer_encoding_in_http_1_0(self):
        self.assert_one_refusal(
            b"POST /sync HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", b"400")

    def test_every_error_answer_closes_the_connection(self):
        # 404, 405 and 415 from the handler: the request was framed
        # correctly, but the client wrote what follows without knowing it
        # failed; nothing after it is read.
        for head in (b"POST /nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab",
                     b"PUT /sync HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
                     b"POST /sync HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 0\r\n\r\n",
                     b"GARBAGE\r\n\r\n"):
            with self.subTest(head=head[:20]):
                raw = raw_exchange(self.server.port, head + self.SMUGGLED)
                self.assertEqual(len(status_lines(raw)), 1, raw)
                self.assertNotIn(b"\r\n\r\nok\n", raw)

    def test_plain_chunked_is_still_decoded(self):
        # The one transfer coding we decode: the request reaches the handler
        # (405: /health is GET only) instead of being refused as framing.
        raw = raw_exchange(self.server.port,
                           b"POST /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                           b"2\r\nab\r\n0\r\n\r\n")
        self.assertEqual(status_lines(raw), [b"405"], raw)

    def test_pipelined_good_requests_are_all_answered(self):
        raw = raw_exchange(self.server.port, self.SMUGGLED + self.SMUGGLED +
                           b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        self.assertEqual(status_lines(raw), [b"200", b"200", b"200"], raw)


class ConnectionLimitsTest(IntegrationTest):
    """Item 2: half-open sockets from one address do not starve others; an
    idle keep-alive connection makes room; over a limit the answer is 503
    with Retry-After, never a reset."""

    def test_256_half_open_sockets_from_one_address(self):
        server = self.make_server()  # defaults: 256 connections, 32 per address
        server.start()
        sockets = []
        try:
            for _ in range(256):
                s = socket.create_connection(("127.0.0.1", server.port), timeout=WAIT,
                                             source_address=("127.0.0.1", 0))
                s.sendall(b"POST /sync HTTP/1.1\r\nHost: x\r\nContent-Type: appl")
                sockets.append(s)
            # Another client is served while they hang.
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=WAIT,
                                              source_address=("127.0.0.2", 0))
            conn.request("GET", "/health")
            r = conn.getresponse()
            self.assertEqual((r.status, r.read()), (200, b"ok\n"))
            conn.close()
            # Every socket gets an answer or, once its header timed out, an
            # orderly close: no reset, and those over the cap a 503.
            refused = 0
            for s in sockets:
                raw = b""
                while True:
                    chunk = s.recv(65536)  # ConnectionResetError fails the test
                    if not chunk:
                        break
                    raw += chunk
                if raw:
                    self.assertEqual(status_lines(raw), [b"503"], raw)
                    self.assertIn(b"Retry-After:", raw)
                    refused += 1
            # At most 32 were let in (fewer if the start-up /health check's
            # connection had not yet been closed on the server's side).
            self.assertGreaterEqual(refused, 256 - 32)
            self.assertLessEqual(refused, 256 - 31)
        finally:
            for s in sockets:
                s.close()
        self.assertIn("too many connections from your address", server.log_text())
        server.stop()

    def test_half_sent_header_is_dropped_after_the_header_timeout(self):
        server = self.make_server("[server]\nheader_timeout_seconds = 1\n")
        server.start()
        with socket.create_connection(("127.0.0.1", server.port), timeout=WAIT) as s:
            s.sendall(b"GET /health HTTP/1.1\r\nHo")
            self.assertEqual(s.recv(1024), b"")  # closed by the server, well before WAIT
        server.stop()

    def test_oldest_idle_keep_alive_connection_makes_room(self):
        server = self.make_server("[server]\nmax_connections = 4\nmax_connections_per_address = 0\n")
        server.start()
        idle = []
        try:
            for _ in range(4):
                s = socket.create_connection(("127.0.0.1", server.port), timeout=WAIT)
                s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
                self.assertIn(b" 200 ", s.recv(65536))
                idle.append(s)
            status, _, body = http_request(server.base_url + "/health")
            self.assertEqual((status, body), (200, b"ok\n"))
            self.assertEqual(idle[0].recv(1024), b"")  # the oldest was closed
            # The newer idle ones still serve.
            idle[3].sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertIn(b" 200 ", idle[3].recv(65536))
        finally:
            for s in idle:
                s.close()
        server.stop()

    def test_over_the_limit_without_idle_connections_is_503(self):
        server = self.make_server("[server]\nmax_connections = 2\nmax_connections_per_address = 0\n")
        server.start()
        busy = []
        try:
            for _ in range(2):
                s = socket.create_connection(("127.0.0.1", server.port), timeout=WAIT)
                s.sendall(b"GET /health HTTP/1.1\r\nHo")  # busy reading a header
                busy.append(s)
            raw = raw_exchange(server.port, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertEqual(status_lines(raw), [b"503"], raw)
            self.assertIn(b"Retry-After: 5", raw)
        finally:
            for s in busy:
                s.close()
        server.stop()


class LockoutTest(IntegrationTest):
    """Item 3: wrong passwords slow the guesser, never the owner's devices,
    other users or other addresses."""

    def known_device_session(self, server, device):
        s = sc.RawSession(server.url, device, USER, PASSWORD,
                          devinf={"Man": "Test", "Mod": "Phone", "OEM": "Test"})
        s.start(alert=201)
        s.sync()
        s.finish()

    def login(self, port, user, password, device, source="127.0.0.1", headers=None):
        body = sc.message("http://127.0.0.1/sync", device, "1", 1,
                          sc.alert_cmd(1, 201, "contacts") + "<Final/>",
                          sc.basic_cred(user, password))
        status, _, raw = post_from(source, port, "/sync", body, headers)
        self.assertEqual(status, 200, raw)
        return hdr_status(raw)

    # A first wait far longer than the test, so that "the pair is waiting"
    # does not depend on how fast the guesses went.
    SLOW = "[auth]\nlogin_first_delay_seconds = 3600\n"

    def test_50_wrong_passwords_do_not_stop_a_known_device(self):
        server = self.make_server(self.SLOW)
        server.add_user(USER, PASSWORD)
        server.add_user(OTHER, OTHER_PASSWORD)
        server.start()
        self.known_device_session(server, "phone-of-alice")
        for i in range(50):
            self.assertEqual(self.login(server.port, USER, f"guess-{i}", "attacker"), 401)
        # The guesser's pair (alice, 127.0.0.1) now waits: even the right
        # password from a device never seen before is not checked ...
        self.assertEqual(self.login(server.port, USER, PASSWORD, "new-device"), 401)
        self.assertIn("refused unchecked", server.log_text())
        # ... but alice's known device, from the very same address, is let in,
        self.assertEqual(self.login(server.port, USER, PASSWORD, "phone-of-alice"), 212)
        self.known_device_session(server, "phone-of-alice")
        # and so are other users from that address and alice from another.
        self.assertEqual(self.login(server.port, OTHER, OTHER_PASSWORD, "bobs-phone"), 212)
        self.assertEqual(self.login(server.port, USER, PASSWORD, "new-device", source="127.0.0.2"), 212)
        server.stop()

    def test_forwarded_addresses_count_only_from_trusted_proxies(self):
        server = self.make_server(self.SLOW + 'trusted_proxies = ["127.0.0.1"]\n')
        server.add_user(USER, PASSWORD)
        server.start()
        guesser = {"X-Forwarded-For": "198.51.100.7"}
        for i in range(20):
            self.login(server.port, USER, f"guess-{i}", "attacker", headers=guesser)
        self.assertEqual(self.login(server.port, USER, PASSWORD, "laptop", headers=guesser), 401)
        # Behind the same proxy, another client is not the guesser.
        self.assertEqual(self.login(server.port, USER, PASSWORD, "laptop",
                                    headers={"Forwarded": 'for="198.51.100.8:4711"'}), 212)
        # 127.0.0.2 is no trusted proxy: its header is ignored, it is itself.
        self.assertEqual(self.login(server.port, USER, PASSWORD, "laptop", source="127.0.0.2",
                                    headers=guesser), 212)
        server.stop()


class SessionIdTest(IntegrationTest):
    """Item 4: the RespURI's session id never reaches the log; a session is
    opened only by the whole id and the device that proved itself."""

    def test_no_session_id_in_the_log_after_failing_items(self):
        server = self.make_server()
        server.add_user(USER, PASSWORD)
        server.start()
        s = sc.RawSession(server.url, "dev-log", USER, PASSWORD)
        s.start(alert=201)
        sid = re.search(r"[?&]sid=([^&]+)", s.next_url).group(1)
        key, _, tag = sid.partition(".")
        self.assertTrue(key and tag, sid)
        # Items that fail: not vCards at all (logged at warn).
        reply = s.sync(adds=[("bad1", "this is not a vcard"), ("bad2", "BEGIN:VCARD\r\nEND:VCARD\r\n")])
        self.assertTrue(any(code >= 400 for _, _, code in s.item_statuses), s.item_statuses)
        self.assertIsNotNone(reply)
        # Someone with the key (from a log line or report) but not the tag,
        # or with the whole id but another device id, gets nothing.
        base = server.url
        probe = sc.message(base, "dev-log", "1", 9, "<Final/>")
        for target in (f"{base}?sid={key}", f"{base}?sid={key}.{'0' * len(tag)}"):
            status, _, _ = sc.post(target, probe)
            self.assertEqual(status, 404, target)
        status, _, _ = sc.post(f"{base}?sid={sid}", sc.message(base, "another-device", "1", 9, "<Final/>"))
        self.assertEqual(status, 404)
        s.finish()
        server.stop()
        log = server.log_text()
        self.assertNotIn(sid, log)
        self.assertNotIn(tag, log)


class StrangersTest(IntegrationTest):
    """Item 5: unauthenticated messages leave nothing behind and are rate
    limited per address."""

    def first_messages(self, port, count, source="127.0.0.1"):
        """`count` unauthenticated first messages, each from a new device
        id, over one keep-alive connection; the HTTP statuses seen."""
        seen = {}
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT, source_address=(source, 0))
        try:
            for i in range(count):
                body = sc.message("http://127.0.0.1/sync", f"stranger-{i}", "1", 1,
                                  sc.alert_cmd(1, 201, "contacts") + "<Final/>").encode()
                conn.request("POST", "/sync", body, {"Content-Type": sc.SYNCML_TYPE})
                r = conn.getresponse()
                raw = r.read()
                seen[r.status] = seen.get(r.status, 0) + 1
                if r.status == 200:
                    self.assertEqual(hdr_status(raw), 407)
                    self.assertNotIn(b"RespURI", raw)
                if r.status >= 400 or r.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT,
                                                      source_address=(source, 0))
        finally:
            conn.close()
        return seen

    def test_10000_first_messages_leave_the_database_unchanged(self):
        # The rate limit is lifted here so that every message reaches the
        # engine; the next test checks the limit itself.
        server = self.make_server("[auth]\nunauthenticated_burst = 1000000\n"
                                  "unauthenticated_per_minute = 1000000\n")
        server.add_user(USER, PASSWORD)
        server.start()
        sc.slow_sync(server.url, "real-device", USER, PASSWORD)  # the databases exist and hold a session's traces
        before = data_files_size(server.data_dir)
        self.assertIn("conflux.db", before)
        seen = self.first_messages(server.port, 10000)
        self.assertEqual(seen, {200: 10000})
        self.assertEqual(data_files_size(server.data_dir), before)
        # A real client still gets through with MD5: the challenge's nonce
        # was derived, not stored, and the digest made with it passes once.
        first = sc.message(server.url, "md5-device", "1", 1,
                           sc.alert_cmd(1, 201, "contacts") + "<Final/>", loc_name=USER)
        reply = sc.post_syncml(server.url, first)
        self.assertEqual(reply.hdr_status(), 407)
        nonce = base64.b64decode(reply.body.find("Status/Chal/Meta/NextNonce").text)
        login = sc.message(server.url, "md5-device", "1", 2, sc.alert_cmd(1, 201, "contacts") + "<Final/>",
                           sc.md5_cred(USER, PASSWORD, nonce), loc_name=USER)
        self.assertEqual(sc.post_syncml(server.url, login).hdr_status(), 212)
        # The same digest again (a replay) is refused.
        self.assertEqual(sc.post_syncml(server.url, login).hdr_status(), 401)
        server.stop()

    def test_unauthenticated_messages_are_rate_limited_per_address(self):
        server = self.make_server("[auth]\nunauthenticated_burst = 20\nunauthenticated_per_minute = 1\n")
        server.add_user(USER, PASSWORD)
        server.start()
        known = sc.RawSession(server.url, "known-device", USER, PASSWORD, devinf={"Man": "T", "Mod": "P", "OEM": "T"})
        known.start(alert=201)
        known.sync()
        known.finish()
        seen = self.first_messages(server.port, 40)
        self.assertEqual(seen.get(200), 20, seen)
        self.assertEqual(seen.get(429), 20, seen)
        status, headers, _ = sc.post(server.url, sc.pkg1(server.url, "x", None, None))
        self.assertEqual(status, 429)
        self.assertIn("Retry-After", headers)
        # Another address is not limited.
        self.assertEqual(self.first_messages(server.port, 5, source="127.0.0.2"), {200: 5})
        # From the limited address a device that logged in before still
        # gets in; one never seen waits like the strangers.
        self.assertEqual(self.login_status(server, "known-device"), 200)
        self.assertEqual(self.login_status(server, "unknown-device"), 429)
        server.stop()

    def login_status(self, server, device):
        status, _, _ = sc.post(server.url, sc.pkg1(server.url, device, USER, PASSWORD))
        return status


class SmallerItemsTest(IntegrationTest):
    """Item 6 and 7."""

    def test_character_reference_to_nul_is_refused(self):
        server = self.make_server()
        server.add_user(USER, PASSWORD)
        server.start()
        body = sc.message(server.url, "dev-nul", "1", 1, "<Alert><CmdID>1</CmdID><Data>201&#0;</Data></Alert><Final/>",
                          sc.basic_cred(USER, PASSWORD))
        status, _, raw = sc.post(server.url, body)
        self.assertEqual(status, 400, raw)
        server.stop()

    def test_user_names_dot_and_dot_dot_are_refused(self):
        server = self.make_server()
        for name in (".", ".."):
            proc = server.cli("user", "add", name, stdin="pw-pw-pw\n", check=False)
            self.assertNotEqual(proc.returncode, 0, name)
            self.assertIn("invalid user name", proc.stderr)

    def test_new_sessions_wait_when_the_disk_is_short_of_space(self):
        server = self.make_server("[storage]\nmin_free_bytes = 1125899906842624\n")  # 1 PiB
        server.add_user(USER, PASSWORD)
        server.start()
        status, headers, _ = sc.post(server.url, sc.pkg1(server.url, "dev-disk", USER, PASSWORD))
        self.assertEqual(status, 503)
        self.assertIn("Retry-After", headers)
        self.assertIn("new sessions need at least 1073741824 MB (storage.min_free_bytes)", server.log_text())
        server.stop()

    def test_slow_sync_matches_a_contact_whose_phone_changed(self):
        server = self.make_server()
        server.add_user(USER, PASSWORD)
        server.start()
        card = ("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Grace Hopper\r\nN:Hopper;Grace;;;\r\n"
                "TEL:{}\r\nEMAIL:grace@example.org\r\nEND:VCARD\r\n")
        sc.slow_sync(server.url, "dev-a", USER, PASSWORD, adds=[("1", card.format("+1 555 0100"))])
        sc.slow_sync(server.url, "dev-b", USER, PASSWORD, adds=[("1", card.format("+1 555 0199"))])
        fresh = sc.slow_sync(server.url, "dev-c", USER, PASSWORD)
        self.assertEqual(len(fresh.received), 1, fresh.received)
        server.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
