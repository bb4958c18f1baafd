#!/usr/bin/python3
"""Summary of conflux_loadgen runs (bench/load): the Conflux and
SyncEvolution runs of the same scenarios side by side with ratios, and the
scaling series of scenario a.  Reads the generator's JSON files, prints
tables, writes them all plus the machine's description as one JSON file.

Usage: load_report.py --json OUT RESULT.json...
"""

import argparse
import json
import os
import platform
import subprocess
import sys
from datetime import datetime, timezone


def machine():
    lscpu = subprocess.run(["lscpu"], stdout=subprocess.PIPE, text=True,
                           check=False).stdout
    wanted = ("Architecture", "Model name", "CPU(s)", "Thread(s) per core",
              "Hypervisor vendor")
    cpu = {}
    for line in lscpu.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in wanted:
            cpu[key.strip()] = value.strip()
    with open("/proc/meminfo") as f:
        mem_kb = int(f.readline().split()[1])
    return {"nproc": os.cpu_count(), "lscpu": cpu,
            "memory_gib": round(mem_kb / 2**20, 1),
            "kernel": platform.release(),
            "loadavg_end": open("/proc/loadavg").read().split()[:3],
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds")}


def rate(p):
    return p["sessions_per_s"]


def row(cells, widths):
    return " ".join(str(c).ljust(w) for c, w in zip(cells, widths))


def ratio(a, b):
    return f"{a / b:.3g}x" if b else "-"


def comparison(conflux, peer):
    """Phase by phase: Conflux, the peer, and conflux/peer."""
    peer_phases = {p["phase"]: p for p in peer["phases"]}
    head = ["phase", "server", "sess", "fail", "sess/s",
            "session ms p50/p99", "message ms p50/p99", "srv CPU s",
            "peak MiB", "after MiB"]
    widths = [5, 13, 5, 4, 8, 20, 18, 9, 8, 9]
    lines = [row(head, widths)]
    for c in conflux["phases"]:
        p = peer_phases.get(c["phase"])
        for label, r in (("conflux", c), ("syncevolution", p)):
            if r is None:
                continue
            lines.append(row([
                r["phase"], label, r["sessions"], r["failures"],
                f"{rate(r):.2f}",
                f"{r['session_latency']['p50_ms']:.0f}/{r['session_latency']['p99_ms']:.0f}",
                f"{r['message_latency']['p50_ms']:.1f}/{r['message_latency']['p99_ms']:.1f}",
                f"{r['server']['cpu_s']:.2f}",
                f"{r['server']['peak_rss_kb'] / 1024:.1f}",
                f"{r['server']['rss_after_kb'] / 1024:.1f}"], widths))
        if p is not None:
            lines.append(row([
                "", "ratio", "", "", ratio(rate(c), rate(p)),
                ratio(c["session_latency"]["p50_ms"], p["session_latency"]["p50_ms"]),
                ratio(c["message_latency"]["p50_ms"], p["message_latency"]["p50_ms"]),
                ratio(c["server"]["cpu_s"], p["server"]["cpu_s"]),
                ratio(c["server"]["peak_rss_kb"], p["server"]["peak_rss_kb"]),
                ""], widths))
    lines.append("ratio = conflux/syncevolution: sess/s above 1, the "
                 "others below 1 mean Conflux does better.")
    return "\n".join(lines)


def scaling(runs):
    """Scenario a's two-way phase (a2) by number of devices at once."""
    head = ["devices", "sess", "fail", "sess/s",
            "session ms p50/p90/p99/max", "message ms p50/p99",
            "srv CPU s", "peak MiB", "after MiB"]
    widths = [7, 5, 4, 8, 27, 18, 9, 8, 9]
    lines = [row(head, widths)]
    for run in runs:
        r = next(p for p in run["phases"] if p["phase"] == "a2")
        s = r["session_latency"]
        lines.append(row([
            r["devices"], r["sessions"], r["failures"], f"{rate(r):.1f}",
            f"{s['p50_ms']:.1f}/{s['p90_ms']:.1f}/{s['p99_ms']:.1f}/{s['max_ms']:.1f}",
            f"{r['message_latency']['p50_ms']:.1f}/{r['message_latency']['p99_ms']:.1f}",
            f"{r['server']['cpu_s']:.2f}",
            f"{r['server']['peak_rss_kb'] / 1024:.1f}",
            f"{r['server']['rss_after_kb'] / 1024:.1f}"], widths))
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", required=True)
    ap.add_argument("results", nargs="+")
    args = ap.parse_args()
    runs = []
    for path in args.results:
        with open(path) as f:
            run = json.load(f)
        run["file"] = os.path.basename(path)
        runs.append(run)
    main_runs = [r for r in runs if not r["file"].startswith("scaling-")]
    series = [r for r in runs if r["file"].startswith("scaling-")]
    by_server = {r["server"]: r for r in main_runs}
    if "conflux" in by_server and "syncevolution" in by_server:
        print("\nConflux and SyncEvolution's server, same scenarios, same run:")
        print(comparison(by_server["conflux"], by_server["syncevolution"]))
    if series:
        print("\nConflux, scenario a (two-way, 5 adds/3 replaces/2 deletes), "
              "by devices at once:")
        print(scaling(series))
    failures = sum(r["failures"] for r in runs)
    print(f"\nfailed sessions: {failures}")
    with open(args.json, "w") as f:
        json.dump({"machine": machine(), "runs": runs}, f, indent=2)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
