#!/usr/bin/env python3
"""Product fleet telemetry, seeded: the input of the product-lab example.

Usage: generate.py [--rows 5000] [--days 30] [--seed 42] [--start 2024-01-01T00:00:00] > telemetry.csv

Columns: timestamp,device_id,product_type,location,temperature_celsius,
cpu_usage_percent,memory_usage_percent,power_consumption_watts,
network_latency_ms,error_count. Rows are sorted by timestamp (to the second)
over --days days; about 5 % carry an injected fault (temperature x1.8, cpu
and memory x1.5 capped at 100, power x1.7, 5 to 20 more errors); memory is
drawn from N(60, 20), so a few percent fall outside 0..100; about 0.5 % of
rows repeat the row before exactly, and about 0.5 % have one empty cell.
Only the standard library is used.
"""

import argparse
import datetime as dt
import random

PRODUCTS = {
    # product type: (temperature mean, sd, cpu mean, sd, power mean, sd)
    "smart_thermostat": (35.0, 4.0, 30.0, 10.0, 5.0, 1.0),
    "security_camera": (45.0, 5.0, 55.0, 12.0, 12.0, 2.0),
    "smart_speaker": (40.0, 4.0, 40.0, 12.0, 8.0, 1.5),
    "industrial_sensor": (55.0, 6.0, 25.0, 8.0, 3.0, 0.5),
    "edge_gateway": (60.0, 7.0, 65.0, 12.0, 25.0, 4.0),
}
LOCATIONS = ["warehouse_a", "warehouse_b", "office_north", "office_south", "factory_floor"]
COLUMNS = [
    "timestamp", "device_id", "product_type", "location", "temperature_celsius",
    "cpu_usage_percent", "memory_usage_percent", "power_consumption_watts",
    "network_latency_ms", "error_count",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--devices", type=int, default=50)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--start", default="2024-01-01T00:00:00")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    start = dt.datetime.fromisoformat(args.start)
    span = args.days * 86400
    devices = []
    for i in range(args.devices):
        product = list(PRODUCTS)[i % len(PRODUCTS)]
        devices.append((f"DEV-{i + 1:03d}", product, rng.choice(LOCATIONS)))
    offsets = sorted(rng.randrange(span) for _ in range(args.rows))
    print(",".join(COLUMNS))
    previous = None
    for offset in offsets:
        if previous is not None and rng.random() < 0.005:
            print(previous)
            continue
        device, product, location = rng.choice(devices)
        t_mean, t_sd, c_mean, c_sd, p_mean, p_sd = PRODUCTS[product]
        temperature = rng.gauss(t_mean, t_sd)
        cpu = min(100.0, max(0.0, rng.gauss(c_mean, c_sd)))
        memory = rng.gauss(60.0, 20.0)
        power = max(0.1, rng.gauss(p_mean, p_sd))
        latency = max(1.0, rng.gauss(40.0, 15.0))
        errors = max(0, int(rng.gauss(1.0, 1.0)))
        if rng.random() < 0.05:
            temperature *= 1.8
            cpu = min(100.0, cpu * 1.5)
            memory = min(100.0, memory * 1.5)
            power *= 1.7
            errors += rng.randint(5, 20)
        timestamp = (start + dt.timedelta(seconds=offset)).strftime("%Y-%m-%d %H:%M:%S")
        cells = [
            timestamp, device, product, location, f"{temperature:.2f}", f"{cpu:.2f}",
            f"{memory:.2f}", f"{power:.2f}", f"{latency:.2f}", str(errors),
        ]
        if rng.random() < 0.005:
            cells[rng.randrange(4, len(cells))] = ""
        previous = ",".join(cells)
        print(previous)


if __name__ == "__main__":
    main()
