"""Helpers for foghorn plugins written in Python.

A plugin is a class, as in the Rust SDK: built from its pipeline `config`
(a dict; raise `ValueError` to refuse it), called with each batch and an
`Output` to write points, alerts and rejects to, and optionally on `tick`,
`snapshot` and `restore`. `export` turns it into the `foghorn:plugin/processor`
WIT world, whose bindings (`wit_world`) componentize-py generates from
`wit/processor.wit` when it builds the component:

    from foghorn_plugin import export, points

    class TooHot:
        def __init__(self, config):
            self.max = float(config["max"])

        def process(self, batch, out):
            for point in points(batch):
                value = point.number("temperature")
                if value is not None and value > self.max:
                    out.alert("too_hot", "critical", point.series, point.timestamp, "hot")

    WitWorld = export(TooHot)

componentize-py makes a new `WitWorld` object for every call, so the plugin
object lives in this module, from `init` on.

Everything here is plain Python over the generated dataclasses; the agent
checks whatever a plugin returns, so a mistake is a clear error in the
agent's log, never a crash of the agent.
"""

import json

import wit_world
from componentize_py_types import Err
from wit_world.imports import types
from wit_world.imports.host import Level, log as _log

__all__ = ["Output", "Point", "Record", "export", "points", "records", "series", "log"]

_SEVERITIES = {
    "info": types.Severity.INFO,
    "warning": types.Severity.WARNING,
    "critical": types.Severity.CRITICAL,
}
_LEVELS = {
    "trace": Level.TRACE,
    "debug": Level.DEBUG,
    "info": Level.INFO,
    "warn": Level.WARN,
    "error": Level.ERROR,
}


def log(level, message):
    """Write a line through the agent's logger (`trace` ... `error`)."""
    _log(_LEVELS[level], message)


def series(name, **tags):
    """A series: a measurement name and its tags (sorted by key)."""
    return types.Series(name, sorted((k, str(v)) for k, v in tags.items()))


class Point:
    """One point of a batch: its series, timestamp (ns) and fields."""

    __slots__ = ("index", "series", "timestamp", "fields")

    def __init__(self, index, series, timestamp, fields):
        self.index = index
        self.series = series
        self.timestamp = timestamp
        self.fields = fields

    def number(self, field):
        """The field as a float when it is numeric (not a bool), else None."""
        value = self.fields.get(field)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        return float(value)


class Record:
    """One raw record: its index in the batch, receive time (ns) and bytes."""

    __slots__ = ("index", "timestamp", "data")

    def __init__(self, index, timestamp, data):
        self.index = index
        self.timestamp = timestamp
        self.data = data

    def text(self):
        """The record as text; invalid UTF-8 becomes U+FFFD."""
        return self.data.decode("utf-8", errors="replace")


def _texts(column):
    data, values, start = column.data, [], 0
    for end in column.ends:
        values.append(bytes(data[start:end]).decode("utf-8", errors="replace"))
        start = end
    return values


def points(batch):
    """The batch's points as a list of `Point`, fields as a dict each."""
    p = batch.points
    n = len(p.timestamps)
    rows = [{} for _ in range(n)]
    for column in p.columns:
        data = column.data
        values = _texts(data.value) if isinstance(data, types.ColumnData_Text) else data.value
        present, name = column.present, column.name
        if not present:
            for row, value in zip(rows, values):
                row[name] = value
        else:
            for i in range(n):
                if present[i >> 3] >> (i & 7) & 1:
                    rows[i][name] = values[i]
    table, index, stamps = p.series, p.series_index, p.timestamps
    return [Point(i, table[index[i]], stamps[i], rows[i]) for i in range(n)]


def records(batch):
    """The batch's raw records as a list of `Record`."""
    r = batch.records
    data, out, start = bytes(r.data), [], 0
    for i, (end, stamp) in enumerate(zip(r.ends, r.timestamps)):
        out.append(Record(i, stamp, data[start:end]))
        start = end
    return out


