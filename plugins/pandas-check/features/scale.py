"""scale: `t_scaled` per series over the kept rows' non-missing values.

PARAMS {"method": "standard"|"minmax", "fit": "expanding"|"frozen",
        "warmup": N, "ddof": D}

expanding: statistics of the values so far including the current one
(`expanding()`), frozen: of the first `warmup` values. Nothing before
`warmup` values, and nothing where the spread is 0. A frozen fit is also
checked against scikit-learn's fitted scaler.
"""

import numpy as np
import pandas as pd
from sklearn.preprocessing import MinMaxScaler, StandardScaler


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
    if fit == "frozen" and (method == "minmax" or ddof == 0):
        check_with_sklearn(values, result, method, warmup)
    return result.reindex(s.index)


def check_with_sklearn(values, result, method, warmup):
    """A scikit-learn scaler fitted on the first `warmup` values agrees."""
    if len(values) < warmup:
        return
    scaler = StandardScaler() if method == "standard" else MinMaxScaler()
    scaler.fit(values.iloc[:warmup].to_numpy().reshape(-1, 1))
    want = scaler.transform(values.to_numpy().reshape(-1, 1)).ravel()
    got = result.to_numpy()
    both = ~np.isnan(got)
    assert np.allclose(got[both], want[both], rtol=1e-12, atol=1e-12), "scikit-learn disagrees"


def compute(frame, kept, params):
    out = kept[["row"]].copy()
    out["t_scaled"] = kept.groupby("series")["t"].transform(
        lambda s: scaled(s, params["method"], params["fit"], params["warmup"], params["ddof"])
    )
    return out
