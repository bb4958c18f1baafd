#!/usr/bin/python3
"""Conflux nodes on one PostgreSQL database failing the ways nodes fail
(issue #20): the same message reaching two nodes at once, and a node killed
(SIGKILL) at many moments of a session behind HAProxy.

  (a) one session's message with a few hundred Adds is posted to two nodes
      at the same moment: one node runs it, the other waits for the
      session and answers from the resend cache; both answers are the same
      and every contact is on the server once;
  (b) wrong passwords sent to two nodes in turn count together: the node
      that did not see the free one refuses the third unchecked;
  (c) each background job (expired sessions) runs on one node; killed
      with SIGKILL, that node's job is taken by the other;
  (d) a node is SIGKILLed at many moments of SyncEvolution two-way syncs
      through HAProxy (each round: adds, edits and deletes, small messages,
      the moment spread over the sync's length, a different node each
      time): the sync completes on the others or fails cleanly and the next
      one completes, and then the server holds exactly the device's
      contacts, each once.  CONFLUX_NODE_KILLS sets the rounds (default
      6; docs/LOAD-BALANCING.md runs 100);
  (e) two nodes share one persistent cache in PostgreSQL in front of a
      vdir: a device's adds and edits, queued by whichever node took the
      message, are written to the directory by both nodes' Cache Monitors,
      each change once (the replicated counts of both logs add up to the
      changes, one file per contact), and `conflux cache status` on a node
      sees the one queue drained.

Nodes and the shared back end as test_load_balancers.py starts them.

Run: CONFLUX_BIN=/path/to/conflux /usr/bin/python3 test_node_failures.py
"""

import os
import re
import sys
import threading
import time
import unittest
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pg_server  # noqa: E402
import vcards  # noqa: E402
import syncml_client as sc  # noqa: E402
from conflux_server import IntegrationTest, http_request, poll_until  # noqa: E402
from engine_checks import (BackgroundSync, device_fns, doubled,  # noqa: E402
                           server_fns)
from syncml_client import RawSession, post_syncml  # noqa: E402
from test_metrics import moved, scrape  # noqa: E402
from test_load_balancers import (DS, NODES, PASSWORD, USER,  # noqa: E402
                                 HAProxy, free_port)
import test_load_balancers  # noqa: E402  (not its TestCase: it would run here too)

RACED_CONTACTS = 300
CACHED_CONTACTS = 40
REPLICATED = re.compile(r"store 'contacts': replicated (\d+) of")
TAKE_OVER_TIMEOUT = 60   # seconds; a job's lock is tried every 5 s
KILL_ROUNDS = int(os.environ.get("CONFLUX_NODE_KILLS", "6"))
KILL_CONTACTS = 150
# Small messages: a round's changes take several round trips.  The client
# resends a message whose answer did not come (the node died) after
# retryInterval, to the balancer, so to another node.
KILL_CLIENT = {"maxMsgSize": "4000", "retryInterval": "2",
               "retryDuration": "60"}
JOB_LINE = re.compile(r"background job expired-sessions runs on (this|another) node")


