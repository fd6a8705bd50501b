"""{{name}}: {{summary}}.

A feature: every point comes out with its fields and `<field>_delta`, the
change of `field` since the previous point of the same series (absent on a
series' first point). The last value of each series is kept in the snapshot,
so a restart continues the differences where they stopped.

    processors:
      {{snake}}:
        inputs: [parse]
        plugin: ./dist/{{name}}.wasm
        config: { field: temperature }
"""

import json
import math

from foghorn_plugin import export, points


class Feature:
    def __init__(self, config):
        self.field = config.get("field")
        if not isinstance(self.field, str) or not self.field:
            raise ValueError("config needs `field`: the numeric field to difference")
        self.delta = f"{self.field}_delta"
        self.last = {}

    def process(self, batch, out):
        for point in points(batch):
            fields = dict(point.fields)
            value = point.number(self.field)
            if value is not None and math.isfinite(value):
                key = (point.series.name, tuple(point.series.tags))
                last = self.last.get(key)
                self.last[key] = value
                if last is not None:
                    fields[self.delta] = value - last
            out.point(point.timestamp, point.series, fields)

    def snapshot(self):
        return json.dumps([[n, [list(t) for t in tags], v] for (n, tags), v in self.last.items()]).encode()

    def restore(self, state):
        self.last = {(n, tuple(tuple(t) for t in tags)): float(v) for n, tags, v in json.loads(state)}


WitWorld = export(Feature)
