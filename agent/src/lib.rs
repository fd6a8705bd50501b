//! foghorn: an observability agent for device and service telemetry.
//!
//! # Layout
//!
//! - [`cli`]: the command line (`run`, `validate`, `plugin list`,
//!   `silence`); the only place that uses `anyhow`.
//! - [`config`]: the YAML pipeline file: loading, `${VAR}` interpolation,
//!   and validation that reports every error with file, line, column and
//!   key. It reads each component's settings through its kind's registry.
//! - [`settings`]: the vocabulary component settings are written in
//!   (durations, byte sizes, range checks, located errors), below the
//!   components so each keeps its settings next to its code.
//! - [`delivery`]: end-to-end acknowledgements (the handle every batch
//!   carries, and a source's register of batches in flight).
//! - [`event`]: records, points, alerts and notifications (what the alert
//!   stage sends a receiver), and the batches that carry them.
//! - [`fanout`]: one component output to every component that reads it.
//! - [`topology`]: builds the pipeline graph, runs it, drains it on shutdown.
//! - [`sources`]: serial, file, stdin and the generator.
//! - [`processors`]: the WebAssembly plugin host and its runner, and native
//!   processors (`filter`, and `alerts`: the alert stage).
//! - [`sinks`]: Prometheus, report, file, console, blackhole, and the alert
//!   receivers webhook, Slack, Alertmanager and email.
//! - [`silences`]: the agent's silences, shared by alert stages and the API.
//! - [`state`]: durable state (plugin snapshots, source checkpoints, alert
//!   groups and outboxes, silences) in one redb database.
//! - [`matchers`]: Prometheus/Alertmanager label matchers (`severity="critical"`).
//! - [`log_file`]: the agent's own append-only files, rotated by size.
//! - [`internal`]: the agent's own metrics and internal events.

pub mod cli;
pub mod config;
pub mod delivery;
pub mod error_log;
pub mod event;
pub mod fanout;
pub mod internal;
pub mod log_file;
pub mod matchers;
pub mod processors;
pub mod settings;
pub mod silences;
pub mod sinks;
pub mod sources;
pub mod state;
pub mod topology;