def at_node(url, node):
    """`url` (a RespURI naming the balancer) sent to `node` directly."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"127.0.0.1:{node.port}"))


class NodeFailureTest(IntegrationTest):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pg = pg_server.shared()

    start_nodes = test_load_balancers.LoadBalancerTest.start_nodes

    def test_one_message_sent_to_two_nodes_at_once_runs_once(self):
        port = free_port()
        nodes = self.start_nodes(f"http://127.0.0.1:{port}", names=("a", "b"))
        balancer = HAProxy(self.tmp / "haproxy", port, nodes)
        self.addCleanup(balancer.close)
        balancer.start()
        # Through the balancer but for the raced message, which the test
        # posts to each node itself.
        session = RawSession(balancer.url, "raced-dev", USER, PASSWORD)
        session.start(alert=201)
        contacts = vcards.generate(RACED_CONTACTS, seed=71)
        adds = [(str(i), text) for i, (_, text) in enumerate(contacts)]
        raced = session.next_message(session.sync_body(adds=adds))

        start = threading.Barrier(2)
        replies, errors = {}, []

        def post_to(name):
            start.wait()
            try:
                replies[name] = post_syncml(
                    at_node(session.next_url, nodes[name]), raced)
            except Exception as e:  # reported below, with the other's
                errors.append(f"{name}: {e!r}")

        posters = [threading.Thread(target=post_to, args=(name,))
                   for name in nodes]
        for t in posters:
            t.start()
        for t in posters:
            t.join()
        self.assertEqual(errors, [])
        self.assertEqual(replies["a"].raw, replies["b"].raw)
        self.assertEqual(
            sum("received again; answer repeated" in node.log_text()
                for node in nodes.values()), 1)

        # The session goes on from that answer, to its end.
        reply = replies["a"]
        session.next_url = reply.resp_uri or session.next_url
        session.last_reply = reply
        session._answer(reply)
        session._continue_until_final(reply)
        session.finish()

        got = server_fns(nodes["a"], USER, DS)
        self.assertEqual(set(got), {vcards.fn_of(t) for _, t in contacts})
        self.assertEqual(doubled(got), {})

    def test_wrong_passwords_count_on_every_node(self):
        nodes = self.start_nodes(f"http://127.0.0.1:{free_port()}",
                                 names=("a", "b"),
                                 extra="[auth]\nlogin_free_failures = 1\n"
                                       "login_first_delay_seconds = 3600\n")
        before = {name: scrape(node)[0] for name, node in nodes.items()}
        for i, name in enumerate(("a", "b", "a")):
            body = sc.pkg1(nodes[name].url, f"guesser-{i}", USER, "wrong")
            status, _, _ = http_request(nodes[name].url, "POST", body.encode(),
                                        {"Content-Type": sc.SYNCML_TYPE})
            self.assertEqual(status, 200)
        after = {name: scrape(node)[0] for name, node in nodes.items()}
        checked = 'conflux_login_failures_total{endpoint="syncml"}'
        throttled = ('conflux_login_throttled_total{endpoint="syncml",'
                     'reason="wrong_passwords"}')
        # a checked the free one, b the one that starts the wait; a's second
        # is its first to wait, though a saw only one wrong password itself.
        self.assertEqual(moved(before["a"], after["a"], checked), 1)
        self.assertEqual(moved(before["b"], after["b"], checked), 1)
        self.assertEqual(moved(before["a"], after["a"], throttled), 1)
        # The right password is still checked (a known device would be
        # let in); a stranger's own address is not slowed: nothing else
        # changed on b.
        self.assertEqual(moved(before["b"], after["b"], throttled), 0)

    def test_a_background_job_runs_on_one_node_and_moves_when_it_dies(self):
        nodes = self.start_nodes(f"http://127.0.0.1:{free_port()}",
                                 names=("a", "b"))

        def said():
            return {name: JOB_LINE.findall(node.log_text())
                    for name, node in nodes.items()}
        poll_until(lambda: all(said().values()), TAKE_OVER_TIMEOUT,
                   what="both nodes deciding on the job")
        first = said()
        runner = [name for name, lines in first.items() if lines[0] == "this"]
        self.assertEqual(len(runner), 1, first)
        (runner,) = runner
        (other,) = set(nodes) - {runner}
        self.assertEqual(first[other], ["another"])

        nodes[runner].kill()
        poll_until(lambda: "this" in said()[other], TAKE_OVER_TIMEOUT,
                   what=f"node {other} taking the job over")

    def start_behind_haproxy(self, **options):
        """start_nodes(**options) with an HAProxy in front; (nodes, balancer)."""
        port = free_port()
        nodes = self.start_nodes(f"http://127.0.0.1:{port}", **options)
        balancer = HAProxy(self.tmp / "haproxy", port, nodes)
        self.addCleanup(balancer.close)
        balancer.start()
        return nodes, balancer

    def test_a_node_killed_at_many_moments_of_a_sync_costs_nothing(self):
        nodes, balancer = self.start_behind_haproxy()
        device = self.make_device(balancer, "dev", USER, PASSWORD,
                                  extra=KILL_CLIENT)
        for name, text in vcards.generate(KILL_CONTACTS, seed=81):
            device.write_item(DS, name, text)
        began = time.monotonic()
        device.sync("slow")
        self.assert_server_has_the_devices(nodes, device, "the first sync")
        # The moments are spread over about a round's length, a quarter of
        # the first sync (a round's changes are a fifth as many).
        span = (time.monotonic() - began) / 4
        outcomes, mid_sync = [], 0
        next_contact = KILL_CONTACTS
        for i in range(KILL_ROUNDS):
            names = sorted(device.items(DS))
            for name in names[i % 7::29][:10]:
                text = device.items(DS)[name]
                device.write_item(DS, name, vcards.replace_property(
                    text, "FN", f"FN:Round {i} {name}"))
            for name in names[(i + 3) % 11::37][:4]:
                device.delete_item(DS, name)
            for name, text in vcards.generate(20, seed=82 + i,
                                              start=next_contact):
                device.write_item(DS, name, text)
            next_contact += 20

            victim = nodes[NODES[i % len(NODES)]]
            # Golden-ratio steps: no two rounds at the same moment.
            moment = span * ((i * 0.618034) % 1.0)
            sync = BackgroundSync(device, "two-way")
            time.sleep(moment)
            mid_sync += sync.running()
            victim.kill()
            code = sync.wait(180)
            victim.start()
            if code != 0:
                # Failed, and cleanly: the client ended by itself.
                self.assertGreater(code, 0, f"exit status {code}:\n" +
                                   sync.out_path.read_text(
                                       errors="replace")[-3000:])
                device.sync("two-way")
            outcomes.append("completed" if code == 0 else "failed")
            self.assert_server_has_the_devices(
                nodes, device, f"round {i}, killed at {moment:.2f} s")
        # Messages the balancer could not deliver (the node died under them
        # or was not yet taken out): the client sent each again.
        undelivered = sum(1 for line in balancer.messages().splitlines()
                          if re.match(r"access \S+ 50[23] ", line))
        print(f"\nnode kills: {KILL_ROUNDS} rounds over {span:.2f} s, "
              f"{mid_sync} while the sync ran; syncs completed despite the "
              f"kill: {outcomes.count('completed')}, failed then the next "
              f"completed: {outcomes.count('failed')}; messages the balancer "
              f"answered 502/503: {undelivered}", file=sys.stderr)
        # Round 0 kills as the client starts: one kill at least met a sync.
        self.assertGreater(mid_sync, 0)

    def test_two_cache_monitors_write_each_queued_change_once(self):
        vdir = self.tmp / "vdir"
        nodes, balancer = self.start_behind_haproxy(
            names=("a", "b"),
            store=(f'[stores.contacts]\nadapter = "vdir"\nroot = "{vdir}"\n'
                   'content_type = "text/vcard"\ncontent_version = "3.0"\n'
                   'cache = true\ncache_trigger = "amount"\ncache_amount = 1\n'
                   'backend_poll_seconds = 1\n'))
        device = self.make_device(balancer, "cached-dev", USER, PASSWORD,
                                  extra=KILL_CLIENT)
        for name, text in vcards.generate(CACHED_CONTACTS, seed=91):
            device.write_item(DS, name, text)
        device.sync("slow")
        edited = sorted(device.items(DS))[::4]
        for name in edited:
            device.write_item(DS, name, vcards.replace_property(
                device.items(DS)[name], "FN", f"FN:Edited {name}"))
        device.sync("two-way")
        changes = CACHED_CONTACTS + len(edited)

        def replicated():
            return {name: sum(int(n) for n in REPLICATED.findall(node.log_text()))
                    for name, node in nodes.items()}
        poll_until(lambda: sum(replicated().values()) >= changes, 60,
                   what=f"{changes} changes replicated")
        collection = vdir / USER / DS
        on_disk = Counter(vcards.fn_of(p.read_text(encoding="utf-8"))
                          for p in collection.glob("*.vcf"))
        self.assertEqual(doubled(on_disk), {})
        self.assertEqual(on_disk, device_fns(device))
        status = nodes["b"].cli("cache", "status").stdout
        self.assertRegex(status, r"(?m)^contacts\t0\t0\t0\t\d+$", status)
        self.assertFalse((nodes["a"].data_dir / "cache.db").exists())
        counts = replicated()
        self.assertEqual(sum(counts.values()), changes, counts)
        print(f"\nshared cache: {changes} changes replicated, per node {counts}",
              file=sys.stderr)

    def assert_server_has_the_devices(self, nodes, device, what):
        # The shared back end is in the first node's data directory.
        got = server_fns(nodes[NODES[0]], USER, DS)
        self.assertEqual(doubled(got), {}, f"{what}: doubled on the server")
        mine = device_fns(device)
        self.assertEqual(doubled(mine), {}, f"{what}: doubled on the device")
        self.assertEqual(set(got), set(mine), what)


if __name__ == "__main__":
    unittest.main()
