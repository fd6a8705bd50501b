"""lag: `t_lag<k>` = groupby(series).t.shift(k) over the kept rows.

PARAMS {"lags": [1, 2, ...]}
"""


def compute(frame, kept, params):
    out = kept[["row"]].copy()
    for k in params["lags"]:
        out[f"t_lag{k}"] = kept.groupby("series")["t"].shift(k)
    return out
