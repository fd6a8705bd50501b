//! csv: turns CSV lines into points, one per row, with each column a field,
//! a tag of the point's series, the point's time, or left out.
//!
//! The columns are named by `columns`, or by the header (`header: true`: the
//! first non-blank line; it is kept in the snapshot, so a restart does not
//! read a data row as the header). A later line equal to the header (the
//! header of the next file when a source reads several files of the same
//! shape) is skipped and counted in the plugin metric `header_lines`. Cells
//! are split by csv-core: quoted cells may hold the delimiter, and a doubled
//! quote stands for itself; a record is one line (a quoted cell cannot span
//! lines). Field cells are typed by `types` (`auto` by default: a float if the
//! cell reads as a number, else text); cells in `null_values` (`""` by
//! default) leave their field out of the point. The point's time is the
//! `timestamp` column's, read in its format, or else the time the line was
//! received. Its series is `measurement` with the static `tags` and the
//! values of the `tag_columns`; tags a source puts on its lines (a file's
//! path) are added by the agent.
//!
//! A row that cannot be read produces no point and is rejected with a reason
//! naming the column and quoting the cell: `row has 3 columns, the header
//! has 4`, `column cpu: "abc" is not a float`, `column cpu: "NaN" is not a
//! finite number`, `column timestamp: timestamp "x" is not %Y-%m-%d: …`,
//! `missing required column device`, `missing timestamp column timestamp`,
//! `unterminated quote`, `invalid UTF-8 at byte 7`, `line too long: …`. A
//! header that lacks a column the config names is rejected (`header: no
//! column device named in the config`) and the next line is tried as the
//! header. Blank lines are skipped and counted in `blank_lines` (or rejected
//! with `blank_lines: reject`). Points in the input pass through unchanged.
//!
//! Memory: the header and buffers of one line; nothing grows with the input.
//!
//! ```yaml
//! processors:
//!   parse:
//!     inputs: [fleet]
//!     plugin: builtin:csv
//!     config:
//!       header: true                     # or columns: [timestamp, device_id, ...]
//!       delimiter: ","                   # the default
//!       measurement: fleet               # default `csv`
//!       tags: { site: lab }
//!       tag_columns: [device_id, product_type, location]
//!       timestamp: { column: timestamp, format: "%Y-%m-%d %H:%M:%S" }
//!       types: { error_count: int }      # float | int | bool | string | auto
//!       skip: [notes]
//!       null_values: ["", "NA"]
//!       required: [temperature_celsius]
//! ```

mod config;
mod plan;
mod split;

use foghorn_plugin::prelude::*;
use foghorn_plugin::typed::quote;

use config::Settings;
pub use config::{BlankLines, Config, NonFinite, TimestampColumn};
use plan::{Plan, Role};
use split::Splitter;

/// A field cell of the current row, typed.
#[derive(Debug, Clone, Copy)]
enum Cell {
    Absent,
    Float(f64),
    Int(i64),
    Bool(bool),
    /// A range of the splitter's bytes.
    Text(usize, usize),
}

/// The CSV line parser.
#[derive(Debug)]
pub struct CsvParser {
    settings: Settings,
    /// The columns, once known.
    plan: Option<Plan>,
    /// The header line, with `header: true`, once seen.
    header: Option<String>,
    splitter: Splitter,
    /// Each field's cell in the current row.
    cells: Vec<Cell>,
    /// Each tag column's cell range in the current row.
    tags: Vec<(usize, usize)>,
    /// Each field's output column in the current call.
    columns: Vec<Option<ColumnId>>,
}

/// Why a row was rejected, or that it was not a row.
enum Skip {
    Blank,
    /// The first header: where the columns come from.
    Columns,
    /// The header again.
    Header,
    Reject(String),
}

impl CsvParser {
    fn set_plan(&mut self, plan: Plan) {
        self.cells = vec![Cell::Absent; plan.fields.len()];
        self.tags = vec![(0, 0); plan.tags.len()];
        self.columns = vec![None; plan.fields.len()];
        self.plan = Some(plan);
    }

