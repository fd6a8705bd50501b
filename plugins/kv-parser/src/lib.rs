//! kv-parser: turns raw key/value lines such as `T:85.5,V:5.0,S:WARNING_TEMP`
//! into points, one per line, timestamped with the line's receive time.
//!
//! A line is split into pairs at `pair_separator` and each pair into key and
//! value at the first `kv_separator`. Keys are renamed by `fields`, values
//! typed by `types` (`auto` by default: a float if the value reads as a
//! number, else text), and every point gets the series `measurement` with
//! `tags`. A line that cannot be parsed produces no point: it is rejected,
//! with a reason quoting the offending text, into the processor's error log
//! (`empty line`, `pair 2 "HELLO" has no ":"`, `field temperature: "abc" is
//! not a float`, `missing required field voltage`, `unknown key "X"`,
//! `duplicate key "T"`, `invalid UTF-8`). Points in the input pass through
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
//!       types: { temperature: float, voltage: float, status: string }  # float | int | bool | string | auto
//!       unknown_keys: reject               # keep (default) | reject | drop
//!       required: [temperature, voltage]   # default: every field of `fields`
//!       trim: true                         # the default
//! ```
//!
//! It runs at well over a million lines a second: a line is parsed into
//! values borrowed from the batch, keys are matched against a short list
//! built once from the config, and the series is built once.

mod config;
mod parse;

use foghorn_plugin::prelude::*;

pub use config::{Config, FieldType, UnknownKeys};
use parse::{Name, Parser};

/// The key/value line parser.
#[derive(Debug)]
pub struct KvParser {
    parser: Parser,
}

impl Processor for KvParser {
    type Config = Config;

    fn new(config: Config) -> Result<Self, String> {
        Ok(Self {
            parser: Parser::new(config.compile()?),
        })
    }

    fn process(&mut self, batch: &Batch, out: &mut Output) {
        for point in batch.points.iter() {
            out.forward(point);
        }
        let mut fields = Vec::with_capacity(16);
        for record in batch.records.iter() {
            if let Err(reason) = self.parser.parse(record.bytes, &mut fields) {
                out.reject_record(record.index, reason);
                continue;
            }
            let schema = &self.parser.schema;
            let mut point = out.point(record.timestamp, &schema.series);
            for &(name, value) in &fields {
                let name = match name {
                    Name::Slot(slot) => schema.slots[slot].name.as_str(),
                    Name::Key(key) => key,
                };
                point = point.field(name, value);
            }
        }
    }
}

export_processor!(KvParser);

#[cfg(test)]
mod tests;
