"""resample: per series, buckets [k*every, (k+1)*every) from the epoch.

PARAMS {"every": "10s", "lateness": "0s", "stats": [...], "empty": "skip"|"emit"}

Rows are kept by the plugin's documented rule, computed here on its own: a
row is rejected (late) when its bucket starts before the series' closing
mark, which after each kept row is the start of the bucket holding (newest
kept timestamp of the series - lateness). The key is "<series>@<bucket
start ns>".
"""

import pandas as pd


def kept_by_lateness(frame, every, lateness):
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
    return frame[keep]


def compute(frame, kept_unused, params):
    every = pd.Timedelta(params["every"]).value
    lateness = pd.Timedelta(params.get("lateness", "0s")).value
    rows = kept_by_lateness(frame, every, lateness).copy()
    rows["time"] = pd.to_datetime(rows["ts"], unit="ns")
    out = []
    for series, group in rows.groupby("series"):
        resampler = group.set_index("time")["t"].resample(
            pd.Timedelta(every, unit="ns"), origin="epoch", closed="left", label="left"
        )
        size = resampler.size()
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
            # Empty buckets: pandas gives count and sum 0 and NaN for the
            # rest (the plugin emits count and sum only); made explicit
            # here, whatever a pandas version does for first/last.
            for column in table.columns:
                if column not in ("t_count", "t_sum"):
                    table.loc[size == 0, column] = float("nan")
        table.insert(0, "key", [f"{series}@{t.value}" for t in table.index])
        out.append(table)
    return pd.concat(out, ignore_index=True)
