"""{{name}}: {{summary}}.

A parser: each raw line of `key=value` pairs separated by spaces
(`temperature=21.5 status=ok`) becomes a point of the series `series`, at the
time the line was received; numbers become float fields and other values text
fields. A line that is empty, or has a word without `=` or without a key, is
rejected with the reason: the agent writes it to the processor's error log and
counts it, and the line is not lost.

    processors:
      {{snake}}:
        inputs: [device]
        plugin: ./dist/{{name}}.wasm
        config: { series: bench }
"""

import json

import wit_world
from componentize_py_types import Err

from foghorn_plugin import Output, records, series


class WitWorld(wit_world.WitWorld):
    def init(self, config):
        name = json.loads(config).get("series", "device")
        if not isinstance(name, str) or not name:
            raise Err("series must be a non-empty text")
        self.series = series(name)

    def process(self, batch):
        out = Output()
        for record in records(batch):
            line = record.text()
            fields = {}
            for word in line.split():
                key, sep, value = word.partition("=")
                if not sep or not key:
                    out.reject_record(record.index, f"`{word}` is not key=value")
                    fields = None
                    break
                try:
                    fields[key] = float(value)
                except ValueError:
                    fields[key] = value
            if fields is None:
                continue
            if not fields:
                out.reject_record(record.index, "empty line")
                continue
            out.point(record.timestamp, self.series, fields)
        return out.finish()

    def tick(self, now):
        return Output().finish()

    def snapshot(self):
        return b""

    def restore(self, state):
        pass
