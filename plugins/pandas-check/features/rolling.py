"""rolling: per series over the kept rows, `t_<stat>` and `t_p<percent>`.

PARAMS {"window": 10 | "30s", "stats": [...], "quantiles": [...],
        "min_periods": N (optional), "ddof": 0|1 (optional, default 1)}
"""

import pandas as pd


def percent(q):
    return f"{q * 100:.6f}".rstrip("0").rstrip(".")


def compute(frame, kept, params):
    window = params["window"]
    options = {}
    if "min_periods" in params:
        options["min_periods"] = params["min_periods"]
    ddof = params.get("ddof", 1)
    out = kept[["row"]].copy()
    if isinstance(window, str):
        # A time window needs a time index; positions are kept by "row".
        data = kept.set_index(pd.to_datetime(kept["ts"], unit="ns"))
    else:
        data = kept
    groups = data.groupby("series")["t"]

    def apply(fn):
        result = groups.transform(lambda s: fn(s.rolling(window, **options)))
        return result.to_numpy()

    for stat in params["stats"]:
        if stat in ("std", "var"):
            out[f"t_{stat}"] = apply(lambda r, stat=stat: getattr(r, stat)(ddof=ddof))
        else:
            out[f"t_{stat}"] = apply(lambda r, stat=stat: getattr(r, stat)())
    for q in params.get("quantiles", []):
        out[f"t_p{percent(q)}"] = apply(lambda r, q=q: r.quantile(q))
    return out
