//! csv: turns CSV lines into points, one per row, with each column a field,
//! a tag of the point's series, the point's time, or left out.
//!
//! The columns are named by `columns`, or by the header (`header: true`: the
//! first non-blank line; it is kept in the snapshot, so a restart does not
//! read a data row as the header, though a restart before the first
//! snapshot does: a file whose columns are known is better read with
//! `columns`, where a line naming exactly the columns, joined by the
//! delimiter, is taken for a header). A later line equal to the header (the
//! header of the next file when a source reads several files of the same
//! shape, or of a rotated file) is skipped and counted in the plugin metric
//! `header_lines`. A header cell that is empty (pandas' index column) names
//! a column that is left out; a UTF-8 byte order mark before the first cell
//! is dropped.
//!
//! Cells are split as csv-core splits them: a cell that starts with `quote`
//! runs to the next `quote` and may hold the delimiter; inside it a doubled
//! quote stands for one (`double_quote`, on by default) and, with `escape`
//! set, the escape byte makes the next byte stand for itself. A quote
//! elsewhere in a cell is data, and so is anything after a closing quote up
//! to the next delimiter (`"ab"c` reads `abc`). A record is one line: a line
//! break inside a line is data only within quotes, and line breaks around
//! a line (`\r\n`) are dropped. With `trim` (the default) the line (but
//! not a whitespace delimiter: a tab-separated line keeps its empty last
//! cell) and each cell are trimmed of ASCII whitespace; a cell is quoted
//! only if the quote comes first, so `a, "b,c"` has three cells.
//!
//! Field cells are typed by `types` (`auto` by default: a float if the cell
//! is shaped like a number, else text; `float`, `int`, `bool` with
//! `true`/`false`/`1`/`0`, `string`); a cell in `null_values` (`""` by
//! default) leaves its field out of the point. The point's time is the
//! `timestamp` column's, read in its format, or else the time the line was
//! received; with `timestamp.field` set, the point also has that time as a
//! float field in seconds since the epoch (for a model that takes time as a
//! feature). Its series is `measurement` with the static `tags` and the
//! values of the `tag_columns` (a tag column with a null cell leaves its tag
//! out); tags a source puts on its lines (a file's path) are added by the
//! agent. A field whose `auto` cells are numbers in some rows and text in
//! others becomes two columns of one name, one per type, as in kv-parser.
//!
//! A row that cannot be read produces no point and is rejected with a reason
//! naming the column and quoting the cell: `row has 3 columns, the header
//! has 4`, `column cpu: "abc" is not a float`, `column cpu: "NaN" is not a
//! finite number (non_finite: keep accepts it)`, `column time: timestamp
//! "x" is not %Y-%m-%d: …`, `missing required column device`, `missing
//! timestamp column time`, `unterminated quote`, `line break outside quotes
//! at byte 3: a line holds one row`, `invalid UTF-8 at byte 7`, `line too
//! long: 70000 bytes, cut at max_line_length (65536)`. A header that lacks a
//! column the config names, or names one twice, is rejected (`header: no
//! column device named in the config`) and the next line is tried as the
//! header. Blank lines are skipped and counted in `blank_lines` (or
//! rejected as `empty line` with `blank_lines: reject`). Points in the input
//! pass through unchanged.
//!
//! Memory: the header, the buffers of one line, and for one call the series
//! of the tag values seen in it; nothing grows with the input beyond a batch.
//!
//! ```yaml
//! processors:
//!   parse:
//!     inputs: [fleet]
//!     plugin: builtin:csv
//!     config:
//!       header: true                     # or columns: [timestamp, device_id, ...]
//!       delimiter: ","                   # the default; quote: '"', escape: none
//!       measurement: fleet               # default `csv`
//!       tags: { site: lab }              # static tags
//!       tag_columns: [device_id, location]
//!       timestamp: { column: timestamp, format: "%Y-%m-%d %H:%M:%S" }
//!       types: { error_count: int, status: string }  # float | int | bool | string | auto
//!       skip: [notes]
//!       null_values: ["", "NA"]
//!       required: [temperature_celsius]
//! ```
//!
//! Speed: a line without a quote is cut at its delimiters in place, eight
//! bytes at a time and with no copy (csv-core unquotes the others); each
//! row's cells are typed into buffers reused from row to row, one loop per
//! field type, with the wording of a reject kept out of the hot path; the
//! series of each combination of tag values is looked up once per call in
//! a small table of its own; `unix*` and common RFC 3339 timestamps are
//! read without the general parser; each field is appended to its column
//! by id. On `1764313800250,dev-0042,85.5,5.01,3,WARNING_TEMP` (a tag
//! column, a `unix_ms` time, two floats, an int, a string; 16 devices) at
//! batch 1024: 122 ns per record natively (`cargo test --release -p
//! csv-parser -- --ignored --nocapture per_record`; 175 ns with a quoted
//! cell), and about 260–290 ns in WebAssembly (the plugin's share of
//! `perf` samples in the agent, the way kv-parser reads 132–140 ns against
//! its 67 ns natively).
//!
mod config;
mod plan;
mod row;
mod split;

