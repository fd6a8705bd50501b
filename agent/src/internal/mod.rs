//! The agent's own observability: metrics, internal events and health.
//!
//! Every internal event is a type in [`events`] with one `emit()` that logs
//! through `tracing` and updates a metric in [`metrics`]; components never
//! touch a metric directly, so metric names live in one place. [`health`]
//! holds each component's state, and [`api`] serves it with the metrics on
//! the agent's own HTTP API. [`systemd`] tells a service manager when the
//! agent is ready, reloading or stopping.

pub mod api;
pub mod events;
pub mod health;
pub mod metrics;
pub mod systemd;
