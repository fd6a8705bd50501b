//! The top-level [`Config`].
//!
//! `Config` is what [`super::load`] returns: plain typed values plus the
//! [`SourceMap`] that remembers where each came from, so the topology builder
//! can report its own errors (a port that cannot be opened) at the right line.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use super::batch::{BatchConfig, BatchOverride};
use super::processors::ProcessorConfig;
use super::sinks::SinkConfig;
use super::sources::SourceConfig;
use crate::log_file::LogFilesConfig;
use crate::settings::SourceMap;

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
    /// `clock`: the time processors' `tick`s follow; see [`Clock`].
    /// Default `wall`.
    pub clock: Clock,
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

/// `clock`: what time drives the processors' `tick`s (heartbeats, time
/// buckets, alert grouping).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Clock {
    /// The system clock: every processor ticks every `tick_interval`.
    #[default]
    Wall,
    /// The time of the data, for recorded data replayed faster than it was
    /// recorded (what `foghorn replay` sets). A processor ticks at each
    /// multiple of its `tick_interval` that the timestamps of its input
    /// pass: those before a batch's earliest item before the batch, the rest
    /// up to its latest item after it. So a silence in the data is a
    /// silence to a heartbeat, however fast the replay. At most
    /// [`Clock::MAX_TICKS_PER_BATCH`] ticks per batch: a longer jump in time
    /// ticks only at its end.
    Event,
}

impl Clock {
    /// The most ticks one batch may cause under [`Clock::Event`].
    pub const MAX_TICKS_PER_BATCH: i64 = 100_000;
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn batch_override_falls_back_key_by_key() {
        let config = Config {
            data_dir: PathBuf::from(Config::DEFAULT_DATA_DIR),
            batch: BatchConfig::default(),
            api: None,
            log_files: LogFilesConfig::default(),
            clock: Clock::default(),
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
