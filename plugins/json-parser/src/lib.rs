//! json: turns JSON records (NDJSON: one object per record) into points, one
//! per record, with the values at the configured paths as fields, tags, the
//! point's time and its series name.
//!
//! A path is dot-separated keys, `cpu.user`, or a JSON Pointer (RFC 6901)
//! when it starts with `/`, `/disk/sda.1`, for keys with dots (`~1` is `/`,
//! `~0` is `~`); a digit segment is an array index too (`load.0`,
//! `/load/0`). `fields` maps paths to field names; with `flatten: true`
//! every other scalar of the record is a field as well, named by its keys
//! and indexes joined with `_` (`{"cpu": {"user": 1}, "load": [1, 2]}` gives
//! `cpu_user`, `load_0`, `load_1`; values at the paths of `fields`,
//! `tag_paths`, `timestamp` and `measurement_path` are not flattened, and a
//! flattened name equal to a field of `fields` is left to that field). A
//! value is typed by `types` (by field name): `auto`, the default, keeps the
//! JSON type (a number is a float, a bool a bool, a string text; use `int`
//! for exact integers beyond 2^53); `float` and `int` also read numbers
//! written as strings (`"85.5"`; an `int` takes `4.0` and `1e3`, not `4.5`),
//! `bool` reads `true`, `"true"`, `"1"`, `1` and their opposites, `string`
//! writes numbers and bools as text (`7`, `2.5`, `true`). `null`, or no
//! value at a path, leaves the field out of the point, unless it is
//! `required`. The `tag_paths` values (string, number or bool; `null` or
//! `""` leaves the tag out) tag the point's series, whose name is
//! `measurement` or the string at `measurement_path`. The point's time is
//! the value at `timestamp.path` in `timestamp.format` (a JSON number with
//! the `unix*` formats, read exactly: `1764313800.25` is 25 hundredths of a
//! second; text with any format), or else the time the record was received;
//! with `timestamp.field` set, the point also has that time as a float field
//! in seconds since the epoch.
//! A key given twice: the last value counts, as in most JSON readers (with
//! `flatten`, also for a name given twice, as `a_b` and `a.b`).
//!
//! The JSON must be strict RFC 8259 (no comments, trailing commas, `NaN` or
//! single quotes), valid UTF-8, an object at the top, and nested at most
//! 128 deep; values the config does not ask for are checked too, numbers
//! only for their syntax (a number beyond the double range, `1e999`, is
//! invalid where it is read).
//!
//! A record that cannot be read produces no point and is rejected with a
//! reason quoting the offending value: `invalid JSON at line 1 column 17:
//! expected value`, `not a JSON object`, `field cpu at cpu.user: expected a
//! number, found an array`, `field cpu at cpu.user: "abc" is not a float`,
//! `field cpu at cpu.user: "NaN" is not a finite number`, `missing required
//! field cpu at cpu.user`, `missing timestamp at time`, `timestamp at time:
//! "x" is not rfc3339: …`, `tag host at meta.host: expected a string, number
//! or bool, found an object`, `measurement at kind: expected a string, found
//! a number`, `more than 256 fields (max_fields)`, `no fields: …`, `nested
//! more than 128 deep at line 1 column 9`, `invalid UTF-8 at byte 7`, `line
//! too long: …`. Blank lines are skipped and counted in the plugin metric
//! `blank_lines` (or rejected as `empty line` with `blank_lines: reject`).
//! Points in the input pass through unchanged.
//!
//! Memory: the buffers of one record (unescaped strings; with `flatten`, at
//! most `max_fields` names of at most 1024 bytes) and, within one call, one
//! entry per distinct series; nothing grows with the input across calls.
//!
//! ```yaml
//! processors:
//!   parse:
//!     inputs: [hosts]
//!     plugin: builtin:json
//!     config:
//!       fields:                          # path: field name
//!         cpu.user: cpu_user
//!         cpu.system: cpu_system
//!         mem.used: mem_used
//!         /disk/sda.1: sda1              # a JSON Pointer: the key "sda.1"
//!         load.0: load1                  # array index
//!       flatten: false                   # true: every other scalar too, named a_b_0
//!       max_fields: 256                  # with flatten: more rejects the record
//!       measurement: host                # default `json`
//!       measurement_path: kind           # or the record's own name for its series
//!       tags: { site: lab }              # static tags
//!       tag_paths: { host: host }        # tags from the record
//!       timestamp: { path: time, format: unix_ms }   # rfc3339 (default), unix, …, a strftime pattern
//!       types: { mem_used: int }         # float | int | bool | string | auto
//!       required: [cpu_user]             # default none
//!       blank_lines: skip                # skip (default) | reject
//!       max_line_length: 65536           # records this long were cut by the source
//!       non_finite: reject               # "NaN" as a float field: reject (default) | keep
//! ```
//!
//! Speed: the record is never built as a tree. A strict JSON reader of its
//! own (`reader.rs`: byte loops, strings scanned eight bytes at a time)
//! walks the text down a trie of the configured paths, typing each value
//! straight into its field's slot and skipping every other value; a string
//! without escapes stays where it is in the record; fields go to their
//! output columns by id, and records of a few devices find their series
//! among the last ones met, without hashing. A general deserializer
//! (serde_json with a `DeserializeSeed` over the same trie) took 4× its
//! native time in WebAssembly; this reader takes 2× (on a 200-byte record
//! with six fields, a tag and a time at batch 1024: about 1000 ns per record
//! in WebAssembly, 510 ns natively, on a shared 2-core machine).

mod config;
mod path;
mod reader;
mod walk;

use foghorn_plugin::lines::{self, Skip};
use foghorn_plugin::prelude::*;
use foghorn_plugin::series_table::SeriesTable;
use foghorn_plugin::timestamp::epoch_seconds;

