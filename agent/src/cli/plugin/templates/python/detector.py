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

import wit_world
from componentize_py_types import Err

from foghorn_plugin import Output, points


class WitWorld(wit_world.WitWorld):
    def init(self, config):
        config = json.loads(config)
        try:
            self.field = str(config["field"])
            self.max = float(config["max"])
        except (KeyError, TypeError, ValueError) as error:
            raise Err(f"config needs `field` (text) and `max` (a number): {error}")
        self.severity = config.get("severity", "critical")
        if self.severity not in ("info", "warning", "critical"):
            raise Err(f"severity must be info, warning or critical, not {self.severity!r}")
        self.firing = set()

    def process(self, batch):
        out = Output()
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
                out.alert("{{snake}}", self.severity, point.series, point.timestamp, text,
                          labels={"field": self.field}, value=value)
            else:
                self.firing.discard(key)
                text = f"{self.field} {value} is back to {self.max} or below"
                out.alert("{{snake}}", self.severity, point.series, point.timestamp, text,
                          state="resolved", labels={"field": self.field}, value=value)
        return out.finish()

    def tick(self, now):
        return Output().finish()

    def snapshot(self):
        return json.dumps([[name, list(map(list, tags))] for name, tags in self.firing]).encode()

    def restore(self, state):
        try:
            self.firing = {(name, tuple(map(tuple, tags))) for name, tags in json.loads(state)}
        except (ValueError, TypeError) as error:
            raise Err(f"unreadable snapshot: {error}")
