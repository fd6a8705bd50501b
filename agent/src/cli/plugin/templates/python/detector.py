"""{{name}}: {{summary}}.

A detector: it reads points (from a parser upstream) and raises an alert when
`field` goes above `max` in a series, and resolves it when the value comes
back to `max` or below. Which series are firing is kept in the snapshot, so a
restart neither repeats nor forgets an alert.

    processors:
      {{snake}}:
        inputs: [parse]
        plugin: ./dist/{{name}}.wasm
        config: { field: temperature, max: 80 }
"""

import json

from foghorn_plugin import export, points

KIND = "{{snake}}"


class Detector:
    def __init__(self, config):
        self.field = str(config["field"])
        self.max = float(config["max"])
        self.severity = config.get("severity", "critical")
        if self.severity not in ("info", "warning", "critical"):
            raise ValueError(f"severity must be info, warning or critical, not {self.severity!r}")
        self.firing = set()

    def process(self, batch, out):
        for point in points(batch):
            value = point.number(self.field)
            if value is None:
                continue
            key = (point.series.name, tuple(point.series.tags))
            over = value > self.max
            if over == (key in self.firing):
                continue
            if over:
                self.firing.add(key)
                text = f"{self.field} {value} is above {self.max}"
                out.alert(KIND, self.severity, point.series, point.timestamp, text,
                          labels={"field": self.field}, value=value)
            else:
                self.firing.discard(key)
                text = f"{self.field} {value} is back to {self.max} or below"
                out.alert(KIND, self.severity, point.series, point.timestamp, text,
                          state="resolved", labels={"field": self.field}, value=value)

    def snapshot(self):
        return json.dumps([[name, [list(t) for t in tags]] for name, tags in self.firing]).encode()

    def restore(self, state):
        self.firing = {(name, tuple(tuple(t) for t in tags)) for name, tags in json.loads(state)}


WitWorld = export(Detector)