use config::Plan;
pub use config::{BlankLines, Config, NonFinite, TimestampPath};
use walk::{Cell, Scan};

/// The JSON record parser.
#[derive(Debug)]
pub struct JsonParser {
    plan: Plan,
    scan: Scan,
    series: SeriesTable,
    /// Each field's output column in the current call, by value kind.
    columns: Vec<[Option<ColumnId>; 4]>,
    /// The output column of the timestamp's `field` in the current call.
    epoch: Option<ColumnId>,
}

impl JsonParser {
    /// Read `bytes` into `self.scan`; the record as text.
    fn read<'a>(&mut self, bytes: &'a [u8]) -> Result<&'a str, Skip> {
        let plan = &self.plan;
        let line = lines::text(bytes, plan.max_line_length).map_err(Skip::Reject)?;
        if line.trim_ascii().is_empty() {
            return Err(plan.blank_lines.skip());
        }
        walk::scan(plan, &mut self.scan, line).map_err(Skip::Reject)?;
        let scan = &mut self.scan;
        // A name given twice (a repeated key, or `a_b` and `a.b`): the last
        // one wins.
        scan.dedup();
        for (field, cell) in plan.fields.iter().zip(&scan.cells) {
            if field.required && *cell == Cell::Absent {
                return Err(Skip::Reject(format!(
                    "missing required field {} at {}",
                    field.name, field.path
                )));
            }
        }
        for name in &plan.flat_required {
            let present = |flat: &walk::Flat| flat.cell != Cell::Absent && scan.name(flat) == name;
            if !scan.flat.iter().any(present) {
                return Err(Skip::Reject(format!("missing required field {name}")));
            }
        }
        if let Some(timestamp) = &plan.timestamp
            && scan.timestamp.is_none()
        {
            return Err(Skip::Reject(format!(
                "missing timestamp at {}",
                timestamp.path
            )));
        }
        let absent = |cell: &Cell| *cell == Cell::Absent;
        if scan.cells.iter().all(absent) && scan.flat.iter().all(|flat| absent(&flat.cell)) {
            return Err(Skip::Reject(if plan.flatten {
                "no fields: the record has no values but null".to_owned()
            } else {
                "no fields: none of the paths of `fields` has a value".to_owned()
            }));
        }
        Ok(line)
    }
}

/// The index of a value's kind in a field's columns.
#[inline]
fn kind(value: &Value<'_>) -> usize {
    match value {
        Value::Float(_) => 0,
        Value::Int(_) => 1,
        Value::Bool(_) => 2,
        Value::Text(_) => 3,
    }
}

impl Processor for JsonParser {
    type Config = Config;

    fn new(config: Config) -> Result<Self, String> {
        let plan = config.compile()?;
        Ok(Self {
            columns: vec![[None; 4]; plan.fields.len()],
            plan,
            scan: Scan::default(),
            series: SeriesTable::default(),
            epoch: None,
        })
    }

    fn process(&mut self, batch: &Batch, out: &mut Output) {
        for point in batch.points.iter() {
            out.forward(point);
        }
        if batch.records.is_empty() {
            return;
        }
        self.series.clear();
        self.columns.fill([None; 4]);
        self.epoch = None;
        let fixed = (self.plan.tags.is_empty() && self.plan.measurement_path.is_none())
            .then(|| out.series_id(&self.plan.series));
        let mut blank = 0;
        for record in batch.records.iter() {
            let line = match self.read(record.bytes) {
                Ok(line) => line,
                Err(Skip::Blank) => {
                    blank += 1;
                    continue;
                }
                Err(Skip::Reject(reason)) => {
                    out.reject_record(record.index, reason);
                    continue;
                }
            };
            let Self {
                plan,
                scan,
                series,
                columns,
                epoch,
            } = self;
            let id = match fixed {
                Some(id) => id,
                None => {
                    // Value 0 is the measurement, then the tags'.
                    let value = |index: usize| {
                        let text = match index.checked_sub(1) {
                            None => scan.measurement,
                            Some(tag) => scan.tags.get(tag).copied().flatten(),
                        };
                        text.map_or("", |t| scan.text(line, t))
                    };
                    series.id(out, &plan.series, &plan.tag_names, value)
                }
            };
            let timestamp = scan.timestamp.unwrap_or(record.timestamp);
            let mut point = out.point_of(timestamp, id);
            let epoch_name = plan.timestamp.as_ref().and_then(|t| t.field.as_deref());
            if let Some(name) = epoch_name {
                let seconds = epoch_seconds(timestamp);
                point = match *epoch {
                    Some(column) => point.at_f64(column, seconds),
                    None => {
                        let (point, column) = point.field_id(name, Value::Float(seconds));
                        *epoch = Some(column);
                        point
                    }
                };
            }
            for ((field, ids), &cell) in plan.fields.iter().zip(columns.iter_mut()).zip(&scan.cells)
            {
                let Some(value) = scan.value(line, cell) else {
                    continue;
                };
                let slot = &mut ids[kind(&value)];
                point = match (*slot, value) {
                    (Some(column), Value::Float(v)) => point.at_f64(column, v),
                    (Some(column), Value::Text(v)) => point.at_text(column, v),
                    (Some(column), value) => point.at(column, value),
                    (None, value) => {
                        let (point, column) = point.field_id(&field.name, value);
                        *slot = Some(column);
                        point
                    }
                };
            }
            for flat in &scan.flat {
                if epoch_name.is_some_and(|name| scan.name(flat) == name) {
                    continue;
                }
                if let Some(value) = scan.value(line, flat.cell) {
                    point = point.field(scan.name(flat), value);
                }
            }
        }
        lines::count_blank(blank);
    }
}

export_processor!(JsonParser);

#[cfg(test)]
mod tests;
