#!/usr/bin/python3
"""Three Conflux nodes on one PostgreSQL database ([storage] database) and
one shared back end, behind a real load balancer: HAProxy, then nginx
(Debian's packages, started by the test on loopback with a generated config
in the test's directory; round robin per request, no stickiness).

For each balancer:
  (a) SyncEvolution slow-syncs 1,000 contacts through it; the balancer's
      access log shows that session's messages (grouped by the ?sid= of the
      RespURI) answered by more than one node;
  (b) one node is stopped; HAProxy's health check on /health takes it out
      (its log says so), nginx passes a refused connection on to the next
      node; a two-way sync with edits, deletes and adds completes on the
      two nodes left;
  (c) the shared back end then holds exactly the 1,000 contacts with those
      changes, each once.

And the example configurations of docs/examples (haproxy.cfg, nginx.conf:
TLS termination, health checks, no stickiness; docs/LOAD-BALANCING.md) run
as documented, only addresses and files replaced: SyncEvolution, verifying
the certificate, syncs through each, every message over TLS and answered by
more than one node.

Run: CONFLUX_BIN=/path/to/conflux /usr/bin/python3 test_load_balancers.py
"""

import os
import re
import socket
import subprocess
import sys
import unittest
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pg_server  # noqa: E402
import vcards  # noqa: E402
from conflux_server import (IntegrationTest, http_request,  # noqa: E402
                            poll_until)
from engine_checks import doubled, server_fns  # noqa: E402
from test_tls import TestCa  # noqa: E402

DS = "contacts"
USER = "lena"
PASSWORD = "Balanced-pw-7"
NODES = ("a", "b", "c")
CONTACTS = 1000
START_TIMEOUT = 30     # seconds for a balancer to answer /health
HAPROXY = "/usr/sbin/haproxy"
NGINX = "/usr/sbin/nginx"


def free_port():
    """A loopback port nobody listens on now.  The nodes need the
    balancer's URL (public_url) before the balancer starts."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Balancer:
    """A load balancer process in `root`, in the foreground, its messages
    and access log in files there.  Subclasses write the config (config())
    and say how to read their access log (ACCESS: a regex with the groups
    `upstream` and `uri`)."""

    name = ""
    ACCESS = None

    def __init__(self, root, port, nodes, scheme="http", context=None):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.port = port
        self.nodes = nodes          # {name: ConfluxServer}, started
        self.scheme = scheme
        self.context = context      # ssl.SSLContext trusting it (https)
        self.proc = None

    @property
    def url(self):
        return f"{self.scheme}://127.0.0.1:{self.port}/sync"

    def start(self):
        with open(self.root / "stdout.log", "ab") as out:
            self.proc = subprocess.Popen(self.command(),
                                         stdin=subprocess.DEVNULL,
                                         stdout=out, stderr=out)

        def answering():
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"{self.name} exited with {self.proc.returncode}:\n"
                    f"{self.messages()}")
            try:
                status, _, body = http_request(
                    f"{self.scheme}://127.0.0.1:{self.port}/health",
                    timeout=5, context=self.context)
            except OSError:
                return False
            return (status, body.strip()) == (200, b"ok")

        poll_until(answering, START_TIMEOUT, what=f"{self.name} on /health")

    def close(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def messages(self):
        return (self.root / "stdout.log").read_text(errors="replace")

    def access_log(self):
        return self.messages()

    def access_lines(self):
        return [m for m in map(self.ACCESS.search,
                               self.access_log().splitlines()) if m]

    def requests_since(self, offset):
        """[(node name, request URI)] of the access log from line `offset`
        on, the node being the one that answered."""
        return [(self.node_of(m["upstream"]), m["uri"])
                for m in self.access_lines()[offset:]]

    def node_of(self, upstream):
        return upstream


class HAProxy(Balancer):
    name = "haproxy"
    ACCESS = re.compile(r"^access (?P<upstream>\S+) \d+ \S+ (?P<uri>\S+)$")

    def config(self):
        servers = "\n".join(
            f"    server {name} 127.0.0.1:{node.port}"
            for name, node in self.nodes.items())
        # `log stdout`: HAProxy logs to syslog otherwise; in the foreground
        # (-db) it writes there unprivileged, one raw line per request.
        return f"""\
