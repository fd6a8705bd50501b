//! The isolation-forest plugin's configuration.

use foghorn_plugin::Severity;
use serde::Deserialize;

/// `config:` of an isolation-forest processor.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// The numeric features, in order (made upstream by lag, diff, rolling,
    /// scale…); at least one. Required.
    pub fields: Vec<String>,
    /// Trees in the forest; from 1 to 1000. Default 100.
    pub trees: usize,
    /// Points each tree is grown on (its depth is ceil(log2) of it); from 2
    /// to 65536. Default 256.
    pub sample_size: usize,
    /// The model trains on its first this many complete points; until then
    /// points pass unscored. From 2 to 1000000; default 1000.
    pub training_points: usize,
    /// A training set as CSV text with a header naming the fields (other
    /// columns are ignored); the model trains on it at start instead. Set it
    /// from a file with the processor's `config_files: { training_csv:
    /// path }`. Default none.
    pub training_csv: Option<String>,
    /// The share of training points expected to be anomalous: the alert
    /// threshold is the (1 - contamination) quantile of their scores, as
    /// scikit-learn's `offset_`. From 0 (exclusive) to 0.5; default 0.01.
    pub contamination: f64,
    /// Retrain every this many points on the last `training_points`
    /// complete points of the model; 0 (the default) never retrains.
    pub retrain_every: usize,
    /// `shared` (the default): one model over every series; `per_series`:
    /// one per series (each model is about 1.5 MiB of snapshot with the
    /// default trees).
    pub model: ModelScope,
    /// Seed of the random choices: the same seed and points grow the same
    /// forest. Default 1.
    pub seed: u64,
    /// The field added with each scored point's score. Default
    /// `anomaly_score`.
    pub score_field: String,
    /// Severity of the alert. Default `warning`.
    pub severity: Severity,
    /// The alert kind (`type` in reports). Default `isolation_forest`.
    pub kind: String,
}

/// Which points share a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelScope {
    /// One model for every series.
    #[default]
    Shared,
    /// A model per series.
    PerSeries,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            fields: Vec::new(),
            trees: 100,
            sample_size: 256,
            training_points: 1000,
            training_csv: None,
            contamination: 0.01,
            retrain_every: 0,
            model: ModelScope::Shared,
            seed: 1,
            score_field: "anomaly_score".to_owned(),
            severity: Severity::Warning,
            kind: "isolation_forest".to_owned(),
        }
    }
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub fields: Vec<String>,
    pub trees: usize,
    pub sample_size: usize,
    pub training_points: usize,
    /// Rows of the training CSV, if given.
    pub training: Option<Vec<Vec<f64>>>,
    pub contamination: f64,
    pub retrain_every: usize,
    pub model: ModelScope,
    pub seed: u64,
    pub score_field: String,
    pub severity: Severity,
    pub kind: String,
}

/// The rows of `text` (CSV with a header) for `fields`, in their order.
fn training_rows(text: &str, fields: &[String]) -> Result<Vec<Vec<f64>>, String> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<&str> = lines
        .next()
        .ok_or("training_csv is empty")?
        .split(',')
        .map(|c| c.trim().trim_matches('"'))
        .collect();
    let columns: Vec<usize> = fields
        .iter()
        .map(|f| {
            header
                .iter()
                .position(|c| c == f)
                .ok_or_else(|| format!("training_csv has no column {f}"))
        })
        .collect::<Result<_, _>>()?;
    let mut rows = Vec::new();
    for (number, line) in lines.enumerate() {
        let cells: Vec<&str> = line.split(',').collect();
        let row: Option<Vec<f64>> = columns
            .iter()
            .map(|c| {
                cells
                    .get(*c)
                    .and_then(|cell| foghorn_plugin::number::parse_f64(cell.trim()))
                    .filter(|v| v.is_finite())
            })
            .collect();
        match row {
            Some(row) => rows.push(row),
            None => {
                return Err(format!(
                    "training_csv line {}: not a number in every field",
                    number + 2
                ));
            }
        }
    }
    if rows.len() < 2 {
        return Err("training_csv has fewer than 2 rows".to_owned());
    }
    Ok(rows)
}

impl Config {
    /// Validate, reporting every mistake at once.
    pub(crate) fn compile(self) -> Result<Settings, String> {
        let mut errors = Vec::new();
        if self.fields.is_empty() {
            errors.push("`fields` is empty; name the features".to_owned());
        }
        for (i, field) in self.fields.iter().enumerate() {
            if field.is_empty() {
                errors.push(format!("fields[{i}] is empty"));
            } else if self.fields[..i].contains(field) {
                errors.push(format!("fields[{i}]: {field} is listed twice"));
            }
        }
        if !(1..=1000).contains(&self.trees) {
            errors.push(format!("trees {} must be from 1 to 1000", self.trees));
        }
        if !(2..=65_536).contains(&self.sample_size) {
            errors.push(format!(
                "sample_size {} must be from 2 to 65536",
                self.sample_size
            ));
        }
        if !(2..=1_000_000).contains(&self.training_points) {
            errors.push(format!(
                "training_points {} must be from 2 to 1000000",
                self.training_points
            ));
        }
        if !(self.contamination > 0.0 && self.contamination <= 0.5) {
            errors.push(format!(
                "contamination {} must be above 0 and at most 0.5",
                self.contamination
            ));
        }
        if self.score_field.is_empty() || self.fields.contains(&self.score_field) {
            errors.push(format!(
                "score_field {:?} must be a new field name",
                self.score_field
            ));
        }
        if self.kind.is_empty() {
            errors.push("`kind` is empty".to_owned());
        }
        let training = match &self.training_csv {
            Some(text) if errors.is_empty() => match training_rows(text, &self.fields) {
                Ok(rows) => Some(rows),
                Err(e) => {
                    errors.push(e);
                    None
                }
            },
            _ => None,
        };
        if !errors.is_empty() {
            return Err(errors
                .iter()
                .map(|e| format!("isolation-forest: {e}"))
                .collect::<Vec<_>>()
                .join("; "));
        }
        Ok(Settings {
            fields: self.fields,
            trees: self.trees,
            sample_size: self.sample_size,
            training_points: self.training_points,
            training,
            contamination: self.contamination,
            retrain_every: self.retrain_every,
            model: self.model,
            seed: self.seed,
            score_field: self.score_field,
            severity: self.severity,
            kind: self.kind,
        })
    }
}
