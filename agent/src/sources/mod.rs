//! Sources: where records come from.
//!
//! Each source is one module with its settings struct next to its code:
//! `serial` (a device on a serial port), `file` (one file, replayed or
//! followed), `stdin`, `generator` (a seeded simulator of the bench
//! device), `http` (records or OTLP points POSTed by clients, which make
//! their own batches, one per request), `kafka` (a consumer group) and
//! `replay` (recorded files, in the time they were recorded). Each settings struct implements [`Source`], and the
//! `sources!` registry below names each type once. The byte-stream sources
//! cut their input into lines with the shared `lines::LineFramer`. Every
//! source pushes raw records into the [`RecordBatcher`] of its
//! [`SourceContext`], which sends full or lingering batches downstream;
//! [`SourceKind::run`] is the one entry point the topology calls, and it
//! returns after the source has flushed its pending batch, when the source
//! ends or its shutdown token is cancelled.

mod batcher;
mod file;
mod generator;
mod http;
mod kafka;
mod lines;
mod replay;
mod serial;
mod stdin;

use std::path::PathBuf;
use std::sync::Arc;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

pub use batcher::RecordBatcher;
pub use file::config::{FileSourceConfig, ReadFrom};
pub use generator::config::{FaultsConfig, GeneratorConfig, Scenario};
pub use http::config::{Ack, AuthConfig, CsvConfig, Decoding, HttpSourceConfig, TlsConfig};
pub(crate) use kafka::config::check_options as kafka_options_owned;
pub use kafka::config::{KafkaSourceConfig, StartFrom};
pub use replay::{ReplayConfig, ReplayTimestamps};
pub use serial::config::{FlowControl, Parity, ReconnectConfig, SerialConfig};
pub use stdin::StdinConfig;

use crate::settings::{Settings, settings_enum};
use crate::state::StateStore;

/// What a running source is given by the topology.
#[derive(Debug)]
pub struct SourceContext {
    /// The component name, for internal events.
    pub name: Arc<str>,
    /// Durable state, for checkpoints.
    pub state: Arc<StateStore>,
    /// Size rotation of the files a source keeps (audit logs).
    pub log_files: crate::log_file::LogFilesConfig,
    /// Cancelled when the source must stop.
    pub shutdown: CancellationToken,
    /// Where the source's records go.
    pub batcher: RecordBatcher,
}

