"""resample: per series, buckets [k*every, (k+1)*every) from the epoch.

PARAMS {"every": "10s", "lateness": "0s", "stats": [...], "empty": "skip"|"emit"}

Rows are kept by the plugin's documented rule, computed here on its own: a
row is rejected when its bucket starts before the series' closing mark,
which after each kept row is the bucket of (newest kept timestamp -
lateness). The key is "<series>@<bucket start ns>".
"""

import pandas as pd


def compute(frame, kept_unused, params):
    every = pd.Timedelta(params["every"]).value
    lateness = pd.Timedelta(params.get("lateness", "0s")).value
    keep = []
    state = {}
    for series, ts in zip(frame["series"], frame["ts"]):
        watermark, closed = state.get(series, (None, None))
        start = (ts // every) * every
        if closed is not None and start < closed:
            keep.append(False)
            continue
        keep.append(True)
        watermark = ts if watermark is None else max(watermark, ts)
        state[series] = (watermark, ((watermark - lateness) // every) * every)
    rows = frame[keep].copy()
    rows["time"] = pd.to_datetime(rows["ts"], unit="ns")
    out = []
    for series, group in rows.groupby("series"):
        resampler = group.set_index("time")["t"].resample(
            pd.Timedelta(every, unit="ns"), origin="epoch", closed="left", label="left"
        )
        size = group.set_index("time")["t"].resample(
            pd.Timedelta(every, unit="ns"), origin="epoch", closed="left", label="left"
        ).size()
        table = pd.DataFrame(index=size.index)
        for stat in params["stats"]:
            if stat.startswith("p"):
                table[f"t_{stat}"] = resampler.quantile(float(stat[1:]) / 100)
            elif stat == "std":
                table["t_std"] = resampler.std(ddof=1)
            else:
                table[f"t_{stat}"] = getattr(resampler, stat)()
        if params.get("empty", "skip") == "skip":
            table = table[size > 0]
        else:
            # pandas gives empty buckets NaN for every statistic but count
            # and sum (0); the plugin emits those two only.
            for column in table.columns:
                if column not in ("t_count", "t_sum"):
                    table.loc[size == 0, column] = float("nan")
        table.insert(0, "key", [f"{series}@{t.value}" for t in table.index])
        out.append(table)
    return pd.concat(out, ignore_index=True)
