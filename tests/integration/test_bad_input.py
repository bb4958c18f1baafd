#!/usr/bin/python3
"""Bad and hostile input against one running Conflux server.

Each test sends one kind of bad request and checks the exact answer; after
every test (tearDown) the server must still be alive, answer GET /health and
complete a whole hand-made slow sync session.  The last test runs the real
SyncEvolution client, which must receive every contact those probe sessions
stored, and the server must finally stop cleanly (exit status 0).

Run: CONFLUX_BIN=/path/to/conflux /usr/bin/python3 test_bad_input.py
"""

import base64
import http.client
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import syncml_client as sc  # noqa: E402
import vcards  # noqa: E402
from conflux_server import IntegrationTest, http_request  # noqa: E402
from sync_summary import local_changes, parse_summary  # noqa: E402

USER, PASSWORD = "alice", "b4d-Input-pw"
MAX_BODY = 65536
SYNCML_XML = "application/vnd.syncml+xml"


class BadInputTest(IntegrationTest):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = cls.make_class_server(
            f"[server]\nmax_body_bytes = {MAX_BODY}\n")
        cls.server.add_user(USER, PASSWORD)
        cls.server.start()
        cls.probe_fns = set()   # contacts stored by the probe sessions

    @classmethod
    def tearDownClass(cls):
        try:
            cls.server.stop()   # asserts exit status 0
        finally:
            super().tearDownClass()

    def setUp(self):
        super().setUp()
        self.url = self.server.url

    def tearDown(self):
        self.assert_still_serving()
        super().tearDown()

    # -- helpers ------------------------------------------------------------

    def assert_still_serving(self):
        """The process is alive, /health answers, and a whole slow sync
        session (pkg 1..6) stores one new contact."""
        self.assertTrue(self.server.running(),
                        f"server died:\n{self.server.log_tail()}")
        status, _, body = http_request(self.server.base_url + "/health")
        self.assertEqual((status, body.strip()), (200, b"ok"))
        n = len(type(self).probe_fns)
        card = vcards.contact(1000 + n)
        session = sc.slow_sync(self.url, f"probe-{n}", USER, PASSWORD,
                               adds=[("probe-1", card)])
        self.assertIn(("Add", "probe-1", 201), session.item_statuses,
                      session.last_reply.text())
        type(self).probe_fns.add(vcards.fn_of(card))

    def pkg1(self, device="bad-input-dev", user=USER, password=PASSWORD):
        return sc.pkg1(self.url, device, user, password)

    def assert_plain_error(self, response, status):
        """An HTTP-level refusal: the status, and no SyncML in the body."""
        got, headers, body = response
        self.assertEqual(got, status, body[:300])
        self.assertNotIn(SYNCML_XML, headers.get("Content-Type", ""))
        self.assertNotIn(b"</SyncML>", body)

    def syncml_reply(self, response):
        status, headers, body = response
        self.assertEqual(status, 200, body[:300])
        self.assertEqual(headers.get("Content-Type", "").split(";")[0],
                         SYNCML_XML)
        return sc.Reply(status, headers, body)

    def assert_challenge(self, reply, code):
        """SyncHdr status `code` carrying an md5 Chal with a fresh nonce,
        and no session work done (no Alert accepted, no Sync). Returns the
        nonce."""
        hdr = reply.statuses("SyncHdr")[0]
        self.assertEqual(int(hdr.findtext("Data")), code, reply.text())
        self.assertEqual(hdr.findtext("Chal/Meta/Type"), "syncml:auth-md5",
                         reply.text())
        nonce = hdr.findtext("Chal/Meta/NextNonce")
        self.assertTrue(nonce, reply.text())
        for st in reply.statuses("Alert"):
            self.assertNotEqual(st.findtext("Data"), "200", reply.text())
        self.assertEqual(reply.commands("Sync"), [], reply.text())
        return nonce

    # -- HTTP level ---------------------------------------------------------

    def test_body_not_syncml(self):
        self.assert_plain_error(sc.post(self.url, "hello"), 400)

    def test_truncated_xml(self):
        msg = self.pkg1()
        self.assert_plain_error(sc.post(self.url, msg[:len(msg) // 2]), 400)

    def test_xml_but_not_syncml(self):
        self.assert_plain_error(
            sc.post(self.url, '<?xml version="1.0"?><html><body/></html>'),
            400)

    def test_unknown_session_id(self):
        self.assert_plain_error(
            sc.post(self.url + "?sid=deadbeef", self.pkg1()), 404)

    def test_wrong_content_type(self):
        self.assert_plain_error(sc.post(self.url, self.pkg1(), "text/plain"),
                                415)

    def test_truncated_wbxml(self):
        """A WBXML header with no document after it: 400, not a crash."""
        self.assert_plain_error(
            sc.post(self.url, b"\x02\xa4\x01\x6a\x00", "application/vnd.syncml+wbxml"),
            400)

    def test_xml_sent_as_wbxml(self):
        self.assert_plain_error(
            sc.post(self.url, self.pkg1(), "application/vnd.syncml+wbxml"), 400)

    def test_get_sync(self):
        response = http_request(self.url)
        self.assert_plain_error(response, 405)
        self.assertEqual(response[1].get("Allow"), "POST")

    def test_unknown_path(self):
        self.assert_plain_error(
            sc.post(self.server.base_url + "/other", self.pkg1()), 404)

    def test_oversize_body(self):
        msg = self.pkg1()
        big = msg.replace("<Final/>",
                          "<!-- " + "x" * 200_000 + " --><Final/>")
        self.assertGreater(len(big), 200_000)
        self.assert_plain_error(sc.post(self.url, big), 413)

    def test_oversize_chunked_body(self):
        """Without Content-Length the limit must hold while reading."""
        msg = self.pkg1().replace("<Final/>",
                                  "<!-- " + "x" * 200_000 + " --><Final/>")
        data = msg.encode()
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port,
                                          timeout=60)
        try:
            conn.request("POST", "/sync",
                         body=iter([data[i:i + 8192]
                                    for i in range(0, len(data), 8192)]),
                         headers={"Content-Type": SYNCML_XML},
                         encode_chunked=True)
            resp = conn.getresponse()
            self.assert_plain_error(
                (resp.status, dict(resp.headers), resp.read()), 413)
        finally:
            conn.close()

    def test_deeply_nested_xml(self):
        """9,000 nested elements inside SyncBody (under the size limit):
        refused as not SyncML (400) or too big (413), never a crash."""
        deep = "<a>" * 9000 + "</a>" * 9000
        msg = self.pkg1().replace("<Final/>", deep + "<Final/>")
        self.assertLess(len(msg), MAX_BODY)
        status, _, body = sc.post(self.url, msg)
        self.assertIn(status, (400, 413), body[:300])
        self.assertNotIn(b"</SyncML>", body)

    def test_entity_expansion(self):
        """A 'billion laughs' DOCTYPE (10^9 x "lol") must not be expanded:
        refused (400), or answered without the expansion."""
        ents = ['<!ENTITY e0 "lol">'] + [
            f'<!ENTITY e{i} "{("&e%d;" % (i - 1)) * 10}">'
            for i in range(1, 10)]
        doc = ('<?xml version="1.0"?><!DOCTYPE SyncML [' + "".join(ents) +
               ']>' + self.pkg1().split("?>", 1)[1].replace(
                   "<LocURI>contacts</LocURI>", "<LocURI>&e9;</LocURI>"))
        status, _, body = sc.post(self.url, doc)
        self.assertIn(status, (200, 400), body[:300])
        self.assertNotIn(b"lollol", body)
        self.assertLess(len(body), 10_000)

    def test_undeclared_entity(self):
        """`&foo;` with no declaration is not well-formed XML (XML 1.0
        WFC: Entity Declared): 400, not a reply that treats it as text."""
        msg = self.pkg1().replace("<LocURI>contacts</LocURI>",
                                  "<LocURI>&foo;</LocURI>")
        self.assert_plain_error(sc.post(self.url, msg), 400)

    def test_invalid_utf8_in_header(self):
        """Bytes that are not UTF-8 make the document not well-formed: 400.
        Whatever the answer, it must itself be well-formed XML."""
        msg = self.pkg1().replace("<LocURI>contacts</LocURI>",
                                  "<LocURI>BAD</LocURI>").encode()
        status, headers, body = sc.post(
            self.url, msg.replace(b">BAD<", b">\xff\xfe<"))
        if status == 200:
            sc.Reply(status, headers, body)   # raises unless well-formed
        self.assert_plain_error((status, headers, body), 400)

    def test_invalid_utf8_item_is_not_stored(self):
        """A vCard with bytes that are not UTF-8 must be refused (the whole
        message with 400, or the Add with an error status) and must never
        poison the store: the user's next slow sync still gets well-formed
        replies.  Uses its own user, so a poisoned store cannot break the
        other tests' probe sessions."""
        self.server.add_user("eve", "eve-pw")
        s = sc.RawSession(self.url, "eve-dev-1", "eve", "eve-pw")
        s.start()
        card = vcards.contact(3).replace("TITLE:", "TITLE:BAD")
        msg = s.next_message(s.sync_body(adds=[("1", card)])).encode()
        status, headers, body = sc.post(
            s.next_url, msg.replace(b"TITLE:BAD", b"TITLE:\xff\xfe"))
        if status == 200:
            reply = sc.Reply(status, headers, body)
            adds = [int(st.findtext("Data")) for st in reply.statuses("Add")]
            accepted = not adds or adds[0] < 300
        else:
            self.assertEqual(status, 400, body[:300])
            accepted = False
        # Whatever happened, eve's store must still sync.
        try:
            check = sc.slow_sync(self.url, "eve-dev-2", "eve", "eve-pw")
        except sc.ProtocolError as e:
            self.fail(f"store poisoned (Add accepted: {accepted}): the next "
                      f"slow sync failed: {str(e)[:400]}")
        self.assertFalse(accepted, "invalid UTF-8 vCard accepted (Add 2xx)")
        self.assertEqual(check.received, {})

    # -- SyncML level -------------------------------------------------------

    def test_wrong_password(self):
        reply = self.syncml_reply(sc.post(
            self.url, self.pkg1(password=PASSWORD + "x")))
        self.assert_challenge(reply, 401)

    def test_unknown_user(self):
        reply = self.syncml_reply(sc.post(
            self.url, self.pkg1(user="nobody")))
        self.assert_challenge(reply, 401)

    def test_md5_credentials(self):
        """md5 needs the nonce the server issued to this device: a digest
        made with none is refused (401 + nonce); one made with the issued
        nonce is accepted (212); replaying it is refused again."""
        def attempt(session, nonce_bytes):
            msg = sc.message(self.url, "bad-input-md5", session, 1,
                             sc.alert_cmd(1, 201, "contacts") + "<Final/>",
                             sc.md5_cred(USER, PASSWORD, nonce_bytes),
                             loc_name=USER)
            return self.syncml_reply(sc.post(self.url, msg))
        nonce = self.assert_challenge(attempt("1", b""), 401)
        accepted = attempt("2", base64.b64decode(nonce))
        hdr = accepted.statuses("SyncHdr")[0]
        self.assertEqual(hdr.findtext("Data"), "212", accepted.text())
        self.assertNotEqual(hdr.findtext("Chal/Meta/NextNonce"), nonce)
        self.assert_challenge(attempt("3", base64.b64decode(nonce)), 401)

    def test_missing_credentials(self):
        reply = self.syncml_reply(sc.post(
            self.url, self.pkg1(user=None)))
        self.assert_challenge(reply, 407)

    def test_password_not_logged(self):
        sc.post(self.url, self.pkg1(password="N0t-Logged-Secret"))
        sc.slow_sync(self.url, "bad-input-log", USER, PASSWORD)
        log = self.server.log_text()
        self.assertNotIn("N0t-Logged-Secret", log)
        self.assertNotIn(PASSWORD, log)

    # -- load ---------------------------------------------------------------

    def test_concurrent_connections(self):
        """20 connections open at once, each with a valid pkg 1 sent before
        any answer is read: every one gets its own session."""
        conns = [http.client.HTTPConnection("127.0.0.1", self.server.port,
                                            timeout=60) for _ in range(20)]
        try:
            for c in conns:
                c.connect()
            for i, c in enumerate(conns):
                c.request("POST", "/sync",
                          body=self.pkg1(device=f"concurrent-{i}").encode(),
                          headers={"Content-Type": SYNCML_XML})
            replies = []
            for c in conns:
                r = c.getresponse()
                replies.append(self.syncml_reply(
                    (r.status, dict(r.headers), r.read())))
        finally:
            for c in conns:
                c.close()
        for i, reply in enumerate(replies):
            self.assertIn(reply.hdr_status(), (200, 212), reply.text())
            self.assertEqual(reply.root.findtext("SyncHdr/Target/LocURI"),
                             f"concurrent-{i}")
            self.assertEqual(
                [s.findtext("Data") for s in reply.statuses("Alert")],
                ["200"], reply.text())
        self.assertEqual(len({r.resp_uri for r in replies}), 20,
                         "sessions share a RespURI")

    # -- the real client, last (tests run in name order) --------------------

    def test_zz_real_client_after_all(self):
        """After everything above, SyncEvolution slow-syncs and receives
        exactly the contacts the probe sessions stored."""
        self.assert_still_serving()
        device = self.make_device(self.server, "dev-final", USER, PASSWORD)
        _, out = device.sync("slow")
        counts = parse_summary(out)["contacts"]
        got = vcards.by_fn(device.items("contacts").values())
        self.assertEqual(set(got), self.probe_fns)
        self.assertEqual(local_changes(counts), (len(self.probe_fns), 0, 0))
        for fn, text in got.items():
            index = int(fn.rsplit(" ", 1)[1])
            self.assertTrue(vcards.same_contact(vcards.contact(index), text),
                            vcards.contact_diff(vcards.contact(index), text))
        self.assertTrue(self.server.running())


if __name__ == "__main__":
    unittest.main(verbosity=2)
