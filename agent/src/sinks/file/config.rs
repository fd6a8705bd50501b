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

impl Settings for FileSinkConfig {}
