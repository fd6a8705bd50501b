//! `type: archive` settings: where the files go, how they are partitioned,
//! compressed and rotated.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::settings::{ByteSize, Problems, Settings, units};

/// `type: archive`: records (one line each, as they came) or points (one
/// JSON object each) in compressed files under time partitions, each file
/// finalized atomically when rotated: a data lake's layout, as a Kinesis
/// Firehose or Vector's `aws_s3` sink writes it, on a local disk.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArchiveConfig {
    /// `path`: the root directory. Required.
    pub path: PathBuf,
    /// `partition`: the directory under `path` for an item's time, strftime
    /// style (UTC). Default `year=%Y/month=%m/day=%d/hour=%H`.
    #[serde(default = "ArchiveConfig::default_partition")]
    pub partition: String,
    /// `time`: which time partitions an item: `arrival` (when the source
    /// received it) or `{ field: name }`, a JSON record's top-level field
    /// with an RFC 3339 time (`2024-05-01T12:00:00Z`, with or without a
    /// fraction); a record without a readable one goes by its arrival time
    /// and is counted (`foghorn_component_errors_total{reason=
    /// "archive_time_unreadable"}`). Points go by their own time. Default
    /// `arrival`.
    #[serde(default)]
    pub time: PartitionTime,
    /// `prefix`: the start of every file name. Default `part`.
    #[serde(default = "ArchiveConfig::default_prefix")]
    pub prefix: String,
    /// `compression`: `gzip` (the default) or `none`.
    #[serde(default)]
    pub compression: Compression,
    /// `compression_level`: gzip's level, from 1 (fastest) to 9 (smallest).
    /// Default 6, zlib's and Vector's default. On product telemetry points
    /// level 1 took 42 % of level 6's CPU for files 1.6 times as large
    /// (12× and 7.7× smaller than plain NDJSON; `foghorn-bench sinks`).
    #[serde(default = "ArchiveConfig::default_compression_level")]
    pub compression_level: u32,
    /// `max_file_size`: a file is finalized once this many bytes (before
    /// compression) are in it. Default `64MiB`, from `1KiB`.
    #[serde(default = "ArchiveConfig::default_max_file_size")]
    pub max_file_size: ByteSize,
    /// `max_file_age`: a file is finalized this long after it was opened.
    /// Default `60s`, from `1s` to `1d`.
    #[serde(
        default = "ArchiveConfig::default_max_file_age",
        with = "units::duration"
    )]
    pub max_file_age: Duration,
    /// `max_open_files`: files open at once (one per partition written to
    /// lately); opening another finalizes the oldest. Default 32, from 1 to
    /// 1024.
    #[serde(default = "ArchiveConfig::default_max_open_files")]
    pub max_open_files: usize,
}

/// What time partitions an item.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartitionTime {
    /// When the source received it.
    #[default]
    Arrival,
    /// A top-level field of a JSON record.
    Field(String),
}

/// How files are compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Compression {
    /// gzip, `.gz` added to the name.
    #[default]
    Gzip,
    /// Plain text.
    None,
}

impl ArchiveConfig {
    fn default_partition() -> String {
        "year=%Y/month=%m/day=%d/hour=%H".to_owned()
    }
    fn default_prefix() -> String {
        "part".to_owned()
    }
    const fn default_compression_level() -> u32 {
        6
    }
    const fn default_max_file_size() -> ByteSize {
        ByteSize(64 * 1024 * 1024)
    }
    const fn default_max_file_age() -> Duration {
        Duration::from_secs(60)
    }
    const fn default_max_open_files() -> usize {
        32
    }
}

impl Settings for ArchiveConfig {
    fn check(&self, key: &str, problems: &mut Problems<'_>) {
        if let Err(error) = time::format_description::parse_strftime_borrowed(&self.partition) {
            problems.push(&format!("{key}.partition"), error.to_string());
        }
        if self
            .partition
            .split('/')
            .any(|part| part == ".." || part.is_empty())
            || self.partition.starts_with('/')
        {
            problems.push(
                &format!("{key}.partition"),
                "must be a relative path without `..` or empty parts",
            );
        }
        if self.prefix.is_empty() || self.prefix.contains(['/', '.']) {
            problems.push(
                &format!("{key}.prefix"),
                "must be a name without `/` or `.`",
            );
        }
        problems.range(
            &format!("{key}.compression_level"),
            self.compression_level,
            1,
            9,
        );
        problems.range(
            &format!("{key}.max_file_size"),
            self.max_file_size.0,
            1024,
            u64::MAX,
        );
        problems.duration_range(
            &format!("{key}.max_file_age"),
            self.max_file_age,
            Duration::from_secs(1),
            Duration::from_secs(86_400),
        );
        problems.range(
            &format!("{key}.max_open_files"),
            self.max_open_files,
            1,
            1024,
        );
    }
}
