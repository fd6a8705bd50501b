"""diff: `t_diff<k>` = groupby(series).t.diff(k) over the kept rows.

PARAMS {"periods": [1, 2, ...]}
"""


def compute(frame, kept, params):
    out = kept[["row"]].copy()
    for k in params["periods"]:
        out[f"t_diff{k}"] = kept.groupby("series")["t"].diff(k)
    return out
