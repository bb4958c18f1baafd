#!/usr/bin/python3
"""API tokens for programs (`conflux token create|list|revoke`) against the
portal's JMAP-style API over a real HTTP socket.

test_token_lifecycle:
  1. `conflux token create` prints the token once on stdout; the state
     database holds only its hash (the token's text is nowhere in it);
  2. "Authorization: Bearer <token>" reads the session resource and creates,
     gets and queries contacts as the token's user, and only theirs (another
     user's item id is notFound);
  3. a --read-only token reads but its writes are forbidden; a token whose
     user may only read a datastore cannot write there either;
  4. `conflux token list [USER]` shows id, user, access and name, never the
     token;
  5. `conflux token revoke ID` while the server runs: the very next call with
     that token is 401, the other token still works; revoking again, an
     unknown user and an empty name fail with one clear line;
  6. the portal login's session token still works as a Bearer token;
  7. removing the user removes their tokens.
test_session_cookie_and_csrf: the page's login sets a cookie that is
  HttpOnly and SameSite=Strict, and Secure once [server] public_url is
  https; a POST with the cookie but without the right X-CSRF-Token is 403,
  with it 200; GETs need no CSRF token.
Run with CONFLUX_TEST_STORE=postgresql too (tokens in PostgreSQL).

Run: CONFLUX_BIN=/path/to/conflux /usr/bin/python3 test_api_tokens.py
"""

import json
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pg_server  # noqa: E402
from conflux_server import IntegrationTest, error_lines, http_request  # noqa: E402

USER, PASSWORD = "tia", "Token-pw-4"
OTHER, OTHER_PASSWORD = "uwe", "Other-pw-8"
USING = ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:contacts"]

STORES = (
    '[stores.contacts]\nadapter = "sqlite"\ncontent_type = "text/vcard"\n'
    'content_version = "3.0"\n'
    '[stores.directory]\nadapter = "sqlite"\ncontent_type = "text/vcard"\n'
    'content_version = "3.0"\naccess = "read-only"\n')


def card(full):
    given, surname = full.split()
    return {"@type": "Card",
            "name": {"full": full,
                     "components": [{"kind": "given", "value": given},
                                    {"kind": "surname", "value": surname}]}}


