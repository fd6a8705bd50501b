//! The diff plugin's configuration.

use serde::Deserialize;

/// `config:` of a diff processor.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The numeric fields to difference; at least one.
    pub fields: Vec<String>,
    /// How many points back each difference reaches, each from 1 to 10000.
    /// Default `[1]`.
    #[serde(default = "default_periods")]
    pub periods: Vec<usize>,
}

fn default_periods() -> Vec<usize> {
    vec![1]
}

/// A field and the names of its differences, one per period.
#[derive(Debug, Clone)]
pub(crate) struct Field {
    pub field: String,
    pub names: Vec<String>,
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub fields: Vec<Field>,
    pub periods: Vec<usize>,
    /// The largest period: how many values are kept.
    pub depth: usize,
    /// How many fields are added: fields × periods.
    pub outputs: usize,
}

impl Config {
    /// Validate, reporting every mistake at once.
    pub(crate) fn compile(self) -> Result<Settings, String> {
        let mut errors = Vec::new();
        if self.fields.is_empty() {
            errors.push("`fields` is empty; name the fields to difference".to_owned());
        }
        for (i, field) in self.fields.iter().enumerate() {
            if field.is_empty() {
                errors.push(format!("fields[{i}] is empty"));
            } else if self.fields[..i].contains(field) {
                errors.push(format!("fields[{i}]: {field} is listed twice"));
            }
        }
        if self.periods.is_empty() {
            errors.push("`periods` is empty".to_owned());
        }
        for (i, period) in self.periods.iter().enumerate() {
            if !(1..=10_000).contains(period) {
                errors.push(format!("periods[{i}] {period} must be from 1 to 10000"));
            } else if self.periods[..i].contains(period) {
                errors.push(format!("periods[{i}]: {period} is listed twice"));
            }
        }
        if !errors.is_empty() {
            return Err(errors
                .iter()
                .map(|e| format!("diff: {e}"))
                .collect::<Vec<_>>()
                .join("; "));
        }
        let outputs = self.fields.len() * self.periods.len();
        let fields = self
            .fields
            .into_iter()
            .map(|field| Field {
                names: self
                    .periods
                    .iter()
                    .map(|k| format!("{field}_diff{k}"))
                    .collect(),
                field,
            })
            .collect();
        Ok(Settings {
            fields,
            depth: self.periods.iter().copied().max().unwrap_or(1),
            periods: self.periods,
            outputs,
        })
    }
}
