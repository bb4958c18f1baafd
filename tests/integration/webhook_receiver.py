"""A webhook receiver for the integration tests: an HTTP server on loopback
in a thread that records every POST (path, headers, body) and answers what
the test says per path: a status code, a (status code, {header: value})
pair, or "hang" (hold the request open until release_hung() — to crash the
sender mid-delivery).

verify_standard_webhook() checks a request exactly as the Standard Webhooks
specification says, with Python's own hmac: an implementation independent
of the server's (OpenSSL)."""

import base64
import hashlib
import hmac
import http.server
import threading


def verify_standard_webhook(secret, headers, body):
    """True when headers carry webhook-id, webhook-timestamp and a
    webhook-signature entry v1,<base64 HMAC-SHA256(key, id.timestamp.body)>
    for the whsec_ secret."""
    assert secret.startswith("whsec_")
    key = base64.b64decode(secret[len("whsec_"):])
    msg_id = headers.get("webhook-id")
    timestamp = headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature", "")
    if not msg_id or not timestamp or not timestamp.isdigit():
        return False
    signed = f"{msg_id}.{timestamp}.".encode() + body
    expected = base64.b64encode(
        hmac.new(key, signed, hashlib.sha256).digest()).decode()
    for entry in signatures.split(" "):
        version, _, value = entry.partition(",")
        if version == "v1" and hmac.compare_digest(value, expected):
            return True
    return False


class WebhookReceiver:
    def __init__(self):
        self.requests = []          # (path, {header: value}, body)
        self.answers = {}           # path -> status code or "hang"
        self._lock = threading.Lock()
        self._release = threading.Event()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver._lock:
                    receiver.requests.append((self.path, headers, body))
                    answer = receiver.answers.get(self.path, 200)
                if answer == "hang":
                    receiver._release.wait()
                    return
                status, extra = answer if isinstance(answer, tuple) \
                    else (answer, {})
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                       Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        daemon=True)
        self._thread.start()

    def url(self, path):
        return f"http://127.0.0.1:{self._server.server_address[1]}{path}"

    def answer(self, path, what):
        with self._lock:
            self.answers[path] = what

    def received(self, path):
        with self._lock:
            return [r for r in self.requests if r[0] == path]

    def release_hung(self):
        self._release.set()

    def close(self):
        self._release.set()
        self._server.shutdown()
        self._server.server_close()
