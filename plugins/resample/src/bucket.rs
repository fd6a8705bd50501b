//! One bucket's statistics for one field, computed as pandas' groupby
//! kernels do: a Kahan-compensated sum (sum and mean), Welford's mean and
//! squared deviations (std), and the values themselves for quantiles.

use serde::{Deserialize, Serialize};

use crate::config::{Settings, Stat};

/// What a bucket knows of one field.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Stats {
    /// Values added.
    count: u64,
    /// Kahan-compensated sum, as pandas' group sums and means.
    #[serde(with = "float")]
    sum: f64,
    #[serde(with = "float")]
    compensation: f64,
    /// Welford's mean and squared deviations, kept when `std` is asked.
    #[serde(with = "float")]
    mean: f64,
    #[serde(with = "float")]
    m2: f64,
    /// Extremes, and the values with the earliest and latest timestamps
    /// (ties: the one that came first, resp. last, as pandas after its
    /// stable sort by time); meaningful once `count > 0`.
    min: f64,
    max: f64,
    first: (i64, f64),
    last: (i64, f64),
    /// For quantiles: the values whose arrival index (0, 1, …) is a
    /// multiple of `stride`. `stride` is 1 until more than
    /// `max_bucket_points` values came, and doubles (dropping every second
    /// kept value) each time the sample outgrows it again.
    values: Vec<f64>,
    stride: u64,
}

impl Stats {
    /// Add a value; whether the bucket just outgrew `max_bucket_points`
    /// (once per bucket and field).
    #[allow(clippy::cast_precision_loss, reason = "counts far below 2^52")]
    pub(crate) fn add(&mut self, ts: i64, value: f64, settings: &Settings) -> bool {
        let index = self.count;
        self.count += 1;
        let y = value - self.compensation;
        let t = self.sum + y;
        self.compensation = t - self.sum - y;
        if !self.compensation.is_finite() {
            // An overflowing sum stays infinite rather than turn NaN.
            self.compensation = 0.0;
        }
        self.sum = t;
        if settings.keep_moments {
            let delta = value - self.mean;
            self.mean += delta / self.count as f64;
            self.m2 += delta * (value - self.mean);
        }
        if index == 0 {
            (self.min, self.max) = (value, value);
            (self.first, self.last) = ((ts, value), (ts, value));
        }
        self.min = self.min.min(value);
        self.max = self.max.max(value);
        if ts < self.first.0 {
            self.first = (ts, value);
        }
        if ts >= self.last.0 {
            self.last = (ts, value);
        }
        if !settings.keep_values {
            return false;
        }
        let stride = self.stride.max(1);
        if !index.is_multiple_of(stride) {
            return false;
        }
        self.values.push(value);
        self.thin(settings.max_points)
    }

    /// Halve the sample until it fits in `max`; whether this was the
    /// bucket's first overflow.
    fn thin(&mut self, max: usize) -> bool {
        let first = self.stride <= 1 && self.values.len() > max;
        self.stride = self.stride.max(1);
        while self.values.len() > max {
            let mut index = 0_usize;
            self.values.retain(|_| {
                index += 1;
                index % 2 == 1
            });
            self.stride = self.stride.saturating_mul(2);
        }
        first
    }

    /// Sort the kept values, before [`Stats::value`] of a quantile.
    pub(crate) fn sort(&mut self) {
        self.values.sort_unstable_by(f64::total_cmp);
    }

    /// The statistic, if the bucket has it (quantiles: after
    /// [`Stats::sort`]).
    #[allow(clippy::cast_precision_loss, reason = "counts far below 2^52")]
    pub(crate) fn value(&self, stat: Stat) -> Option<f64> {
        let n = self.count;
        match stat {
            Stat::Count => Some(n as f64),
            Stat::Sum => Some(self.sum),
            _ if n == 0 => None,
            Stat::Mean => Some(self.sum / n as f64),
            Stat::Min => Some(self.min),
            Stat::Max => Some(self.max),
            Stat::First => Some(self.first.1),
            Stat::Last => Some(self.last.1),
            Stat::Std if n < 2 => None,
            // Rounding can leave m2 a hair below 0; NaN stays NaN.
            Stat::Std if self.m2 < 0.0 => Some(0.0),
            Stat::Std => Some((self.m2 / (n - 1) as f64).sqrt()),
            Stat::Quantile(q) => quantile(&self.values, q),
        }
    }
}

/// The `q` quantile of `sorted` with linear interpolation (pandas' and
/// numpy's default): the value at rank `q · (n - 1)`, between neighbours.
#[allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "the rank is in [0, n - 1], far below 2^52"
)]
fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let rank = q * last as f64;
    let low = (rank.floor() as usize).min(last);
    let frac = rank - low as f64;
    Some(match sorted.get(low + 1) {
        Some(high) if frac > 0.0 => sorted[low] + (high - sorted[low]) * frac,
        _ => sorted[low],
    })
}

/// Floats that may be infinite or NaN (sums of huge values), which JSON
/// numbers cannot hold: written as a number when finite, else as text.
mod float {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    #[serde(untagged)]
    enum Float {
        Finite(f64),
        Other(String),
    }

    #[allow(clippy::trivially_copy_pass_by_ref, reason = "serde's signature")]
    pub(super) fn serialize<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
        if value.is_finite() {
            Float::Finite(*value)
        } else {
            Float::Other(value.to_string())
        }
        .serialize(serializer)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
        match Float::deserialize(deserializer)? {
            Float::Finite(value) => Ok(value),
            Float::Other(text) => text.parse().map_err(serde::de::Error::custom),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_linearly_as_numpy() {
        let sorted = [1.0, 2.0, 4.0, 8.0];
        // numpy.quantile([1, 2, 4, 8], [0, 0.5, 0.95, 1]) = 1, 3, 7.4, 8.
        assert_eq!(quantile(&sorted, 0.0), Some(1.0));
        assert_eq!(quantile(&sorted, 0.5), Some(3.0));
        assert!((quantile(&sorted, 0.95).unwrap() - 7.4).abs() < 1e-12);
        assert_eq!(quantile(&sorted, 1.0), Some(8.0));
        assert_eq!(quantile(&[5.0], 0.99), Some(5.0));
        assert_eq!(quantile(&[], 0.5), None);
    }

    #[test]
    fn infinite_sums_survive_the_snapshot() {
        let settings = crate::config::Config {
            every: std::time::Duration::from_secs(1),
            fields: vec!["t".into()],
            stats: vec!["sum".into(), "std".into()],
            allowed_lateness: std::time::Duration::ZERO,
            flush_after: None,
            empty_buckets: crate::EmptyBuckets::Skip,
            max_empty_buckets: 1,
            passthrough: false,
            max_bucket_points: 10,
        }
        .compile()
        .unwrap();
        let mut stats = Stats::default();
        for value in [f64::MAX, f64::MAX, 1.0, 2.0] {
            stats.add(0, value, &settings);
        }
        // pandas 3.1: resample(...).sum() and .std() of these are inf.
        assert_eq!(stats.value(Stat::Sum), Some(f64::INFINITY));
        assert_eq!(stats.value(Stat::Std), Some(f64::INFINITY));
        let saved = foghorn_plugin::snapshot::encode(&stats);
        let back: Stats = foghorn_plugin::snapshot::decode(&saved).unwrap();
        assert_eq!(back.value(Stat::Sum), Some(f64::INFINITY));
        assert_eq!(back.value(Stat::Std), Some(f64::INFINITY));
    }
}