    /// Read one line into `cells`/`tags`; the row's timestamp if it had one.
    fn read(&mut self, bytes: &[u8]) -> Result<Option<i64>, Skip> {
        let config = &self.settings.config;
        let line = std::str::from_utf8(bytes)
            .map_err(|e| Skip::Reject(format!("invalid UTF-8 at byte {}", e.valid_up_to())))?;
        if line.len() >= config.max_line_length {
            return Err(Skip::Reject(format!(
                "line too long: {} bytes, cut at max_line_length ({})",
                line.len(),
                config.max_line_length
            )));
        }
        let line = if config.trim {
            line.trim_ascii()
        } else {
            line.trim_end_matches(['\r', '\n'])
        };
        if line.is_empty() {
            return Err(match config.blank_lines {
                BlankLines::Skip => Skip::Blank,
                BlankLines::Reject => Skip::Reject("empty line".to_owned()),
            });
        }
        if self.header.as_deref() == Some(line) {
            return Err(Skip::Header);
        }
        let count = self
            .splitter
            .split(line.as_bytes())
            .map_err(|e| Skip::Reject(e.to_owned()))?;
        let Some(plan) = &self.plan else {
            // With `header: true`, the first line names the columns.
            let names: Vec<String> = (0..count)
                .map(|i| cell_text(&self.splitter, i, config.trim).to_owned())
                .collect();
            let plan =
                Plan::new(config, names).map_err(|e| Skip::Reject(format!("header: {e}")))?;
            self.header = Some(line.to_owned());
            self.set_plan(plan);
            return Err(Skip::Columns);
        };
        if count != plan.roles.len() {
            let of = if config.header {
                "the header"
            } else {
                "`columns`"
            };
            return Err(Skip::Reject(format!(
                "row has {count} columns, {of} has {}",
                plan.roles.len()
            )));
        }
        let mut timestamp = None;
        let mut offset = 0;
        for (index, role) in plan.roles.iter().enumerate() {
            let raw = self.splitter.cell(index);
            let start = offset;
            offset += raw.len();
            let text = cell_text(&self.splitter, index, config.trim);
            let name = &plan.names[index];
            if config.null_values.iter().any(|null| null == text) {
                if plan.required[index] {
                    return Err(Skip::Reject(format!("missing required column {name}")));
                }
                match role {
                    Role::Field(slot) => self.cells[*slot] = Cell::Absent,
                    Role::Tag(slot) => self.tags[*slot] = (0, 0),
                    Role::Timestamp => {
                        return Err(Skip::Reject(format!("missing timestamp column {name}")));
                    }
                    Role::Skip => {}
                }
                continue;
            }
            // Where the (trimmed) text lies in the splitter's bytes.
            let lead = if config.trim {
                raw.len() - raw.trim_ascii_start().len()
            } else {
                0
            };
            let range = (start + lead, start + lead + text.len());
            match role {
                Role::Field(slot) => {
                    let field = &plan.fields[*slot];
                    let value = field.ty.parse(text).ok_or_else(|| {
                        Skip::Reject(format!(
                            "column {name}: {} is not {}",
                            quote(text),
                            field.ty.described()
                        ))
                    })?;
                    self.cells[*slot] = match value {
                        Value::Float(v)
                            if !v.is_finite() && config.non_finite == NonFinite::Reject =>
                        {
                            return Err(Skip::Reject(format!(
                                "column {name}: {} is not a finite number",
                                quote(text)
                            )));
                        }
                        Value::Float(v) => Cell::Float(v),
                        Value::Int(v) => Cell::Int(v),
                        Value::Bool(v) => Cell::Bool(v),
                        _ => Cell::Text(range.0, range.1),
                    };
                }
                Role::Tag(slot) => self.tags[*slot] = range,
                Role::Timestamp => {
                    let format = &config.timestamp.as_ref().expect("a timestamp role").format;
                    let at = format
                        .parse(text)
                        .map_err(|e| Skip::Reject(format!("column {name}: {e}")))?;
                    timestamp = Some(at);
                }
                Role::Skip => {}
            }
        }
        Ok(timestamp)
    }
}