use foghorn_plugin::lines::{self, Skip};
use foghorn_plugin::prelude::*;
use foghorn_plugin::series_table::SeriesTable;
use foghorn_plugin::timestamp::epoch_seconds;
use foghorn_plugin::typed::quote;

use config::Settings;
pub use config::{BlankLines, Config, NonFinite, TimestampColumn};
use plan::Plan;
use row::{Auto, Row};
use split::Splitter;

/// The CSV line parser.
#[derive(Debug)]
pub struct CsvParser {
    settings: Settings,
    /// The columns, once known.
    plan: Option<Plan>,
    /// The header line, with `header: true`, once seen.
    header: Option<String>,
    splitter: Splitter,
    row: Row,
    /// Each field's output column in the current call.
    columns: Columns,
    series: SeriesTable,
}

/// The output column of each field in the current call, by the groups of
/// the plan; an `auto` field has two, as it may be a number in one row and
/// text in the next.
#[derive(Debug, Default)]
struct Columns {
    floats: Vec<Option<ColumnId>>,
    ints: Vec<Option<ColumnId>>,
    bools: Vec<Option<ColumnId>>,
    strings: Vec<Option<ColumnId>>,
    auto_floats: Vec<Option<ColumnId>>,
    auto_texts: Vec<Option<ColumnId>>,
    /// The timestamp's `field`, when it has one.
    epoch: Option<ColumnId>,
}

impl Columns {
    fn new(plan: &Plan) -> Self {
        Self {
            floats: vec![None; plan.floats.len()],
            ints: vec![None; plan.ints.len()],
            bools: vec![None; plan.bools.len()],
            strings: vec![None; plan.strings.len()],
            auto_floats: vec![None; plan.autos.len()],
            auto_texts: vec![None; plan.autos.len()],
            epoch: None,
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
            &mut self.auto_texts,
        ] {
            ids.fill(None);
        }
        self.epoch = None;
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

impl CsvParser {
    fn set_plan(&mut self, plan: Plan) {
        self.row = Row::new(&plan);
        self.columns = Columns::new(&plan);
        self.plan = Some(plan);
    }

    /// Take `line` as the header naming the columns.
    #[cold]
    #[inline(never)]
    fn take_header(&mut self, line: &str) -> Result<(), String> {
        let cells = self.splitter.split(line).map_err(|e| e.to_string())?;
        let trim = self.settings.config.trim;
        let names: Vec<String> = (0..cells.len())
            .map(|i| {
                let name = cells.get(i);
                if trim { name.trim_ascii() } else { name }.to_owned()
            })
            .collect();
        let plan = Plan::new(&self.settings.config, names).map_err(|e| format!("header: {e}"))?;
        self.header = Some(line.to_owned());
        self.set_plan(plan);
        Ok(())
    }
}

/// The text of a line, without its line breaks and, with `trim`, without
/// whitespace around it; or why it makes no point.
#[inline]
fn line_of<'a>(settings: &Settings, bytes: &'a [u8]) -> Result<&'a str, Skip> {
    let config = &settings.config;
    let line = lines::text(bytes, config.max_line_length).map_err(Skip::Reject)?;
    // Line breaks always go; with `trim`, other ASCII whitespace too, but
    // not the delimiter: a tab-separated line may end in an empty cell.
    let delimiter = settings.delimiter;
    let cut = |b: &u8| {
        matches!(b, b'\r' | b'\n') || config.trim && b.is_ascii_whitespace() && *b != delimiter
    };
    let bytes = line.as_bytes();
    let start = bytes.iter().position(|b| !cut(b)).unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !cut(b))
        .map_or(start, |at| at + 1);
    // ASCII bytes were cut, so these are character boundaries.
    let line = line.get(start..end).unwrap_or_default();
    if line.is_empty() {
        return Err(config.blank_lines.skip());
    }
    Ok(line)
}

impl Processor for CsvParser {
    type Config = Config;

