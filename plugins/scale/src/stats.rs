//! The running statistics of one series and field.

use serde::{Deserialize, Serialize};

use crate::config::{Method, Settings};

/// Count and, for `standard`, mean and sum of squared deviations (Welford's
/// method), for `minmax`, minimum and maximum. Always finite: JSON, the
/// snapshot's form, has no infinity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Stats {
    pub count: u64,
    mean: f64,
    /// Sum of squared deviations from the mean.
    m2: f64,
    min: f64,
    max: f64,
}

impl Stats {
    /// Count `value` in; false, changing nothing, when the statistics would
    /// overflow (a value beyond about ±1e154 whose square has no f64).
    #[allow(clippy::cast_precision_loss, reason = "counts far below 2^52")]
    pub(crate) fn add(&mut self, value: f64, method: Method) -> bool {
        let count = self.count + 1;
        match method {
            Method::Standard => {
                let delta = value - self.mean;
                let mean = self.mean + delta / count as f64;
                let m2 = self.m2 + delta * (value - mean);
                if !(mean.is_finite() && m2.is_finite()) {
                    return false;
                }
                (self.mean, self.m2) = (mean, m2);
            }
            Method::Minmax if count == 1 => (self.min, self.max) = (value, value),
            Method::Minmax => (self.min, self.max) = (self.min.min(value), self.max.max(value)),
        }
        self.count = count;
        true
    }

    /// `value` scaled; `None` without spread (every value so far equal), or
    /// when the spread or the result overflows.
    #[allow(clippy::cast_precision_loss, reason = "counts far below 2^52")]
    pub(crate) fn scale(&self, value: f64, settings: &Settings) -> Option<f64> {
        let (offset, spread) = match settings.method {
            Method::Standard => {
                let n = self
                    .count
                    .checked_sub(u64::from(settings.ddof))
                    .filter(|&n| n > 0)?;
                (self.mean, (self.m2.max(0.0) / n as f64).sqrt())
            }
            Method::Minmax => (self.min, self.max - self.min),
        };
        let scaled = (value - offset) / spread;
        (spread > 0.0 && spread.is_finite() && scaled.is_finite()).then_some(scaled)
    }
}
