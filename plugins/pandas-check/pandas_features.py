"""What pandas computes for a feature plugin, as the reference its output is
compared with.

    python3 pandas_features.py FEATURE INPUT.csv OUTPUT.csv PARAMS_JSON

INPUT.csv has columns `series,ts,t` (`t` empty where a point lacks the
field), in arrival order. `features/FEATURE.py` defines
`compute(frame, kept, params)`: `frame` is every input row with its index in
column `row`; `kept` leaves out the rows older than the last kept row of
their series, as the plugins reject out-of-order points. It returns a
DataFrame whose first column is the row's key (the input row's index for a
feature with one output per input row) and whose other columns are the
feature's values (NaN written as an empty cell).
"""

import importlib.util
import json
import pathlib
import sys

import pandas as pd


def main() -> None:
    feature, source, target, params = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
    path = pathlib.Path(__file__).parent / "features" / f"{feature}.py"
    if not path.exists():
        raise SystemExit(f"unknown feature {feature}: no {path}")
    spec = importlib.util.spec_from_file_location(feature, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    frame = pd.read_csv(source, dtype={"series": str, "ts": "int64", "t": "float64"})
    frame["row"] = range(len(frame))
    before = frame.groupby("series")["ts"].cummax().groupby(frame["series"]).shift(1)
    kept = frame[before.isna() | (frame["ts"] >= before)].copy()
    out = module.compute(frame, kept, params)
    out.to_csv(target, index=False, float_format="%.17g")


if __name__ == "__main__":
    main()
