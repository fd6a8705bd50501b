//! Processors: WebAssembly plugins that parse, derive and detect.
//!
//! [`wasm`] is the plugin host (engine, limits, snapshots); [`runner`] drives
//! one processor in the pipeline: batches in, points and alerts out, time
//! ticks, periodic snapshots, rejected items to the error log and failed
//! batches to the dead-letter file.

pub mod dead_letter;
pub mod error_log;
pub mod restarts;
pub mod runner;
pub mod wasm;
