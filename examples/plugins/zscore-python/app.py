"""zscore-python: the z-score detector in Python, alert for alert what the
bundled Rust `builtin:zscore` raises in its rolling mode.

Each (series, field) keeps its last `window` values. A value is scored
against them before it joins them: z = (value - mean) / std, with the
population standard deviation. Once `min_samples` values are known, a value
more than `threshold` deviations away, on the side `direction` names, fires
an alert with the value and the score. A window whose values are all equal
scores an equal value 0 and any other value +-infinity, as the Rust plugin
does.

    processors:
      outliers:
        inputs: [parse]
        plugin: ./dist/zscore-python.wasm
        config: { fields: [temperature], window: 100, threshold: 3, min_samples: 10 }
"""

import json
import math
from collections import deque

from foghorn_plugin import export, points


class ZScore:
    def __init__(self, config):
        self.fields = [str(f) for f in config.get("fields", [])]
        self.window = int(config.get("window", 100))
        self.threshold = float(config.get("threshold", 3.0))
        self.min_samples = int(config.get("min_samples", 10))
        self.direction = config.get("direction", "both")
        self.severity = config.get("severity", "warning")
        self.kind = config.get("kind", "zscore")
        if self.window < 2:
            raise ValueError("window must be at least 2")
        if not 2 <= self.min_samples <= self.window:
            raise ValueError("min_samples must be from 2 to window")
        if self.direction not in ("both", "above", "below"):
            raise ValueError("direction must be both, above or below")
        self.windows = {}

    def outlier(self, score):
        if self.direction == "above":
            return score > self.threshold
        if self.direction == "below":
            return score < -self.threshold
        return abs(score) > self.threshold

    def observe(self, point, field, value, out):
        key = (point.series.name, tuple(point.series.tags), field)
        window = self.windows.get(key)
        if window is None:
            window = self.windows[key] = deque(maxlen=self.window)
        if len(window) >= self.min_samples:
            if min(window) == max(window):
                mean, std = window[0], 0.0
            else:
                mean = sum(window) / len(window)
                std = math.sqrt(sum((x - mean) ** 2 for x in window) / len(window))
            deviation = value - mean
            if std > 0:
                score = deviation / std
            else:
                score = 0.0 if deviation == 0 else math.copysign(math.inf, deviation)
            if self.outlier(score):
                text = f"{field} {value} is {score:.3f} sigma from mean {mean:.3f}"
                out.alert(self.kind, self.severity, point.series, point.timestamp, text,
                          labels={"field": field}, value=value, score=score)
        window.append(value)

    def process(self, batch, out):
        for point in points(batch):
            names = self.fields or [n for n in point.fields if point.number(n) is not None]
            for field in names:
                value = point.number(field)
                if value is not None and math.isfinite(value):
                    self.observe(point, field, value, out)

    def snapshot(self):
        saved = [[name, [list(t) for t in tags], field, list(window)]
                 for (name, tags, field), window in self.windows.items()]
        return json.dumps(saved).encode()

    def restore(self, state):
        self.windows = {}
        for name, tags, field, values in json.loads(state):
            key = (name, tuple(tuple(t) for t in tags), field)
            self.windows[key] = deque((float(v) for v in values), maxlen=self.window)


WitWorld = export(ZScore)
