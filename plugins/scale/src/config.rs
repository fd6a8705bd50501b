//! The scale plugin's configuration.

use serde::Deserialize;

/// `config:` of a scale processor.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The numeric fields to scale; at least one.
    pub fields: Vec<String>,
    /// `standard` (the default): (x - mean) / std; `minmax`: (x - min) /
    /// (max - min).
    #[serde(default)]
    pub method: Method,
    /// Values a series and field must have before a scaled value is
    /// emitted: the first scaled value is that of the `warmup`-th value. At
    /// least 2, and above `ddof` for `standard`. Default 10.
    #[serde(default = "ten")]
    pub warmup: u64,
    /// `expanding` (the default): the statistics of every value so far,
    /// including the one being scaled; `frozen`: those of the first
    /// `warmup` values, then fixed, as a fitted scikit-learn scaler.
    #[serde(default)]
    pub fit: Fit,
    /// Delta degrees of freedom of the standard deviation, which divides
    /// the sum of squared deviations by count - ddof: 0 (the default, as
    /// scikit-learn's StandardScaler) or 1 (pandas' `std()`), or more.
    /// `standard` only.
    #[serde(default)]
    pub ddof: u32,
}

fn ten() -> u64 {
    10
}

/// How values are scaled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// To zero mean and unit standard deviation.
    #[default]
    Standard,
    /// To [0, 1] over the range seen.
    Minmax,
}

/// Which values the statistics are of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Fit {
    /// Every value so far.
    #[default]
    Expanding,
    /// The first `warmup` values.
    Frozen,
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// (field, output name).
    pub fields: Vec<(String, String)>,
    pub method: Method,
    pub warmup: u64,
    pub fit: Fit,
    pub ddof: u32,
}

impl Config {
    /// Validate, reporting every mistake at once.
    pub(crate) fn compile(self) -> Result<Settings, String> {
        let mut errors = Vec::new();
        if self.fields.is_empty() {
            errors.push("`fields` is empty; name the fields to scale".to_owned());
        }
        for (i, field) in self.fields.iter().enumerate() {
            if field.is_empty() {
                errors.push(format!("fields[{i}] is empty"));
            } else if self.fields[..i].contains(field) {
                errors.push(format!("fields[{i}]: {field} is listed twice"));
            }
        }
        if self.warmup < 2 {
            errors.push(format!(
                "warmup {} must be at least 2: one value has no spread",
                self.warmup
            ));
        }
        if self.method == Method::Standard && u64::from(self.ddof) >= self.warmup {
            errors.push(format!(
                "ddof {} must be below warmup {}: the standard deviation divides by count - ddof",
                self.ddof, self.warmup
            ));
        }
        if !errors.is_empty() {
            return Err(errors
                .iter()
                .map(|e| format!("scale: {e}"))
                .collect::<Vec<_>>()
                .join("; "));
        }
        Ok(Settings {
            fields: self
                .fields
                .into_iter()
                .map(|f| {
                    let name = format!("{f}_scaled");
                    (f, name)
                })
                .collect(),
            method: self.method,
            warmup: self.warmup,
            fit: self.fit,
            ddof: self.ddof,
        })
    }
}
