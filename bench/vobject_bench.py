#!/usr/bin/python3
"""Python's vobject (Debian python3-vobject) on the inputs parse_bench
dumped: each item parsed with vobject.readOne, then each parsed one written
with serialize(), timed apart; the median of --repeat runs.  Prints one
JSON line per kind in parse_bench's shape.  No thresholds: figures only.

Run by bench/parsers; alone: bench/vobject_bench.py DIR [--repeat N]
"""

import argparse
import json
import statistics
import time
from pathlib import Path

import vobject


def load(path):
    data = Path(path).read_bytes().decode("utf-8", errors="surrogateescape")
    return [item for item in data.split("\0") if item]


def one_run(items):
    parsed, errors = [], 0
    start = time.perf_counter()
    for text in items:
        try:
            parsed.append(vobject.readOne(text))
        except Exception:  # vobject raises many kinds (ParseError, ValueError, ...)
            errors += 1
    parse_s = time.perf_counter() - start
    start = time.perf_counter()
    for obj in parsed:
        try:
            obj.serialize()
        except Exception:
            errors += 1
    return parse_s, time.perf_counter() - start, errors


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    for kind, name in (("vcard", "vcard.items"), ("icalendar", "ical.items")):
        items = load(Path(args.dir) / name)
        runs = [one_run(items) for _ in range(max(1, args.repeat))]
        print(json.dumps({
            "parser": "vobject", "kind": kind, "items": len(items),
            "bytes": sum(len(i.encode("utf-8", errors="surrogateescape")) for i in items),
            "parse_s": statistics.median(r[0] for r in runs),
            "write_s": statistics.median(r[1] for r in runs),
            "errors": runs[0][2]}), flush=True)


if __name__ == "__main__":
    main()
