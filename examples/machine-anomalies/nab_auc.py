#!/usr/bin/env python3
"""The machine-anomalies feature chain and forest on NAB's machine
temperature series, next to scikit-learn's IsolationForest on the same
features: ROC AUC against NAB's labelled anomaly windows.

Usage: nab_auc.py [--foghorn PATH] [--nab-root DIR] [--seeds 20] [--train 0.15]

Splits machine_temperature_system_failure.csv into a history (the first
15 %, NAB's probationary share) and the rest, runs pipeline-nab.yaml with
foghorn (lag 1, difference, rolling 1 h mean/std/min/max, a scaler fitted on
the history, a forest of 100 trees of 256 trained on the history's complete
points), reads every point it wrote with its features and score, and fits
scikit-learn's IsolationForest (same trees, sample size and contamination)
on the same training points' features; both with and without the time in
epoch seconds as a feature (the machine script's feature set has it). A row is positive inside one of
NAB's windows. Both are scored on the rows after the history; each side's
AUC is the mean over `--seeds` seeds. Prints a table, or JSON with --json.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import pandas as pd
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score

FILE = "realKnownCause/machine_temperature_system_failure.csv"
FEATURES = ["value", "value_lag1", "value_diff1", "value_mean_1h", "value_std_1h",
            "value_min_1h", "value_max_1h"]
# The feature sets: without the time, and with it in epoch seconds (as the
# machine script had it), each with the file foghorn's forest writes.
VARIANTS = {"without time": (FEATURES, "scores.ndjson"),
            "with epoch seconds": (["epoch_seconds"] + FEATURES, "scores-time.ndjson")}
HERE = os.path.dirname(os.path.abspath(__file__))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--foghorn", default=os.path.join(HERE, "../../target/release/foghorn"))
    parser.add_argument("--nab-root", default=os.path.join(HERE, "../../../shared/datasets/nab"))
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--train", type=float, default=0.15)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    data = pd.read_csv(os.path.join(args.nab_root, "data", FILE))
    windows = json.load(open(os.path.join(args.nab_root, "labels", "combined_windows.json")))[FILE]
    history_rows = int(args.train * len(data))
    work = tempfile.mkdtemp(prefix="nab-auc-")
    data.iloc[:history_rows].to_csv(os.path.join(work, "history.csv"), index=False, header=False)
    data.iloc[history_rows:].to_csv(os.path.join(work, "live.csv"), index=False, header=False)

    foghorn_aucs = {name: [] for name in VARIANTS}
    frames = {}
    for seed in range(1, args.seeds + 1):
        out = os.path.join(work, f"out-{seed}")
        env = dict(os.environ, HISTORY=os.path.join(work, "history.csv"),
                   LIVE=os.path.join(work, "live.csv"), OUT_DIR=out,
                   HISTORY_ROWS=str(history_rows), TRAINING_POINTS=str(history_rows - 1),
                   SEED=str(seed))
        subprocess.run([args.foghorn, "run", "-c", os.path.join(HERE, "pipeline-nab.yaml")],
                       env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for name, (_, file) in VARIANTS.items():
            rows = scored(os.path.join(out, file), windows)
            live = rows.iloc[history_rows:]
            foghorn_aucs[name].append(roc_auc_score(live["label"], live["anomaly_score"]))
            frames[name] = rows

    sklearn_aucs = {name: [] for name in VARIANTS}
    for name, (features, _) in VARIANTS.items():
        frame = frames[name]
        train = frame.iloc[:history_rows].dropna(subset=features)
        live = frame.iloc[history_rows:]
        for seed in range(args.seeds):
            forest = IsolationForest(n_estimators=100, max_samples=256, contamination=0.01,
                                     random_state=seed, n_jobs=1)
            forest.fit(train[features].to_numpy())
            scores = -forest.score_samples(live[features].to_numpy())
            sklearn_aucs[name].append(roc_auc_score(live["label"], scores))

    frame = frames["without time"]
    train = frame.iloc[:history_rows].dropna(subset=FEATURES)
    live = frame.iloc[history_rows:]
    result = {
        "rows": len(frame), "history": history_rows, "training_points": len(train),
        "scored": len(live), "positives": int(live["label"].sum()),
        "variants": {name: {"foghorn_auc": float(np.mean(foghorn_aucs[name])),
                            "sklearn_auc": float(np.mean(sklearn_aucs[name])),
                            "foghorn_aucs": foghorn_aucs[name],
                            "sklearn_aucs": sklearn_aucs[name]} for name in VARIANTS},
    }
    if args.json:
        json.dump(result, sys.stdout)
        print()
        return
    print(f"NAB machine_temperature_system_failure: {result['rows']} rows, history {history_rows} "
          f"({len(train)} complete training points), {len(live)} scored, {result['positives']} in windows")
    print(f"| features | foghorn (pipeline-nab.yaml) | scikit-learn IsolationForest |\n|---|---:|---:|")
    for name, variant in result["variants"].items():
        print(f"| {name} | {variant['foghorn_auc']:.4f} | {variant['sklearn_auc']:.4f} |")
    print(f"(ROC AUC, mean of {args.seeds} seeds)")


def scored(path: str, windows: list) -> pd.DataFrame:
    """The points foghorn wrote to `path`, with their fields and a label:
    1 inside one of NAB's windows."""
    points = [json.loads(line) for line in open(path)]
    rows = pd.DataFrame([{"timestamp": p["timestamp"], **p["fields"]} for p in points])
    rows["timestamp"] = pd.to_datetime(rows["timestamp"]).dt.tz_localize(None)
    label = np.zeros(len(rows), dtype=int)
    for start, end in windows:
        label[(rows["timestamp"] >= pd.Timestamp(start)) & (rows["timestamp"] <= pd.Timestamp(end))] = 1
    rows["label"] = label
    return rows


if __name__ == "__main__":
    main()
