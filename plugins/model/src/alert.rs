//! Alerts: what a plugin raises, how bad it is and whether it starts or
//! ends. The agent, its plugins, reports and metrics share these; the agent
//! adds only where an alert came from (`event::Alert`).

use serde::{Deserialize, Serialize};

use crate::Series;

/// How bad an alert is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing.
    Info,
    /// Needs attention.
    Warning,
    /// Needs action now.
    Critical,
}

impl Severity {
    /// The lowercase name, as in reports and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

/// Whether an alert starts or ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertState {
    /// The condition holds.
    Firing,
    /// The condition has cleared.
    Resolved,
}

impl AlertState {
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Firing => "firing",
            AlertState::Resolved => "resolved",
        }
    }
}

/// An anomaly or condition found by a plugin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// When it happened, nanoseconds since the Unix epoch.
    pub timestamp: i64,
    /// The kind, e.g. `threshold`.
    pub kind: String,
    /// How bad it is.
    pub severity: Severity,
    /// Firing or resolved.
    pub state: AlertState,
    /// The series it is about.
    pub series: Series,
    /// What tells it apart from other alerts of the same kind on the same
    /// series (`field=temperature`): part of its identity, so values must be
    /// stable, never a measurement.
    pub labels: Vec<(String, String)>,
    /// The value that caused it.
    pub value: Option<f64>,
    /// An anomaly score, for detectors that have one.
    pub score: Option<f64>,
    /// Human-readable description.
    pub description: String,
}

impl Alert {
    /// A firing alert.
    pub fn firing(
        kind: impl Into<String>,
        severity: Severity,
        series: &Series,
        timestamp: i64,
        description: impl Into<String>,
    ) -> Self {
        Self {
            timestamp,
            kind: kind.into(),
            severity,
            state: AlertState::Firing,
            series: series.clone(),
            labels: Vec::new(),
            value: None,
            score: None,
            description: description.into(),
        }
    }

    /// A resolved alert: the condition of kind `kind` on `series` cleared.
    pub fn resolved(
        kind: impl Into<String>,
        series: &Series,
        timestamp: i64,
        description: impl Into<String>,
    ) -> Self {
        Self {
            state: AlertState::Resolved,
            ..Self::firing(kind, Severity::Info, series, timestamp, description)
        }
    }

    /// With an identifying label, e.g. `with_label("field", "temperature")`.
    #[must_use]
    pub fn with_label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.push((key.into(), value.into()));
        self
    }

    /// With the value that caused it.
    #[must_use]
    pub fn with_value(mut self, value: f64) -> Self {
        self.value = Some(value);
        self
    }

    /// With an anomaly score.
    #[must_use]
    pub fn with_score(mut self, score: f64) -> Self {
        self.score = Some(score);
        self
    }

    /// With another severity.
    #[must_use]
    pub fn with_severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }
}
