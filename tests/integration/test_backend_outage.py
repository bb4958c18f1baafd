#!/usr/bin/python3
"""A vdir back end unreachable for a simulated hour while two devices keep
syncing against the cache (issue #20 item 5).

The hour is the server's own clock, steered by the test and never slept:
the server runs with Debian's libfaketime preloaded, whose offset the test
rewrites in a file (FAKETIME_TIMESTAMP_FILE, read at every clock call).
Only the wall clock moves (not the monotonic one Asio's timers and the
monitor thread's waits use, nor file times), so to the Cache Monitor, the
queue's timestamps and the backoff an hour passes in twelve 5-minute
steps.  Nothing in Conflux knows; nothing is built for it.

  1. device A's 12 contacts reach the directory through the cache;
  2. the collection made unreachable (moved aside, a plain file in its
     place: mode bits do not stop root);
  3. twelve times: the clock 5 minutes on; one device makes random adds,
     edits and deletes and syncs (answered by the cache, none refused);
     the Cache Monitor tries the head of the queue again and fails;
  4. an hour on, GET /metrics: the queue holds every change, none stuck
     (though cache_stuck_after_attempts is 3 and each was tried a dozen
     times: a back end that is down never makes a change stuck), the lag
     at least 55 minutes (the first change came 5 minutes in);
  5. the collection back and the clock 5 minutes on (the longest
     backoff): the queue drains to nothing, and the directory
     holds exactly the model's contacts, each with its last acknowledged
     content (per item the last change wins), none of the deleted ones;
  6. both devices sync: they hold exactly what the directory holds, and
     nothing comes back to them from the drain.

Run: CONFLUX_BIN=/path/to/conflux /usr/bin/python3 test_backend_outage.py
"""

import os
import random
import re
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import syncml_client as sc  # noqa: E402
import vcards  # noqa: E402
from conflux_server import IntegrationTest, http_request, poll_until  # noqa: E402
from model_device import Model, ModelDevice  # noqa: E402

DS = "contacts"
USER = "lena"
PASSWORD = "Outage-pw-8"
SEED = 2020
LIBFAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"
STEP_SECONDS = 300      # the Cache Monitor's longest backoff
STEPS = 12              # an hour
STUCK_AFTER = 3
DRAIN_TIMEOUT = 60      # real seconds
ATTEMPT_RE = re.compile(r"replication of \w+ \S+ failed \(attempt (\d+)\)")