class ApiTokenTest(IntegrationTest):

    def api(self, token, calls):
        """(HTTP status, parsed body) of one POST to /jmap/api with a Bearer token."""
        body = json.dumps({"using": USING, "methodCalls": calls}).encode()
        status, _, out = http_request(
            self.server.base_url + "/jmap/api", "POST", body,
            {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        return status, json.loads(out)

    def call(self, token, name, args):
        status, out = self.api(token, [[name, args, "c0"]])
        self.assertEqual(status, 200, out)
        [[rname, rargs, _]] = out["methodResponses"]
        return rname, rargs

    def create_token(self, *args):
        proc = self.server.cli("token", "create", *args)
        token = proc.stdout.strip()
        self.assertRegex(token, r"^cfx_[0-9a-f]{64}$")
        self.assertIn("will not be shown again", proc.stderr)
        return token

    def token_ids(self, user=None):
        """{name: (id, user, access)} as `conflux token list` prints them."""
        out = self.server.cli("token", "list", *([user] if user else [])).stdout
        lines = out.splitlines()
        if lines == ["no API tokens"]:
            return {}
        self.assertEqual(lines[0].split("\t"), ["id", "user", "access", "created", "name"])
        rows = {}
        for line in lines[1:]:
            tid, who, access, _created, name = line.split("\t")
            rows[name] = (tid, who, access)
        return rows

    def stored_text(self):
        """Everything the account tables hold, as text."""
        if self.server.database:
            return pg_server.shared().psql(
                self.server.database,
                "SELECT user_name || ' ' || label || ' ' || token_hash FROM api_tokens")
        import sqlite3
        db = sqlite3.connect(self.server.data_dir / "conflux.db")
        try:
            return "\n".join(" ".join(str(v) for v in row)
                             for row in db.execute("SELECT * FROM api_tokens"))
        finally:
            db.close()

    def test_token_lifecycle(self):
        self.server = self.make_server(STORES)
        self.server.add_user(USER, PASSWORD)
        self.server.add_user(OTHER, OTHER_PASSWORD)
        self.server.start()

        writer = self.create_token(USER, "--name", "backup script")
        reader = self.create_token(USER, "--name", "dashboard", "--read-only")
        others = self.create_token(OTHER)
        stored = self.stored_text()
        self.assertIn("backup script", stored)
        for token in (writer, reader, others):
            self.assertNotIn(token[4:], stored)

        # The session resource and the API, as the token's user.
        status, _, body = http_request(self.server.base_url + "/.well-known/jmap",
                                       headers={"Authorization": f"Bearer {writer}"})
        self.assertEqual(status, 200, body)
        session = json.loads(body)
        self.assertEqual(session["username"], USER)
        self.assertEqual(sorted(session["accounts"]), ["contacts", "directory"])
        name, out = self.call(writer, "ContactCard/set",
                              {"accountId": "contacts", "create": {"k": card("Tok En")}})
        self.assertEqual(name, "ContactCard/set", out)
        created = out["created"]["k"]["id"]
        name, out = self.call(writer, "ContactCard/get", {"accountId": "contacts", "ids": [created]})
        self.assertEqual([c["name"]["full"] for c in out["list"]], ["Tok En"])
        # The other user's token sees none of it.
        name, out = self.call(others, "ContactCard/get", {"accountId": "contacts", "ids": [created]})
        self.assertEqual((out["list"], out["notFound"]), ([], [created]))
        name, out = self.call(others, "ContactCard/query", {})
        self.assertEqual(out["ids"], [])

        # A read-only token reads, and cannot write; nor can a read-write
        # token where the user may only read.
        name, out = self.call(reader, "ContactCard/query", {"accountId": "contacts"})
        self.assertEqual(out["ids"], [created])
        name, out = self.call(reader, "ContactCard/set",
                              {"accountId": "contacts", "create": {"k": card("Re Ad")}})
        self.assertEqual(out["notCreated"]["k"]["type"], "forbidden", out)
        name, out = self.call(writer, "ContactCard/set",
                              {"accountId": "directory", "create": {"k": card("Di Rect")}})
        self.assertEqual(out["notCreated"]["k"]["type"], "forbidden", out)

        # The list shows names and access, never a token.
        listed = self.token_ids()
        self.assertEqual({n: (w, a) for n, (_, w, a) in listed.items()},
                         {"backup script": (USER, "read-write"),
                          "dashboard": (USER, "read-only"), "api": (OTHER, "read-write")})
        self.assertEqual(sorted(self.token_ids(USER)), ["backup script", "dashboard"])
        listing = self.server.cli("token", "list").stdout
        for token in (writer, reader, others):
            self.assertNotIn(token[4:], listing)

        # Revoked while the server runs: refused from the next call on.
        writer_id = listed["backup script"][0]
        self.assertEqual(self.server.cli("token", "revoke", writer_id).stdout.strip(),
                         f"revoked token {writer_id}")
        status, out = self.api(writer, [["ContactCard/query", {}, "c0"]])
        self.assertEqual(status, 401, out)
        status, _, _ = http_request(self.server.base_url + "/.well-known/jmap",
                                    headers={"Authorization": f"Bearer {writer}"})
        self.assertEqual(status, 401)
        status, out = self.api(reader, [["ContactCard/query", {}, "c0"]])
        self.assertEqual(status, 200, out)
        self.assertEqual(sorted(self.token_ids(USER)), ["dashboard"])
        # A made-up token is refused alike.
        status, _ = self.api("cfx_" + "0" * 64, [["ContactCard/query", {}, "c0"]])
        self.assertEqual(status, 401)

        # Bad input: one clear line each, nothing made.
        again = self.server.cli("token", "revoke", writer_id, check=False)
        self.assertEqual(again.returncode, 1)
        self.assertEqual(again.stderr.strip(), f"conflux: no API token {writer_id}")
        nobody = self.server.cli("token", "create", "nobody", check=False)
        self.assertEqual((nobody.returncode, nobody.stdout), (1, ""))
        self.assertEqual(nobody.stderr.strip(), "conflux: no user 'nobody'")
        unnamed = self.server.cli("token", "create", USER, "--name", "", check=False)
        self.assertEqual(unnamed.returncode, 1)
        self.assertIn("token name", unnamed.stderr)

        # The portal login's session token still works as a Bearer token.
        status, _, body = http_request(
            self.server.base_url + "/portal/login", "POST",
            json.dumps({"username": USER, "password": PASSWORD}).encode(),
            {"Content-Type": "application/json"})
        self.assertEqual(status, 200, body)
        status, out = self.api(json.loads(body)["accessToken"], [["ContactCard/query", {}, "c0"]])
        self.assertEqual(status, 200, out)
        self.assertEqual(out["methodResponses"][0][1]["ids"], [created])

        # The account goes, and its tokens with it.
        self.server.cli("user", "remove", USER)
        status, _ = self.api(reader, [["ContactCard/query", {}, "c0"]])
        self.assertEqual(status, 401)
        self.assertEqual(sorted(self.token_ids()), ["api"])

        self.server.stop()
        log = self.server.log_text()
        self.assertEqual(error_lines(log), [])
        for token in (writer, reader, others):
            self.assertNotIn(token[4:], log)

    def login(self):
        """(Set-Cookie header, parsed body) of POST /portal/login."""
        status, headers, body = http_request(
            self.server.base_url + "/portal/login", "POST",
            json.dumps({"username": USER, "password": PASSWORD}).encode(),
            {"Content-Type": "application/json"})
        self.assertEqual(status, 200, body)
        return headers["Set-Cookie"], json.loads(body)

    def test_session_cookie_and_csrf(self):
        self.server = self.make_server(STORES)
        self.server.add_user(USER, PASSWORD)
        self.server.start()
        cookie_header, body = self.login()
        attributes = [a.strip() for a in cookie_header.split(";")]
        self.assertTrue(attributes[0].startswith("conflux_session="), cookie_header)
        self.assertIn("HttpOnly", attributes)
        self.assertIn("SameSite=Strict", attributes)
        self.assertNotIn("Secure", attributes)  # plain http here
        cookie = attributes[0]
        request = json.dumps({"using": USING, "methodCalls": [["ContactCard/query", {}, "c0"]]}).encode()

        def post(headers):
            return http_request(self.server.base_url + "/jmap/api", "POST", request,
                                {"Content-Type": "application/json", "Cookie": cookie, **headers})[0]

        # A cross-site page's POST carries the cookie but cannot know the token.
        self.assertEqual(post({}), 403)
        self.assertEqual(post({"X-CSRF-Token": "0" * 64}), 403)
        self.assertEqual(post({"X-CSRF-Token": body["csrfToken"]}), 200)
        status, _, _ = http_request(self.server.base_url + "/.well-known/jmap",
                                    headers={"Cookie": cookie})
        self.assertEqual(status, 200)
        self.server.stop()

        # Behind TLS (public_url https) the cookie is Secure too.
        self.server = self.make_server(
            STORES + '[server]\npublic_url = "https://sync.example.org/sync"\n', name="tls")
        self.server.add_user(USER, PASSWORD)
        self.server.start()
        cookie_header, _ = self.login()
        self.assertIn("Secure", [a.strip() for a in cookie_header.split(";")])
        self.server.stop()


if __name__ == "__main__":
    unittest.main()
