#!/usr/bin/env python3
"""Machine telemetry, seeded: a clean history and live data with incidents.

Usage: generate.py --kind history|live [--minutes N] [--seed S]
                   [--start 2024-03-01T00:00:00] [--labels FILE]
                   [--format csv|ndjson] [--host NAME] > out.csv

Columns: timestamp,cpu_usage_percent,memory_free_mb,disk_io_rate_mbps,
network_latency_ms,error_count, one row per minute. CPU follows a daily
cycle with noise, free memory falls as CPU rises, disk I/O and latency are
noisy around their levels, errors are rare. `--kind live` injects incidents
(about one per 100 minutes, 4 to 12 minutes long): a runaway process (CPU
near 100 %, free memory collapsing, errors), a disk storm (I/O x6 to x10,
latency x3) or a network fault (latency x5 to x8, errors); `--labels`
writes them as JSON, [[first timestamp, last timestamp, kind], ...].
`--format ndjson` writes one JSON object per row instead, with a `host`
field (`--host`, default machine-1), as a fleet's collectors send them.
Only the standard library is used.
"""

import argparse
import datetime as dt
import json
import math
import random


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kind", choices=["history", "live"], required=True)
    parser.add_argument("--minutes", type=int, default=None)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--start", default=None)
    parser.add_argument("--labels", default=None)
    parser.add_argument("--format", choices=["csv", "ndjson"], default="csv")
    parser.add_argument("--host", default="machine-1")
    args = parser.parse_args()
    live = args.kind == "live"
    minutes = args.minutes or (480 if live else 2880)
    rng = random.Random(args.seed if args.seed is not None else (11 if live else 3))
    start = dt.datetime.fromisoformat(args.start or ("2024-03-03T00:00:00" if live else "2024-03-01T00:00:00"))
    incidents = []
    if live:
        minute = rng.randint(30, 90)
        while minute < minutes - 15:
            length = rng.randint(4, 12)
            incidents.append((minute, minute + length - 1, rng.choice(["runaway", "disk", "network"])))
            minute += length + rng.randint(60, 140)
    if args.format == "csv":
        print("timestamp,cpu_usage_percent,memory_free_mb,disk_io_rate_mbps,network_latency_ms,error_count")
    labels = []
    for minute in range(minutes):
        now = start + dt.timedelta(minutes=minute)
        day = (now.hour * 60 + now.minute) / 1440
        cpu = 35 + 15 * math.sin(2 * math.pi * (day - 0.25)) + rng.gauss(0, 4)
        memory = 8192 - 40 * cpu + rng.gauss(0, 150)
        disk = max(0.5, rng.gauss(25, 5))
        latency = max(1.0, rng.gauss(12, 2))
        errors = 1 if rng.random() < 0.05 else 0
        kind = next((k for first, last, k in incidents if first <= minute <= last), None)
        if kind == "runaway":
            cpu = rng.uniform(94, 100)
            memory = rng.uniform(200, 900)
            errors += rng.randint(3, 12)
        elif kind == "disk":
            disk *= rng.uniform(6, 10)
            latency *= rng.uniform(2.5, 3.5)
        elif kind == "network":
            latency *= rng.uniform(5, 8)
            errors += rng.randint(2, 8)
        cpu = min(100.0, max(0.0, cpu))
        stamp = now.strftime("%Y-%m-%d %H:%M:%S")
        if args.format == "csv":
            print(f"{stamp},{cpu:.1f},{memory:.0f},{disk:.2f},{latency:.1f},{errors}")
        else:
            print(json.dumps({
                "timestamp": stamp, "host": args.host, "cpu_usage_percent": round(cpu, 1),
                "memory_free_mb": round(memory), "disk_io_rate_mbps": round(disk, 2),
                "network_latency_ms": round(latency, 1), "error_count": errors,
            }))
    if args.labels:
        for first, last, kind in incidents:
            labels.append([
                (start + dt.timedelta(minutes=first)).strftime("%Y-%m-%d %H:%M:%S"),
                (start + dt.timedelta(minutes=last)).strftime("%Y-%m-%d %H:%M:%S"),
                kind,
            ])
        with open(args.labels, "w") as out:
            json.dump(labels, out, indent=1)


if __name__ == "__main__":
    main()
