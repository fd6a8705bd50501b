//! The ewma plugin's configuration.

use serde::Deserialize;

/// `config:` of an ewma processor. Exactly one of `alpha`, `span`, `com`
/// and `halflife` sets the decay, as in pandas' `ewm`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The numeric fields to average; at least one.
    pub fields: Vec<String>,
    /// The smoothing factor, in (0, 1].
    #[serde(default)]
    pub alpha: Option<f64>,
    /// The span, at least 1: alpha = 2 / (span + 1).
    #[serde(default)]
    pub span: Option<f64>,
    /// The center of mass, at least 0: alpha = 1 / (1 + com).
    #[serde(default)]
    pub com: Option<f64>,
    /// The half-life in points, above 0: alpha = 1 - exp(ln 0.5 / halflife).
    #[serde(default)]
    pub halflife: Option<f64>,
    /// Weigh the earliest values as pandas' `adjust=True` does (the
    /// default): the mean of all values so far with weights (1 - alpha)^age;
    /// `false`: the recursive y = (1 - alpha) y + alpha x.
    #[serde(default = "yes")]
    pub adjust: bool,
    /// Whether a point lacking the field still ages the older values
    /// (`false`, the default, as pandas) or is ignored (`true`).
    #[serde(default)]
    pub ignore_na: bool,
    /// Values a series must have seen before its average is emitted.
    /// Default 0 (from the first value).
    #[serde(default)]
    pub min_periods: u64,
}

fn yes() -> bool {
    true
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// (field, output name).
    pub fields: Vec<(String, String)>,
    pub alpha: f64,
    pub adjust: bool,
    pub ignore_na: bool,
    pub min_periods: u64,
}

impl Config {
    /// Validate, reporting every mistake at once.
    pub(crate) fn compile(self) -> Result<Settings, String> {
        let mut errors = Vec::new();
        if self.fields.is_empty() {
            errors.push("`fields` is empty; name the fields to average".to_owned());
        }
        for (i, field) in self.fields.iter().enumerate() {
            if field.is_empty() {
                errors.push(format!("fields[{i}] is empty"));
            } else if self.fields[..i].contains(field) {
                errors.push(format!("fields[{i}]: {field} is listed twice"));
            }
        }
        let given: Vec<&str> = [
            ("alpha", self.alpha),
            ("span", self.span),
            ("com", self.com),
            ("halflife", self.halflife),
        ]
        .iter()
        .filter(|(_, v)| v.is_some())
        .map(|(name, _)| *name)
        .collect();
        // pandas' center of mass, from whichever was given.
        let com = match (self.alpha, self.span, self.com, self.halflife) {
            _ if given.len() != 1 => {
                errors.push(format!(
                    "set exactly one of alpha, span, com and halflife (got {})",
                    if given.is_empty() {
                        "none".to_owned()
                    } else {
                        given.join(", ")
                    }
                ));
                None
            }
            (Some(alpha), ..) if alpha > 0.0 && alpha <= 1.0 => Some(1.0 / alpha - 1.0),
            (Some(alpha), ..) => {
                errors.push(format!("alpha {alpha} must be in (0, 1]"));
                None
            }
            (_, Some(span), ..) if span >= 1.0 => Some((span - 1.0) / 2.0),
            (_, Some(span), ..) => {
                errors.push(format!("span {span} must be at least 1"));
                None
            }
            (_, _, Some(com), _) if com >= 0.0 => Some(com),
            (_, _, Some(com), _) => {
                errors.push(format!("com {com} must be at least 0"));
                None
            }
            (_, _, _, Some(halflife)) if halflife > 0.0 && halflife.is_finite() => {
                let decay = 1.0 - (0.5_f64.ln() / halflife).exp();
                Some(1.0 / decay - 1.0)
            }
            (_, _, _, Some(halflife)) => {
                errors.push(format!("halflife {halflife} must be above 0"));
                None
            }
            _ => None,
        };
        match com {
            Some(com) if errors.is_empty() => Ok(Settings {
                fields: self
                    .fields
                    .into_iter()
                    .map(|f| {
                        let name = format!("{f}_ewma");
                        (f, name)
                    })
                    .collect(),
                alpha: 1.0 / (1.0 + com),
                adjust: self.adjust,
                ignore_na: self.ignore_na,
                min_periods: self.min_periods,
            }),
            _ => Err(errors
                .iter()
                .map(|e| format!("ewma: {e}"))
                .collect::<Vec<_>>()
                .join("; ")),
        }
    }
}
