#!/usr/bin/env python3
"""Streaming-client telemetry, seeded: the events of the video-telemetry
example, one JSON object per line.

Usage: generate.py [--events 20000] [--hours 6] [--seed 5] [--start 2024-05-01T10:00:00] > events.ndjson

Each event has the 24 fields of the client's schema: event_id,
customer_id, title_id, session_id, event_type (start/stop/pause/resume/
complete), event_timestamp (ISO 8601 UTC with `Z`, the fraction left out
when it is zero), watch_duration_seconds, position_seconds,
completion_percentage, device_type (mobile/web/tv/tablet), device_id,
device_os, app_version, quality (SD/HD/4K), bandwidth_mbps,
buffering_events, buffering_duration_seconds, error_count, ip_address,
country, state, city, isp, connection_type. Sessions of a few events each,
spread over `--hours`; lines are in time order. Only the standard library.
"""

import argparse
import datetime as dt
import json
import random

DEVICES = {"mobile": ["iOS 17", "Android 14"], "web": ["Chrome 124", "Firefox 125", "Safari 17"],
           "tv": ["tvOS 17", "Tizen 7", "webOS 23"], "tablet": ["iPadOS 17", "Android 13"]}
QUALITY_BANDWIDTH = {"SD": (3.0, 1.0), "HD": (8.0, 2.5), "4K": (22.0, 6.0)}
PLACES = [("US", "CA", "Los Angeles"), ("US", "NY", "New York"), ("US", "TX", "Austin"),
          ("US", "WA", "Seattle"), ("CA", "ON", "Toronto"), ("GB", "ENG", "London")]
ISPS = ["Comcast", "Verizon", "AT&T", "Spectrum", "Rogers", "BT"]
CONNECTIONS = ["wifi", "ethernet", "cellular"]


def stamp(t: dt.datetime) -> str:
    text = t.strftime("%Y-%m-%dT%H:%M:%S")
    if t.microsecond:
        text += f".{t.microsecond // 1000:03d}"
    return text + "Z"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--hours", type=int, default=6)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--start", default="2024-05-01T10:00:00")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    start = dt.datetime.fromisoformat(args.start)
    span = args.hours * 3600
    events = []
    n = 0
    while len(events) < args.events:
        customer = f"cust-{rng.randint(1, 2000):05d}"
        device_type = rng.choice(list(DEVICES))
        quality = rng.choices(["SD", "HD", "4K"], weights=[2, 5, 2])[0]
        mean, sd = QUALITY_BANDWIDTH[quality]
        country, state, city = rng.choice(PLACES)
        session = {
            "customer_id": customer,
            "title_id": f"title-{rng.randint(1, 300):04d}",
            "session_id": f"sess-{len(events):07d}",
            "device_type": device_type,
            "device_id": f"dev-{rng.randint(0, 99999):05d}",
            "device_os": rng.choice(DEVICES[device_type]),
            "app_version": rng.choice(["5.2.0", "5.2.1", "5.3.0"]),
            "quality": quality,
            "ip_address": f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
            "country": country, "state": state, "city": city,
            "isp": rng.choice(ISPS),
            "connection_type": rng.choice(CONNECTIONS),
        }
        length = rng.randint(300, 7200)
        t = start + dt.timedelta(seconds=rng.uniform(0, span), milliseconds=rng.choice([0, 0, rng.randint(1, 999)]))
        t = t.replace(microsecond=(t.microsecond // 1000) * 1000)
        position = 0.0
        kinds = ["start"] + rng.choices(["pause", "resume"], k=rng.randint(0, 4)) + [rng.choice(["stop", "complete"])]
        for kind in kinds:
            if len(events) >= args.events:
                break
            watched = 0.0 if kind == "start" else round(rng.uniform(30, 1800), 1)
            position = min(length, position + watched)
            if kind == "complete":
                position = float(length)
            bandwidth = max(0.3, rng.gauss(mean, sd))
            buffering = rng.choices([0, 1, 2, 3, 5, 8], weights=[60, 20, 9, 6, 3, 2])[0]
            errors = rng.choices([0, 1, 2, 4], weights=[90, 6, 3, 1])[0]
            n += 1
            events.append({
                "event_id": f"evt-{n:08d}",
                **{k: session[k] for k in ("customer_id", "title_id", "session_id")},
                "event_type": kind,
                "event_timestamp": stamp(t),
                "watch_duration_seconds": watched,
                "position_seconds": round(position, 1),
                "completion_percentage": round(100.0 * position / length, 2),
                **{k: session[k] for k in ("device_type", "device_id", "device_os", "app_version", "quality")},
                "bandwidth_mbps": round(bandwidth, 2),
                "buffering_events": buffering,
                "buffering_duration_seconds": round(buffering * rng.uniform(0.5, 6.0), 2),
                "error_count": errors,
                **{k: session[k] for k in ("ip_address", "country", "state", "city", "isp", "connection_type")},
            })
            t += dt.timedelta(seconds=watched + rng.uniform(1, 30))
    events.sort(key=lambda e: (e["event_timestamp"], e["event_id"]))
    for event in events:
        print(json.dumps(event))


if __name__ == "__main__":
    main()
