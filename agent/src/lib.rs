//! foghorn: an observability agent for device and service telemetry.
//!
//! # Layout
//!
//! - [`cli`]: the command line (`run`, `validate`, `plugin list`); the only
//!   place that uses `anyhow`.
//! - [`config`]: the YAML pipeline schema, `${VAR}` interpolation, and
//!   validation that reports every error with file, line, column and key.
//! - [`delivery`]: end-to-end acknowledgements (the handle every batch
//!   carries, and a source's register of batches in flight).
//! - [`event`]: records, points and alerts, and the batches that carry them.
//! - [`fanout`]: one component output to every component that reads it.
//! - [`topology`]: builds the pipeline graph, runs it, drains it on shutdown.
//! - [`sources`]: serial, file, stdin and the generator.
//! - [`processors`]: the WebAssembly plugin host and the processor runner.
//! - [`sinks`]: Prometheus, report, file and console.
//! - [`state`]: durable state (plugin snapshots) in one redb database.
//! - [`log_file`]: the agent's own append-only files, rotated by size.
//! - [`internal`]: the agent's own metrics and internal events.

pub mod cli;
pub mod config;
pub mod delivery;
pub mod event;
pub mod fanout;
pub mod internal;
pub mod log_file;
pub mod processors;
pub mod sinks;
pub mod sources;
pub mod state;
pub mod topology;
