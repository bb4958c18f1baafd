#!/usr/bin/python3
"""Slow sync with a CalDAV/CardDAV back end: Debian 12's SyncEvolution client
against Conflux, whose contacts store is a collection of a real Radicale
3.1.8 (python3-radicale) on loopback.

Phases, on fresh data (one repetition):
  a) only with --upload: device A (N generated vCard 3.0 contacts)
     slow-syncs: Conflux PUTs N items into Radicale (If-None-Match: *).
     Without it the N contacts are written into Radicale's storage folder
     (its documented layout) before Radicale starts;
  b) device B (empty) slow-syncs: Conflux reads N items from Radicale in
     addressbook-multiget batches;
  c) device B two-way syncs with nothing changed.
For each phase: wall time of the client command, Conflux's and Radicale's
CPU time (utime+stime from /proc), and the requests Conflux sent to
Radicale by method and depth (from Radicale's log; Conflux's User-Agent
"Conflux-caldav"). Counts are checked (B gets N, Radicale holds N);
timings are printed, never asserted.

  bench/caldav_slow_sync.py --conflux build/src/cli/conflux --n 10000 [--upload]
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.dont_write_bytecode = True
sys.path.insert(0, str(HERE.parent / "tests" / "integration"))

import syncevo  # noqa: E402
import vcards  # noqa: E402
from conflux_server import ConfluxServer  # noqa: E402
from radicale import Radicale  # noqa: E402

USER, PASSWORD = "bench", "Bench-dav-pw"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime


def phase(name, run, conflux, dav):
    mark = dav.log_size()
    c0, r0, t0 = cpu_seconds(conflux.proc.pid), cpu_seconds(dav.proc.pid), time.monotonic()
    out = run()
    wall = time.monotonic() - t0
    c1, r1 = cpu_seconds(conflux.proc.pid), cpu_seconds(dav.proc.pid)
    requests = Counter(f"{m} depth {d}" for m, _, d in dav.conflux_requests(mark))
    print(f"{name:38s} wall {wall:8.1f} s  conflux cpu {c1 - c0:7.1f} s  radicale cpu {r1 - r0:7.1f} s  "
          f"requests {sum(requests.values())}: {dict(sorted(requests.items()))}", flush=True)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--conflux", required=True, help="the conflux binary")
    ap.add_argument("--n", type=int, default=10000)
    ap.add_argument("--batch", type=int, default=100, help="multiget_batch")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--upload", action="store_true", help="fill Radicale by a device's slow sync (phase a)")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="conflux-caldav-bench-"))
    dav = Radicale(work / "radicale", {USER: PASSWORD})
    contacts = vcards.generate(args.n, seed=4242)
    if not args.upload:
        folder = dav.storage / "collection-root" / USER / "contacts"
        folder.mkdir(parents=True)
        (folder / ".Radicale.props").write_text('{"tag": "VADDRESSBOOK"}')
        for name, text in contacts:
            (folder / name).write_bytes(text.encode())
    dav.start()
    conflux = None
    try:
        if args.upload:
            dav.make_collection(USER, "contacts", "addressbook")
        (work / "dav.pw").write_text(PASSWORD + "\n")
        conflux = ConfluxServer(
            args.conflux, work / "conflux",
            '[log]\nlevel = "info"\n'
            '[stores.contacts]\nadapter = "caldav"\ncontent_type = "text/vcard"\ncontent_version = "3.0"\n'
            f'collection_url = "{dav.base_url}/{{user}}/contacts/"\nlogin = "service"\n'
            f'service_user = "{USER}"\nservice_password_file = "{work / "dav.pw"}"\n'
            f'server_quirks = "radicale"\nmultiget_batch = {args.batch}\n')
        conflux.add_user(USER, PASSWORD)
        conflux.start()
        shim = syncevo.build_shim(syncevo.default_shim_dir(work))
        a = syncevo.Device(work, "dev-a", conflux.url, USER, PASSWORD, "bench-caldav-a", shim=shim)
        b = syncevo.Device(work, "dev-b", conflux.url, USER, PASSWORD, "bench-caldav-b", shim=shim)
        print(f"N = {args.n} contacts, multiget_batch = {args.batch}, {os.cpu_count()} cores, "
              f"load {os.getloadavg()[0]:.1f}", flush=True)
        if args.upload:
            for name, text in contacts:
                a.write_item("contacts", name, text)
            phase("a) A slow sync, upload N", lambda: a.sync("slow", timeout=7200), conflux, dav)
        phase("b) B slow sync, download N", lambda: b.sync("slow", timeout=7200), conflux, dav)
        phase("c) B two-way, no changes", lambda: b.sync("two-way", timeout=7200), conflux, dav)
        got = len(b.items("contacts"))
        held = subprocess.run(["find", str(dav.storage / "collection-root" / USER / "contacts"), "-maxdepth", "1",
                               "-name", "*.vcf"], capture_output=True, text=True).stdout.count("\n")
        print(f"check: device B holds {got}, Radicale holds {held} (both must be {args.n})")
        if got != args.n or held != args.n:
            sys.exit(1)
    finally:
        if conflux is not None:
            conflux.kill()
        dav.stop()
        if not args.keep:
            subprocess.run(["rm", "-rf", str(work)])
        else:
            print(f"kept {work}")


if __name__ == "__main__":
    main()
