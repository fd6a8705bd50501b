//! Builds the pipeline graph from the configuration, runs it and shuts it
//! down.
//!
//! [`build`] does every fallible thing up front (binding listeners, loading
//! and initialising plugins, opening logs) and reports all failures at once,
//! located in the config file; then it wires one bounded channel per
//! processor and sink, and spawns sinks, processors and sources, in that
//! order. Shutdown runs the other way: sources stop and flush, which closes
//! the processors' inputs; they drain, snapshot and close the sinks' inputs;
//! sinks flush and return. A pipeline whose sources all finish (a finite
//! replay) drains the same way by itself.

mod builder;
mod pipeline;

pub use builder::{LoneProcessor, build, check_processors, instantiate};
pub use pipeline::Pipeline;

/// Batches a component's input channel holds before its producers wait.
pub const CHANNEL_BATCHES: usize = 16;
