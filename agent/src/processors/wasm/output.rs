//! What a plugin call produced, in pipeline types: the form the boundary
//! check reads and the runner hands on.

use crate::event::{Alert, Points};

/// What one plugin call produced, in pipeline types.
#[derive(Debug, Default)]
pub struct PluginOutput {
    /// Points for the `points` output.
    pub points: Points,
    /// Alerts for the `alerts` output.
    pub alerts: Vec<Alert>,
    /// Input items the plugin rejected.
    pub rejected: Vec<RejectedItem>,
}

/// An input item a plugin rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RejectedItem {
    /// A record of the input batch.
    Record {
        /// Its index in the batch.
        index: usize,
        /// Why.
        reason: String,
    },
    /// A point of the input batch.
    Point {
        /// Its index in the batch.
        index: usize,
        /// Why.
        reason: String,
    },
}
