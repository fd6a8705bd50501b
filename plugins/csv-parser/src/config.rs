//! The csv parser's configuration.

use std::collections::BTreeMap;

use foghorn_plugin::Series;
use foghorn_plugin::timestamp::TimeFormat;
use foghorn_plugin::typed::FieldType;
use serde::Deserialize;

pub use foghorn_plugin::lines::{BlankLines, NonFinite};

/// `config:` of a csv processor.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// The column names, in order. Empty (the default) needs `header: true`.
    pub columns: Vec<String>,
    /// The first non-blank line is the header naming the columns (kept in
    /// the snapshot). A later line equal to it, such as the header of the
    /// next file a source reads, is skipped and counted in `header_lines`.
    /// Default `false`.
    pub header: bool,
    /// The byte between cells. Default `","`.
    pub delimiter: String,
    /// The byte quoting a cell: a cell that starts with it runs to the next
    /// one, delimiters included. Default `"`.
    pub quote: String,
    /// Inside a quoted cell, two quotes stand for one quote. Default `true`.
    pub double_quote: bool,
    /// A byte that, inside a quoted cell, makes the next byte stand for
    /// itself (`"say \"hi\""` with `escape: "\\"`). Default none.
    pub escape: Option<String>,
    /// The series name of every point. Default `csv`.
    pub measurement: String,
    /// Static tags of every point's series. Default none.
    pub tags: BTreeMap<String, String>,
    /// Columns whose values become tags of the point's series (the device
    /// id of a fleet, say) instead of fields. Default none.
    pub tag_columns: Vec<String>,
    /// The type of each field column: `float`, `int`, `bool`, `string` or
    /// `auto` (the default for a column not listed: a float if the cell
    /// reads as a number, else text).
    pub types: BTreeMap<String, FieldType>,
    /// The column holding each row's time and its format (see
    /// `foghorn_plugin::timestamp`); the column is not a field. Default: the
    /// time the line was received.
    pub timestamp: Option<TimestampColumn>,
    /// Columns to leave out. Default none.
    pub skip: Vec<String>,
    /// Cells meaning "no value": the field is absent from the point.
    /// Default `[""]`.
    pub null_values: Vec<String>,
    /// Columns that must have a value; a row missing one is rejected.
    /// Default none.
    pub required: Vec<String>,
    /// Trim ASCII whitespace around the line (except the delimiter's own
    /// byte, so a tab-separated line keeps its empty last cell) and around
    /// each cell. Line breaks at either end of a line are always removed.
    /// Default `true`.
    pub trim: bool,
    /// A blank line is skipped and counted in `blank_lines` (`skip`, the
    /// default) or rejected as `empty line` (`reject`).
    pub blank_lines: BlankLines,
    /// Lines of this many bytes or more are rejected as too long (the
    /// sources cut longer lines there). Default 65536.
    pub max_line_length: usize,
    /// A float that is not finite (`NaN`, `inf`) rejects the row (`reject`,
    /// the default) or is kept (`keep`).
    pub non_finite: NonFinite,
}

/// Which column is the time and how it is written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimestampColumn {
    /// The column's name.
    pub column: String,
    /// `rfc3339`, `unix`, `unix_ms`, `unix_us`, `unix_ns` or a strftime
    /// pattern. Default `rfc3339`.
    #[serde(default = "rfc3339")]
    pub format: TimeFormat,
    /// Also give each point the row's time as a float field of this name,
    /// in seconds since the epoch (a model's "timestamp to epoch seconds"
    /// feature). May be the column's own name. Default none.
    pub field: Option<String>,
}

fn rfc3339() -> TimeFormat {
    TimeFormat::Rfc3339
}

impl Default for Config {
    fn default() -> Self {
        Self {
            columns: Vec::new(),
            header: false,
            delimiter: ",".to_owned(),
            quote: "\"".to_owned(),
            double_quote: true,
            escape: None,
            measurement: "csv".to_owned(),
            tags: BTreeMap::new(),
            tag_columns: Vec::new(),
            types: BTreeMap::new(),
            timestamp: None,
            skip: Vec::new(),
            null_values: vec![String::new()],
            required: Vec::new(),
            trim: true,
            blank_lines: BlankLines::Skip,
            max_line_length: 65_536,
            non_finite: NonFinite::Reject,
        }
    }
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub config: Config,
    pub delimiter: u8,
    pub quote: u8,
    pub escape: Option<u8>,
    /// `measurement` with the static `tags`.
    pub series: Series,
    /// Whether `""` is a null value (it is by default).
    pub null_empty: bool,
    /// The other null values.
    pub nulls: Vec<String>,
}

impl Settings {
    /// Whether `cell` (trimmed as configured) means "no value".
    #[inline]
    pub(crate) fn is_null(&self, cell: &str) -> bool {
        if cell.is_empty() {
            self.null_empty
        } else {
            !self.nulls.is_empty() && self.nulls.iter().any(|null| null == cell)
        }
    }

    /// The field holding the row's time in epoch seconds, if configured.
    #[inline]
    pub(crate) fn epoch_field(&self) -> Option<&str> {
        self.config.timestamp.as_ref()?.field.as_deref()
    }
}

/// One byte from a one-character setting.
fn byte(name: &str, text: &str, errors: &mut Vec<String>) -> u8 {
    match text.as_bytes() {
        [b'\n' | b'\r'] => {
            errors.push(format!("`{name}` cannot be a line break"));
            0
        }
        [b] if b.is_ascii() => *b,
        _ => {
            errors.push(format!("`{name}` {text:?} must be one ASCII character"));
            0
        }
    }
}

