//! Sinks: where batches leave the pipeline.
//!
//! Each sink is one module with its settings struct next to its code:
//! [`prometheus`] (a `/metrics` endpoint with a gauge per numeric point field
//! and alert metrics, next to the agent's own), [`report`] (the anomaly
//! report, a JSON array written atomically), [`file`] (records, points and
//! alerts as raw lines, NDJSON or CSV), [`analysis`] (statistics over every
//! row, as JSON and HTML reports), [`console`] (standard output, for
//! people) and [`blackhole`] (counts and drops). Each settings struct
//! implements [`Sink`], and the `sinks!` registry below names each type
//! once. The topology calls [`SinkKind::build`] for every sink before
//! anything runs, so a taken port or an unwritable path fails start-up next
//! to every other error; then it spawns [`BuiltSink::run`], which
//! consumes batches until every upstream component has dropped its sender,
//! flushes and returns. The JSON shapes shared by the NDJSON file encoding and
//! the console's JSON format live here.

pub mod alertmanager;
pub mod analysis;
mod appender;
pub mod archive;
pub mod blackhole;
pub mod console;
pub mod email;
mod escape;
pub mod file;
mod http_post;
pub mod kafka;
pub mod otlp;
mod point_lines;
pub mod prometheus;
pub mod report;
pub mod slack;
pub mod webhook;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::mpsc::Receiver;
use tokio_util::sync::CancellationToken;

pub use alertmanager::AlertmanagerConfig;
pub use analysis::config::AnalysisConfig;
pub use archive::config::ArchiveConfig;
pub use blackhole::BlackholeConfig;
pub use console::{ConsoleConfig, ConsoleFormat};
pub use email::EmailConfig;
pub use file::config::{FileEncoding, FileSinkConfig};
pub use kafka::KafkaSinkConfig;
pub use otlp::OtlpConfig;
pub use prometheus::config::PrometheusConfig;
pub use report::config::{ReportConfig, ReportField, SeverityCase};
pub use slack::SlackConfig;
pub use webhook::WebhookConfig;

use crate::event::{PointRef, Record, SharedBatch, Value, format_timestamp};
use crate::settings::{Settings, settings_enum};

/// What a sink is given by the topology.
#[derive(Debug, Clone)]
pub struct SinkContext {
    /// The component name, for internal events.
    pub name: Arc<str>,
    /// The agent's data directory.
    pub data_dir: PathBuf,
    /// Cancelled when the pipeline starts shutting down: a sink whose writes
    /// keep failing then gives up on the batch (unacknowledged, so its
    /// source reads it again) instead of retrying for ever.
    pub shutdown: CancellationToken,
}

