//! The agent's own observability: metrics, internal events and health.
//!
//! Every internal event is a type in [`events`] with one `emit()` that logs
//! through `tracing` and updates a metric in [`metrics`]; components never
//! touch a metric directly, so metric names live in one place.

pub mod events;
pub mod metrics;
