#!/usr/bin/python3
"""GET /metrics (issue #19 part 4): scraped before and after real syncs, the
counters move by what happened — sessions started and completed, items by
datastore, direction and outcome, HTTP answers and their latency, wrong
passwords and throttled logins — and `promtool check metrics` (Debian's
prometheus package) accepts the text. A session the client abandons
counts its items as they are applied, and when it expires it is counted as
failed with status "expired".

Run: CONFLUX_BIN=/path/to/conflux /usr/bin/python3 test_metrics.py
"""

import re
import shutil
import subprocess
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import syncml_client as sc  # noqa: E402
import vcards  # noqa: E402
from conflux_server import IntegrationTest, http_request, poll_until  # noqa: E402

USER, PASSWORD = "alice", "Metrics-pw-3"
SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)$")


def scrape(server):
    """{'name{labels}': value} of every sample /metrics shows, and the text."""
    status, headers, body = http_request(server.base_url + "/metrics")
    assert status == 200, (status, body)
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
    text = body.decode()
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, f"not a sample line: {line!r}"
        samples[m.group(1) + (m.group(2) or "")] = float(m.group(3))
    return samples, text


def moved(before, after, key):
    return after.get(key, 0.0) - before.get(key, 0.0)


class MetricsTest(IntegrationTest):

    def test_counters_move_with_a_sync_and_promtool_accepts_them(self):
        server = self.make_server()
        server.start()
        server.add_user(USER, PASSWORD)
        device = self.make_device(server, "a", USER, PASSWORD)
        for i in range(3):
            device.write_item("contacts", f"c{i}.vcf", vcards.contact(i))
        device.sync("slow")  # the first sync, so the device is known
        before, _ = scrape(server)

        device.write_item("contacts", "new.vcf", vcards.contact(10))
        device.delete_item("contacts", "c0.vcf")
        device.sync("two-way")
        # A wrong password, checked and refused.
        body = sc.pkg1(server.url, "metrics-guesser", USER, "wrong")
        status, _, _ = http_request(server.url, "POST", body.encode(),
                                    {"Content-Type": sc.SYNCML_TYPE})
        self.assertEqual(status, 200)
        after, text = scrape(server)

        self.assertEqual(moved(before, after, "conflux_sessions_started_total"), 1)
        self.assertEqual(moved(before, after, "conflux_sessions_completed_total"), 1)
        items = 'conflux_sync_items_total{datastore="contacts",direction="from_device",outcome="%s"}'
        self.assertEqual(moved(before, after, items % "added"), 1)
        self.assertEqual(moved(before, after, items % "deleted"), 1)
        self.assertEqual(moved(before, after, 'conflux_login_failures_total{endpoint="syncml"}'), 1)
        # The sync's messages and the guess: at least 3 answers of 200, each
        # in the latency histogram.
        self.assertGreaterEqual(
            moved(before, after, 'conflux_http_responses_total{code="200"}'), 3)
        self.assertGreaterEqual(
            moved(before, after, "conflux_http_request_duration_seconds_count"), 3)
        self.assertEqual(
            after["conflux_http_request_duration_seconds_count"],
            after['conflux_http_request_duration_seconds_bucket{le="+Inf"}'])
        # The figures that were there before stay.
        self.assertIn("conflux_webhook_outbox_waiting", text)

        promtool = shutil.which("promtool")
        self.assertIsNotNone(promtool, "promtool missing: apt-get install prometheus")
        check = subprocess.run([promtool, "check", "metrics"], input=text,
                               text=True, capture_output=True, timeout=60)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        server.stop()

    def test_throttled_logins_are_counted(self):
        server = self.make_server(
            "[auth]\nlogin_free_failures = 1\n"
            "login_first_delay_seconds = 3600\n")
        server.start()
        server.add_user(USER, PASSWORD)
        before, _ = scrape(server)
        for i in range(3):
            body = sc.pkg1(server.url, f"guesser-{i}", USER, "wrong")
            status, _, _ = http_request(server.url, "POST", body.encode(),
                                        {"Content-Type": sc.SYNCML_TYPE})
            self.assertEqual(status, 200)
        after, _ = scrape(server)
        # The first two are checked (one free, one that starts the wait);
        # the third waits and is refused unchecked.
        self.assertEqual(moved(before, after, 'conflux_login_failures_total{endpoint="syncml"}'), 2)
        self.assertEqual(moved(before, after,
                               'conflux_login_throttled_total{endpoint="syncml",reason="wrong_passwords"}'), 1)
        server.stop()

    def test_an_abandoned_session_counts_its_items_and_expires_as_failed(self):
        server = self.make_server("[server]\nsession_timeout_seconds = 10\n")
        server.start()
        server.add_user(USER, PASSWORD)
        before, _ = scrape(server)
        session = sc.RawSession(server.url, "abandoner", USER, PASSWORD)
        session.start(alert=201)
        session.sync(adds=[("1", vcards.contact(1)), ("2", vcards.contact(2))])
        # The client goes away before its last package: the items it sent
        # are applied, and counted, already.
        during, _ = scrape(server)
        added = 'conflux_sync_items_total{datastore="contacts",direction="from_device",outcome="added"}'
        expired = 'conflux_sessions_failed_total{status="expired"}'
        self.assertEqual(moved(before, during, "conflux_sessions_started_total"), 1)
        self.assertEqual(moved(before, during, added), 2)
        self.assertEqual(moved(before, during, expired), 0)

        after, text = poll_until(
            lambda: (lambda s: s if moved(before, s[0], expired) else None)(scrape(server)),
            60, interval=0.5, what="the abandoned session counted as expired")
        self.assertEqual(moved(before, after, expired), 1)
        self.assertEqual(moved(before, after, "conflux_sessions_completed_total"), 0)
        self.assertEqual(moved(before, after, added), 2, "items counted twice")
        promtool = shutil.which("promtool")
        self.assertIsNotNone(promtool, "promtool missing: apt-get install prometheus")
        check = subprocess.run([promtool, "check", "metrics"], input=text,
                               text=True, capture_output=True, timeout=60)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        server.stop()


if __name__ == "__main__":
    unittest.main()
