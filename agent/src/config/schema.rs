//! The top-level [`Config`] and the batching settings shared by every source
//! and processor.
//!
//! `Config` is what [`super::load`] returns: plain typed values plus the
//! [`SourceMap`] that remembers where each came from, so the topology builder
//! can report its own errors (a port that cannot be opened) at the right line.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::processors::ProcessorConfig;
use super::sinks::SinkConfig;
use super::source_map::SourceMap;
use super::sources::SourceConfig;
use super::units;
use super::validate::Problems;

/// A whole pipeline: where state lives, how records are batched, and the named
/// sources, processors and sinks wired together by their `inputs`.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `data_dir`: directory for checkpoints, plugin snapshots, the outbox and
    /// buffers. Default `./foghorn-data`, relative to the working directory.
    pub data_dir: PathBuf,
    /// `batch`: the batching every source uses unless it sets its own
    /// `batch`. (A processor handles each batch as it arrives.) Defaults: `max_records: 1024`, `linger: 50ms`.
    pub batch: BatchConfig,
    /// `api`: the agent's own HTTP API (`/health`, `/ready`, `/metrics`),
    /// independent of any sink. Off when absent; `api: {}` serves on
    /// `127.0.0.1:9599`.
    pub api: Option<ApiConfig>,
    /// `log_files`: size rotation of the files the agent appends to on its
    /// own (audit logs, error logs, dead letters). Default: rotate at
    /// `100MiB`, keep 5 rotated files.
    pub log_files: LogFilesConfig,
    /// `sources`: components that read lines from the outside world, by name.
    pub sources: BTreeMap<String, SourceConfig>,
    /// `processors`: WebAssembly plugins that turn records into points and
    /// alerts, by name.
    pub processors: BTreeMap<String, ProcessorConfig>,
    /// `sinks`: components that deliver points and alerts, by name.
    pub sinks: BTreeMap<String, SinkConfig>,
    /// Where every key of the file was, for errors reported after loading.
    pub source_map: SourceMap,
}

/// `api`: where the agent's own API listens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApiConfig {
    /// `listen`: address and port. Default `127.0.0.1:9599` (loopback: the
    /// API says what the agent is doing; expose it on purpose, not by
    /// default).
    pub listen: std::net::SocketAddr,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            listen: std::net::SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, 9599)),
        }
    }
}

/// `log_files`: how the agent's own append-only files are bounded on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogFilesConfig {
    /// `max_size`: a file past this size is renamed to `<file>.1` (older
    /// ones shift to `.2`, `.3`, ...) and a new one is started. Default
    /// `100MiB`, from `4KiB` up.
    pub max_size: units::ByteSize,
    /// `keep`: rotated files kept; the oldest beyond it is deleted. Default 5,
    /// from 0 to 1000. Disk use per file is at most `(keep + 1) * max_size`.
    pub keep: usize,
}

impl Default for LogFilesConfig {
    fn default() -> Self {
        Self {
            max_size: units::ByteSize(100 * 1024 * 1024),
            keep: 5,
        }
    }
}

impl Config {
    /// The default `data_dir`.
    pub const DEFAULT_DATA_DIR: &'static str = "./foghorn-data";

    /// The batching for one component: its `batch` override merged over the
    /// global `batch`.
    #[must_use]
    pub fn batch_for(&self, batch: Option<&BatchOverride>) -> BatchConfig {
        let Some(batch) = batch else {
            return self.batch;
        };
        BatchConfig {
            max_records: batch.max_records.unwrap_or(self.batch.max_records),
            linger: batch.linger.unwrap_or(self.batch.linger),
        }
    }
}

/// How many records a component gathers before handing them on, and how long
/// it waits for more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BatchConfig {
    /// `max_records`: a batch is sent as soon as it holds this many records.
    /// Default 1024, from 1 to 1000000.
    pub max_records: usize,
    /// `linger`: a batch that is not full is sent this long after its first
    /// record arrived. Default `50ms`, from `0s` (send at once) to `60s`.
    #[serde(with = "units::duration")]
    pub linger: Duration,
}

impl Default for BatchConfig {
    fn default() -> Self {
        Self {
            max_records: 1024,
            linger: Duration::from_millis(50),
        }
    }
}

/// A component's own `batch`: each key left out falls back to the global
/// `batch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BatchOverride {
    /// `max_records`: as the global `batch.max_records`. Default: inherited.
    pub max_records: Option<usize>,
    /// `linger`: as the global `batch.linger`. Default: inherited.
    #[serde(with = "units::option_duration")]
    pub linger: Option<Duration>,
}

const MAX_RECORDS: (usize, usize) = (1, 1_000_000);
const MAX_LINGER: Duration = Duration::from_mins(1);

impl BatchConfig {
    /// Reports values under the key path `key` that are out of range.
    pub(crate) fn check(&self, key: &str, problems: &mut Problems<'_>) {
        BatchOverride {
            max_records: Some(self.max_records),
            linger: Some(self.linger),
        }
        .check(key, problems);
    }
}

impl BatchOverride {
    /// Reports values under the key path `key` that are out of range.
    pub(crate) fn check(&self, key: &str, problems: &mut Problems<'_>) {
        if let Some(max_records) = self.max_records {
            let (min, max) = MAX_RECORDS;
            problems.range(&format!("{key}.max_records"), max_records, min, max);
        }
        if let Some(linger) = self.linger {
            problems.duration_range(&format!("{key}.linger"), linger, Duration::ZERO, MAX_LINGER);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_override_falls_back_key_by_key() {
        let config = Config {
            data_dir: PathBuf::from(Config::DEFAULT_DATA_DIR),
            batch: BatchConfig::default(),
            api: None,
            log_files: LogFilesConfig::default(),
            sources: BTreeMap::new(),
            processors: BTreeMap::new(),
            sinks: BTreeMap::new(),
            source_map: SourceMap::empty("test.yaml"),
        };
        let only_records = BatchOverride {
            max_records: Some(64),
            linger: None,
        };
        assert_eq!(
            config.batch_for(Some(&only_records)),
            BatchConfig {
                max_records: 64,
                linger: Duration::from_millis(50)
            }
        );
        assert_eq!(config.batch_for(None), BatchConfig::default());
    }
}
