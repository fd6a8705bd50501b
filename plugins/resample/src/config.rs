//! The resample plugin's configuration.

use std::time::Duration;

use serde::Deserialize;

/// `config:` of a resample processor.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The bucket length (`1h`, `1d`, `30s`): buckets [k·every, (k+1)·every)
    /// from the Unix epoch, labelled by their start. Required.
    #[serde(deserialize_with = "foghorn_plugin::duration::deserialize")]
    pub every: Duration,
    /// The numeric fields; at least one. Required.
    pub fields: Vec<String>,
    /// What each bucket reports per field: `mean`, `min`, `max`, `count`,
    /// `sum`, `std` (sample, as pandas), `first`, `last`, and quantiles
    /// `p50`, `p95`, `p99.9`… (linear, as pandas). Default `[mean, min, max,
    /// count, sum, p50, p95, p99]`.
    #[serde(default = "default_stats")]
    pub stats: Vec<String>,
    /// How far behind the newest point of its series a point may be and
    /// still join its bucket; a bucket closes once the newest point is this
    /// far past its end. At most 10000 × `every`. Default `0s`.
    #[serde(default, deserialize_with = "foghorn_plugin::duration::deserialize")]
    pub allowed_lateness: Duration,
    /// Wall-clock time without a point after which a series' open buckets
    /// close on the next tick (a quiet device still gets its last hour).
    /// Longer than the longest pause between a series' points, or points
    /// after a pause find their bucket closed. Default: `every`.
    #[serde(default, deserialize_with = "optional_duration")]
    pub flush_after: Option<Duration>,
    /// `skip` (the default): buckets without points produce nothing;
    /// `emit`: those between two buckets with points come out with count
    /// and sum 0 (as pandas' resample does); needs `count` or `sum` among
    /// `stats`.
    #[serde(default)]
    pub empty_buckets: EmptyBuckets,
    /// The most empty buckets emitted for one gap; more are counted in
    /// `empty_buckets_skipped`. Default 1000.
    #[serde(default = "thousand")]
    pub max_empty_buckets: u64,
    /// Forward the input points too. Default `false`: the bucket points
    /// only.
    #[serde(default)]
    pub passthrough: bool,
    /// The most values a bucket keeps per field for its quantiles. Past it
    /// the bucket keeps every 2nd value (then every 4th…, in arrival order)
    /// and its quantiles come from that sample (counted in
    /// `bucket_overflow`); the other statistics stay exact. Default 100000.
    #[serde(default = "default_max")]
    pub max_bucket_points: usize,
}

fn default_stats() -> Vec<String> {
    ["mean", "min", "max", "count", "sum", "p50", "p95", "p99"]
        .map(str::to_owned)
        .to_vec()
}

fn thousand() -> u64 {
    1000
}

fn default_max() -> usize {
    100_000
}

fn optional_duration<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Duration>, D::Error> {
    foghorn_plugin::duration::deserialize(deserializer).map(Some)
}

/// What happens to buckets without points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EmptyBuckets {
    /// Nothing is emitted for them.
    #[default]
    Skip,
    /// They are emitted with count and sum 0.
    Emit,
}

/// A statistic of a bucket.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Stat {
    Mean,
    Min,
    Max,
    Count,
    Sum,
    Std,
    First,
    Last,
    Quantile(f64),
}

/// A statistic of a field, and its output name.
#[derive(Debug, Clone)]
pub(crate) struct Output {
    pub stat: Stat,
    pub name: String,
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub every: i64,
    pub fields: Vec<String>,
    /// Per field, its outputs.
    pub outputs: Vec<Vec<Output>>,
    pub lateness: i64,
    pub flush_after: i64,
    pub empty: EmptyBuckets,
    pub max_empty: u64,
    pub passthrough: bool,
    pub max_points: usize,
    /// Whether the values are kept (for quantiles).
    pub keep_values: bool,
    /// Whether Welford's mean and squared deviations are kept (for `std`).
    pub keep_moments: bool,
}

