//! One bucket's statistics for one field.

use serde::{Deserialize, Serialize};

use crate::config::{Settings, Stat};

/// What a bucket knows of one field.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Stats {
    count: u64,
    /// Kahan-compensated sum, as pandas' group sums.
    sum: f64,
    compensation: f64,
    /// Welford's mean and squared deviations, for `std`.
    mean: f64,
    m2: f64,
    /// Extremes and the values with the earliest and latest timestamps
    /// (ties: the one that came first, resp. last); meaningful once
    /// `count > 0`.
    min: f64,
    max: f64,
    first: (i64, f64),
    last: (i64, f64),
    /// The values, for quantiles; `None` once over `max_bucket_points`.
    values: Option<Vec<f64>>,
}

impl Stats {
    pub(crate) fn new(settings: &Settings) -> Self {
        Self {
            values: settings.keep_values.then(Vec::new),
            ..Self::default()
        }
    }

    /// Add a value; whether this overflowed the kept values.
    #[allow(clippy::cast_precision_loss, reason = "counts far below 2^52")]
    pub(crate) fn add(&mut self, ts: i64, value: f64, settings: &Settings) -> bool {
        self.count += 1;
        let y = value - self.compensation;
        let t = self.sum + y;
        self.compensation = t - self.sum - y;
        self.sum = t;
        let delta = value - self.mean;
        self.mean += delta / self.count as f64;
        self.m2 += delta * (value - self.mean);
        if self.count == 1 {
            (self.min, self.max, self.first, self.last) = (value, value, (ts, value), (ts, value));
        }
        self.min = self.min.min(value);
        self.max = self.max.max(value);
        if ts < self.first.0 {
            self.first = (ts, value);
        }
        if ts >= self.last.0 {
            self.last = (ts, value);
        }
        match &mut self.values {
            Some(values) if values.len() >= settings.max_points => {
                self.values = None;
                true
            }
            Some(values) => {
                values.push(value);
                false
            }
            None => false,
        }
    }

    /// The statistic, if the bucket has it.
    #[allow(clippy::cast_precision_loss, reason = "counts far below 2^52")]
    pub(crate) fn value(&self, stat: Stat) -> Option<f64> {
        let n = self.count;
        match stat {
            Stat::Count => return Some(n as f64),
            Stat::Sum => return Some(self.sum),
            _ if n == 0 => return None,
            _ => {}
        }
        Some(match stat {
            Stat::Mean => self.sum / n as f64,
            Stat::Min => self.min,
            Stat::Max => self.max,
            Stat::First => self.first.1,
            Stat::Last => self.last.1,
            Stat::Std if n < 2 => return None,
            Stat::Std => (self.m2.max(0.0) / (n - 1) as f64).sqrt(),
            Stat::Quantile(q) => {
                let mut sorted = self.values.clone()?;
                sorted.sort_by(f64::total_cmp);
                let at = q * (sorted.len() - 1) as f64;
                #[allow(
                    clippy::cast_possible_truncation,
                    clippy::cast_sign_loss,
                    reason = "at is in [0, len - 1]"
                )]
                let low = at.floor() as usize;
                if low + 1 >= sorted.len() || at == low as f64 {
                    sorted[low.min(sorted.len() - 1)]
                } else {
                    sorted[low] + (sorted[low + 1] - sorted[low]) * (at - low as f64)
                }
            }
            Stat::Count | Stat::Sum => unreachable!("returned above"),
        })
    }
}
