"""ewma: `t_ewma` = groupby(series).t.ewm(**params).mean() over the kept rows.

PARAMS: pandas' ewm arguments, e.g. {"span": 12} or {"alpha": 0.3, "adjust": false};
with "times": true, `times` is the rows' timestamps (for a halflife such as "2s").
"""

import pandas as pd


def compute(frame, kept, params):
    params = dict(params)
    by_time = params.pop("times", False)
    times = pd.to_datetime(kept["ts"], unit="ns")

    def mean(s):
        if by_time:
            return s.ewm(times=times.loc[s.index], **params).mean()
        return s.ewm(**params).mean()

    out = kept[["row"]].copy()
    out["t_ewma"] = kept.groupby("series")["t"].transform(mean)
    return out