/// The most buckets `allowed_lateness` may span.
const MAX_LATE_BUCKETS: i64 = 10_000;

impl Settings {
    /// The start of the bucket holding `ts`; `None` for the timestamps
    /// within `every` of `i64::MIN`, whose bucket starts before it.
    pub(crate) fn bucket(&self, ts: i64) -> Option<i64> {
        ts.div_euclid(self.every).checked_mul(self.every)
    }
}

fn nanos(duration: Duration) -> Option<i64> {
    i64::try_from(duration.as_nanos()).ok()
}

fn stat(text: &str) -> Option<Stat> {
    Some(match text {
        "mean" => Stat::Mean,
        "min" => Stat::Min,
        "max" => Stat::Max,
        "count" => Stat::Count,
        "sum" => Stat::Sum,
        "std" => Stat::Std,
        "first" => Stat::First,
        "last" => Stat::Last,
        _ => {
            let percent: f64 = text.strip_prefix('p')?.parse().ok()?;
            if !(0.0..=100.0).contains(&percent) || text.contains(['e', 'E', '+', '-']) {
                return None;
            }
            Stat::Quantile(percent / 100.0)
        }
    })
}

impl Config {
    /// Validate, reporting every mistake at once.
    pub(crate) fn compile(self) -> Result<Settings, String> {
        let mut errors = Vec::new();
        let every = nanos(self.every).filter(|n| *n > 0).unwrap_or_else(|| {
            errors.push("every must be longer than 0 and under 292 years".to_owned());
            1
        });
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
        if self.stats.is_empty() {
            errors.push("`stats` is empty".to_owned());
        }
        let mut stats = Vec::new();
        for (i, text) in self.stats.iter().enumerate() {
            if self.stats[..i].contains(text) {
                errors.push(format!("stats[{i}]: {text} is listed twice"));
            }
            match stat(text) {
                Some(stat) => stats.push((stat, text.clone())),
                None => errors.push(format!(
                    "stats[{i}]: {text:?} is not mean, min, max, count, sum, std, first, last or a quantile such as p95"
                )),
            }
        }
        let lateness = nanos(self.allowed_lateness)
            .filter(|n| i128::from(*n) <= i128::from(every) * i128::from(MAX_LATE_BUCKETS))
            .unwrap_or_else(|| {
                errors.push(format!(
                    "allowed_lateness may be at most {MAX_LATE_BUCKETS} × every (the open buckets a series keeps)"
                ));
                0
            });
        let flush_after = match self.flush_after {
            Some(d) => nanos(d).filter(|n| *n > 0).unwrap_or_else(|| {
                errors.push("flush_after must be longer than 0".to_owned());
                1
            }),
            None => every,
        };
        if self.empty_buckets == EmptyBuckets::Emit
            && !stats
                .iter()
                .any(|(s, _)| matches!(s, Stat::Count | Stat::Sum))
        {
            errors.push(
                "empty_buckets: emit needs count or sum among stats (an empty bucket has no other)"
                    .to_owned(),
            );
        }
        if self.max_bucket_points == 0 {
            errors.push("max_bucket_points must be positive".to_owned());
        }
        if !errors.is_empty() {
            return Err(errors
                .iter()
                .map(|e| format!("resample: {e}"))
                .collect::<Vec<_>>()
                .join("; "));
        }
        let outputs = self
            .fields
            .iter()
            .map(|field| {
                stats
                    .iter()
                    .map(|(stat, text)| Output {
                        stat: *stat,
                        name: format!("{field}_{text}"),
                    })
                    .collect()
            })
            .collect();
        Ok(Settings {
            keep_values: stats.iter().any(|(s, _)| matches!(s, Stat::Quantile(_))),
            keep_moments: stats.iter().any(|(s, _)| *s == Stat::Std),
            every,
            fields: self.fields,
            outputs,
            lateness,
            flush_after,
            empty: self.empty_buckets,
            max_empty: self.max_empty_buckets,
            passthrough: self.passthrough,
            max_points: self.max_bucket_points,
        })
    }
}
