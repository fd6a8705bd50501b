#!/usr/bin/env python3
"""Device telemetry of one edge host, seeded: the input of an edge agent in
the fleet example.

Usage: generate.py --host edge-1 [--devices 4] [--points 1000] [--first 0]
                   [--seed 1] [--start 2026-01-01T00:00:00Z] >> readings.ndjson

One NDJSON line per reading, every 10 s for each device (`<host>-d<n>`), in
time order: {"time", "host", "device", "seq", "temperature", "cpu"}. `seq`
numbers a device's readings from `--first`, so a second call with `--first`
continues the same series. Temperature wanders around 55 °C and CPU around
40 %; about 1 % of readings overheat (81–99 °C) and about 1 % run the CPU at
91–100 %. Only the standard library is used.
"""

import argparse
import datetime as dt
import json
import random


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", required=True)
    parser.add_argument("--devices", type=int, default=4)
    parser.add_argument("--points", type=int, default=1000)
    parser.add_argument("--first", type=int, default=0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--start", default="2026-01-01T00:00:00Z")
    args = parser.parse_args()
    start = dt.datetime.fromisoformat(args.start.replace("Z", "+00:00"))
    for seq in range(args.first, args.first + args.points):
        for d in range(args.devices):
            device = f"{args.host}-d{d}"
            # One generator per reading: a continuation gives the same values
            # as one long run.
            rng = random.Random(f"{args.seed}/{device}/{seq}")
            temperature = round(55 + rng.gauss(0, 4), 2)
            if rng.random() < 0.01:
                temperature = round(rng.uniform(81, 99), 2)
            cpu = round(min(max(40 + rng.gauss(0, 12), 0), 89), 1)
            if rng.random() < 0.01:
                cpu = round(rng.uniform(91, 100), 1)
            time = start + dt.timedelta(seconds=10 * seq)
            print(json.dumps({
                "time": time.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "host": args.host,
                "device": device,
                "seq": seq,
                "temperature": temperature,
                "cpu": cpu,
            }, separators=(",", ":")))


if __name__ == "__main__":
    main()
