"""scikit-learn's IsolationForest on NAB's machine temperature data, as the
reference foghorn's isolation-forest plugin is compared with.

    python3 isolation_forest_sklearn.py NAB_DIR OUT_DIR TREES SAMPLE_SIZE SEEDS

Builds the features with pandas (the same for both: value, lag 1, diff 1,
mean and sample std over the last 12 points, the value standardised by the
mean and population std of every value so far), labels each row 1 inside
one of NAB's labelled windows, trains on the first 15 % of rows (NAB's
probationary share) and scores every row. Writes OUT_DIR/features.csv
(header: the features and `label`; the first `train` rows are the training
set) and prints JSON: ROC AUC per seed and scoring rows per CPU-second
(single thread; time.process_time around score_samples).
"""

import json
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.ensemble import IsolationForest  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402

FILE = "realKnownCause/machine_temperature_system_failure.csv"
FEATURES = ["value", "lag1", "diff1", "mean12", "std12", "z"]


def main() -> None:
    nab, out, trees, sample_size, seeds = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    data = pd.read_csv(os.path.join(nab, "data", FILE), parse_dates=["timestamp"])
    windows = json.load(open(os.path.join(nab, "labels", "combined_windows.json")))[FILE]
    v = data["value"]
    frame = pd.DataFrame(
        {
            "value": v,
            "lag1": v.shift(1),
            "diff1": v.diff(1),
            "mean12": v.rolling(12).mean(),
            "std12": v.rolling(12).std(),
            "z": (v - v.expanding().mean()) / v.expanding().std(ddof=0),
        }
    )
    label = np.zeros(len(data), dtype=int)
    for start, end in windows:
        label[(data["timestamp"] >= pd.Timestamp(start)) & (data["timestamp"] <= pd.Timestamp(end))] = 1
    frame["label"] = label
    frame = frame.dropna().reset_index(drop=True)
    train = int(0.15 * len(frame))
    frame.to_csv(os.path.join(out, "features.csv"), index=False, float_format="%.17g")
    x = frame[FEATURES].to_numpy()
    aucs, speeds = [], []
    for seed in range(seeds):
        forest = IsolationForest(n_estimators=trees, max_samples=sample_size, random_state=seed, n_jobs=1)
        forest.fit(x[:train])
        started = time.process_time()
        scores = -forest.score_samples(x)
        spent = time.process_time() - started
        aucs.append(roc_auc_score(frame["label"], scores))
        speeds.append(len(x) / spent)
    print(json.dumps({"rows": len(x), "train": train, "aucs": aucs, "rows_per_cpu_s": float(np.median(speeds))}))


if __name__ == "__main__":
    main()
