//! Sink configurations: `prometheus`, `report`, `file` and `console`.
//!
//! The loader reads a sink's `type` and `inputs` itself and hands the rest of
//! the mapping to [`SinkKind::from_node`], the one table of sink types.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use marked_yaml::{FromNodeError, Node, from_node};
use serde::Deserialize;

use super::inputs::InputRef;
use super::problems::Problems;
use super::units;

/// One entry of `sinks`.
#[derive(Debug, Clone, PartialEq)]
pub struct SinkConfig {
    /// `inputs`: the sources and processors this sink reads (`name`,
    /// `name.points`, `name.alerts`). Required, not empty.
    pub inputs: Vec<InputRef>,
    /// `buffer`: how many batches wait for this sink, and what happens when
    /// that many are waiting. Default: 16 batches, block.
    pub buffer: BufferConfig,
    /// `type` and the settings of that type.
    pub kind: SinkKind,
}

/// A sink's input buffer: batches wait here while the sink writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BufferConfig {
    /// `max_batches`: batches that may wait for the sink (1 to 100000).
    /// Memory is bounded by this times the batch size of its inputs.
    /// Default: 16.
    pub max_batches: usize,
    /// `when_full`: `block` (default) makes the producers wait, which slows
    /// every sink reading the same output down to this one; `drop_newest`
    /// drops the batch for this sink only, counts it in
    /// `foghorn_buffer_dropped_events_total{component}`, and acknowledges it
    /// as dropped, so the source moves on.
    pub when_full: WhenFull,
}

impl Default for BufferConfig {
    fn default() -> Self {
        Self {
            max_batches: 16,
            when_full: WhenFull::Block,
        }
    }
}

/// What a full sink buffer does with the next batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WhenFull {
    /// Wait for room: backpressure up to the sources.
    #[default]
    Block,
    /// Drop the batch for this sink, counted.
    DropNewest,
}

/// Where a sink delivers, selected by its `type`.
#[derive(Debug, Clone, PartialEq)]
pub enum SinkKind {
    /// `type: prometheus`: serves points as Prometheus metrics over HTTP.
    Prometheus(PrometheusConfig),
    /// `type: report`: rewrites a JSON summary report of alerts periodically.
    Report(ReportConfig),
    /// `type: file`: appends every item to a file.
    File(FileSinkConfig),
    /// `type: console`: prints every item to standard output.
    Console(ConsoleConfig),
    /// `type: blackhole`: counts and drops everything, for benchmarks.
    Blackhole(BlackholeConfig),
}

impl SinkKind {
    /// Every sink `type`, in the order they are listed in errors.
    pub const TYPES: &'static [&'static str] =
        &["prometheus", "report", "file", "console", "blackhole"];

    /// The `type` this configuration was written with.
    #[must_use]
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Prometheus(_) => "prometheus",
            Self::Report(_) => "report",
            Self::File(_) => "file",
            Self::Console(_) => "console",
            Self::Blackhole(_) => "blackhole",
        }
    }

    /// Deserializes the settings of `type_name` from `node` (the component's
    /// mapping without `type` and `inputs`); `None` for an unknown type.
    pub(crate) fn from_node(type_name: &str, node: &Node) -> Option<Result<Self, FromNodeError>> {
        Some(match type_name {
            "prometheus" => from_node(node).map(Self::Prometheus),
            "report" => from_node(node).map(Self::Report),
            "file" => from_node(node).map(Self::File),
            "console" => from_node(node).map(Self::Console),
            "blackhole" => from_node(node).map(Self::Blackhole),
            _ => return None,
        })
    }

    /// Reports values under the key path `key` that are out of range.
    pub(crate) fn check(&self, key: &str, problems: &mut Problems<'_>) {
        match self {
            Self::Prometheus(prometheus) => prometheus.check(key, problems),
            Self::Report(report) => {
                let (min, max) = (Duration::from_millis(100), Duration::from_hours(24));
                problems.duration_range(&format!("{key}.interval"), report.interval, min, max);
                problems.range(
                    &format!("{key}.max_alerts"),
                    report.max_alerts,
                    1,
                    1_000_000,
                );
            }
            Self::File(_) | Self::Console(_) | Self::Blackhole(_) => {}
        }
    }
}

