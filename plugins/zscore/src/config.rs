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
    /// `rolling` (the default): the mean and standard deviation are of the
    /// last `window` values; `expanding`: of every value seen so far (the
    /// "2 sigma over the whole series" of a notebook, live).
    pub mode: Mode,
    /// How many recent values of each series and field the mean and standard
    /// deviation are taken over in `rolling` mode; at least 2. Default 100.
    pub window: usize,
    /// Delta degrees of freedom of the standard deviation: 0 (the default)
    /// for the population's, 1 for the sample's (pandas' `std()`).
    pub ddof: u8,
    /// Which outliers fire: `both` (the default), `above` the mean only, or
    /// `below` it only.
    pub direction: Direction,
    /// `false` (the default): every outlier fires, as an event. `true`: a
    /// series and field fires once when a value becomes an outlier and
    /// resolves at the first value that is not one.
    pub resolve: bool,
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

/// What the mean and standard deviation are taken over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// The last `window` values.
    #[default]
    Rolling,
    /// Every value so far.
    Expanding,
}

/// Which side of the mean an outlier must be on to fire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Either side.
    #[default]
    Both,
    /// Above the mean.
    Above,
    /// Below the mean.
    Below,
}

impl Direction {
    /// Whether `score` is an outlier beyond `threshold` on this side.
    pub(crate) fn outlier(self, score: f64, threshold: f64) -> bool {
        match self {
            Direction::Both => score.abs() > threshold,
            Direction::Above => score > threshold,
            Direction::Below => score < -threshold,
        }
    }
}

/// Every default, in one place.
impl Default for Config {
    fn default() -> Self {
        Self {
            fields: Vec::new(),
            mode: Mode::Rolling,
            window: 100,
            ddof: 0,
            direction: Direction::Both,
            resolve: false,
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
    pub mode: Mode,
    pub window: usize,
    pub ddof: u8,
    pub direction: Direction,
    pub resolve: bool,
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
        if self.ddof > 1 {
            errors.push(format!("ddof {} must be 0 or 1", self.ddof));
        }
        if self.min_samples < 2 || (self.mode == Mode::Rolling && self.min_samples > self.window) {
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
                mode: self.mode,
                window: self.window,
                ddof: self.ddof,
                direction: self.direction,
                resolve: self.resolve,
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
