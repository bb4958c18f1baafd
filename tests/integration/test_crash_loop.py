#!/usr/bin/python3
"""One Conflux server SIGKILLed at random moments of many syncs of two
devices (issue #20 item 4), checked against a model of what each side was
told (tests/integration/model_device.py).

Two hand-made devices take turns; before each sync the device's user makes
a few random adds, edits and deletes (never of a contact the other device
has a change of pending, so no conflict decides anything).  In most syncs
the server is SIGKILLed while it works on a random message of the session
(a random delay after the message went out, within about the time the
server takes for one) and started again; the device sends the message
again (as a client whose answer did not come) or, one time in four, gives
the session up and resumes it (Alert 225) or starts over in its next one.
After each completed sync:
  - the server's contacts are exactly the device's (content, by FN), none
    twice on either side;
  - every change the server acknowledged to a device is there (the last
    acknowledged content of each contact, nothing deleted that was
    acknowledged as such), unless a change of it is still pending;
and at the end, after a quiet sync of each, both devices and the server
hold exactly the model's contacts, and a real SyncEvolution client's slow
sync gets exactly them too.

CONFLUX_CRASH_SYNCS sets the number of syncs (default 40; 200 in
docs/LOAD-BALANCING.md), CONFLUX_CRASH_SEED the seed (printed; the choices
— edits, which message, which delay, resend or give up — repeat with it,
the moments the kills meet only roughly: they are wall-clock).

Run: CONFLUX_BIN=/path/to/conflux /usr/bin/python3 test_crash_loop.py
"""

import os
import random
import sys
import threading
import time
import unittest
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import syncml_client as sc  # noqa: E402
import vcards  # noqa: E402
from conflux_server import IntegrationTest  # noqa: E402
from engine_checks import device_fns, doubled, server_items  # noqa: E402
from model_device import Interrupted, Model, ModelDevice  # noqa: E402

DS = "contacts"
USER = "kim"
PASSWORD = "Crash-loop-pw-4"
SYNCS = int(os.environ.get("CONFLUX_CRASH_SYNCS", "40"))
SEED = int(os.environ.get("CONFLUX_CRASH_SEED",
                          str(random.SystemRandom().randrange(10**6))))
KILL_SHARE = 0.7     # of the syncs, those with a kill
GIVE_UP_SHARE = 0.25  # of the unanswered messages, those the device gives up
FIRST_CONTACTS = 30  # device A's address book before the first sync


class KillingPoster:
    """Posts a device's messages to the server; when told to, SIGKILLs the
    server `delay` seconds after the message went out, starts it again and
    returns the answer if it came before the kill, else None."""

    def __init__(self, server):
        self.server = server
        self.kill_at = None      # (message number in the session, delay)
        self.message_no = 0
        self.kills = 0
        self.answered_anyway = 0
        # How long the answer to the n-th message of a session took (the
        # first logs in: argon2id makes it the slowest).
        self.seconds = defaultdict(list)

    def arm(self, kill_at):
        self.kill_at, self.message_no = kill_at, 0

    def typical_seconds(self, message_no):
        recent = self.seconds[message_no][-20:]
        return sum(recent) / len(recent) if recent else 0.02

    def __call__(self, url, body):
        self.message_no += 1
        if self.kill_at is None or self.kill_at[0] != self.message_no:
            began = time.monotonic()
            reply = sc.post_syncml(url, body)
            self.seconds[self.message_no].append(time.monotonic() - began)
            return reply
        got = {}

        def send():
            try:
                got["reply"] = sc.post_syncml(url, body)
            except (OSError, sc.ProtocolError) as e:  # the server died under it
                got["error"] = e

        sender = threading.Thread(target=send)
        sender.start()
        time.sleep(self.kill_at[1])
        self.server.kill()
        sender.join(60)
        self.kills += 1
        self.server.start()
        self.kill_at = None
        if "reply" in got:
            self.answered_anyway += 1
        return got.get("reply")