/// Cell `index` of the last line as text, trimmed when `trim`.
fn cell_text(splitter: &Splitter, index: usize, trim: bool) -> &str {
    // The line was valid UTF-8 and unquoting removes ASCII quotes only.
    let text = std::str::from_utf8(splitter.cell(index)).unwrap_or_default();
    if trim { text.trim_ascii() } else { text }
}

impl Processor for CsvParser {
    type Config = Config;

    fn new(config: Config) -> Result<Self, String> {
        let settings = config.compile()?;
        let splitter = Splitter::new(settings.delimiter, settings.quote);
        let columns = settings.config.columns.clone();
        let mut parser = Self {
            settings,
            plan: None,
            header: None,
            splitter,
            cells: Vec::new(),
            tags: Vec::new(),
            columns: Vec::new(),
        };
        if !columns.is_empty() {
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
        let config = &self.settings.config;
        let mut base = Series::new(config.measurement.clone());
        for (key, value) in &config.tags {
            base.set_tag(key.clone(), value.clone());
        }
        let base_id = out.series_id(&base);
        self.columns.fill(None);
        // The series of the last row with tag columns, and their values.
        let mut last: Option<(Vec<String>, SeriesId)> = None;
        let (mut blank, mut headers) = (0, 0);
        for record in batch.records.iter() {
            let timestamp = match self.read(record.bytes) {
                Ok(timestamp) => timestamp.unwrap_or(record.timestamp),
                Err(Skip::Blank) => {
                    blank += 1;
                    continue;
                }
                Err(Skip::Columns) => continue,
                Err(Skip::Header) => {
                    headers += 1;
                    continue;
                }
                Err(Skip::Reject(reason)) => {
                    out.reject_record(record.index, reason);
                    continue;
                }
            };
            let plan = self.plan.as_ref().expect("a row was read");
            let bytes = &self.splitter.bytes;
            let text = |(start, end): (usize, usize)| {
                std::str::from_utf8(&bytes[start..end]).unwrap_or_default()
            };
            let series = if plan.tags.is_empty() {
                base_id
            } else {
                let values: Vec<&str> = self.tags.iter().map(|range| text(*range)).collect();
                match &last {
                    Some((previous, id)) if previous.iter().eq(values.iter()) => *id,
                    _ => {
                        let mut series = base.clone();
                        for (name, value) in plan.tags.iter().zip(&values) {
                            if !value.is_empty() {
                                series.set_tag(name.clone(), (*value).to_owned());
                            }
                        }
                        let id = out.series_id(&series);
                        last = Some((values.iter().map(|v| (*v).to_owned()).collect(), id));
                        id
                    }
                }
            };
            let mut point = out.point_of(timestamp, series);
            for (slot, cell) in self.cells.iter().enumerate() {
                let value = match *cell {
                    Cell::Absent => continue,
                    Cell::Float(v) => Value::Float(v),
                    Cell::Int(v) => Value::Int(v),
                    Cell::Bool(v) => Value::Bool(v),
                    Cell::Text(start, end) => Value::Text(text((start, end))),
                };
                point = match (self.columns[slot], value) {
                    (Some(column), Value::Float(v)) => point.at_f64(column, v),
                    (Some(column), value) => point.at(column, value),
                    (None, value) => {
                        let (point, column) = point.field_id(&plan.fields[slot].name, value);
                        self.columns[slot] = Some(column);
                        point
                    }
                };
            }
        }
        if blank > 0 {
            counter_add("blank_lines", blank);
        }
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
        self.plan = None;
        self.header = None;
        match self.read(header.as_bytes()) {
            Err(Skip::Columns) => Ok(()),
            _ => Err(format!(
                "csv: the snapshot's header {} does not fit the config",
                quote(&header)
            )),
        }
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
