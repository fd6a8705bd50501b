//! kv-parser: turns raw key/value lines such as `T:85.5,V:5.0,S:WARNING_TEMP`
//! into points, one per line, timestamped with the line's receive time.
//!
//! A line is split into pairs at `pair_separator` and each pair into key and
//! value at the first `kv_separator`. Keys are renamed by `fields`, values
//! typed by `types` (`auto` by default: a float if the value reads as a
//! number, else text), and every point gets the series `measurement` with
//! `tags`. A line that cannot be parsed produces no point: it is rejected,
//! with a reason quoting the offending text, into the processor's error log
//! (`pair 2 "HELLO" has no ":"`, `field temperature: "abc" is not a float`,
//! `missing required field voltage`, `unknown key "X"`, `duplicate key "T"`,
//! `key "V" out of order: the keys come as T, V, S`, `line too long: 65536
//! bytes, cut at max_line_length (65536)`, `invalid UTF-8 at byte 4`). Blank lines are
//! skipped and counted in the plugin metric `blank_lines` (or rejected as
//! `empty line` with `blank_lines: reject`). Points in the input pass through
//! unchanged, so the parser can sit anywhere in a pipeline.
//!
//! ```yaml
//! processors:
//!   parse:
//!     inputs: [bench]
//!     plugin: builtin:kv-parser
//!     config:
//!       pair_separator: ","                # the default
//!       kv_separator: ":"                  # the default
//!       measurement: bench_device          # default `kv`
//!       tags: { device: bench-1 }
//!       fields: { T: temperature, V: voltage, S: status }   # default: keep keys as they are
//!       ordered: true                      # keys must come as `fields` lists them (default false)
//!       types: { temperature: float, voltage: float, status: string }  # float | int | bool | string | auto
//!       unknown_keys: reject               # keep (default) | reject | drop
//!       required: [temperature, voltage]   # default: every field of `fields`
//!       trim: true                         # the default
//!       blank_lines: skip                  # skip (default) | reject
//!       max_line_length: 65536             # lines this long were cut by the source
//! ```
//!
//! Speed: lines of the common shape (one-byte separators, typed fields)
//! take a fast path that reads a line in one scan into plain arrays and
//! appends each value to its column by id; any line it is not sure of goes
//! to the general parser, which gives the same point or the specific reason
//! (a test checks the two agree on 20,000 generated lines). On the bench
//! device's line at batch 1024: 141 ns per record in WebAssembly and 69 ns
//! natively (`foghorn-bench wasm`; 364 and 158 ns before).

mod config;
mod fast;
mod parse;

use foghorn_plugin::lines;
use foghorn_plugin::prelude::*;

pub use config::{BlankLines, Config, FieldType, UnknownKeys};
use fast::{Fast, Scanned};
use parse::{Name, Parsed, Parser};

/// The key/value line parser.
#[derive(Debug)]
pub struct KvParser {
    parser: Parser,
    /// The fast path, when the config's shape allows it.
    fast: Option<Fast>,
    /// The output column of each slot in the current call, once it has one.
    columns: Vec<Option<ColumnId>>,
}

impl Processor for KvParser {
    type Config = Config;

    fn new(config: Config) -> Result<Self, String> {
        let schema = config.compile()?;
        Ok(Self {
            columns: vec![None; schema.slots.len()],
            fast: Fast::new(&schema),
            parser: Parser::new(schema),
        })
    }

    fn process(&mut self, batch: &Batch, out: &mut Output) {
        for point in batch.points.iter() {
            out.forward(point);
        }
        if batch.records.is_empty() {
            return;
        }
        // The series is interned and each field's column found once per
        // call, not once per line.
        let series = out.series_id(&self.parser.schema.series);
        self.columns.fill(None);
        let mut fields = Vec::with_capacity(16);
        let mut blank = 0;
        let mut scanned = Scanned::default();
        for record in batch.records.iter() {
            if let Some(fast) = &self.fast
                && fast.scan(record.bytes, &mut scanned)
            {
                let slots = &self.parser.schema.slots;
                let mut point = out.point_of(record.timestamp, series);
                for &slot in &scanned.order[..scanned.len] {
                    let slot = usize::from(slot);
                    let value = match fast.ty(slot) {
                        FieldType::Float => Value::Float(scanned.numbers[slot]),
                        FieldType::Int => Value::Int(scanned.ints[slot]),
                        FieldType::Bool => Value::Bool(scanned.ints[slot] != 0),
                        FieldType::String | FieldType::Auto => {
                            let (start, end) = scanned.spans[slot];
                            Value::Text(&scanned.line[start as usize..end as usize])
                        }
                    };
                    point = match (self.columns[slot], value) {
                        (Some(column), Value::Float(number)) => point.at_f64(column, number),
                        (Some(column), Value::Text(text)) => point.at_text(column, text),
                        (Some(column), value) => point.at(column, value),
                        (None, value) => {
                            let (point, column) = point.field_id(&slots[slot].name, value);
                            self.columns[slot] = Some(column);
                            point
                        }
                    };
                }
                continue;
            }
            match self.parser.parse(record.bytes, &mut fields) {
                Ok(Parsed::Point) => {}
                Ok(Parsed::Blank) => {
                    blank += 1;
                    continue;
                }
                Err(reason) => {
                    out.reject_record(record.index, reason);
                    continue;
                }
            }
            let slots = &self.parser.schema.slots;
            let mut point = out.point_of(record.timestamp, series);
            for &(name, value) in &fields {
                point = match name {
                    Name::Slot(slot) => match self.columns[slot] {
                        Some(column) => point.at(column, value),
                        None => {
                            let (point, column) = point.field_id(&slots[slot].name, value);
                            self.columns[slot] = Some(column);
                            point
                        }
                    },
                    Name::Key(key) => point.field(key, value),
                };
            }
        }
        lines::count_blank(blank);
    }
}

export_processor!(KvParser);

#[cfg(test)]
mod tests;
