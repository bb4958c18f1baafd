#!/usr/bin/python3
"""TLS on the listener (issue #19 part 3), with certificates from a test CA
that each test makes with the `openssl` command:

  - the real SyncEvolution client syncs over HTTPS, verifying the server's
    certificate against the test CA (and refuses a server it cannot verify);
  - a plain-HTTP request to the TLS port gets a 400 in the clear, and the
    server goes on serving;
  - a handshake that stalls is dropped after the header timeout, and the
    per-address cap answers 503 over TLS;
  - a renewed certificate is served after SIGHUP; files that do not load
    are refused and the old certificate stays;
  - behind a proxy that terminates TLS, RespURI and the portal's URLs say
    https.

Run: CONFLUX_BIN=/path/to/conflux /usr/bin/python3 test_tls.py
"""

import base64
import http.client
import json
import os
import re
import socket
import ssl
import subprocess
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import syncml_client as sc  # noqa: E402
import vcards  # noqa: E402
from conflux_server import (IntegrationTest, conflux_binary,  # noqa: E402
                            error_lines, http_request, poll_until)

USER, PASSWORD = "alice", "Tls-test-pw-7"
WAIT = 60  # bound on any single wait for the server; never a threshold


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


class TestCa:
    """A CA in `directory` (ca.pem, ca.key) that signs server certificates
    for 127.0.0.1 and localhost."""

    def __init__(self, directory, name="Conflux Test CA"):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.cert = self.dir / "ca.pem"
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "ca.key",
                "-out", "ca.pem", "-days", "2", "-subj", f"/CN={name}",
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                cwd=self.dir)

    def issue(self, name):
        """A server certificate and key, (cert path, key path)."""
        openssl("req", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", f"{name}.key", "-out", f"{name}.csr",
                "-subj", "/CN=127.0.0.1", cwd=self.dir)
        (self.dir / f"{name}.ext").write_text(
            "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
            "basicConstraints=CA:FALSE\n"
            "keyUsage=critical,digitalSignature\n"
            "extendedKeyUsage=serverAuth\n")
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem",
                "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
                "-extfile", f"{name}.ext", "-out", f"{name}.pem", cwd=self.dir)
        return self.dir / f"{name}.pem", self.dir / f"{name}.key"

    def client_context(self):
        return ssl.create_default_context(cafile=str(self.cert))


def served_certificate(port, context):
    """The DER bytes of the certificate a new TLS connection is shown."""
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as raw:
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as s:
            return s.getpeercert(binary_form=True)


def der(pem_path):
    return ssl.PEM_cert_to_DER_cert(Path(pem_path).read_text())