global
    log stdout format raw local0 info
    maxconn 256

defaults
    mode http
    log global
    log-format "access %s %ST %HM %HU"
    timeout connect 5s
    timeout client 120s
    timeout server 120s

frontend sync
    bind 127.0.0.1:{self.port}
    default_backend conflux

backend conflux
    balance roundrobin
    option httpchk GET /health
    http-check expect status 200
    default-server check inter 300ms fall 2 rise 2
{servers}
"""

    def command(self):
        cfg = self.root / "haproxy.cfg"
        cfg.write_text(self.config())
        return [HAPROXY, "-db", "-f", str(cfg)]

    def wait_until_down(self, node_name):
        poll_until(lambda: f"conflux/{node_name} is DOWN" in self.messages(),
                   30, what=f"HAProxy's health check taking {node_name} out")


class Nginx(Balancer):
    name = "nginx"
    ACCESS = re.compile(r"^(?P<upstream>.+) \d+ \S+ (?P<uri>\S+)$")

    def http_block(self):
        servers = "\n".join(
            f"        server 127.0.0.1:{node.port} max_fails=1 fail_timeout=30s;"
            for node in self.nodes.values())
        return f"""\
    log_format balanced '$upstream_addr $status $request_method $request_uri';
    access_log {self.root}/access.log balanced;
    client_max_body_size 8m;
    client_body_buffer_size 1m;    # a SyncML message in memory, not a temp file

    upstream conflux {{
{servers}
        keepalive 8;
    }}
    server {{
        listen 127.0.0.1:{self.port};
        location / {{
            proxy_pass http://conflux;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_read_timeout 120s;
        }}
    }}
"""

    def command(self):
        tmp = self.root
        # As root the workers would run as nobody, who cannot enter the
        # test's private directory.
        user = "user root;\n" if os.geteuid() == 0 else ""
        cfg = tmp / "nginx.conf"
        cfg.write_text(f"""\
{user}daemon off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log notice;
events {{ worker_connections 256; }}
http {{
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
{self.http_block()}}}
""")
        return [NGINX, "-p", str(tmp), "-e", str(tmp / "error.log"),
                "-c", str(cfg)]

    def messages(self):
        error_log = self.root / "error.log"
        return super().messages() + (error_log.read_text(errors="replace")
                                     if error_log.exists() else "")

    def access_log(self):
        path = self.root / "access.log"
        return path.read_text() if path.exists() else ""

    def node_of(self, upstream):
        # "$upstream_addr" lists every node tried ("A, B" when A refused);
        # the last one answered.
        by_address = {f"127.0.0.1:{node.port}": name
                      for name, node in self.nodes.items()}
        return by_address[upstream.split(", ")[-1]]


EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
EXAMPLE_NODES = ("10.0.0.11:8080", "10.0.0.12:8080", "10.0.0.13:8080")


def example(name, replacements):
    """docs/examples/<name> with each (old, new) of replacements applied: the
    production addresses and paths become the test's.  An `old` the file no
    longer contains fails the test: the example changed, so must this."""
    text = (EXAMPLES / name).read_text()
    for old, new in replacements:
        if old not in text:
            raise AssertionError(f"docs/examples/{name} no longer has {old!r}")
        text = text.replace(old, new)
    return text


class ExampleHAProxy(HAProxy):
    """docs/examples/haproxy.cfg as documented (TLS on `port`, plain HTTP
    redirected from `plain_port`), only addresses and files replaced."""

    name = "haproxy-example"
    # %ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %tsc %HM %HPO, on the
    # TLS side of the frontend ("sync~").
    ACCESS = re.compile(r"^\S+ \[[^\]]+\] sync~ conflux/(?P<upstream>\S+) "
                        r"\S+ \d+ \d+ \S+ \S+ (?P<uri>\S+)$")

    def __init__(self, root, port, nodes, plain_port, cert, key, context):
        super().__init__(root, port, nodes, "https", context)
        self.plain_port = plain_port
        self.pem = self.root / "sync.pem"    # HAProxy: chain and key in one
        self.pem.write_text(Path(cert).read_text() + Path(key).read_text())

    def config(self):
        return example("haproxy.cfg", [
            ("log /dev/log local0 info", "log stdout format raw local0 info"),
            ("bind :443 ssl crt /etc/haproxy/certs/sync.example.org.pem",
             f"bind 127.0.0.1:{self.port} ssl crt {self.pem}"),
            ("bind :80\n", f"bind 127.0.0.1:{self.plain_port}\n"),
            *zip(EXAMPLE_NODES,
                 (f"127.0.0.1:{node.port}" for node in self.nodes.values()))])


class ExampleNginx(Nginx):
    """docs/examples/nginx.conf as documented (TLS on `port`, plain HTTP
    redirected from `plain_port`), only addresses and files replaced; the
    test's main nginx.conf includes it."""

    name = "nginx-example"
    ACCESS = re.compile(r'"\S+ (?P<uri>\S+)" \d+ \d+ '
                        r"upstream=(?P<upstream>.+) \S+$")

    def __init__(self, root, port, nodes, plain_port, cert, key, context):
        super().__init__(root, port, nodes, "https", context)
        self.plain_port, self.cert, self.key = plain_port, cert, key

    def http_block(self):
        site = self.root / "conflux-site.conf"
        site.write_text(example("nginx.conf", [
            ("listen 80;", f"listen 127.0.0.1:{self.plain_port};"),
            ("listen 443 ssl http2;", f"listen 127.0.0.1:{self.port} ssl http2;"),
            ("/etc/nginx/tls/sync.example.org/fullchain.pem", str(self.cert)),
            ("/etc/nginx/tls/sync.example.org/privkey.pem", str(self.key)),
            ("/var/log/nginx/conflux.log", str(self.root / "access.log")),
            *zip(EXAMPLE_NODES,
                 (f"127.0.0.1:{node.port}" for node in self.nodes.values()))]))
        return f"    include {site};\n"


