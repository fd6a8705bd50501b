"""ewma: `t_ewma` = groupby(series).t.ewm(**params).mean() over the kept rows.

PARAMS: pandas' ewm arguments, e.g. {"span": 12} or {"alpha": 0.3, "adjust": false}.
"""


def compute(frame, kept, params):
    out = kept[["row"]].copy()
    out["t_ewma"] = kept.groupby("series")["t"].transform(lambda s: s.ewm(**params).mean())
    return out
