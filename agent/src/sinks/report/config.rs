//! `type: report` settings: the report file, how often it is rewritten and
//! how many alerts it holds.

use std::path::PathBuf;
use std::time::Duration;

use foghorn_model::AlertState;
use serde::Deserialize;

use crate::settings::{Problems, Settings, units};

/// `type: report`: a JSON report of alerts, rewritten atomically.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportConfig {
    /// `path`: the report file, relative to the working directory. Required.
    pub path: PathBuf,
    /// `interval`: how often the report is rewritten. Default `5s`, from
    /// `100ms` to `1d`.
    #[serde(default = "ReportConfig::default_interval", with = "units::duration")]
    pub interval: Duration,
    /// `max_alerts`: the most entries the report holds; past it the oldest
    /// go, except the latest entry of an alert that is still firing. Bounds
    /// the sink's memory and the file to about this many alerts' JSON.
    /// Default 10000, from 1 to 1000000.
    #[serde(default = "ReportConfig::default_max_alerts")]
    pub max_alerts: usize,
    /// `fields`: the keys each entry keeps, in this order, for consumers of
    /// another tool's report (`[timestamp, type, severity, description]`).
    /// Default: every key of an alert (`timestamp`, `type`, `severity`,
    /// `description`, `state`, `series`, `tags`, `labels`, `value`, `score`,
    /// `component`, `plugin`, `fingerprint`).
    #[serde(default)]
    pub fields: Option<Vec<ReportField>>,
    /// `states`: the alert states the report records. Default both,
    /// `[firing, resolved]`; `[firing]` keeps only what went wrong.
    #[serde(default = "ReportConfig::default_states")]
    pub states: Vec<AlertState>,
    /// `severity_case`: `lower` (the default: `critical`) or `upper`
    /// (`CRITICAL`).
    #[serde(default)]
    pub severity_case: SeverityCase,
}

/// A key of a report entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs, reason = "the keys of an alert's JSON")]
pub enum ReportField {
    Timestamp,
    Type,
    Severity,
    Description,
    State,
    Series,
    Tags,
    Labels,
    Value,
    Score,
    Component,
    Plugin,
    Fingerprint,
}

impl ReportField {
    /// The key in an alert's JSON.
    pub fn key(self) -> &'static str {
        match self {
            Self::Timestamp => "timestamp",
            Self::Type => "type",
            Self::Severity => "severity",
            Self::Description => "description",
            Self::State => "state",
            Self::Series => "series",
            Self::Tags => "tags",
            Self::Labels => "labels",
            Self::Value => "value",
            Self::Score => "score",
            Self::Component => "component",
            Self::Plugin => "plugin",
            Self::Fingerprint => "fingerprint",
        }
    }
}

/// How severities are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeverityCase {
    /// `critical`, `warning`, `info`.
    #[default]
    Lower,
    /// `CRITICAL`, `WARNING`, `INFO`.
    Upper,
}

impl ReportConfig {
    const fn default_interval() -> Duration {
        Duration::from_secs(5)
    }

    const fn default_max_alerts() -> usize {
        10_000
    }

    fn default_states() -> Vec<AlertState> {
        vec![AlertState::Firing, AlertState::Resolved]
    }
}

impl Settings for ReportConfig {
    fn check(&self, key: &str, problems: &mut Problems<'_>) {
        let (min, max) = (Duration::from_millis(100), Duration::from_hours(24));
        problems.duration_range(&format!("{key}.interval"), self.interval, min, max);
        problems.range(&format!("{key}.max_alerts"), self.max_alerts, 1, 1_000_000);
        if self.states.is_empty() {
            problems.push(
                &format!("{key}.states"),
                "is empty: a report records `firing` or `resolved` alerts or both",
            );
        }
        if let Some(fields) = &self.fields {
            if fields.is_empty() {
                problems.push(&format!("{key}.fields"), "is empty: name the keys to keep");
            }
            for (index, field) in fields.iter().enumerate() {
                if fields[..index].contains(field) {
                    problems.push(
                        &format!("{key}.fields[{index}]"),
                        format!("{} is listed twice", field.key()),
                    );
                }
            }
        }
    }
}