class TlsTest(IntegrationTest):

    def tls_server(self, extra=""):
        self.ca = TestCa(self.tmp / "ca")
        self.cert, self.key = self.ca.issue("server")
        server = self.make_server(
            f"[server]\ntls_certificate = \"{self.cert}\"\n"
            f"tls_key = \"{self.key}\"\n" + extra)
        server.ssl_context = self.ca.client_context()
        server.start()  # checks GET /health over https
        self.assertEqual(server.scheme, "https")
        return server

    def https_device(self, server, name, ca_file):
        return self.make_device(server, name, USER, PASSWORD, extra={
            "SSLServerCertificates": str(ca_file),
            "SSLVerifyServer": "1",
            "SSLVerifyHost": "1",
        })

    def test_syncevolution_syncs_over_https_with_a_test_ca(self):
        server = self.tls_server()
        server.add_user(USER, PASSWORD)
        self.assertTrue(server.url.startswith("https://"), server.url)
        a = self.https_device(server, "a", self.ca.cert)
        contact = vcards.contact(1)
        a.write_item("contacts", "one.vcf", contact)
        a.sync("slow")
        b = self.https_device(server, "b", self.ca.cert)
        b.sync("slow")
        fns = [vcards.fn_of(text) for text in b.items("contacts").values()]
        self.assertEqual(fns, [vcards.fn_of(contact)])

        # A client that trusts another CA refuses this server: the
        # certificate is really checked, not waved through.
        other_ca = TestCa(self.tmp / "other-ca", "Another CA")
        c = self.https_device(server, "c", other_ca.cert)
        code, out = c.sync("slow", expect_ok=False)
        self.assertNotEqual(code, 0, out)
        self.assertEqual(c.items("contacts"), {})
        self.assertFalse(error_lines(server.log_text()),
                         "\n".join(error_lines(server.log_text())))
        self.assertNotIn(PASSWORD, server.log_text())
        server.stop()

    def test_plain_http_to_the_tls_port_gets_400_and_the_server_stays_up(self):
        server = self.tls_server()
        with socket.create_connection(("127.0.0.1", server.port),
                                      timeout=WAIT) as s:
            s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            raw = b""
            while chunk := s.recv(65536):
                raw += chunk
        self.assertTrue(raw.startswith(b"HTTP/1.1 400 "), raw)
        self.assertIn(b"https://", raw)
        # Not a TLS handshake nor HTTP at all: closed without an answer.
        with socket.create_connection(("127.0.0.1", server.port),
                                      timeout=WAIT) as s:
            s.sendall(b"\x00\x01garbage\r\n\r\n")
            self.assertEqual(s.recv(65536), b"")
        status, _, body = http_request(server.base_url + "/health",
                                       context=server.ssl_context)
        self.assertEqual((status, body), (200, b"ok\n"))
        server.stop()

    def test_stalled_handshake_is_dropped_after_the_header_timeout(self):
        server = self.tls_server("header_timeout_seconds = 1\n")
        with socket.create_connection(("127.0.0.1", server.port),
                                      timeout=WAIT) as s:
            s.sendall(b"\x16\x03\x01")  # the start of a ClientHello, no more
            self.assertEqual(s.recv(1024), b"")  # closed, well before WAIT
        # The server logs it after closing: wait for the line.
        poll_until(lambda: "TLS handshake failed: not complete in time" in
                   server.log_text(), WAIT, what="the handshake's log line")
        server.stop()

    def test_per_address_cap_answers_503_over_tls(self):
        server = self.tls_server("max_connections_per_address = 2\n")
        # From an address of their own: the start-up /health connection
        # may not be gone yet on the server's side.
        client = "127.0.0.2"
        stalled = []
        try:
            for _ in range(2):
                stalled.append(socket.create_connection(
                    ("127.0.0.1", server.port), timeout=WAIT,
                    source_address=(client, 0)))
            conn = http.client.HTTPSConnection(
                "127.0.0.1", server.port, timeout=WAIT,
                context=server.ssl_context, source_address=(client, 0))
            conn.request("GET", "/health")
            r = conn.getresponse()
            self.assertEqual(r.status, 503)
            self.assertEqual(r.getheader("Retry-After"), "5")
            self.assertIn(b"too many connections from your address", r.read())
            conn.close()
        finally:
            for s in stalled:
                s.close()
        server.stop()

    def test_renewed_certificate_is_served_after_sighup(self):
        server = self.tls_server()
        self.assertEqual(served_certificate(server.port, server.ssl_context),
                         der(self.cert))
        # Renewal writes new files at the same paths.
        renewed, renewed_key = self.ca.issue("renewed")
        self.cert.write_bytes(renewed.read_bytes())
        self.key.write_bytes(renewed_key.read_bytes())
        server.cli("reload")
        poll_until(lambda: f"TLS certificate {self.cert} loaded" in
                   server.log_text(), WAIT, what="the reload's log line")
        self.assertEqual(served_certificate(server.port, server.ssl_context),
                         der(renewed))

        # A key that does not match: the reload is refused, the renewed
        # certificate stays in force.
        _, stranger_key = self.ca.issue("stranger")
        self.key.write_bytes(stranger_key.read_bytes())
        server.cli("reload")
        poll_until(lambda: "does not belong to the certificate" in
                   server.log_text(), WAIT, what="the refusal")
        self.assertIn("reload refused", server.log_text())
        self.assertEqual(served_certificate(server.port, server.ssl_context),
                         der(renewed))
        server.stop()

    def test_missing_certificate_stops_the_start_with_one_line(self):
        server = self.make_server(
            f"[server]\ntls_certificate = \"{self.tmp}/none.pem\"\n"
            f"tls_key = \"{self.tmp}/none.key\"\n")
        with self.assertRaises(AssertionError) as failed:
            server.start()
        self.assertIn("cannot start", str(failed.exception))
        self.assertIn("none.pem", str(failed.exception))


