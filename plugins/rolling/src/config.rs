//! The rolling plugin's configuration.

use std::time::Duration;

use serde::Deserialize;

/// `config:` of a rolling processor.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The numeric fields; at least one.
    pub fields: Vec<String>,
    /// The window: a number of points (`10`: the last 10 points of the
    /// series, pandas' `rolling(10)`) or a duration (`"24h"`: the points in
    /// (t - 24h, t], pandas' `rolling("24h")`). Required.
    pub window: WindowSpec,
    /// Values needed in the window for a statistic (for `count`: points).
    /// Default: the window's size for a count window, 1 for a time window,
    /// as pandas.
    #[serde(default)]
    pub min_periods: Option<usize>,
    /// The statistics: `mean`, `std`, `var`, `min`, `max`, `sum`, `count`,
    /// `median`. Default `[mean, std, min, max]`.
    #[serde(default = "default_stats")]
    pub stats: Vec<Stat>,
    /// Quantiles in [0, 1], linearly interpolated as pandas' default
    /// (`0.95` gives the field `<field>_p95`). Default none.
    #[serde(default)]
    pub quantiles: Vec<f64>,
    /// Delta degrees of freedom of `std` and `var`: 1 (the default, as
    /// pandas) or 0.
    #[serde(default = "one")]
    pub ddof: u8,
    /// Appended to every output name (`"_24h"`: `temperature_mean_24h`), so
    /// that two windows can run in one pipeline. Default none.
    #[serde(default)]
    pub suffix: String,
    /// The most points a window keeps per series and field; a time window
    /// that would hold more forgets its oldest early, counted in
    /// `window_overflow`. Default 100000.
    #[serde(default = "default_max")]
    pub max_window_points: usize,
}

fn default_stats() -> Vec<Stat> {
    vec![Stat::Mean, Stat::Std, Stat::Min, Stat::Max]
}

fn one() -> u8 {
    1
}

fn default_max() -> usize {
    100_000
}

/// A window as written: points or a duration.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum WindowSpec {
    /// The last N points.
    Points(usize),
    /// A duration in the agent's grammar.
    Time(String),
}

/// A statistic over the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stat {
    /// Arithmetic mean.
    Mean,
    /// Standard deviation (`ddof`).
    Std,
    /// Variance (`ddof`).
    Var,
    /// Smallest value.
    Min,
    /// Largest value.
    Max,
    /// Sum.
    Sum,
    /// Number of values.
    Count,
    /// Median.
    Median,
}

impl Stat {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Stat::Mean => "mean",
            Stat::Std => "std",
            Stat::Var => "var",
            Stat::Min => "min",
            Stat::Max => "max",
            Stat::Sum => "sum",
            Stat::Count => "count",
            Stat::Median => "median",
        }
    }
}

/// The window, validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, Deserialize)]
pub(crate) enum Window {
    Points(usize),
    /// Nanoseconds.
    Time(i64),
}

/// One output of a field: a statistic or a quantile, and its name.
#[derive(Debug, Clone)]
pub(crate) struct Output {
    pub kind: Kind,
    pub name: String,
}

/// What an output computes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Kind {
    Stat(Stat),
    Quantile(f64),
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub fields: Vec<String>,
    /// Per field, its outputs.
    pub outputs: Vec<Vec<Output>>,
    pub window: Window,
    pub min_periods: usize,
    pub ddof: u8,
    pub max_points: usize,
    /// Whether sorted values are needed (median, quantiles).
    pub sorted: bool,
}

/// `0.95` as `95`, `0.999` as `99.9`.
fn percent(q: f64) -> String {
    let text = format!("{:.6}", q * 100.0);
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

impl Config {
    /// Validate, reporting every mistake at once.
    pub(crate) fn compile(self) -> Result<Settings, String> {
        let mut errors = Vec::new();
        if self.fields.is_empty() {
            errors.push("`fields` is empty; name the fields".to_owned());
        }
        for (i, field) in self.fields.iter().enumerate() {
            if field.is_empty() {
                errors.push(format!("fields[{i}] is empty"));
            } else if self.fields[..i].contains(field) {
                errors.push(format!("fields[{i}]: {field} is listed twice"));
            }
        }
        let window = match &self.window {
            WindowSpec::Points(n) if (1..=self.max_window_points).contains(n) => Window::Points(*n),
            WindowSpec::Points(n) => {
                errors.push(format!(
                    "window {n} must be from 1 to max_window_points ({})",
                    self.max_window_points
                ));
                Window::Points(1)
            }
            WindowSpec::Time(text) => {
                match foghorn_plugin::duration::parse(text).and_then(|d: Duration| {
                    i64::try_from(d.as_nanos()).map_err(|_| "too long".to_owned())
                }) {
                    Ok(nanos) if nanos > 0 => Window::Time(nanos),
                    Ok(_) => {
                        errors.push("window must be longer than 0".to_owned());
                        Window::Time(1)
                    }
                    Err(e) => {
                        errors.push(format!("window {text:?}: {e}"));
                        Window::Time(1)
                    }
                }
            }
        };
        let min_periods = self.min_periods.unwrap_or(match window {
            Window::Points(n) => n,
            Window::Time(_) => 1,
        });
        if let Window::Points(n) = window
            && min_periods > n
        {
            errors.push(format!(
                "min_periods {min_periods} is more than the window ({n})"
            ));
        }
        if self.stats.is_empty() && self.quantiles.is_empty() {
            errors.push("no `stats` and no `quantiles`: nothing to compute".to_owned());
        }
        for (i, stat) in self.stats.iter().enumerate() {
            if self.stats[..i].contains(stat) {
                errors.push(format!("stats[{i}]: {} is listed twice", stat.name()));
            }
        }
        for (i, q) in self.quantiles.iter().enumerate() {
            if !(0.0..=1.0).contains(q) {
                errors.push(format!("quantiles[{i}] {q} must be from 0 to 1"));
            }
        }
        if self.ddof > 1 {
            errors.push(format!("ddof {} must be 0 or 1", self.ddof));
        }
        if self.max_window_points == 0 {
            errors.push("max_window_points must be positive".to_owned());
        }
        if !errors.is_empty() {
            return Err(errors
                .iter()
                .map(|e| format!("rolling: {e}"))
                .collect::<Vec<_>>()
                .join("; "));
        }
        let outputs = self
            .fields
            .iter()
            .map(|field| {
                let stats = self.stats.iter().map(|s| Output {
                    kind: Kind::Stat(*s),
                    name: format!("{field}_{}{}", s.name(), self.suffix),
                });
                let quantiles = self.quantiles.iter().map(|q| Output {
                    kind: Kind::Quantile(*q),
                    name: format!("{field}_p{}{}", percent(*q), self.suffix),
                });
                stats.chain(quantiles).collect()
            })
            .collect();
        Ok(Settings {
            sorted: !self.quantiles.is_empty() || self.stats.contains(&Stat::Median),
            fields: self.fields,
            outputs,
            window,
            min_periods,
            ddof: self.ddof,
            max_points: self.max_window_points,
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn quantile_names_drop_trailing_zeros() {
        assert_eq!(super::percent(0.95), "95");
        assert_eq!(super::percent(0.999), "99.9");
        assert_eq!(super::percent(0.5), "50");
        assert_eq!(super::percent(0.0), "0");
    }
}