class CrashLoopTest(IntegrationTest):

    def test_server_killed_at_random_moments_of_many_syncs_loses_nothing(self):
        print(f"\ncrash loop: seed {SEED}, {SYNCS} syncs "
              f"(CONFLUX_CRASH_SEED={SEED} repeats the choices)",
              file=sys.stderr)
        rng = random.Random(SEED)
        # Server wins a conflict: the model then knows the outcome (see
        # model_device: a slow sync's copy of an item the server changed
        # since is one; merge would keep both texts, also losing nothing).
        server = self.make_server(
            '[stores.contacts]\nadapter = "sqlite"\n'
            'content_type = "text/vcard"\ncontent_version = "3.0"\n'
            'conflict_policy = "server-wins"\n')
        server.add_user(USER, PASSWORD)
        server.start()
        poster = KillingPoster(server)
        model = Model()
        devices = [ModelDevice(server.url, f"crash-{name}", USER, PASSWORD,
                               model, random.Random(rng.random()))
                   for name in ("a", "b")]
        next_index = 0
        for _ in range(FIRST_CONTACTS):
            devices[0].add(vcards.contact(next_index, SEED))
            next_index += 1

        began = time.monotonic()
        outcomes = Counter()
        for i in range(SYNCS):
            device = devices[0] if i == 0 else rng.choice(devices)
            next_index = device.random_edits(next_index, SEED)
            kill_at = None
            if i > 0 and rng.random() < KILL_SHARE:
                # Messages 1-3 always exist (Alert, Sync, Map); a 4th when
                # the server's package is split.
                message_no = rng.randint(1, 4)
                kill_at = (message_no, rng.uniform(0, 1) *
                           poster.typical_seconds(message_no))
            poster.arm(kill_at)
            kills_before = poster.kills
            what = (f"sync {i} of {device.device_id}, kill at "
                    f"{kill_at and (kill_at[0], round(kill_at[1], 4))}")
            try:
                device.sync(poster, resend=lambda: rng.random() >= GIVE_UP_SHARE)
            except Interrupted:
                outcomes["given up"] += 1
                continue
            outcomes["completed after a kill" if poster.kills > kills_before
                     else "completed"] += 1
            self.assert_agree(server, device, model, what)
        wall = time.monotonic() - began

        # Quiet syncs: each device's pending changes go, then the first
        # device gets the second's.
        poster.arm(None)
        for device in devices + devices[:1]:
            device.sync(poster)
            self.assert_agree(server, device, model, "quiet sync")
        pending = [d.pending_fns() for d in devices]
        self.assertEqual(pending, [set(), set()])
        expected = {fn: text for fn, text in model.acknowledged.items()
                    if text is not None}
        for device in devices:
            self.assert_same_contacts(
                self.by_fn(device.items.values(), "device"), expected,
                f"{device.device_id} against the model")

        # A real client gets the same.
        sev = self.make_device(server, "syncevolution", USER, PASSWORD)
        sev.sync("slow")
        got = device_fns(sev)
        self.assertEqual(doubled(got), {})
        self.assertEqual(set(got), set(expected))

        counts = Counter()
        for device in devices:
            counts.update(device.counts)
        print(f"crash loop: {SYNCS} syncs in {wall:.1f} s, {poster.kills} "
              f"kills ({poster.answered_anyway} after the answer had left); "
              f"{dict(outcomes)}; devices: {dict(counts)}; "
              f"{len(expected)} contacts at the end", file=sys.stderr)
        self.assertGreater(poster.kills, 0)

    def by_fn(self, texts, what):
        out = {}
        for text in texts:
            fn = vcards.fn_of(text)
            self.assertNotIn(fn, out, f"{fn} twice on the {what}")
            out[fn] = text
        return out

    def assert_same_contacts(self, got, want, what):
        """got and want ({FN: text}) hold the same contacts, each with the
        same content."""
        self.assertEqual(sorted(set(got) - set(want)), [], f"{what}: extra")
        self.assertEqual(sorted(set(want) - set(got)), [], f"{what}: missing")
        for fn, text in want.items():
            self.assertEqual(vcards.contact_diff(got[fn], text), [],
                             f"{what}: {fn}")

    def assert_agree(self, server, device, model, what):
        held = self.by_fn(server_items(server, USER, DS), f"server ({what})")
        mine = self.by_fn(device.items.values(), f"device ({what})")
        self.assert_same_contacts(held, mine, what)
        pending = set().union(*(d.pending_fns() for d in model.devices))
        for fn, text in model.acknowledged.items():
            if fn in pending:
                continue
            story = "\n".join(sum((d.history(fn) for d in model.devices), []))
            if text is None:
                self.assertNotIn(fn, held, f"{what}: acknowledged delete of {fn} "
                                 f"undone\n{story}")
            else:
                self.assertIn(fn, held, f"{what}: acknowledged contact lost\n{story}")
                self.assertEqual(vcards.contact_diff(held[fn], text), [],
                                 f"{what}: acknowledged change of {fn} lost\n{story}")
        unknown = set(held) - set(model.acknowledged) - pending
        self.assertEqual(unknown, set(), f"{what}: contacts from nowhere")


if __name__ == "__main__":
    unittest.main()
