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

from foghorn_plugin import export, records, series


class Parser:
    def __init__(self, config):
        name = config.get("series", "device")
        if not isinstance(name, str) or not name:
            raise ValueError("series must be a non-empty text")
        self.series = series(name)

    def process(self, batch, out):
        for record in records(batch):
            fields = {}
            for word in record.text().split():
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


WitWorld = export(Parser)