/// Why a source stopped before it was asked to.
#[derive(thiserror::Error, Debug)]
pub enum SourceError {
    /// The input could not be opened.
    #[error("cannot open {}", path.display())]
    Open {
        /// The file or device.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Reading the input failed.
    #[error("cannot read {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The audit log could not be created or opened.
    #[error("cannot open the audit log {}", path.display())]
    AuditLog {
        /// The audit log.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The listen address is taken or not allowed.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The configured address.
        addr: std::net::SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The Kafka client could not be made or subscribe.
    #[error("{0}")]
    Kafka(String),
    /// The TLS certificate or key cannot be used.
    #[error("bad TLS certificate or key: {0}")]
    Tls(String),
    /// Reading standard input failed.
    #[error("cannot read standard input")]
    Stdin(#[source] std::io::Error),
    /// The thread reading a blocking device panicked.
    #[error("the serial reader thread failed")]
    ReaderThread(#[from] tokio::task::JoinError),
}

/// What every source type provides, next to its settings struct: a line
/// for the banner and the task that reads.
pub trait Source: Settings {
    /// Whether the source opens an input before it reads; `/health` says
    /// `starting` until it has.
    const OPENS_INPUT: bool = false;

    /// One line for the startup banner, e.g.
    /// `serial /dev/ttyUSB0 @ 9600 8N1, audit log /abs/raw.log`.
    fn describe(&self) -> String;

    /// Run until the input ends (a finite generator, a file with
    /// `follow: false`, stdin EOF) or `ctx.shutdown` is cancelled; flush the
    /// pending batch before returning.
    ///
    /// # Errors
    /// When the input cannot be opened or read for a reason retrying will
    /// not fix (a serial source retries for ever instead).
    fn run(self, ctx: SourceContext) -> impl Future<Output = Result<(), SourceError>> + Send;
}

/// The registry of sources: one line per `type`. From it come the
/// [`SourceKind`] enum the loader fills, its `TYPES`, validation, the banner
/// line and the task the topology spawns.
macro_rules! sources {
    ($( $(#[$doc:meta])* $name:literal => $variant:ident($settings:ty), )*) => {
        settings_enum! {
            /// What a source reads, selected by its `type`.
            pub enum SourceKind {
                $( $(#[$doc])* $name => $variant($settings), )*
            }
        }

        impl SourceKind {
            /// One line for the startup banner.
            #[must_use]
            pub fn describe(&self) -> String {
                match self {
                    $( Self::$variant(settings) => Source::describe(settings), )*
                }
            }

            /// Whether the source opens an input before it reads.
            #[must_use]
            pub fn opens_input(&self) -> bool {
                match self {
                    $( Self::$variant(_) => <$settings as Source>::OPENS_INPUT, )*
                }
            }

            /// Run the source: see [`Source::run`].
            ///
            /// # Errors
            /// As [`Source::run`].
            pub async fn run(self, ctx: SourceContext) -> Result<(), SourceError> {
                match self {
                    $( Self::$variant(settings) => Source::run(settings, ctx).await, )*
                }
            }
        }
    };
}

sources! {
    /// `type: serial`: lines from a serial port.
    "serial" => Serial(SerialConfig),
    /// `type: file`: lines from a file, optionally following it as it grows.
    "file" => File(FileSourceConfig),
    /// `type: stdin`: lines from the agent's standard input.
    "stdin" => Stdin(StdinConfig),
    /// `type: generator`: synthetic device lines, for demos and benchmarks.
    "generator" => Generator(GeneratorConfig),
    /// `type: http`: records or OTLP points POSTed by clients.
    "http" => Http(HttpSourceConfig),
    /// `type: kafka`: messages from Kafka topics, in a consumer group.
    "kafka" => Kafka(KafkaSourceConfig),
    /// `type: replay`: recorded files, read once at full speed, in the
    /// time they were recorded.
    "replay" => Replay(ReplayConfig),
}

/// Wait until `until`, sending the pending batch when its linger time is up.
/// Returns false when shutdown was requested first.
async fn idle_until(ctx: &mut SourceContext, until: Instant) -> bool {
    loop {
        let linger = ctx.batcher.deadline().filter(|deadline| *deadline < until);
        tokio::select! {
            biased;
            () = ctx.shutdown.cancelled() => return false,
            () = tokio::time::sleep_until(linger.unwrap_or(until)), if linger.is_some() => {
                ctx.batcher.flush().await;
            }
            () = tokio::time::sleep_until(until) => return true,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{
        FaultsConfig, FileSourceConfig, GeneratorConfig, ReadFrom, Scenario, SourceKind,
        StdinConfig,
    };

    #[test]
    fn describe_says_what_each_source_reads() {
        let file = FileSourceConfig {
            read_from: ReadFrom::End,
            follow: true,
            poll_interval: Duration::from_millis(250),
            max_line_length: 4096,
            ..FileSourceConfig::new("/var/log/bench.log")
        };
        assert_eq!(
            SourceKind::describe(&SourceKind::File(file)),
            "file /var/log/bench.log from the end, following (events, polling every 250ms)"
        );
        assert_eq!(
            SourceKind::describe(&SourceKind::Stdin(StdinConfig {
                max_line_length: 4096
            })),
            "stdin, lines up to 4096 bytes"
        );
        let generator = GeneratorConfig {
            scenario: Scenario::BenchDevice,
            interval: Duration::from_millis(200),
            count: None,
            seed: 42,
            device: "bench-1".into(),
            faults: FaultsConfig {
                spike_probability: 0.02,
                voltage_fault_probability: 0.02,
                malformed_probability: 0.02,
                silence_every: Some(Duration::from_secs(60)),
                silence_for: Duration::from_secs(6),
            },
        };
        assert_eq!(
            SourceKind::describe(&SourceKind::Generator(generator)),
            "generator bench_device bench-1 every 200ms, seed 42, faults: spike 0.02, voltage 0.02, \
             malformed 0.02, silent 6s every 1m"
        );
    }
}

#[cfg(test)]
mod testing {
    use std::time::Duration;

    use tokio::sync::mpsc;

    use super::{RecordBatcher, SourceContext};
    use crate::event::SharedBatch;
    use crate::fanout::{Consumer, Fanout};
    use crate::state::StateStore;

    /// A state store in a directory that lives as long as the test process.
    pub(super) fn state() -> std::sync::Arc<StateStore> {
        let dir = tempfile::tempdir().unwrap().keep();
        std::sync::Arc::new(StateStore::open(&dir).unwrap())
    }

    /// A context named `test` whose batches arrive on the returned receiver.
    pub(super) fn context(
        max_records: usize,
        linger: Duration,
    ) -> (SourceContext, mpsc::Receiver<SharedBatch>) {
        let (tx, rx) = mpsc::channel(1024);
        let name: std::sync::Arc<str> = "test".into();
        let out = Fanout::new(
            name.clone(),
            "records",
            vec![Consumer::blocking("sink".into(), tx)],
        );
        let ctx = SourceContext {
            name: name.clone(),
            state: state(),
            log_files: crate::log_file::LogFilesConfig::default(),
            shutdown: tokio_util::sync::CancellationToken::new(),
            batcher: RecordBatcher::new(name, max_records, linger, out),
        };
        (ctx, rx)
    }

    /// Every record received so far, as `(timestamp, text)`.
    pub(super) fn drain(rx: &mut mpsc::Receiver<SharedBatch>) -> Vec<(i64, String)> {
        let mut lines = Vec::new();
        while let Ok(batch) = rx.try_recv() {
            lines.extend(
                batch
                    .records
                    .iter()
                    .map(|r| (r.timestamp, r.text().into_owned())),
            );
        }
        lines
    }

    /// Just the texts of [`drain`].
    pub(super) fn texts(rx: &mut mpsc::Receiver<SharedBatch>) -> Vec<String> {
        drain(rx).into_iter().map(|(_, text)| text).collect()
    }
}