impl Config {
    /// Validate, reporting every mistake at once.
    pub(crate) fn compile(self) -> Result<Settings, String> {
        let mut errors = Vec::new();
        let delimiter = byte("delimiter", &self.delimiter, &mut errors);
        let quote = byte("quote", &self.quote, &mut errors);
        let escape = self
            .escape
            .as_ref()
            .map(|escape| byte("escape", escape, &mut errors));
        let bytes = [
            ("delimiter", Some(delimiter)),
            ("quote", Some(quote)),
            ("escape", escape),
        ];
        for (i, (one, a)) in bytes.iter().enumerate() {
            for (other, b) in &bytes[i + 1..] {
                if a.is_some() && a == b && *a != Some(0) {
                    errors.push(format!("`{one}` and `{other}` are the same"));
                }
            }
        }
        if self.columns.is_empty() && !self.header {
            errors.push("name the `columns` or set `header: true`".to_owned());
        }
        if !self.columns.is_empty() && self.header {
            errors.push("`columns` and `header: true` exclude each other".to_owned());
        }
        for (i, column) in self.columns.iter().enumerate() {
            if column.is_empty() {
                errors.push(format!("columns[{i}] is empty"));
            } else if self.columns[..i].contains(column) {
                errors.push(format!("columns[{i}]: {column} is listed twice"));
            }
        }
        if self.measurement.is_empty() {
            errors.push("`measurement` is empty".to_owned());
        }
        if self.max_line_length == 0 {
            errors.push("`max_line_length` must be positive".to_owned());
        }
        for (key, value) in &self.tags {
            if key.is_empty() || value.is_empty() {
                errors.push(format!("tags: `{key}: {value}` has an empty name or value"));
            }
        }
        for (what, name) in self.named_columns() {
            if name.is_empty() {
                errors.push(format!("a {what} has an empty name"));
            }
        }
        if !self.columns.is_empty() {
            for (what, name) in self.named_columns() {
                if !self.columns.iter().any(|c| c == name) {
                    errors.push(format!("{what} {name} is not one of `columns`"));
                }
            }
        }
        // A column has one role: a tag, the time, skipped, or a field.
        let timestamp = self.timestamp.as_ref().map(|t| t.column.as_str());
        for (i, name) in self.tag_columns.iter().enumerate() {
            if self.tag_columns[..i].contains(name) {
                errors.push(format!("tag column {name} is listed twice"));
            }
            if timestamp == Some(name) {
                errors.push(format!("{name} is both the timestamp and a tag column"));
            }
            if self.skip.contains(name) {
                errors.push(format!("{name} is both skipped and a tag column"));
            }
        }
        if let Some(name) = timestamp
            && self.skip.iter().any(|s| s == name)
        {
            errors.push(format!("{name} is both the timestamp and skipped"));
        }
        if let Some(time) = &self.timestamp
            && let Some(field) = &time.field
        {
            if field.is_empty() {
                errors.push("timestamp: `field` is empty".to_owned());
            } else if field != &time.column
                && (self.types.contains_key(field)
                    || self.tag_columns.contains(field)
                    || self
                        .columns
                        .iter()
                        .any(|c| c == field && !self.skip.contains(c)))
            {
                errors.push(format!(
                    "timestamp: field {field} is also a column: name another field"
                ));
            }
        }
        for name in self.types.keys() {
            let role = if timestamp == Some(name) {
                "the timestamp column"
            } else if self.tag_columns.contains(name) {
                "a tag column"
            } else if self.skip.contains(name) {
                "skipped"
            } else {
                continue;
            };
            errors.push(format!(
                "types: {name} is {role}, not a field: only fields have a type"
            ));
        }
        for name in &self.tag_columns {
            if self.tags.contains_key(name) {
                errors.push(format!("tag {name} is both a static tag and a tag column"));
            }
        }
        if !errors.is_empty() {
            return Err(errors
                .iter()
                .map(|e| format!("csv: {e}"))
                .collect::<Vec<_>>()
                .join("; "));
        }
        let mut series = Series::new(self.measurement.clone());
        for (key, value) in &self.tags {
            series.set_tag(key.clone(), value.clone());
        }
        let null_empty = self.null_values.iter().any(String::is_empty);
        let nulls = self
            .null_values
            .iter()
            .filter(|null| !null.is_empty())
            .cloned()
            .collect();
        Ok(Settings {
            config: self,
            delimiter,
            quote,
            escape,
            series,
            null_empty,
            nulls,
        })
    }

    /// Every column the config names, with the setting naming it.
    pub(crate) fn named_columns(&self) -> Vec<(&'static str, &str)> {
        let mut named: Vec<(&'static str, &str)> = Vec::new();
        named.extend(self.tag_columns.iter().map(|c| ("tag column", c.as_str())));
        named.extend(self.types.keys().map(|c| ("typed column", c.as_str())));
        named.extend(self.skip.iter().map(|c| ("skipped column", c.as_str())));
        named.extend(
            self.required
                .iter()
                .map(|c| ("required column", c.as_str())),
        );
        named.extend(
            self.timestamp
                .iter()
                .map(|t| ("timestamp column", t.column.as_str())),
        );
        named
    }
}