class BackendOutageTest(IntegrationTest):

    def setUp(self):
        super().setUp()
        self.root = self.tmp / "vdir"
        self.clock_file = self.tmp / "clock-offset"
        self.set_offset(0)
        self.server = self.make_server(
            f'[stores.contacts]\nadapter = "vdir"\nroot = "{self.root}"\n'
            'content_type = "text/vcard"\ncontent_version = "3.0"\n'
            'cache = true\ncache_trigger = "amount"\ncache_amount = 1\n'
            f'cache_stuck_after_attempts = {STUCK_AFTER}\n'
            'backend_poll_seconds = 1\n',
            env={"LD_PRELOAD": LIBFAKETIME,
                 "FAKETIME_TIMESTAMP_FILE": str(self.clock_file),
                 "FAKETIME_NO_CACHE": "1",
                 "FAKETIME_DONT_FAKE_MONOTONIC": "1",
                 "NO_FAKE_STAT": "1"})
        self.server.add_user(USER, PASSWORD)
        self.server.start()

    def set_offset(self, seconds):
        self.offset = seconds
        tmp = self.clock_file.with_suffix(".new")
        tmp.write_text(f"+{seconds}\n")
        os.replace(tmp, self.clock_file)

    def collection(self):
        return self.root / USER / DS

    def aside(self):
        return self.root / USER / "contacts.aside"

    def directory_cards(self):
        """{FN: text} of the collection's files; fails on an FN twice."""
        if not self.collection().is_dir():
            return {}
        return vcards.by_fn(p.read_text() for p in self.collection().iterdir()
                            if p.is_file() and p.suffix == ".vcf")

    def attempts(self):
        """The highest attempt number of a failed replication logged."""
        found = [int(n) for n in ATTEMPT_RE.findall(self.server.log_text())]
        return max(found, default=0)

    def metric(self, name):
        code, _, body = http_request(self.server.base_url + "/metrics")
        self.assertEqual(code, 200)
        m = re.search(rf'^{name}\{{datastore="contacts"\}} (\d+)$',
                      body.decode(), re.M)
        self.assertIsNotNone(m, name)
        return int(m.group(1))

    def expected(self, model):
        return {fn: text for fn, text in model.acknowledged.items()
                if text is not None}

    def assert_holds(self, cards, model, what):
        want = self.expected(model)
        self.assertEqual(sorted(cards), sorted(want), what)
        for fn, text in want.items():
            self.assertEqual(vcards.contact_diff(cards[fn], text), [],
                             f"{what}: {fn}")

    def test_an_hour_down_then_the_queue_drains_to_the_model(self):
        rng = random.Random(SEED)
        model = Model()
        a, b = (ModelDevice(self.server.url, f"outage-{n}", USER, PASSWORD,
                            model, random.Random(rng.random()))
                for n in ("a", "b"))

        def post(url, body):
            return sc.post_syncml(url, body)

        # 1. Through the cache into the directory.
        next_index = 0
        for _ in range(12):
            a.add(vcards.contact(next_index, SEED))
            next_index += 1
        a.sync(post)
        b.sync(post)
        poll_until(lambda: len(self.directory_cards()) == 12, DRAIN_TIMEOUT,
                   what="12 contacts in the directory")
        self.assert_holds(self.directory_cards(), model, "before the outage")

        # 2., 3. An hour unreachable, in steps of the longest backoff.
        os.rename(self.collection(), self.aside())
        self.collection().write_text("not a directory\n")
        changes = 0
        for step in range(STEPS):
            self.set_offset(self.offset + STEP_SECONDS)
            device = (a, b)[step % 2]
            next_index = device.random_edits(next_index, SEED, least=1, most=4)
            changes += len(device.changes)
            tried = self.attempts()
            device.sync(post)
            self.assertEqual(device.changes, {}, f"step {step}: refused")
            poll_until(lambda: self.attempts() > tried, DRAIN_TIMEOUT,
                       what=f"step {step}: the Cache Monitor trying again")
        self.assertTrue(self.collection().is_file(), "nothing wrote there")

        # 4. Everything kept, nothing stuck, the lag an hour.
        # One entry per change; a change of an item deleted since may be
        # settled in the cache alone when the monitor reaches it.
        queued = self.metric("conflux_cache_queue_length")
        self.assertGreater(queued, 0)
        self.assertLessEqual(queued, changes)
        self.assertEqual(self.metric("conflux_cache_stuck_entries"), 0)
        self.assertGreater(self.attempts(), STUCK_AFTER)
        self.assertGreaterEqual(self.metric(
            "conflux_cache_replication_lag_seconds"),
            (STEPS - 1) * STEP_SECONDS)

        # 5. Back: within the longest backoff the head is tried again and
        # the queue drains; the directory is the model.
        self.collection().unlink()
        os.rename(self.aside(), self.collection())
        self.set_offset(self.offset + STEP_SECONDS)
        poll_until(lambda: self.metric("conflux_cache_queue_length") == 0,
                   DRAIN_TIMEOUT, what="the queue drained")
        self.assertEqual(self.metric("conflux_cache_stuck_entries"), 0)
        self.assert_holds(self.directory_cards(), model, "after the drain")

        # 6. The devices agree, and the drain is not echoed to them.
        for device in (a, b):
            device.sync(post)
            self.assert_holds(vcards.by_fn(device.items.values()), model,
                              device.device_id)
        print(f"\nbackend outage: {STEPS * STEP_SECONDS} s simulated, "
              f"{queued} changes queued, head tried {self.attempts()} times, "
              f"{len(self.expected(model))} contacts at the end",
              file=sys.stderr)


if __name__ == "__main__":
    unittest.main()
