//! `type: file` settings: which file (or which globs of files), where to
//! start, whether to follow it.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::settings::{Problems, Settings, units};
use crate::sources::lines::check_max_line_length;

/// `type: file`: reads lines from a file, or from every file matching
/// `include` globs.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSourceConfig {
    /// `path`: the file to read, relative to the working directory; its
    /// rotated siblings (`app.log.1`) are found by fingerprint. Either
    /// `path` or `include`.
    #[serde(default)]
    pub path: Option<PathBuf>,
    /// `include`: glob patterns of the files to read (`*`, `?`, `[a-z]`, and
    /// `**` for any number of directories), e.g. `/var/log/devices/*.log`.
    /// Every regular file matching one of them and none of `exclude` is read,
    /// with a checkpoint of its own; files that appear later are read from
    /// their start within `glob_interval`. Either `path` or `include`.
    #[serde(default)]
    pub include: Vec<String>,
    /// `exclude`: glob patterns of files not to read, matched against the
    /// whole path (`*.gz`, `/var/log/devices/test-*`). Only with `include`.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// `path_tag`: a tag name; every point parsed from a file's lines gets
    /// the file's path under it (unless the parser set that tag itself).
    /// Default: none.
    #[serde(default)]
    pub path_tag: Option<String>,
    /// `max_open_files`: with `include`, the most files held open at once.
    /// More files with data to read take turns: a file at its end gives up
    /// its place, and a busy one after a round when others wait. Default
    /// 256, from 1 to 65536.
    #[serde(default = "FileSourceConfig::default_max_open_files")]
    pub max_open_files: usize,
    /// `glob_interval`: with `include`, how often the globs are expanded
    /// again to find new, renamed and removed files. Default `1s`, from
    /// `10ms` to `1h`.
    #[serde(
        default = "FileSourceConfig::default_glob_interval",
        with = "units::duration"
    )]
    pub glob_interval: Duration,
    /// `checkpoint_retention`: with `include`, how long the checkpoint of a
    /// file that no longer matches (removed, renamed away) is kept, so that
    /// it resumes where it was if it comes back. Default `1h`, from `1s` to
    /// `365d`.
    #[serde(
        default = "FileSourceConfig::default_checkpoint_retention",
        with = "units::duration"
    )]
    pub checkpoint_retention: Duration,
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
    const fn default_max_open_files() -> usize {
        256
    }
    const fn default_glob_interval() -> Duration {
        Duration::from_secs(1)
    }
    const fn default_checkpoint_retention() -> Duration {
        Duration::from_hours(1)
    }

    /// A source reading the file at `path`, with the defaults of the YAML.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: Some(path.into()),
            include: Vec::new(),
            exclude: Vec::new(),
            path_tag: None,
            read_from: ReadFrom::default(),
            follow: Self::default_follow(),
            poll_interval: Self::default_poll_interval(),
            max_line_length: Self::default_max_line_length(),
            max_open_files: Self::default_max_open_files(),
            glob_interval: Self::default_glob_interval(),
            checkpoint_retention: Self::default_checkpoint_retention(),
        }
    }

    /// The single file read, when the source reads one.
    pub fn single_path(&self) -> Option<&std::path::Path> {
        self.include
            .is_empty()
            .then_some(self.path.as_deref())
            .flatten()
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
        match (&self.path, self.include.is_empty()) {
            (Some(_), false) => problems.push(
                &format!("{key}.include"),
                "give either `path` (one file) or `include` (globs), not both",
            ),
            (None, true) => problems.push(
                key,
                "missing `path` (one file) or `include` (globs of files)",
            ),
            _ => {}
        }
        if self.include.is_empty() && !self.exclude.is_empty() {
            problems.push(&format!("{key}.exclude"), "`exclude` needs `include`");
        }
        for (list, patterns) in [("include", &self.include), ("exclude", &self.exclude)] {
            for (index, pattern) in patterns.iter().enumerate() {
                if let Err(error) = glob::Pattern::new(pattern) {
                    problems.push(
                        &format!("{key}.{list}[{index}]"),
                        format!("not a glob pattern: {error}"),
                    );
                }
            }
        }
        if let Some(tag) = &self.path_tag
            && (tag.is_empty() || tag.len() > 256)
        {
            problems.push(
                &format!("{key}.path_tag"),
                "must be a tag name of 1 to 256 bytes",
            );
        }
        problems.range(
            &format!("{key}.max_open_files"),
            self.max_open_files,
            1,
            65_536,
        );
        problems.duration_range(
            &format!("{key}.glob_interval"),
            self.glob_interval,
            Duration::from_millis(10),
            Duration::from_hours(1),
        );
        problems.duration_range(
            &format!("{key}.checkpoint_retention"),
            self.checkpoint_retention,
            Duration::from_secs(1),
            Duration::from_hours(365 * 24),
        );
    }
}
