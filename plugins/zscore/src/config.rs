//! The zscore plugin's configuration and its defaults.

use foghorn_plugin::Severity;
use serde::Deserialize;

use foghorn_plugin::template::Template;

/// `config:` of a zscore processor.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// The fields to score. Empty (the default) scores every numeric (float
    /// or integer) field of every point.
    pub fields: Vec<String>,
    /// How many recent values of each series and field the mean and standard
    /// deviation are taken over; at least 2. Default 100.
    pub window: usize,
    /// A value more than this many standard deviations from the mean fires.
    /// Default 3.0.
    pub threshold: f64,
    /// Values are scored once the window holds this many; from 2 to `window`.
    /// Default 10.
    pub min_samples: usize,
    /// Severity of the alert. Default `warning`.
    pub severity: Severity,
    /// The alert kind (`type` in reports). Default `zscore`.
    pub kind: String,
    /// Description of the alert. Placeholders: `{field}` `{value}` `{score}`
    /// `{mean}` `{std}` `{series}`. Default
    /// `{field} {value} is {score} sigma from mean {mean}`.
    pub description: String,
    /// Emit a point per input point (same series and timestamp) with a field
    /// `<field>_zscore` for each field scored. Default `false`: alerts only.
    pub emit_scores: bool,
}

/// Every default, in one place.
impl Default for Config {
    fn default() -> Self {
        Self {
            fields: Vec::new(),
            window: 100,
            threshold: 3.0,
            min_samples: 10,
            severity: Severity::Warning,
            kind: "zscore".to_owned(),
            description: "{field} {value} is {score} sigma from mean {mean}".to_owned(),
            emit_scores: false,
        }
    }
}

/// What a description can refer to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Placeholder {
    Field,
    Value,
    Score,
    Mean,
    Std,
    Series,
}

const PLACEHOLDERS: &[(&str, Placeholder)] = &[
    ("field", Placeholder::Field),
    ("value", Placeholder::Value),
    ("score", Placeholder::Score),
    ("mean", Placeholder::Mean),
    ("std", Placeholder::Std),
    ("series", Placeholder::Series),
];

/// The validated configuration.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub fields: Vec<String>,
    pub window: usize,
    pub threshold: f64,
    pub min_samples: usize,
    pub severity: Severity,
    pub kind: String,
    pub description: Template<Placeholder>,
    pub emit_scores: bool,
}

impl Config {
    /// Validate, reporting every mistake at once.
    pub(crate) fn compile(self) -> Result<Settings, String> {
        let mut errors = Vec::new();
        if self.window < 2 {
            errors.push(format!("window {} must be at least 2", self.window));
        }
        if self.min_samples < 2 || self.min_samples > self.window {
            errors.push(format!(
                "min_samples {} must be from 2 to window ({})",
                self.min_samples, self.window
            ));
        }
        if !(self.threshold > 0.0 && self.threshold.is_finite()) {
            errors.push(format!(
                "threshold {} must be a number above 0",
                self.threshold
            ));
        }
        if self.kind.is_empty() {
            errors.push("`kind` is empty".to_owned());
        }
        for (i, field) in self.fields.iter().enumerate() {
            if field.is_empty() {
                errors.push(format!("fields[{i}] is empty"));
            } else if self.fields[..i].contains(field) {
                errors.push(format!("fields[{i}]: {field} is listed twice"));
            }
        }
        let description = Template::parse(&self.description, PLACEHOLDERS)
            .map_err(|e| errors.push(format!("`description`: {e}")));
        match description {
            Ok(description) if errors.is_empty() => Ok(Settings {
                fields: self.fields,
                window: self.window,
                threshold: self.threshold,
                min_samples: self.min_samples,
                severity: self.severity,
                kind: self.kind,
                description,
                emit_scores: self.emit_scores,
            }),
            _ => Err(errors
                .iter()
                .map(|e| format!("zscore: {e}"))
                .collect::<Vec<_>>()
                .join("; ")),
        }
    }
}
