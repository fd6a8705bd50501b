//! `type: report` settings: the report file, how often it is rewritten and
//! how many alerts it holds.

use std::path::PathBuf;
use std::time::Duration;

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
}

impl ReportConfig {
    const fn default_interval() -> Duration {
        Duration::from_secs(5)
    }

    const fn default_max_alerts() -> usize {
        10_000
    }
}

impl Settings for ReportConfig {
    fn check(&self, key: &str, problems: &mut Problems<'_>) {
        let (min, max) = (Duration::from_millis(100), Duration::from_hours(24));
        problems.duration_range(&format!("{key}.interval"), self.interval, min, max);
        problems.range(&format!("{key}.max_alerts"), self.max_alerts, 1, 1_000_000);
    }
}
