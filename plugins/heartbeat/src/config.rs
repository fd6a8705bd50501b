//! The heartbeat plugin's configuration and its defaults.

use std::time::Duration;

use foghorn_plugin::Severity;
use serde::Deserialize;

use foghorn_plugin::template::Template;

/// `config:` of a heartbeat processor.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// How long a series may go without a point before it is lost: `4s`,
    /// `500ms`, `2m`, `1m 30s` (the agent's duration grammar). Required.
    #[serde(deserialize_with = "foghorn_plugin::duration::deserialize")]
    pub timeout: Duration,
    /// Severity of the firing alert. Default `critical`.
    #[serde(default = "defaults::severity")]
    pub severity: Severity,
    /// The alert kind (`type` in reports). Default `heartbeat_lost`.
    #[serde(default = "defaults::kind")]
    pub kind: String,
    /// Description of the firing alert. Placeholders: `{series}` `{timeout}`
    /// `{silence}` (how long the series has been silent). Default
    /// `no data from {series} for {timeout}`.
    #[serde(default = "defaults::description")]
    pub description: String,
    /// Description of the resolved alert, same placeholders (`{silence}` is
    /// then the whole gap). Default `data from {series} resumed after {silence}`.
    #[serde(default = "defaults::resolved_description")]
    pub resolved_description: String,
    /// When a loss is reported: `timeout` (the default: a firing alert as
    /// soon as the silence passes `timeout`, by the wall clock, and a
    /// resolved one when data resumes) or `resume` (one event when a point
    /// arrives more than `timeout` after the one before it, by their
    /// timestamps, with the whole gap, as loggers that report a gap once it
    /// is over do; nothing fires during the silence).
    #[serde(default)]
    pub report: Report,
}

/// When a heartbeat loss is reported.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Report {
    /// When the silence passes the timeout; resolved when data resumes.
    #[default]
    Timeout,
    /// Once, when data resumes after a gap longer than the timeout.
    Resume,
}

/// Every default, in one place.
mod defaults {
    use foghorn_plugin::Severity;

    pub(super) fn severity() -> Severity {
        Severity::Critical
    }
    pub(super) fn kind() -> String {
        "heartbeat_lost".to_owned()
    }
    pub(super) fn description() -> String {
        "no data from {series} for {timeout}".to_owned()
    }
    pub(super) fn resolved_description() -> String {
        "data from {series} resumed after {silence}".to_owned()
    }
}

/// What a description can refer to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Placeholder {
    Series,
    Timeout,
    Silence,
    TimeoutSeconds,
    SilenceSeconds,
}

const PLACEHOLDERS: &[(&str, Placeholder)] = &[
    ("series", Placeholder::Series),
    ("timeout", Placeholder::Timeout),
    ("silence", Placeholder::Silence),
    ("timeout_seconds", Placeholder::TimeoutSeconds),
    ("silence_seconds", Placeholder::SilenceSeconds),
];

/// The validated configuration.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// Nanoseconds.
    pub timeout: i64,
    pub severity: Severity,
    pub kind: String,
    pub description: Template<Placeholder>,
    pub resolved_description: Template<Placeholder>,
    pub report: Report,
}

impl Config {
    /// Validate, reporting every mistake at once.
    pub(crate) fn compile(self) -> Result<Settings, String> {
        let mut errors = Vec::new();
        let timeout = i64::try_from(self.timeout.as_nanos()).unwrap_or(i64::MAX);
        if timeout == 0 {
            errors.push("heartbeat: `timeout` must be above 0".to_owned());
        }
        if self.kind.is_empty() {
            errors.push("heartbeat: `kind` is empty".to_owned());
        }
        let mut template = |key: &str, text: &str| {
            Template::parse(text, PLACEHOLDERS)
                .map_err(|e| errors.push(format!("heartbeat: `{key}`: {e}")))
                .ok()
        };
        let description = template("description", &self.description);
        let resolved_description = template("resolved_description", &self.resolved_description);
        match (description, resolved_description) {
            (Some(description), Some(resolved_description)) if errors.is_empty() => Ok(Settings {
                timeout,
                severity: self.severity,
                kind: self.kind,
                description,
                resolved_description,
                report: self.report,
            }),
            _ => Err(errors.join("; ")),
        }
    }
}