/// Why a sink could not start or could not finish.
#[derive(thiserror::Error, Debug)]
pub enum SinkError {
    /// The listen address is taken or not allowed.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The configured address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A file or its directory could not be created, opened or read.
    #[error("cannot open {}", path.display())]
    Open {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Writing, flushing or syncing a file failed.
    #[error("cannot write {}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Writes kept failing until shutdown: these events were not written
    /// (nor acknowledged, so a source that can replay sends them again).
    #[error("{count} events could not be written to {} before shutdown", path.display())]
    Undelivered {
        /// The file.
        path: PathBuf,
        /// How many events.
        count: usize,
    },
    /// A body template does not compile.
    #[error("the body template does not compile: {0}")]
    Template(String),
    /// The HTTP client could not be made.
    #[error("cannot make the HTTP client: {0}")]
    Client(String),
    /// The metrics HTTP server stopped with an error.
    #[error("the metrics server failed")]
    Serve(#[source] std::io::Error),
    /// The task or thread running the sink panicked.
    #[error("the sink task failed")]
    Task(#[from] tokio::task::JoinError),
}

/// What every sink type provides, next to its settings struct: building
/// it, where I/O happens (the listener is bound, parent directories are
/// created, files are opened and an existing report is loaded), so errors
/// are reported before the pipeline starts.
pub trait Sink: Settings {
    /// The sink once built.
    type Running: RunningSink;

    /// Build the sink.
    ///
    /// # Errors
    /// When an address cannot be bound or a path cannot be created, opened
    /// or written.
    fn build(
        &self,
        ctx: SinkContext,
    ) -> impl Future<Output = Result<Self::Running, SinkError>> + Send;

    /// The address the sink listens on, if it is one that does: a reload
    /// that rebuilds it frees the old listener first.
    fn listen(&self) -> Option<SocketAddr> {
        None
    }
}

/// A built sink.
pub trait RunningSink: Send + 'static {
    /// One line for the startup banner, e.g.
    /// `metrics  http://127.0.0.1:9598/metrics` or
    /// `report   /abs/path/anomaly_report.json`.
    fn describe(&self) -> String;

    /// Consume batches until the channel closes (the pipeline is draining),
    /// then flush everything and return.
    ///
    /// # Errors
    /// When the final flush fails, or the sink's task or server fails. Write
    /// failures on single batches are reported as internal events and the
    /// sink carries on.
    fn run(
        self,
        input: Receiver<SharedBatch>,
    ) -> impl Future<Output = Result<(), SinkError>> + Send;
}

/// The registry of sinks: one line per `type`. From it come the
/// [`SinkKind`] enum the loader fills, its `TYPES`, validation, and the
/// [`BuiltSink`] the topology runs.
macro_rules! sinks {
    ($( $(#[$doc:meta])* $name:literal => $variant:ident($settings:ty), )*) => {
        settings_enum! {
            /// Where a sink delivers, selected by its `type`.
            pub enum SinkKind {
                $( $(#[$doc])* $name => $variant($settings), )*
            }
        }

        /// A built sink, ready to run.
        #[derive(Debug)]
        pub enum BuiltSink {
            $( $(#[$doc])* $variant(<$settings as Sink>::Running), )*
        }

        impl SinkKind {
            /// Build the sink: see [`Sink::build`].
            ///
            /// # Errors
            /// As [`Sink::build`].
            pub async fn build(&self, ctx: SinkContext) -> Result<BuiltSink, SinkError> {
                Ok(match self {
                    $( Self::$variant(settings) => BuiltSink::$variant(settings.build(ctx).await?), )*
                })
            }

            /// The address the sink listens on, if any.
            #[must_use]
            pub fn listen(&self) -> Option<SocketAddr> {
                match self {
                    $( Self::$variant(settings) => Sink::listen(settings), )*
                }
            }
        }

        impl BuiltSink {
            /// One line for the startup banner.
            #[must_use]
            pub fn describe(&self) -> String {
                match self {
                    $( Self::$variant(sink) => sink.describe(), )*
                }
            }

            /// Run the sink: see [`RunningSink::run`].
            ///
            /// # Errors
            /// As [`RunningSink::run`].
            pub async fn run(self, input: Receiver<SharedBatch>) -> Result<(), SinkError> {
                match self {
                    $( Self::$variant(sink) => sink.run(input).await, )*
                }
            }
        }
    };
}

sinks! {
    /// `type: prometheus`: serves points as Prometheus metrics over HTTP.
    "prometheus" => Prometheus(PrometheusConfig),
    /// `type: report`: rewrites a JSON summary report of alerts periodically.
    "report" => Report(ReportConfig),
    /// `type: file`: appends every item to a file.
    "file" => File(FileSinkConfig),
    /// `type: console`: prints every item to standard output.
    "console" => Console(ConsoleConfig),
    /// `type: blackhole`: counts and drops everything, for benchmarks.
    "blackhole" => Blackhole(BlackholeConfig),
    /// `type: webhook`: POSTs an alert stage's notifications to a URL.
    "webhook" => Webhook(WebhookConfig),
    /// `type: slack`: posts an alert stage's notifications to Slack.
    "slack" => Slack(SlackConfig),
    /// `type: alertmanager`: posts an alert stage's alerts to Alertmanager.
    "alertmanager" => Alertmanager(AlertmanagerConfig),
    /// `type: email`: mails an alert stage's notifications over SMTP.
    "email" => Email(EmailConfig),
    /// `type: otlp`: points as OTLP metrics, alerts as OTLP log records.
    "otlp" => Otlp(OtlpConfig),
    /// `type: kafka`: points, alerts and raw records to a Kafka topic.
    "kafka" => Kafka(KafkaSinkConfig),
    /// `type: analysis`: statistics over every row, as JSON and HTML reports.
    "analysis" => Analysis(AnalysisConfig),
    /// `type: archive`: compressed files under time partitions, rotated.
    "archive" => Archive(ArchiveConfig),
}

/// An error and its causes on one line: `cannot write …: No space left`.
pub(crate) fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let message = cause.to_string();
        if !text.contains(&message) {
            text.push_str(": ");
            text.push_str(&message);
        }
        source = cause.source();
    }
    text
}

/// The banner line: a label column, then what the sink writes to.
pub(crate) fn banner(label: &str, target: impl std::fmt::Display) -> String {
    format!("{label:<9}{target}")
}

/// `path` made absolute against the working directory, for banners and so a
/// later change of directory cannot move the output.
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Create the parent directories of `path`.
async fn create_parent(path: &Path) -> Result<(), SinkError> {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => tokio::fs::create_dir_all(parent)
            .await
            .map_err(|source| SinkError::Open {
                path: parent.to_path_buf(),
                source,
            }),
        _ => Ok(()),
    }
}

/// A raw record as JSON: `{"timestamp", "component", "message"}`.
fn record_json(component: &str, record: &Record<'_>) -> serde_json::Value {
    serde_json::json!({
        "timestamp": format_timestamp(record.timestamp),
        "component": component,
        "message": record.text(),
    })
}

/// A point as JSON: `{"timestamp", "series", "tags": {..}, "fields": {..}}`.
pub(crate) fn point_json(point: &PointRef<'_>) -> serde_json::Value {
    let series = point.series();
    let tags = tags_json(series);
    let fields: serde_json::Map<_, _> = point
        .fields()
        .map(|(name, value)| (name.to_owned(), value_json(value)))
        .collect();
    serde_json::json!({
        "timestamp": format_timestamp(point.timestamp()),
        "series": series.name,
        "tags": tags,
        "fields": fields,
    })
}

/// A series' tags as a JSON object (a key given twice keeps its first
/// place and its last value).
fn tags_json(series: &foghorn_model::Series) -> serde_json::Map<String, serde_json::Value> {
    series
        .tags
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::Value::from(v.as_str())))
        .collect()
}

/// A field value as JSON; a float that is not finite becomes `null`.
fn value_json(value: Value<'_>) -> serde_json::Value {
    match value {
        Value::Float(v) => serde_json::Value::from(v),
        Value::Int(v) => serde_json::Value::from(v),
        Value::Bool(v) => serde_json::Value::from(v),
        Value::Text(v) => serde_json::Value::from(v),
    }
}