/// `type: prometheus`: an HTTP endpoint serving `/metrics`.
///
/// Data gauges and alert series have separate budgets, so noisy data can
/// neither hide nor evict an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PrometheusConfig {
    /// `listen`: address and port to serve on. Default `127.0.0.1:9598`.
    pub listen: SocketAddr,
    /// `max_series`: the most data gauges (`<series>_<field>{<tags>}`, one
    /// per numeric field and tag set) the sink holds. A new one past it is
    /// dropped and counted in
    /// `foghorn_component_errors_total{reason="cardinality_limit"}`; gauges
    /// already held keep updating. Default 10000, from 1 to 1000000.
    pub max_series: usize,
    /// `max_alert_series`: the most `foghorn_alert_firing` gauges (one per
    /// distinct alert) the sink holds, and separately the most
    /// `foghorn_alerts_total{type, severity, state}` counters. A new one past
    /// it is dropped and counted in
    /// `foghorn_component_errors_total{reason="alert_cardinality_limit"}`.
    /// Data gauges never use this budget. Default 1000, from 1 to 100000.
    pub max_alert_series: usize,
    /// `firing_max_age`: how long the firing gauge of an alert that is never
    /// resolved is kept after the alert was last received; then it is
    /// dropped and counted in
    /// `foghorn_component_errors_total{reason="alert_expired"}`. Default
    /// `24h`, from `1m` to `30d`.
    #[serde(with = "units::duration")]
    pub firing_max_age: Duration,
}

impl PrometheusConfig {
    /// Reports values under the key path `key` that are out of range.
    fn check(&self, key: &str, problems: &mut Problems<'_>) {
        problems.range(&format!("{key}.max_series"), self.max_series, 1, 1_000_000);
        problems.range(
            &format!("{key}.max_alert_series"),
            self.max_alert_series,
            1,
            100_000,
        );
        let (min, max) = (Duration::from_mins(1), Duration::from_hours(30 * 24));
        problems.duration_range(
            &format!("{key}.firing_max_age"),
            self.firing_max_age,
            min,
            max,
        );
    }
}

impl Default for PrometheusConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 9598)),
            max_series: 10_000,
            max_alert_series: 1_000,
            firing_max_age: Duration::from_hours(24),
        }
    }
}

/// `type: report`: a JSON report of alerts, rewritten atomically.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportConfig {
    /// `path`: the report file, relative to the working directory. Required.
    pub path: PathBuf,
    /// `interval`: how often the report is rewritten. Default `5s`, from
    /// `100ms` to `1d`.
    #[serde(default = "ReportConfig::default_interval", with = "units::duration")]
    pub interval: Duration,
    /// `max_alerts`: the most entries the report holds; past it the oldest
    /// go, except the latest entry of an alert that is still firing. Bounds
    /// the sink's memory and the file to about this many alerts' JSON.
    /// Default 10000, from 1 to 1000000.
    #[serde(default = "ReportConfig::default_max_alerts")]
    pub max_alerts: usize,
}

impl ReportConfig {
    const fn default_interval() -> Duration {
        Duration::from_secs(5)
    }

    const fn default_max_alerts() -> usize {
        10_000
    }
}

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

/// `type: console`: prints to standard output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConsoleConfig {
    /// `format`: `text` (human-readable) or `json`. Default `text`.
    pub format: ConsoleFormat,
}

/// How the console sink prints items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsoleFormat {
    /// One human-readable line per item.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// `type: blackhole`: has no settings besides `type` and `inputs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlackholeConfig {}
