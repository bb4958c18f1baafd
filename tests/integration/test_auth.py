#!/usr/bin/python3
"""Authentication and protocol versions against a running Conflux server.

- The real SyncEvolution client authenticates with syncml:auth-md5, in XML
  and in WBXML: with a wrong password it gets 401 and syncs nothing; with the
  right one the next sync works and its contact reaches the server.
- A SyncML 1.0 client (hand-made messages over HTTP) gets 1.0 answers, a
  basic-auth challenge and the server's DevInf 1.0.

Run: CONFLUX_BIN=/path/to/conflux /usr/bin/python3 test_auth.py
"""

import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import syncml_client as sc  # noqa: E402
import vcards  # noqa: E402
from conflux_server import IntegrationTest  # noqa: E402
from sync_summary import parse_summary  # noqa: E402

USER, PASSWORD = "alice", "Md5-auth-pw"


class AuthTest(IntegrationTest):

    def start_server(self, name="server"):
        server = self.make_server("[auth]\nmd5 = true\n", name=name)
        server.add_user(USER, PASSWORD)
        server.start()
        return server

    def test_md5_wrong_password_is_401_then_the_right_one_syncs(self):
        for wbxml in (False, True):
            with self.subTest(wbxml=wbxml):
                self.md5_wrong_then_right(wbxml)

    def md5_wrong_then_right(self, wbxml):
        suffix = "-wbxml" if wbxml else "-xml"
        server = self.start_server("server" + suffix)
        phone = self.make_device(server, "phone" + suffix, USER,
                                 "wrong-password", wbxml=wbxml,
                                 extra={"clientAuthType": "md5"})
        card = vcards.contact(1)
        phone.write_item("contacts", "c1.vcf", card)
        log_start = len(server.log_text())

        code, out = phone.sync("slow", expect_ok=False)
        self.assertNotEqual(code, 0, out[-2000:])
        # The server checked an MD5 digest and said no ...
        refused = server.log_text()[log_start:]
        self.assertIn("authentication refused (syncml:auth-md5:", refused)
        self.assertNotIn("authentication refused (syncml:auth-basic", refused)
        # ... and the client got 401 for its SyncHdr.
        log_dir = phone.session_log_dir()
        self.assertIsNotNone(log_dir, out[-2000:])
        client_log = (log_dir / "syncevolution-log.html").read_text(
            errors="replace")
        self.assertIn("Authentication failed (status=401)", client_log)
        self.assertIn("Remote requests auth type='syncml:auth-md5'",
                      client_log)

        phone._run(["--configure", f"password={PASSWORD}", phone.name],
                   expect_ok=True, timeout=120)
        code, out = phone.sync("slow")
        self.assertEqual(code, 0, out[-2000:])
        self.assertEqual(parse_summary(out)["contacts"].remote_new, 1, out)
        # Another device of the same user receives the contact.
        tablet = self.make_device(server, "tablet" + suffix, USER, PASSWORD)
        tablet.sync("slow")
        got = list(tablet.items("contacts").values())
        self.assertEqual([vcards.fn_of(c) for c in got], [vcards.fn_of(card)])

    def test_syncml_10_client_gets_10_answers(self):
        server = self.start_server()
        url, device = server.url, "IMEI:351234567890123"
        get = ("<Get><CmdID>2</CmdID><Meta><Type xmlns='syncml:metinf'>"
               "application/vnd.syncml-devinf+xml</Type></Meta><Item><Target>"
               "<LocURI>./devinf10</LocURI></Target></Item></Get>")
        body = sc.alert_cmd(1, 201, "contacts") + get + "<Final/>"

        first = sc.post_syncml(url, sc.message(url, device, "1", 1, body,
                                               version="1.0"))
        self.assertIn('xmlns="SYNCML:SYNCML1.0"', first.text())
        self.assertEqual(first.root.findtext("SyncHdr/VerDTD"), "1.0")
        self.assertEqual(first.root.findtext("SyncHdr/VerProto"), "SyncML/1.0")
        self.assertEqual(first.hdr_status(), 407)
        chal_type = first.statuses("SyncHdr")[0].findtext("Chal/Meta/Type")
        self.assertEqual(chal_type, "syncml:auth-basic")

        # Nothing is kept for a message that did not authenticate (issue
        # #11): no RespURI; the credentials go to the sync URL afresh.
        self.assertIsNone(first.resp_uri)
        second = sc.post_syncml(url, sc.message(
            url, device, "1", 2, body, sc.basic_cred(USER, PASSWORD),
            version="1.0"))
        self.assertEqual(second.hdr_status(), 212)
        self.assertEqual(int(second.statuses("Alert")[0].findtext("Data")), 200)
        results = second.commands("Results")
        self.assertEqual(len(results), 1, second.text())
        self.assertEqual(results[0].findtext("Item/Source/LocURI"), "./devinf10")
        self.assertEqual(results[0].findtext("Item/Data/DevInf/VerDTD"), "1.0")

        card = vcards.contact(7)
        third = sc.post_syncml(second.resp_uri, sc.message(
            url, device, "1", 3,
            sc.sync_cmd(1, "contacts", adds=[("L1", card)]) + "<Final/>",
            version="1.0"))
        self.assertEqual(third.root.findtext("SyncHdr/VerDTD"), "1.0")
        adds = third.statuses("Add")
        self.assertEqual([int(s.findtext("Data")) for s in adds], [201],
                         third.text())


if __name__ == "__main__":
    unittest.main(verbosity=2)