def _column(name, values, n):
    """One output column from `values` (None where a point lacks the field)."""
    kinds = {type(v) for v in values if v is not None}
    if kinds <= {bool}:
        kind = bool
    elif kinds <= {int}:
        kind = int
    elif kinds <= {int, float}:
        kind = float
    elif kinds <= {str}:
        kind = str
    else:
        raise TypeError(f"field {name!r} mixes {sorted(k.__name__ for k in kinds)} values")
    if kind is str:
        data, ends = bytearray(), []
        for v in values:
            if v is not None:
                data += v.encode("utf-8")
            ends.append(len(data))
        column_data = types.ColumnData_Text(types.TextColumn(bytes(data), ends))
    else:
        blank = {bool: False, int: 0, float: 0.0}[kind]
        filled = [blank if v is None else kind(v) for v in values]
        wrap = {bool: types.ColumnData_Boolean, int: types.ColumnData_Int, float: types.ColumnData_Float}
        column_data = wrap[kind](filled)
    if all(v is not None for v in values):
        present = b""
    else:
        bits = bytearray((n + 7) // 8)
        for i, v in enumerate(values):
            if v is not None:
                bits[i >> 3] |= 1 << (i & 7)
        present = bytes(bits)
    return types.Column(name, column_data, present)


class Output:
    """What one call returns: points, alerts and rejected items."""

    def __init__(self):
        self._series = {}
        self._table = []
        self._index = []
        self._stamps = []
        self._rows = []
        self._alerts = []
        self._errors = []

    def point(self, timestamp, series, fields):
        """Emit a point: `series` (from `series()` or an input point), a
        timestamp in ns and a dict of float, int, bool or str fields."""
        key = (series.name, tuple(series.tags))
        slot = self._series.get(key)
        if slot is None:
            slot = self._series[key] = len(self._table)
            self._table.append(series)
        self._index.append(slot)
        self._stamps.append(timestamp)
        self._rows.append(fields)

    def alert(self, kind, severity, series, timestamp, description, *,
              state="firing", labels=None, value=None, score=None):
        """Raise (`state="firing"`) or resolve (`"resolved"`) an alert.
        `labels` tell it apart from other alerts of the same kind and series
        (keep them stable: no measurements)."""
        self._alerts.append(types.Alert(
            timestamp=timestamp,
            kind=kind,
            severity=_SEVERITIES[severity],
            state=types.AlertState.FIRING if state == "firing" else types.AlertState.RESOLVED,
            series=series,
            labels=sorted((labels or {}).items()),
            value=value,
            score=score,
            description=description,
        ))

    def reject_record(self, index, reason):
        """Reject record `index` of the batch, with the reason."""
        self._errors.append(types.ItemError(types.Item_Record(index), reason))

    def reject_point(self, index, reason):
        """Reject point `index` of the batch, with the reason."""
        self._errors.append(types.ItemError(types.Item_Point(index), reason))

    def finish(self):
        """The output, in the world's columnar form."""
        n = len(self._rows)
        names = {}
        for row in self._rows:
            for name in row:
                names.setdefault(name, None)
        columns = [_column(name, [row.get(name) for row in self._rows], n) for name in names]
        points = types.Points(self._table, self._index, self._stamps, columns)
        return types.Output(points, self._alerts, self._errors)


_plugin = None


def export(plugin_class):
    """The `WitWorld` class componentize-py exports, running `plugin_class`:
    `plugin_class(config)` at `init` (a `ValueError` or `KeyError` refuses
    the config with its message), `process(batch, out)` per batch, and, when
    it has them, `tick(now, out)`, `snapshot() -> bytes` and
    `restore(state)` (a `ValueError` refuses the snapshot)."""

    class WitWorld(wit_world.WitWorld):
        def init(self, config):
            global _plugin
            try:
                _plugin = plugin_class(json.loads(config))
            except (ValueError, KeyError, TypeError) as error:
                raise Err(f"{type(error).__name__}: {error}")

        def process(self, batch):
            out = Output()
            _plugin.process(batch, out)
            return out.finish()

        def tick(self, now):
            out = Output()
            if hasattr(_plugin, "tick"):
                _plugin.tick(now, out)
            return out.finish()

        def snapshot(self):
            return bytes(_plugin.snapshot()) if hasattr(_plugin, "snapshot") else b""

        def restore(self, state):
            if hasattr(_plugin, "restore"):
                try:
                    _plugin.restore(bytes(state))
                except (ValueError, KeyError, TypeError) as error:
                    raise Err(f"unreadable snapshot: {error}")

    return WitWorld
