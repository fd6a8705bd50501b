//! The lag plugin's configuration.

use serde::Deserialize;

/// `config:` of a lag processor.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The numeric fields to lag; at least one.
    pub fields: Vec<String>,
    /// How many points back, each from 1 to 10000. Default `[1]`.
    #[serde(default = "default_lags")]
    pub lags: Vec<usize>,
}

fn default_lags() -> Vec<usize> {
    vec![1]
}

/// A field and the names of its lagged fields, one per lag.
#[derive(Debug, Clone)]
pub(crate) struct Field {
    pub field: String,
    pub names: Vec<String>,
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub fields: Vec<Field>,
    pub lags: Vec<usize>,
    /// The largest lag: how many values are kept.
    pub depth: usize,
}

impl Config {
    /// Validate, reporting every mistake at once.
    pub(crate) fn compile(self) -> Result<Settings, String> {
        let mut errors = Vec::new();
        if self.fields.is_empty() {
            errors.push("`fields` is empty; name the fields to lag".to_owned());
        }
        for (i, field) in self.fields.iter().enumerate() {
            if field.is_empty() {
                errors.push(format!("fields[{i}] is empty"));
            } else if self.fields[..i].contains(field) {
                errors.push(format!("fields[{i}]: {field} is listed twice"));
            }
        }
        if self.lags.is_empty() {
            errors.push("`lags` is empty".to_owned());
        }
        for (i, lag) in self.lags.iter().enumerate() {
            if !(1..=10_000).contains(lag) {
                errors.push(format!("lags[{i}] {lag} must be from 1 to 10000"));
            } else if self.lags[..i].contains(lag) {
                errors.push(format!("lags[{i}]: {lag} is listed twice"));
            }
        }
        if !errors.is_empty() {
            return Err(errors
                .iter()
                .map(|e| format!("lag: {e}"))
                .collect::<Vec<_>>()
                .join("; "));
        }
        let fields = self
            .fields
            .into_iter()
            .map(|field| Field {
                names: self
                    .lags
                    .iter()
                    .map(|k| format!("{field}_lag{k}"))
                    .collect(),
                field,
            })
            .collect();
        Ok(Settings {
            fields,
            depth: self.lags.iter().copied().max().unwrap_or(1),
            lags: self.lags,
        })
    }
}
