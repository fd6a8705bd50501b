//! The ewma plugin's configuration.

use serde::Deserialize;

/// `config:` of an ewma processor. Exactly one of `alpha`, `span`, `com`
/// and `halflife` sets the decay, as in pandas' `ewm`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The numeric fields to average; at least one.
    pub fields: Vec<String>,
    /// The smoothing factor, in (0, 1]. No default.
    #[serde(default)]
    pub alpha: Option<f64>,
    /// The span, at least 1: alpha = 2 / (span + 1). No default.
    #[serde(default)]
    pub span: Option<f64>,
    /// The center of mass, at least 0: alpha = 1 / (1 + com). No default.
    #[serde(default)]
    pub com: Option<f64>,
    /// The half-life: a number of points (above 0; alpha = 1 - 0.5^(1 /
    /// halflife)), or a duration such as `"10s"`, after which a value weighs
    /// half as much, by the points' timestamps (pandas' `ewm(halflife="10s",
    /// times=...)`). No default.
    #[serde(default)]
    pub halflife: Option<Halflife>,
    /// `true` (the default, as pandas): the weighted mean of every value so
    /// far, with weights (1 - alpha)^age; `false`: the recursion y = (1 -
    /// alpha) y + alpha x.
    #[serde(default = "yes")]
    pub adjust: bool,
    /// `false` (the default, as pandas): a point lacking the field still
    /// ages the older values; `true`: it is not counted at all.
    #[serde(default)]
    pub ignore_na: bool,
    /// Values a series must have seen before its average is emitted.
    /// Default 0 (from the first value).
    #[serde(default)]
    pub min_periods: u64,
}

/// A half-life in points or in time.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Halflife {
    /// This many points.
    Points(f64),
    /// A duration, such as `"10s"`.
    Time(String),
}

fn yes() -> bool {
    true
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// (field, output name).
    pub fields: Vec<(String, String)>,
    pub decay: Decay,
    /// 1 / (1 + com), from the decay.
    pub alpha: f64,
    pub ignore_na: bool,
    pub min_periods: u64,
}

/// What the running averages depend on: a snapshot taken under another
/// decay starts afresh.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, Deserialize)]
pub(crate) struct Decay {
    /// pandas' center of mass (1 with a half-life in time, as pandas).
    pub com: f64,
    pub adjust: bool,
    /// A half-life in time, in nanoseconds.
    pub halflife_ns: Option<f64>,
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
            ("alpha", self.alpha.is_some()),
            ("span", self.span.is_some()),
            ("com", self.com.is_some()),
            ("halflife", self.halflife.is_some()),
        ]
        .iter()
        .filter(|(_, given)| *given)
        .map(|(name, _)| *name)
        .collect();
        if given.len() != 1 {
            errors.push(format!(
                "set exactly one of alpha, span, com and halflife (got {})",
                if given.is_empty() {
                    "none".to_owned()
                } else {
                    given.join(", ")
                }
            ));
        }
        // pandas' center of mass (`get_center_of_mass`), computed as pandas
        // does so that alpha is the same to the last bit.
        let (mut com, mut halflife_ns) = (None, None);
        if let Some(alpha) = self.alpha {
            if alpha > 0.0 && alpha <= 1.0 {
                com = Some((1.0 - alpha) / alpha);
            } else {
                errors.push(format!("alpha {alpha} must be in (0, 1]"));
            }
        }
        if let Some(span) = self.span {
            if (1.0..=1e15).contains(&span) {
                com = Some((span - 1.0) / 2.0);
            } else {
                errors.push(format!("span {span} must be from 1 to 1e15"));
            }
        }
        if let Some(c) = self.com {
            if (0.0..=1e15).contains(&c) {
                com = Some(c);
            } else {
                errors.push(format!("com {c} must be from 0 to 1e15"));
            }
        }
        match &self.halflife {
            Some(Halflife::Points(h)) if *h > 0.0 && *h <= 1e15 => {
                let decay = 1.0 - (0.5_f64.ln() / h).exp();
                com = Some(1.0 / decay - 1.0);
            }
            Some(Halflife::Points(h)) => {
                errors.push(format!("halflife {h} must be above 0 and at most 1e15"));
            }
            Some(Halflife::Time(text)) => match foghorn_plugin::duration::parse(text) {
                Ok(duration) if !duration.is_zero() => {
                    com = Some(1.0);
                    #[allow(clippy::cast_precision_loss, reason = "as pandas: a float")]
                    let ns = duration.as_nanos() as f64;
                    halflife_ns = Some(ns);
                }
                Ok(_) => errors.push("halflife must be above 0".to_owned()),
                Err(error) => errors.push(format!("halflife: {error}")),
            },
            None => {}
        }
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
                decay: Decay {
                    com,
                    adjust: self.adjust,
                    halflife_ns,
                },
                alpha: 1.0 / (1.0 + com),
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