    fn new(config: Config) -> Result<Self, String> {
        let settings = config.compile()?;
        let splitter = Splitter::new(
            settings.delimiter,
            settings.quote,
            settings.escape,
            settings.config.double_quote,
        );
        let columns = settings.config.columns.clone();
        let mut parser = Self {
            settings,
            plan: None,
            header: None,
            splitter,
            row: Row::default(),
            columns: Columns::default(),
            series: SeriesTable::default(),
        };
        if !columns.is_empty() {
            // A line naming exactly these columns is a header: skipped, as
            // is a repeated header, with no state to lose on a restart.
            let delimiter = char::from(parser.settings.delimiter).to_string();
            parser.header = Some(columns.join(&delimiter));
            let plan =
                Plan::new(&parser.settings.config, columns).map_err(|e| format!("csv: {e}"))?;
            parser.set_plan(plan);
        }
        Ok(parser)
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
        let (mut blank, mut headers) = (0, 0);
        for record in batch.records.iter() {
            let line = match line_of(&self.settings, record.bytes) {
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
            let Some(plan) = &self.plan else {
                // With `header: true`, the first line names the columns.
                if let Err(reason) = self.take_header(line) {
                    out.reject_record(record.index, reason);
                }
                continue;
            };
            if self.header.as_deref() == Some(line) {
                headers += 1;
                continue;
            }
            let cells = match self.splitter.split(line) {
                Ok(cells) => cells,
                Err(error) => {
                    out.reject_record(record.index, error.to_string());
                    continue;
                }
            };
            let timestamp = match self.row.read(&self.settings, plan, &cells) {
                Ok(timestamp) => timestamp.unwrap_or(record.timestamp),
                Err(reason) => {
                    out.reject_record(record.index, reason);
                    continue;
                }
            };
            let series = if plan.tags.len() == 0 {
                *base.get_or_insert_with(|| out.series_id(&self.settings.series))
            } else {
                // No measurement column: value 0 is empty.
                let tags = &self.row.tags;
                let value = |index: usize| match index.checked_sub(1).and_then(|t| tags.get(t)) {
                    Some(&(start, end)) => cells.text.get(start..end).unwrap_or_default(),
                    None => "",
                };
                self.series
                    .id(out, &self.settings.series, &plan.tags.names, value)
            };
            let (row, columns) = (&self.row, &mut self.columns);
            let mut point = out.point_of(timestamp, series);
            if let Some(name) = self.settings.epoch_field() {
                put!(
                    point,
                    &mut columns.epoch,
                    name,
                    epoch_seconds(timestamp),
                    at_f64
                );
            }
            for ((value, name), id) in row
                .floats
                .iter()
                .zip(&plan.floats.names)
                .zip(&mut columns.floats)
            {
                if let Some(value) = *value {
                    put!(point, id, name, value, at_f64);
                }
            }
            for ((value, name), id) in row.ints.iter().zip(&plan.ints.names).zip(&mut columns.ints)
            {
                if let Some(value) = *value {
                    put!(point, id, name, value, at);
                }
            }
            for ((value, name), id) in row
                .bools
                .iter()
                .zip(&plan.bools.names)
                .zip(&mut columns.bools)
            {
                if let Some(value) = *value {
                    put!(point, id, name, value, at);
                }
            }
            for ((value, name), id) in row
                .strings
                .iter()
                .zip(&plan.strings.names)
                .zip(&mut columns.strings)
            {
                if let Some(span) = *value {
                    put!(point, id, name, cells.text_of(span), at_text);
                }
            }
            for (index, (value, name)) in row.autos.iter().zip(&plan.autos.names).enumerate() {
                match *value {
                    Auto::Absent => {}
                    Auto::Float(value) => {
                        put!(point, &mut columns.auto_floats[index], name, value, at_f64)
                    }
                    Auto::Text(start, end) => {
                        put!(
                            point,
                            &mut columns.auto_texts[index],
                            name,
                            cells.text_of((start, end)),
                            at_text
                        );
                    }
                }
            }
        }
        lines::count_blank(blank);
        if headers > 0 {
            counter_add("header_lines", headers);
        }
    }

    fn snapshot(&self) -> Vec<u8> {
        snapshot::encode(&Snapshot {
            header: self.header.clone(),
        })
    }

    fn restore(&mut self, state: &[u8]) -> Result<(), String> {
        let saved: Snapshot = snapshot::decode(state)?;
        if !self.settings.config.header {
            return Ok(());
        }
        let Some(header) = saved.header else {
            return Ok(());
        };
        self.take_header(&header).map_err(|e| {
            format!(
                "csv: the snapshot's header {} does not fit the config: {e}",
                quote(&header)
            )
        })
    }
}

/// The state kept across restarts: the header, once seen.
#[derive(Debug, Serialize, Deserialize)]
struct Snapshot {
    header: Option<String>,
}

export_processor!(CsvParser);

#[cfg(test)]
mod tests;
