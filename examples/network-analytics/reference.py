#!/usr/bin/env python3
"""The network team's analysis script, in pandas: the reference the example
is compared with.

Usage: reference.py network.csv OUT_DIR

Writes OUT_DIR/bottlenecks.csv exactly as the script did, and
OUT_DIR/reference.json with the latency statistics, KPIs and bottlenecks in
the JSON shape of the pipeline's analysis sink, so the test can compare them
key by key. The rules: rows in timestamp order; latency statistics per
(region, device) (mean, median, max, sample std, count); per region
uptime_score = mean(100 - min(loss, 5)), performance_score =
mean(100 - min(latency, 200) / 2) and the average CPU; a row is a bottleneck
when latency > 120 or loss > 2 or cpu > 90 or z(latency) > 2.5 or
z(loss) > 2.5, with z over the whole input, population std (0 counts as 1);
severity = max(0, (latency-120)/120, (loss-2)/2, (cpu-90)/90) rounded to 2
places.
"""

import json
import math
import os
import sys

import pandas as pd


def number(value):
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def main() -> None:
    source, out_dir = sys.argv[1], sys.argv[2]
    df = pd.read_csv(source).sort_values("timestamp", kind="stable")

    latency = df.groupby(["region", "device_id"])["latency_ms"].agg(
        ["mean", "median", "max", "std", "count"]).reset_index()

    df["uptime_score"] = 100 - df["packet_loss_pct"].clip(upper=5)
    df["performance_score"] = 100 - df["latency_ms"].clip(upper=200) / 2
    kpis = df.groupby("region").agg(
        uptime_score=("uptime_score", "mean"),
        performance_score=("performance_score", "mean"),
        avg_cpu=("cpu_utilization_pct", "mean"),
    ).reset_index()

    lat_mean, lat_std = df["latency_ms"].mean(), df["latency_ms"].std(ddof=0) or 1.0
    loss_mean, loss_std = df["packet_loss_pct"].mean(), df["packet_loss_pct"].std(ddof=0) or 1.0
    bottlenecks = []
    for row in df.itertuples(index=False):
        z_latency = (row.latency_ms - lat_mean) / lat_std
        z_loss = (row.packet_loss_pct - loss_mean) / loss_std
        if (row.latency_ms > 120 or row.packet_loss_pct > 2 or row.cpu_utilization_pct > 90
                or z_latency > 2.5 or z_loss > 2.5):
            severity = max(0.0, (row.latency_ms - 120) / 120, (row.packet_loss_pct - 2) / 2,
                           (row.cpu_utilization_pct - 90) / 90)
            bottlenecks.append({
                "device_id": row.device_id,
                "region": row.region,
                "metric": "latency/packet_loss/cpu",
                "severity": round(severity, 2),
                "description": (
                    f"High latency and loss event observed at {row.timestamp} "
                    f"(latency {row.latency_ms} ms, loss {row.packet_loss_pct}%)."
                ),
                "row": row,
            })
    pd.DataFrame(
        [{k: v for k, v in b.items() if k != "row"} for b in bottlenecks],
        columns=["device_id", "region", "metric", "severity", "description"],
    ).to_csv(os.path.join(out_dir, "bottlenecks.csv"), index=False)

    def row_json(b):
        row = b["row"]._asdict()
        row = {key: number(value) for key, value in row.items()
               if key not in ("uptime_score", "performance_score")}
        row["severity"] = b["severity"]
        return row

    report = {
        "latency_by_device": [
            {"region": r.region, "device_id": r.device_id,
             "latency_ms_mean": number(r.mean), "latency_ms_median": number(r.median),
             "latency_ms_max": number(r.max), "latency_ms_std": number(r.std),
             "latency_ms_count": number(r.count)}
            for r in latency.itertuples(index=False)
        ],
        "kpis_by_region": [
            {"region": r.region, "uptime_score": number(r.uptime_score),
             "performance_score": number(r.performance_score), "avg_cpu": number(r.avg_cpu)}
            for r in kpis.itertuples(index=False)
        ],
        "bottlenecks": {
            "count": len(bottlenecks),
            "z": {"latency_ms": {"mean": number(lat_mean), "std": number(lat_std)},
                  "packet_loss_pct": {"mean": number(loss_mean), "std": number(loss_std)}},
            "first": [row_json(b) for b in bottlenecks[:5]],
        },
    }
    with open(os.path.join(out_dir, "reference.json"), "w") as out:
        json.dump(report, out, indent=2)


if __name__ == "__main__":
    main()
