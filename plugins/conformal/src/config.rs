//! The conformal plugin's configuration.

use std::time::Duration;

use foghorn_plugin::Severity;
use serde::Deserialize;

/// `config:` of a conformal processor.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// The numeric fields to score; at least one. Default `[value]`.
    pub fields: Vec<String>,
    /// How many past values of each measure a new one is ranked against.
    /// From 10 to 100000; default 10000.
    pub history: usize,
    /// A measure scores once its history holds this many values; from 1 to
    /// `history`. Default 300.
    pub warmup: usize,
    /// Seasonal periods: the change from the value one period earlier is a
    /// measure of its own (a Monday morning is compared with the last ones).
    /// Default `[1d, 7d]`; `[]` turns seasons off.
    #[serde(deserialize_with = "durations")]
    pub periods: Vec<Duration>,
    /// How many recent points per series and field are kept for the
    /// seasonal lookups; a denser series loses its longest periods. Default
    /// 20160 (a week at 30-second intervals).
    pub season_points: usize,
    /// Surprise, in decades of p-value, that makes a score of 1. Default 4.
    pub decades: f64,
    /// A score at or above this is a detection: it fires an alert and starts
    /// the refractory period. From 0 to 1; default 0.8.
    pub level: f64,
    /// After a detection the field scores 0 and fires nothing until this
    /// many consecutive points have scored below `level` (one incident is
    /// reported once). Default 200.
    pub refractory: usize,
    /// Severity of the alert. Default `warning`.
    pub severity: Severity,
    /// The alert kind (`type` in reports). Default `conformal`.
    pub kind: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            fields: vec!["value".to_owned()],
            history: 10_000,
            warmup: 300,
            periods: vec![Duration::from_secs(86_400), Duration::from_secs(7 * 86_400)],
            season_points: 20_160,
            decades: 4.0,
            level: 0.8,
            refractory: 200,
            severity: Severity::Warning,
            kind: "conformal".to_owned(),
        }
    }
}

fn durations<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<Duration>, D::Error> {
    let texts = Vec::<String>::deserialize(deserializer)?;
    texts
        .iter()
        .map(|text| foghorn_plugin::duration::parse(text).map_err(serde::de::Error::custom))
        .collect()
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub fields: Vec<Field>,
    pub history: usize,
    pub warmup: usize,
    /// In nanoseconds.
    pub periods: Vec<i64>,
    pub season_points: usize,
    pub decades: f64,
    pub level: f64,
    pub refractory: usize,
    pub severity: Severity,
    pub kind: String,
}

/// A scored field and the name of its score.
#[derive(Debug, Clone)]
pub(crate) struct Field {
    pub name: String,
    pub score: String,
}

impl Config {
    /// Validate, reporting every mistake at once.
    pub(crate) fn compile(self) -> Result<Settings, String> {
        let mut errors = Vec::new();
        if self.fields.is_empty() {
            errors.push("`fields` is empty; name the fields to score".to_owned());
        }
        for (i, field) in self.fields.iter().enumerate() {
            if field.is_empty() {
                errors.push(format!("fields[{i}] is empty"));
            } else if self.fields[..i].contains(field) {
                errors.push(format!("fields[{i}]: {field} is listed twice"));
            }
        }
        if !(10..=100_000).contains(&self.history) {
            errors.push(format!(
                "history {} must be from 10 to 100000",
                self.history
            ));
        }
        if self.warmup == 0 || self.warmup > self.history {
            errors.push(format!(
                "warmup {} must be from 1 to history ({})",
                self.warmup, self.history
            ));
        }
        let mut periods = Vec::new();
        for (i, period) in self.periods.iter().enumerate() {
            match i64::try_from(period.as_nanos()) {
                Ok(nanos) if nanos > 0 => periods.push(nanos),
                _ => errors.push(format!("periods[{i}] must be positive and under 292 years")),
            }
        }
        if !(2..=1_000_000).contains(&self.season_points) {
            errors.push(format!(
                "season_points {} must be from 2 to 1000000",
                self.season_points
            ));
        }
        if !(self.decades.is_finite() && self.decades > 0.0) {
            errors.push(format!("decades {} must be positive", self.decades));
        }
        if !(self.level > 0.0 && self.level <= 1.0) {
            errors.push(format!(
                "level {} must be above 0 and at most 1",
                self.level
            ));
        }
        if self.kind.is_empty() {
            errors.push("`kind` is empty".to_owned());
        }
        if !errors.is_empty() {
            return Err(errors
                .iter()
                .map(|e| format!("conformal: {e}"))
                .collect::<Vec<_>>()
                .join("; "));
        }
        Ok(Settings {
            fields: self
                .fields
                .into_iter()
                .map(|name| Field {
                    score: format!("{name}_anomaly_score"),
                    name,
                })
                .collect(),
            history: self.history,
            warmup: self.warmup,
            periods,
            season_points: self.season_points,
            decades: self.decades,
            level: self.level,
            refractory: self.refractory,
            severity: self.severity,
            kind: self.kind,
        })
    }
}
