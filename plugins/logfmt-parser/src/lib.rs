//! logfmt-parser: turns logfmt lines (go-logfmt's and Heroku's format:
//! `ts=2026-11-28T07:10:00Z level=info msg="request done" status=200
//! duration=12.5 cached`) into points, one per line.
//!
//! A line is pairs separated by whitespace (any byte up to the space). A
//! pair is `key=value`, `key="quoted value"` (JSON's backslash escapes:
//! `\"`, `\\`, `\n`, `\t`, `\uXXXX`, …), `key=` or `key=""` (an empty
//! value: the field is left out of the point), or a bare `key` with no `=`,
//! which is the bool `true` (as in logfmt-python, Vector and Fluent Bit;
//! go-logfmt gives it an empty value). A key is any run of bytes other
//! than whitespace, `=` and `"`; a value without quotes runs to the next
//! whitespace and may hold `=` (go-logfmt rejects `url=/a?b=c`) but not
//! `"`. A quoted value may be followed directly by the next pair
//! (`a="x"b=1`), as in go-logfmt.
//!
//! Each key is a field (renamed and kept by `fields`, typed by `types`:
//! `auto` by default, a float if the value is shaped like a number, else
//! text), a tag of the point's series (`tag_keys`), the point's time
//! (`timestamp`: a line without it is rejected; without the setting, the
//! time the line was received), or the series name (`measurement_key`,
//! else `measurement`, with the static `tags`). A bare key is `true` for an
//! `auto` or `bool` field, and no value for a tag, time or measurement key.
//! Quotes do not make text: `a="1.5"` is the number 1.5 under `auto` (type
//! the field `string` to keep it as text). A field whose `auto` values are
//! numbers in some lines and text (or a bare key) in others becomes one
//! column per type, of one name, as in kv-parser. A key given twice in a
//! line is rejected, even with an empty value.
//!
//! A line that cannot be read produces no point: it is rejected, with a
//! reason quoting the offending text, into the processor's error log:
//! `unterminated quote in the value of key msg`, `invalid key "a\"b": a
//! key cannot hold a quote`, `invalid key: "=5" has nothing before "="`,
//! `key a: a quote inside the unquoted value "b\"c"`, `key msg: invalid
//! escape "\\x" in a quoted value`, `duplicate key "status"`, `unknown key
//! "x"` (with `unknown_keys: reject`), `field status: "abc" is not an
//! int`, `field d: "NaN" is not a finite number (non_finite: keep accepts
//! it)`, `field flag: a bare key (no "=") is not a float`, `key ts:
//! timestamp "x" is not rfc3339: …`, `missing timestamp key ts`, `missing
//! required field duration`, `no fields: …`, `invalid UTF-8 at byte 7`,
//! `line too long: 70000 bytes, cut at max_line_length (65536)`. Blank
//! lines are skipped and counted in the plugin metric `blank_lines` (or
//! rejected as `empty line` with `blank_lines: reject`). Points in the
//! input pass through unchanged.
//!
//! Memory: the buffers of one line; for one call, the series of the tag
//! and measurement values seen in it; nothing grows with the input beyond
//! a batch.
//!
//! ```yaml
//! processors:
//!   parse:
//!     inputs: [app]
//!     plugin: builtin:logfmt
//!     config:
//!       measurement: http                # default `logfmt`; or measurement_key: event
//!       tags: { service: api }           # static tags
//!       tag_keys: [method, status]
//!       timestamp: { key: ts, format: rfc3339 }
//!       fields: { duration: duration_ms, bytes: bytes, path: path }   # or a list of keys
//!       types: { duration_ms: float, bytes: int, path: string }      # float | int | bool | string | auto
//!       unknown_keys: drop               # keep (default) | drop | reject
//!       required: [duration_ms]          # default: every field of `fields`
//!       non_finite: reject               # the default; or keep
//!       blank_lines: skip                # the default; or reject
//! ```
//!
//! Speed: one scan per line, keys and values found eight bytes at a time,
//! keys matched through their first byte and compared a word at a time,
//! values typed into buffers reused from line to line (escapes undone into
//! one buffer), common RFC 3339 and `unix*` timestamps read without the
//! general parser, the wording of a reject kept out of the hot path, the
//! series of each combination of tag values looked up once per call in a
//! small table of its own, and each field appended to its column by id, in
//! one loop per field type. On the request line of the example above
//! (`ts=2026-11-28T07:10:00.123Z level=info method=GET path=/api/v1/users
//! status=200 duration=12.5 bytes=5120 msg="request done"`, three statuses)
//! at batch 1024: 230–240 ns per record natively (`cargo test --release -p
//! logfmt-parser -- --ignored --nocapture per_record`), and about 520–570
//! ns in WebAssembly (the plugin's share of `perf` samples in the agent,
//! the way kv-parser reads 132–140 ns against its 67 ns natively).
//!
mod config;
mod parse;

use foghorn_plugin::lines;
use foghorn_plugin::prelude::*;

pub use config::{BlankLines, Config, NonFinite, TimestampKey, UnknownKeys};
use foghorn_plugin::series_table::SeriesTable;
use parse::{Cell, Parsed, Parser};

/// The logfmt line parser.
#[derive(Debug)]
pub struct LogfmtParser {
    parser: Parser,
    /// Each field's output column in the current call.
    columns: Columns,
    series: SeriesTable,
}

