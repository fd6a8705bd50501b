#!/usr/bin/env python3
"""The product lab's analysis in pandas, as the original notebook computes it.

Usage: reference.py telemetry.csv > reference_report.json

Writes the same JSON shape as the pipeline's analysis sink (pipeline.yaml),
so the example's test can compare the two key by key. Every rule is the
notebook's: drop exact duplicates, then rows with a missing value, then keep
0 <= cpu <= 100, 0 <= memory <= 100 and temperature > -50; sample standard
deviations (pandas' default ddof=1); strict comparisons; means per product
type rounded with DataFrame.round(2); top 10 with nlargest(keep="all");
resample with pandas' defaults (left-closed, left-labelled); a time-based
rolling("24h") mean.
"""

import json
import math
import sys

import pandas as pd

METRICS = [
    "temperature_celsius", "cpu_usage_percent", "memory_usage_percent",
    "power_consumption_watts", "network_latency_ms", "error_count",
]
TIME = "%Y-%m-%d %H:%M:%S"


def number(value):
    """A pandas/numpy scalar as JSON: NaN as null, whole ints as ints."""
    if value is None:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def rows(frame):
    out = []
    for record in frame.to_dict(orient="records"):
        record["timestamp"] = record["timestamp"].strftime(TIME)
        out.append({key: number(value) for key, value in record.items()})
    return out


def series(frame):
    out = []
    for stamp, record in frame.iterrows():
        item = {"timestamp": stamp.strftime(TIME)}
        item.update({key: number(value) for key, value in record.items()})
        out.append(item)
    return out


def top(values, name, key):
    largest = values.nlargest(10, keep="all")
    return [{key: index, name: number(value)} for index, value in largest.items()]


def main() -> None:
    raw = pd.read_csv(sys.argv[1], parse_dates=["timestamp"])
    deduplicated = raw.drop_duplicates()
    complete = deduplicated.dropna()
    df = complete[
        complete["cpu_usage_percent"].between(0, 100)
        & complete["memory_usage_percent"].between(0, 100)
        & (complete["temperature_celsius"] > -50)
    ]

    temperature = df["temperature_celsius"]
    t_mean, t_std = temperature.mean(), temperature.std()
    t_lower, t_upper = t_mean - 2 * t_std, t_mean + 2 * t_std
    temperature_anomalies = df[(temperature < t_lower) | (temperature > t_upper)]
    cpu_high = df["cpu_usage_percent"] > 80
    memory_high = df["memory_usage_percent"] > 90
    performance_anomalies = df[cpu_high | memory_high]
    power = df["power_consumption_watts"]
    p_mean, p_std = power.mean(), power.std()
    p_upper = p_mean + 2 * p_std
    power_anomalies = df[power > p_upper]

    indexed = df.set_index("timestamp")
    hourly = indexed[METRICS].resample("h").mean()
    daily = indexed.resample("D").agg({
        "temperature_celsius": "mean",
        "cpu_usage_percent": "mean",
        "power_consumption_watts": "sum",
    })
    rolling = indexed["temperature_celsius"].rolling("24h").mean()

    by_type = df.groupby("product_type")[METRICS].mean().round(2)
    report = {
        "rows": {
            "received": len(raw),
            "evicted": 0,
            "duplicates": len(raw) - len(deduplicated),
            "missing": len(deduplicated) - len(complete),
            "out_of_range": len(complete) - len(df),
            "analysed": len(df),
        },
        "period": {
            "first": df["timestamp"].iloc[0].strftime(TIME),
            "last": df["timestamp"].iloc[-1].strftime(TIME),
        },
        "distinct": {"device_id": int(df["device_id"].nunique())},
        "values": {
            "product_type": list(df["product_type"].unique()),
            "location": list(df["location"].unique()),
        },
        "groups": {
            "by_product_type": [
                {"product_type": name, **{m: number(row[m]) for m in METRICS}}
                for name, row in by_type.iterrows()
            ],
            "top_devices_by_errors": top(
                df.groupby("device_id")["error_count"].sum(), "error_count", "device_id"),
            "top_devices_by_power": top(
                df.groupby("device_id")["power_consumption_watts"].mean(),
                "power_consumption_watts", "device_id"),
        },
        "anomalies": {
            "temperature": {
                "count": len(temperature_anomalies),
                "conditions": [{
                    "field": "temperature_celsius", "sigma": 2.0, "tail": "both", "ddof": 1,
                    "mean": t_mean, "std": t_std, "lower": t_lower, "upper": t_upper,
                    "count": len(temperature_anomalies),
                }],
                "first": rows(temperature_anomalies.head(5)),
            },
            "performance": {
                "count": len(performance_anomalies),
                "conditions": [
                    {"field": "cpu_usage_percent", "gt": 80.0, "count": int(cpu_high.sum())},
                    {"field": "memory_usage_percent", "gt": 90.0, "count": int(memory_high.sum())},
                ],
                "first": rows(performance_anomalies.head(5)),
            },
            "power": {
                "count": len(power_anomalies),
                "conditions": [{
                    "field": "power_consumption_watts", "sigma": 2.0, "tail": "upper", "ddof": 1,
                    "mean": p_mean, "std": p_std, "upper": p_upper,
                    "count": len(power_anomalies),
                }],
                "first": rows(power_anomalies.head(5)),
            },
        },
        "resample": {"hourly": series(hourly), "daily": series(daily)},
        "rolling": {
            "temperature_24h": [
                {"timestamp": stamp.strftime(TIME), "temperature_celsius": number(value)}
                for stamp, value in rolling.items()
            ],
        },
    }
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
