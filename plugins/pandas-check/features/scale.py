"""scale: `t_scaled` per series over the kept rows' non-missing values.

PARAMS {"method": "standard"|"minmax", "fit": "expanding"|"frozen",
        "warmup": N, "ddof": 0|1}

expanding: statistics of the values so far including the current one
(`expanding()`), frozen: of the first `warmup` values. Nothing before
`warmup` values, and nothing where the spread is 0.
"""

import numpy as np
import pandas as pd


def scaled(s, method, fit, warmup, ddof):
    values = s.dropna()
    if fit == "expanding":
        e = values.expanding(min_periods=warmup)
        if method == "standard":
            offset, spread = e.mean(), e.std(ddof=ddof)
        else:
            offset, spread = e.min(), e.max() - e.min()
    else:
        first = values.iloc[:warmup]
        if method == "standard":
            o, w = first.mean(), first.std(ddof=ddof)
        else:
            o, w = first.min(), first.max() - first.min()
        offset = pd.Series(o, index=values.index)
        spread = pd.Series(w, index=values.index)
        count = pd.Series(np.arange(1, len(values) + 1), index=values.index)
        spread[count < warmup] = np.nan
    result = (values - offset) / spread.where(spread > 0)
    return result.reindex(s.index)


def compute(frame, kept, params):
    out = kept[["row"]].copy()
    out["t_scaled"] = kept.groupby("series")["t"].transform(
        lambda s: scaled(s, params["method"], params["fit"], params["warmup"], params["ddof"])
    )
    return out