def per_session(requests):
    """{sid: Counter(node: requests)} of the requests that carry a ?sid=
    (every message of a session after its first)."""
    sessions = defaultdict(Counter)
    for node, uri in requests:
        sid = parse_qs(urlsplit(uri).query).get("sid")
        if sid:
            sessions[sid[0]][node] += 1
    return sessions


class LoadBalancerTest(IntegrationTest):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for tool in (HAPROXY, NGINX):
            if not os.access(tool, os.X_OK):
                raise RuntimeError(f"{tool} is missing: scripts/install-deps "
                                   "--test installs haproxy and nginx-light")
        cls.pg = pg_server.shared()

    def start_nodes(self, public_url, names=NODES, extra="", store=None):
        """Three nodes on one fresh database, one back end (a sqlite file
        all of them open), each with its own data directory; RespURIs point
        at public_url, the balancer.  `extra`: more of each node's config;
        `store`: another [stores.contacts] section than the sqlite file."""
        database = self.pg.create_database()
        if store is None:
            # In node a's data directory, where server_fns() looks.
            items = self.tmp / f"node-{names[0]}" / "data" / "items.db"
            store = (f'[stores.contacts]\nadapter = "sqlite"\nfile = "{items}"\n'
                     'content_type = "text/vcard"\ncontent_version = "3.0"\n')
        config = (f'[storage]\ndatabase = "{self.pg.uri(database)}"\n'
                  f'[server]\npublic_url = "{public_url}"\n'
                  '[auth]\ntrusted_proxies = ["127.0.0.1"]\n' + store)
        # node_id: on one host all would default to the host name, and a
        # lease (outbox, cache queue) would look like each other's own.
        nodes = {name: self.make_server(
                     config + f'[storage]\nnode_id = "{name}"\n' + extra,
                     name=f"node-{name}")
                 for name in names}
        nodes[names[0]].add_user(USER, PASSWORD)   # in PostgreSQL: all see it
        for node in nodes.values():
            node.start()
        return nodes

    def check_balancer(self, balancer_class):
        port = free_port()
        nodes = self.start_nodes(f"http://127.0.0.1:{port}")
        balancer = balancer_class(self.tmp / balancer_class.name, port, nodes)
        self.addCleanup(balancer.close)
        balancer.start()

        device = self.make_device(balancer, "dev", USER, PASSWORD)
        originals = dict(vcards.generate(CONTACTS, seed=61))
        for name, text in originals.items():
            device.write_item(DS, name, text)
        offset = len(balancer.access_lines())
        device.sync("slow")

        # One session, its messages answered by more than one node.
        sessions = per_session(balancer.requests_since(offset))
        self.assertEqual(len(sessions), 1, sessions)
        (spread,) = sessions.values()
        self.assertGreater(len(spread), 1, spread)
        print(f"\n{balancer.name}: slow sync of {CONTACTS} contacts, "
              f"messages per node {dict(spread)}", file=sys.stderr)
        got = server_fns(nodes["a"], USER, DS)
        self.assertEqual(set(got), {vcards.fn_of(t) for t in originals.values()})
        self.assertEqual(doubled(got), {})

        # A node goes away; the balancer keeps the session on the others.
        nodes["c"].stop()
        if isinstance(balancer, HAProxy):
            balancer.wait_until_down("c")
        names = sorted(originals)
        expected = {vcards.fn_of(originals[n]) for n in names[4:]}
        for i, name in enumerate(names[:2]):
            fn = f"Edited Behind {balancer.name} {i}"
            device.write_item(DS, name, vcards.replace_property(
                originals[name], "FN", f"FN:{fn}"))
            expected.add(fn)
        for name in names[2:4]:
            device.delete_item(DS, name)
        for name, text in vcards.generate(3, seed=62, start=CONTACTS):
            device.write_item(DS, name, text)
            expected.add(vcards.fn_of(text))
        offset = len(balancer.access_lines())
        device.sync("two-way")

        sessions = per_session(balancer.requests_since(offset))
        self.assertEqual(len(sessions), 1, sessions)
        (spread,) = sessions.values()
        self.assertEqual(set(spread), {"a", "b"}, spread)
        got = server_fns(nodes["a"], USER, DS)
        self.assertEqual(len(expected), CONTACTS + 1)
        self.assertEqual(set(got), expected)
        self.assertEqual(doubled(got), {})

    def test_haproxy_spreads_a_session_over_three_nodes(self):
        self.check_balancer(HAProxy)

    def test_nginx_spreads_a_session_over_three_nodes(self):
        self.check_balancer(Nginx)

    def check_example(self, balancer_class):
        """The documented config, TLS terminated by the balancer: a
        SyncEvolution that verifies the certificate syncs through it, every
        message over TLS, answered by more than one node."""
        ca = TestCa(self.tmp / "ca")
        cert, key = ca.issue("balancer")
        port, plain_port = free_port(), free_port()
        nodes = self.start_nodes(f"https://127.0.0.1:{port}",
                                 names=("node1", "node2", "node3"))
        balancer = balancer_class(self.tmp / balancer_class.name, port, nodes,
                                  plain_port, cert, key, ca.client_context())
        self.addCleanup(balancer.close)
        balancer.start()

        device = self.make_device(balancer, "dev", USER, PASSWORD, extra={
            "SSLServerCertificates": str(ca.cert),
            "SSLVerifyServer": "1",
            "SSLVerifyHost": "1",
        })
        originals = dict(vcards.generate(50, seed=63))
        for name, text in originals.items():
            device.write_item(DS, name, text)
        offset = len(balancer.access_lines())
        device.sync("slow")

        # The RespURI (public_url) brought every message back through the
        # TLS side: the challenge, the login, the items, the map at least.
        requests = balancer.requests_since(offset)
        self.assertGreaterEqual(len(requests), 4, requests)
        self.assertGreater(len({node for node, _ in requests}), 1, requests)
        got = server_fns(nodes["node1"], USER, DS)
        self.assertEqual(set(got), {vcards.fn_of(t) for t in originals.values()})
        self.assertEqual(doubled(got), {})

    def test_the_documented_haproxy_config_terminates_tls(self):
        self.check_example(ExampleHAProxy)

    def test_the_documented_nginx_config_terminates_tls(self):
        self.check_example(ExampleNginx)


if __name__ == "__main__":
    unittest.main()
