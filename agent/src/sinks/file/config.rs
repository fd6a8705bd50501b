//! `type: file` settings: the output file and its encoding.

use std::path::PathBuf;

use serde::Deserialize;

use crate::settings::Settings;

/// `type: file`: appends each point, alert or record to a file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSinkConfig {
    /// `path`: the output file, relative to the working directory. Required.
    pub path: PathBuf,
    /// `encoding`: `csv`, `ndjson` (one JSON object per line) or `raw` (the
    /// original line). Default `ndjson`.
    #[serde(default)]
    pub encoding: FileEncoding,
    /// `columns`: with `csv`, the columns of a points table, in order, for
    /// consumers of another tool's CSV: `timestamp`, `series`, or the name of
    /// a tag or field (`[timestamp, temperature, voltage, status_code]`).
    /// Default: `timestamp,series,<tag keys...>,<field names...>` from the
    /// first batch.
    #[serde(default)]
    pub columns: Option<Vec<String>>,
}

/// How a file sink writes items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileEncoding {
    /// Comma-separated values with a header row.
    Csv,
    /// One JSON object per line.
    #[default]
    Ndjson,
    /// The original raw line.
    Raw,
}

impl Settings for FileSinkConfig {
    fn check(&self, key: &str, problems: &mut crate::settings::Problems<'_>) {
        let Some(columns) = &self.columns else {
            return;
        };
        if self.encoding != FileEncoding::Csv {
            problems.push(&format!("{key}.columns"), "is for `encoding: csv` only");
        }
        if columns.is_empty() {
            problems.push(
                &format!("{key}.columns"),
                "is empty: name the columns to write",
            );
        }
        for (index, column) in columns.iter().enumerate() {
            if columns[..index].contains(column) {
                problems.push(
                    &format!("{key}.columns[{index}]"),
                    format!("{column} is listed twice"),
                );
            }
        }
    }
}