/// The output column of each field in the current call, by the schema's
/// groups; an `auto` field has one per kind, as it may be a number in one
/// line, text in the next and a bare key in a third.
#[derive(Debug, Default)]
struct Columns {
    floats: Vec<Option<ColumnId>>,
    ints: Vec<Option<ColumnId>>,
    bools: Vec<Option<ColumnId>>,
    strings: Vec<Option<ColumnId>>,
    auto_floats: Vec<Option<ColumnId>>,
    auto_bools: Vec<Option<ColumnId>>,
    auto_texts: Vec<Option<ColumnId>>,
}

impl Columns {
    fn new(groups: &config::Groups) -> Self {
        Self {
            floats: vec![None; groups.floats.len()],
            ints: vec![None; groups.ints.len()],
            bools: vec![None; groups.bools.len()],
            strings: vec![None; groups.strings.len()],
            auto_floats: vec![None; groups.autos.len()],
            auto_bools: vec![None; groups.autos.len()],
            auto_texts: vec![None; groups.autos.len()],
        }
    }

    /// Forget the last call's columns.
    fn clear(&mut self) {
        for ids in [
            &mut self.floats,
            &mut self.ints,
            &mut self.bools,
            &mut self.strings,
            &mut self.auto_floats,
            &mut self.auto_bools,
            &mut self.auto_texts,
        ] {
            ids.fill(None);
        }
    }
}

/// Set field `$name` to `$value` on `$point` by its column `$id` (found
/// by name the first time in a call), with the builder's method `$at`.
macro_rules! put {
    ($point:ident, $id:expr, $name:expr, $value:expr, $at:ident) => {
        $point = match *$id {
            Some(id) => $point.$at(id, $value),
            None => {
                let (point, id) = $point.field_id($name, $value);
                *$id = Some(id);
                point
            }
        }
    };
}

impl Processor for LogfmtParser {
    type Config = Config;

    fn new(config: Config) -> Result<Self, String> {
        let schema = config.compile()?;
        Ok(Self {
            columns: Columns::new(&schema.groups),
            parser: Parser::new(schema),
            series: SeriesTable::default(),
        })
    }

    fn process(&mut self, batch: &Batch, out: &mut Output) {
        for point in batch.points.iter() {
            out.forward(point);
        }
        if batch.records.is_empty() {
            return;
        }
        // Series and columns are ids of this call's output.
        let mut base = None;
        self.columns.clear();
        self.series.clear();
        let mut blank = 0;
        let by_values =
            self.parser.schema.measurement_key.is_some() || !self.parser.schema.tags.is_empty();
        for record in batch.records.iter() {
            let parsed = lines::text(record.bytes, self.parser.schema.max_line_length)
                .and_then(|line| Ok((line, self.parser.parse(line)?)));
            let line = match parsed {
                Ok((line, Parsed::Point)) => line,
                Ok((_, Parsed::Blank)) => {
                    blank += 1;
                    continue;
                }
                Err(reason) => {
                    out.reject_record(record.index, reason);
                    continue;
                }
            };
            let parser = &self.parser;
            let schema = &parser.schema;
            let series = if by_values {
                let value = |index: usize| match index {
                    0 => parser
                        .measurement
                        .map_or("", |text| parser.text(line, text)),
                    tag => parser.tag(line, tag - 1),
                };
                self.series.id(out, &schema.series, &schema.tags, value)
            } else {
                *base.get_or_insert_with(|| out.series_id(&schema.series))
            };
            let timestamp = parser.timestamp.unwrap_or(record.timestamp);
            let mut point = out.point_of(timestamp, series);
            let (groups, columns) = (&schema.groups, &mut self.columns);
            let name = |slot: usize| schema.slots[slot].name.as_str();
            for (&slot, id) in groups.floats.iter().zip(&mut columns.floats) {
                if let Some(Cell::Float(value)) = parser.field(slot) {
                    put!(point, id, name(slot), value, at_f64);
                }
            }
            for (&slot, id) in groups.ints.iter().zip(&mut columns.ints) {
                if let Some(Cell::Int(value)) = parser.field(slot) {
                    put!(point, id, name(slot), value, at);
                }
            }
            for (&slot, id) in groups.bools.iter().zip(&mut columns.bools) {
                if let Some(Cell::Bool(value)) = parser.field(slot) {
                    put!(point, id, name(slot), value, at);
                }
            }
            for (&slot, id) in groups.strings.iter().zip(&mut columns.strings) {
                if let Some(Cell::Text(text)) = parser.field(slot) {
                    put!(point, id, name(slot), parser.text(line, text), at_text);
                }
            }
            for (index, &slot) in groups.autos.iter().enumerate() {
                match parser.field(slot) {
                    Some(Cell::Float(value)) => {
                        put!(
                            point,
                            &mut columns.auto_floats[index],
                            name(slot),
                            value,
                            at_f64
                        );
                    }
                    Some(Cell::Bool(value)) => {
                        put!(point, &mut columns.auto_bools[index], name(slot), value, at);
                    }
                    Some(Cell::Text(text)) => {
                        let text = parser.text(line, text);
                        put!(
                            point,
                            &mut columns.auto_texts[index],
                            name(slot),
                            text,
                            at_text
                        );
                    }
                    Some(Cell::Int(_)) | None => {}
                }
            }
            for &((start, end), cell) in &parser.unknown {
                let Some(cell) = cell else {
                    continue;
                };
                let key = line.get(start as usize..end as usize).unwrap_or_default();
                point = match cell {
                    Cell::Float(v) => point.field(key, v),
                    Cell::Int(v) => point.field(key, v),
                    Cell::Bool(v) => point.field(key, v),
                    Cell::Text(text) => point.field(key, parser.text(line, text)),
                };
            }
        }
        lines::count_blank(blank);
    }
}

export_processor!(LogfmtParser);

#[cfg(test)]
mod tests;
