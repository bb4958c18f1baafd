"""HTTP proxies on loopback that stand between a SyncML client and Conflux
servers: a load balancer without session affinity (RoundRobinProxy), and a
gate that stops a session at a chosen message (GateProxy).  A proxy looks
like a server to make_device(): it has a `url`."""

import http.client
import itertools
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


class _Proxy:
    """Serves POSTs on a free loopback port; forward() passes one to a
    server and the answer back.  Subclasses decide where each goes."""

    def __init__(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                proxy.on_post(self, body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       daemon=True)
        self.thread.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/sync"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    @staticmethod
    def forward(handler, body, target_url):
        """Sends `body` to target_url and its answer to the client.  A
        server that does not answer closes the client's connection
        unanswered, as a dead server would."""
        target = urlsplit(target_url)
        conn = http.client.HTTPConnection(target.hostname, target.port,
                                          timeout=120)
        try:
            conn.request("POST", handler.path, body,
                         {"Content-Type": handler.headers["Content-Type"]})
            answer = conn.getresponse()
            data = answer.read()
        except OSError:
            handler.close_connection = True
            return
        finally:
            conn.close()
        handler.send_response(answer.status)
        for name in ("Content-Type", "Retry-After"):
            if answer.getheader(name):
                handler.send_header(name, answer.getheader(name))
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)


class RoundRobinProxy(_Proxy):
    """Sends each POST to the next of `targets` (URLs) in turn and counts
    how many each one answered."""

    def __init__(self, targets):
        self.targets = list(targets)
        self.served = [0] * len(self.targets)
        self._turn = itertools.count()
        self._lock = threading.Lock()
        super().__init__()

    def on_post(self, handler, body):
        with self._lock:
            i = next(self._turn) % len(self.targets)
            self.served[i] += 1
        self.forward(handler, body, self.targets[i])


class GateProxy(_Proxy):
    """Forwards the first `open_for` POSTs to `server` (its url is read at
    each POST, so a restarted server is found) and holds the next one
    unanswered until open() is called: the server has then processed
    exactly `open_for` messages of the session, whatever the machine's
    speed.  After open() every POST, the held one included, is forwarded."""

    def __init__(self, server, open_for):
        self.server = server
        self.open_for = open_for
        self.holding = threading.Event()
        self._opened = threading.Event()
        self._count = itertools.count()
        super().__init__()

    def on_post(self, handler, body):
        if next(self._count) >= self.open_for and not self._opened.is_set():
            self.holding.set()
            self._opened.wait()
        self.forward(handler, body, self.server.url)

    def wait_holding(self, timeout):
        if not self.holding.wait(timeout):
            raise AssertionError(
                f"the client did not send message {self.open_for + 1} "
                f"within {timeout} s")

    def open(self):
        self._opened.set()

    def close(self):
        self.open()
        super().close()
