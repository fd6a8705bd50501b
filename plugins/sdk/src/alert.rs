//! Alerts a plugin raises: the model's, re-exported.

pub use foghorn_model::{Alert, AlertState, Severity};
