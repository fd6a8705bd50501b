#!/usr/bin/env python3
"""Edge network telemetry, seeded: the input of the network-analytics example.

Usage: generate.py [--hours 24] [--seed 7] [--start 2023-01-01T00:00:00] > network.csv

Columns: timestamp,device_id,region,traffic_mbps,latency_ms,packet_loss_pct,
cpu_utilization_pct. One row per minute for each of 20 devices (edge-01 to
edge-20, five per region: us-east, us-west, eu-central, ap-south), rows in
timestamp order (devices in order within a minute). Traffic follows a daily
cycle; latency, loss and CPU are noisy around each region's level; about 2 %
of rows carry a spike: latency x3 to x6, loss +2 to +8 points, or CPU 90 to
100 %. Values have 1 to 3 decimals. Only the standard library is used.
"""

import argparse
import datetime as dt
import math
import random

REGIONS = ["us-east", "us-west", "eu-central", "ap-south"]
# region: (latency mean, latency sd, loss mean, cpu mean)
LEVELS = {
    "us-east": (35.0, 8.0, 0.3, 45.0),
    "us-west": (42.0, 10.0, 0.4, 50.0),
    "eu-central": (55.0, 12.0, 0.5, 55.0),
    "ap-south": (80.0, 18.0, 0.8, 60.0),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hours", type=int, default=24)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--start", default="2023-01-01T00:00:00")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    start = dt.datetime.fromisoformat(args.start)
    devices = [(f"edge-{i + 1:02d}", REGIONS[i // 5]) for i in range(20)]
    print("timestamp,device_id,region,traffic_mbps,latency_ms,packet_loss_pct,cpu_utilization_pct")
    for minute in range(args.hours * 60):
        stamp = (start + dt.timedelta(minutes=minute)).strftime("%Y-%m-%d %H:%M:%S")
        cycle = 1.0 + 0.6 * math.sin(2 * math.pi * (minute % 1440) / 1440 - math.pi / 2)
        for device, region in devices:
            latency_mean, latency_sd, loss_mean, cpu_mean = LEVELS[region]
            traffic = max(1.0, rng.gauss(400.0 * cycle, 60.0))
            latency = max(1.0, rng.gauss(latency_mean, latency_sd))
            loss = max(0.0, rng.gauss(loss_mean, loss_mean / 2))
            cpu = min(89.0, max(1.0, rng.gauss(cpu_mean, 10.0)))
            if rng.random() < 0.02:
                kind = rng.choice(["latency", "loss", "cpu", "both"])
                if kind in ("latency", "both"):
                    latency *= rng.uniform(3.0, 6.0)
                if kind in ("loss", "both"):
                    loss += rng.uniform(2.0, 8.0)
                if kind == "cpu":
                    cpu = rng.uniform(90.0, 100.0)
            print(f"{stamp},{device},{region},{traffic:.2f},{latency:.1f},{loss:.3f},{cpu:.1f}")


if __name__ == "__main__":
    main()
