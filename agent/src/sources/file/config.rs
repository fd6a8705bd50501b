//! `type: file` settings: which file, where to start, whether to follow it.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::settings::{Problems, Settings, units};
use crate::sources::lines::check_max_line_length;

/// `type: file`: reads lines from a file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSourceConfig {
    /// `path`: the file to read, relative to the working directory. Required.
    pub path: PathBuf,
    /// `read_from`: `checkpoint` resumes after the last line that was
    /// acknowledged (durable in every sink) on an earlier run, and reads a
    /// file it has no checkpoint for from its beginning; `beginning` always
    /// reads the whole file (a replay); `end` reads only what is appended
    /// after the agent starts. Default `checkpoint`.
    #[serde(default)]
    pub read_from: ReadFrom,
    /// `follow`: keep reading as the file grows and reopen it when rotated.
    /// Default `true`.
    #[serde(default = "FileSourceConfig::default_follow")]
    pub follow: bool,
    /// `poll_interval`: how often to look for new data when following.
    /// Default `250ms`, from `1ms` to `1h`.
    #[serde(
        default = "FileSourceConfig::default_poll_interval",
        with = "units::duration"
    )]
    pub poll_interval: Duration,
    /// `max_line_length`: longest line in bytes. Default 65536, from 16 to
    /// 1048576.
    #[serde(default = "FileSourceConfig::default_max_line_length")]
    pub max_line_length: usize,
}

impl FileSourceConfig {
    const fn default_follow() -> bool {
        true
    }
    const fn default_poll_interval() -> Duration {
        Duration::from_millis(250)
    }
    const fn default_max_line_length() -> usize {
        65_536
    }
}

/// Where a file source starts reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReadFrom {
    /// After the last acknowledged line of an earlier run; from the first
    /// byte for a file without a checkpoint.
    #[default]
    Checkpoint,
    /// From the first byte, whatever was read before.
    Beginning,
    /// Only lines appended after the agent starts.
    End,
}

impl Settings for FileSourceConfig {
    fn check(&self, key: &str, problems: &mut Problems<'_>) {
        problems.duration_range(
            &format!("{key}.poll_interval"),
            self.poll_interval,
            Duration::from_millis(1),
            Duration::from_hours(1),
        );
        check_max_line_length(key, self.max_line_length, problems);
    }
}