class BehindTlsProxyTest(IntegrationTest):
    """A proxy in front terminates TLS and talks plain HTTP to Conflux."""

    def test_resp_uri_keeps_the_https_url_the_client_used(self):
        server = self.make_server()
        server.start()
        server.add_user(USER, PASSWORD)
        # The client addressed the proxy's https URL; the proxy passed the
        # body on unchanged, so SyncHdr Target names that URL.
        body = sc.pkg1("https://sync.example.org/sync", "tls-proxy-dev",
                       USER, PASSWORD)
        status, _, raw = http_request(server.url, "POST", body.encode(),
                                      {"Content-Type": sc.SYNCML_TYPE})
        self.assertEqual(status, 200, raw)
        resp_uri = sc.find_resp_uri(raw.decode())
        self.assertTrue(resp_uri.startswith("https://sync.example.org/sync?sid="),
                        resp_uri)
        server.stop()

    def test_public_url_sets_resp_uri_and_portal_urls(self):
        server = self.make_server(
            "[server]\npublic_url = \"https://sync.example.org\"\n")
        server.start()
        server.add_user(USER, PASSWORD)
        body = sc.pkg1("http://127.0.0.1/sync", "tls-proxy-dev2",
                       USER, PASSWORD)
        status, _, raw = http_request(server.url, "POST", body.encode(),
                                      {"Content-Type": sc.SYNCML_TYPE})
        self.assertEqual(status, 200, raw)
        self.assertTrue(sc.find_resp_uri(raw.decode()).startswith(
            "https://sync.example.org/sync?sid="))
        server.stop()

    def test_portal_believes_x_forwarded_proto_only_from_trusted_proxies(self):
        server = self.make_server('[auth]\ntrusted_proxies = ["127.0.0.1"]\n')
        server.start()
        server.add_user(USER, PASSWORD)
        auth = "Basic " + base64.b64encode(
            f"{USER}:{PASSWORD}".encode()).decode()
        status, _, raw = http_request(
            server.base_url + "/.well-known/jmap",
            headers={"Authorization": auth, "X-Forwarded-Proto": "https",
                     "Host": "sync.example.org"})
        self.assertEqual(status, 200, raw)
        self.assertTrue(json.loads(raw)["apiUrl"].startswith(
            "https://sync.example.org/"), raw)

        untrusted = self.make_server(name="untrusted")
        untrusted.start()
        untrusted.add_user(USER, PASSWORD)
        status, _, raw = http_request(
            untrusted.base_url + "/.well-known/jmap",
            headers={"Authorization": auth, "X-Forwarded-Proto": "https",
                     "Host": "sync.example.org"})
        self.assertEqual(status, 200, raw)
        self.assertTrue(json.loads(raw)["apiUrl"].startswith(
            "http://sync.example.org/"), raw)
        server.stop()
        untrusted.stop()


class DoctorTlsTest(IntegrationTest):

    def test_doctor_checks_the_tls_files(self):
        ca = TestCa(self.tmp / "ca")
        cert, key = ca.issue("server")
        server = self.make_server(
            f"[server]\ntls_certificate = \"{cert}\"\ntls_key = \"{key}\"\n")
        server.add_user(USER, PASSWORD)
        found = server.cli("doctor", check=False)
        # The test CA's certificates live two days: doctor warns that the
        # renewal is due, and nothing is broken.
        self.assertEqual(found.returncode, 0, found.stdout)
        self.assertRegex(found.stdout, rf"(?m)^warn\s+TLS {re.escape(str(cert))}: the certificate expires in [0-2] days?: renew it")
        # A key that is not the certificate's is named, as the server's start would refuse it.
        _, other_key = ca.issue("other")
        key.write_bytes(other_key.read_bytes())
        found = server.cli("doctor", check=False)
        self.assertEqual(found.returncode, 1, found.stdout)
        self.assertRegex(found.stdout, rf"(?m)^BROKEN\s+TLS {re.escape(str(cert))}: .*correct server\.tls_certificate")


class ExampleConfigTest(IntegrationTest):

    def test_the_example_config_is_valid(self):
        example = Path(__file__).resolve().parents[2] / "packaging" / \
            "conflux.toml"
        proc = subprocess.run(
            [conflux_binary(), "--config", str(example),
             "--data-dir", str(self.tmp / "data"), "check-config"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stdout)


if __name__ == "__main__":
    unittest.main()
